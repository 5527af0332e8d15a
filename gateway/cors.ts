/**
 * Cross-origin access for browser apps on other origins (an admin UI, Apollo
 * Sandbox, Postman on the web), for the origins in `MTD_CORS_ORIGINS` only.
 *
 * - A preflight (`OPTIONS` with `Access-Control-Request-Method`) from a listed
 *   origin is answered 204 with the methods and the headers the graph reads
 *   (`authorization`, `content-type`, `apollo-require-preflight`,
 *   `x-request-id`, `last-event-id`); from any other origin 403, without CORS headers.
 * - Other requests from a listed origin get `Access-Control-Allow-Origin` (and
 *   `x-request-id` exposed); from any other origin nothing, so browsers keep
 *   the response from the page.
 * - Credentials (cookies) are not allowed: the graph authenticates by bearer
 *   token only. Apollo's CSRF prevention keeps working: a request with
 *   `content-type: application/json` or any of these headers is preflighted.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { header } from "../lib/server.js";

const ALLOWED_HEADERS = "authorization, content-type, apollo-require-preflight, x-request-id, last-event-id";
const ALLOWED_METHODS = "GET, POST, OPTIONS";
const MAX_AGE_SECONDS = "600";

/** Returns a handler that sets the CORS headers of a request and answers it when it is a preflight (then true). */
export function cors(origins: readonly string[]): (request: IncomingMessage, response: ServerResponse) => boolean {
  const allowed = new Set(origins);
  return (request, response) => {
    const origin = header(request, "origin");
    const preflight = request.method === "OPTIONS" && header(request, "access-control-request-method") !== undefined;
    if (origin === undefined) return false;
    response.setHeader("vary", "origin");
    if (!allowed.has(origin)) {
      if (!preflight) return false;
      response.writeHead(403).end();
      return true;
    }
    response.setHeader("access-control-allow-origin", origin);
    if (!preflight) {
      response.setHeader("access-control-expose-headers", "x-request-id");
      return false;
    }
    response.writeHead(204, {
      "access-control-allow-methods": ALLOWED_METHODS,
      "access-control-allow-headers": ALLOWED_HEADERS,
      "access-control-max-age": MAX_AGE_SECONDS,
    });
    response.end();
    return true;
  };
}
