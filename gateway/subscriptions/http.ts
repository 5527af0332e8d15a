/**
 * Subscriptions over HTTP on `/graphql`, next to graphql-ws: Server-Sent
 * Events (sse.ts, `Accept: text/event-stream`) and Apollo's multipart protocol
 * (multipart.ts, `Accept: multipart/mixed;…;subscriptionSpec=1.0`). Both are
 * thin adapters over the one engine (engine.ts): the same planning, sharing,
 * limits, bounded queues and token expiry as graphql-ws.
 *
 * - `POST` with a JSON body `{ query, variables, operationName }`, or `GET`
 *   with them in the query string (`variables` as JSON).
 * - `Authorization: Bearer <JWT>` is required (401 UNAUTHENTICATED without a
 *   valid one). A request carrying it, or a POST with `content-type:
 *   application/json`, is never a "simple" cross-origin request: a browser
 *   preflights it, which is what CSRF prevention needs.
 * - Errors before the subscription starts (parse, validation, limits): a
 *   stream with one result carrying them, then its end (what graphql-sse and
 *   Apollo Client both report as GraphQL errors).
 * - A client that falls too far behind (events, or bytes: client-bytes.ts) gets a last SLOW_CONSUMER error with
 *   `extensions.resumeAfter` (its last cursor) and the stream ends.
 * - Any other request with a subscription (plain `application/json`) is
 *   refused by Apollo Server (lib/apollo.ts, `subscriptionTransports`): HTTP
 *   400 naming SUPPORTED_TRANSPORTS.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { TokenVerifier } from "../../lib/auth.js";
import { ErrorCode } from "../../lib/errors.js";
import { header, readBody, send } from "../../lib/server.js";
import { ClientBytes } from "./client-bytes.js";
import type { Subscribed, SubscriptionEngine } from "./engine.js";
import { writeChunk, type HttpEncoding } from "./frames.js";
import { multipart } from "./multipart.js";
import { slowConsumer, SubscriptionFailure } from "./protocol.js";
import { sse } from "./sse.js";

/** How long a finished stream may take to flush its last bytes to a client that does not read before its connection is cut. */
const FLUSH_TIMEOUT_MS = 10_000;

/**
 * The transport an `Accept` header asks for, if any. SSE only when no JSON
 * type is acceptable too: clients that accept either (urql's default lists
 * `text/event-stream` after the JSON types for every operation) get JSON.
 */
export function encodingFor(accept: string | undefined): HttpEncoding | undefined {
  if (accept === undefined) return undefined;
  if (/\btext\/event-stream\b/i.test(accept) && !/\bapplication\/(?:graphql-response\+)?json\b/i.test(accept)) return sse;
  if (/\bmultipart\/mixed\b/i.test(accept) && /subscriptionSpec\s*=\s*"?1\.0/i.test(accept)) return multipart;
  return undefined;
}

export const SUPPORTED_TRANSPORTS =
  'WebSocket (graphql-transport-ws), Server-Sent Events (Accept: text/event-stream) or multipart HTTP (Accept: multipart/mixed;subscriptionSpec="1.0")';

interface Params {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

const badRequest = (response: ServerResponse, message: string) => send(response, 400, { errors: [{ message, extensions: { code: ErrorCode.BAD_USER_INPUT } }] });

/**
 * Handles a subscription request over SSE or multipart HTTP; returns false
 * (and touches nothing) when the request asks for neither.
 */
export function httpSubscriptions(options: { engine: SubscriptionEngine; verify: TokenVerifier; maxBodyBytes: number }) {
  const { engine, verify } = options;
  return async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean> => {
    const encoding = encodingFor(header(request, "accept"));
    if (encoding === undefined || (request.method !== "GET" && request.method !== "POST")) return false;

    let params: Params;
    if (request.method === "GET") {
      const variables = url.searchParams.get("variables");
      try {
        params = { query: url.searchParams.get("query") ?? undefined, operationName: url.searchParams.get("operationName") ?? undefined, variables: variables === null ? undefined : JSON.parse(variables) };
      } catch {
        badRequest(response, "variables: expected a JSON object in the query string; got something that does not parse");
        return true;
      }
    } else {
      if (!(header(request, "content-type") ?? "").includes("application/json")) {
        send(response, 415, { errors: [{ message: "content-type: expected application/json", extensions: { code: ErrorCode.BAD_USER_INPUT } }] });
        return true;
      }
      const raw = await readBody(request, options.maxBodyBytes);
      if (raw === undefined) {
        send(response, 413, { errors: [{ message: `request body exceeds ${options.maxBodyBytes} bytes`, extensions: { code: ErrorCode.BAD_USER_INPUT } }] });
        return true;
      }
      try {
        params = JSON.parse(raw.toString("utf8")) as Params;
      } catch {
        badRequest(response, "request body is not valid JSON");
        return true;
      }
    }
    if (typeof params !== "object" || params === null || typeof params.query !== "string") {
      badRequest(response, "query: expected the operation as a string");
      return true;
    }
    if (params.variables != null && (typeof params.variables !== "object" || Array.isArray(params.variables))) {
      badRequest(response, "variables: expected an object");
      return true;
    }

    let identity;
    try {
      identity = await verify(header(request, "authorization"));
    } catch (error) {
      send(response, 401, { errors: [{ message: (error as Error).message, extensions: { code: ErrorCode.UNAUTHENTICATED } }] });
      return true;
    }

    let overflowed: GraphQLError | undefined;
    // The client went away: the subscription ends (upstream released), also when that happens while it is admitted.
    let gone = false;
    let started: Subscribed | undefined;
    response.once("close", () => {
      gone = true;
      void started?.stream?.return();
    });
    started = await engine.subscribe({
      identity,
      query: params.query,
      operationName: typeof params.operationName === "string" ? params.operationName : undefined,
      variables: params.variables as Record<string, unknown> | undefined,
      transport: encoding.transport,
      resumeAfter: header(request, "last-event-id"),
      deliver: (result, cursor) => writeChunk(response, encoding.next(result, cursor)),
      onOverflow: (resumeAfter) => (overflowed = slowConsumer(resumeAfter)),
      bytes: new ClientBytes(engine.limits.maxQueuedBytes, () => response.writableLength, encoding.transport),
    });

    response.writeHead(200, { "content-type": encoding.contentType, ...encoding.headers });
    response.write(encoding.open);
    if (started.errors !== undefined) {
      response.end(encoding.end(started.errors.map((error) => error.toJSON())));
      return true;
    }
    const { stream } = started;
    if (gone) void stream.return();
    const keepAliveMs = engine.limits.keepAliveMs;
    const keepAlive = keepAliveMs > 0 ? setInterval(() => void writeChunk(response, encoding.keepAlive), keepAliveMs) : undefined;
    keepAlive?.unref();

    let errors: readonly GraphQLFormattedError[] | undefined;
    try {
      await stream.next(); // with `deliver`, runs until the stream ends
    } catch (failure) {
      errors = failure instanceof SubscriptionFailure ? failure.errors.map((error) => error.toJSON()) : [new GraphQLError(String(failure)).toJSON()];
    }
    clearInterval(keepAlive);
    if (overflowed !== undefined) errors = [overflowed.toJSON()];
    else if (engine.disposing) {
      // Shutting down: no end marker, so clients reconnect (to another replica), SSE with Last-Event-ID.
      response.destroy();
      return true;
    }
    if (response.destroyed) return true;
    response.end(encoding.end(errors));
    if (!response.writableFinished) {
      const cut = setTimeout(() => response.destroy(), FLUSH_TIMEOUT_MS).unref();
      response.once("finish", () => clearTimeout(cut));
    }
    return true;
  };
}
