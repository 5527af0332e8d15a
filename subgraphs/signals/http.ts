/** Small HTTP helpers for the transmitter's endpoints (plain `node:http`, served through `lib/server.ts` routes). */
import type { IncomingMessage, ServerResponse } from "node:http";
import { readBody } from "../../lib/server.js";
import { malformedText } from "../../lib/validation.js";

/** Management and token responses are never cached (RFC 6749 §5.1, SSF examples). */
const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" };

export type Handler = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>;

/** An HTTP error a handler throws; `respond` turns it into the response. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
    /** `{ err, description }` (RFC 8935/8936 shape) instead of `{ error, error_description }` (RFC 6749 shape). */
    readonly setShape = false,
  ) {
    super(description);
  }
}

export const badRequest = (description: string) => new HttpError(400, "invalid_request", description);
export const notFound = (description: string) => new HttpError(404, "not_found", description);

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json", ...NO_STORE, ...headers });
  response.end(JSON.stringify(body));
}

/** A public, cacheable JSON document (metadata, JWKS). */
export function sendPublicJson(response: ServerResponse, body: unknown, maxAgeSeconds: number): void {
  response.writeHead(200, { "content-type": "application/json", "cache-control": `public, max-age=${maxAgeSeconds}` });
  response.end(JSON.stringify(body));
}

export function sendEmpty(response: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...NO_STORE, ...headers });
  response.end();
}

/** Runs a handler; HttpErrors become their response, anything else propagates (500 from `serve`). */
export function respond(handler: Handler): Handler {
  return async (request, response, url) => {
    try {
      await handler(request, response, url);
    } catch (error) {
      if (!(error instanceof HttpError) || response.headersSent) throw error;
      const body = error.setShape ? { err: error.code, description: error.description } : { error: error.code, error_description: error.description };
      sendJson(response, error.status, body, error.headers);
    }
  };
}

export function methodNotAllowed(allowed: readonly string[]): HttpError {
  return new HttpError(405, "method_not_allowed", `expected ${allowed.join(" or ")}`, { allow: allowed.join(", ") });
}

/**
 * Reads a JSON object body (an empty body is `{}`); 400 when it is not one or
 * when any string in it (member names included) is not well-formed text (a
 * lone surrogate, a NUL: lib/validation.ts, as for GraphQL requests), naming
 * it; 413 when too large.
 */
export async function readJsonObject(request: IncomingMessage, limit: number, setShape = false): Promise<Record<string, unknown>> {
  const raw = await readBody(request, limit);
  if (raw === undefined) throw new HttpError(413, "invalid_request", `request body exceeds ${limit} bytes`, {}, setShape);
  if (raw.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new HttpError(400, "invalid_request", "request body is not valid JSON", {}, setShape);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "invalid_request", "request body must be a JSON object", {}, setShape);
  }
  const malformed = malformedText("", value);
  if (malformed !== undefined) throw new HttpError(400, "invalid_request", `${malformed.field}: ${malformed.problem}`, {}, setShape);
  return value as Record<string, unknown>;
}

/** Reads an `application/x-www-form-urlencoded` body. */
export async function readForm(request: IncomingMessage, limit: number): Promise<URLSearchParams> {
  const raw = await readBody(request, limit);
  if (raw === undefined) throw new HttpError(413, "invalid_request", `request body exceeds ${limit} bytes`);
  const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (raw.length > 0 && type !== "application/x-www-form-urlencoded") {
    throw badRequest(`expected content-type application/x-www-form-urlencoded; got "${type || "none"}"`);
  }
  return new URLSearchParams(raw.toString("utf8"));
}

/** A string member of a JSON body, or undefined when absent; 400 when of another type. */
export function optionalString(body: Record<string, unknown>, name: string, max = 2048): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw badRequest(`${name}: expected a string; got ${typeof value}`);
  if (value.length > max) throw badRequest(`${name}: expected at most ${max} characters; got ${value.length}`);
  return value;
}

export function requiredString(body: Record<string, unknown>, name: string, max = 2048): string {
  const value = optionalString(body, name, max);
  if (value === undefined || value === "") throw badRequest(`${name}: required`);
  return value;
}
