/**
 * Apollo's multipart HTTP subscription protocol, as Apollo Client's
 * `HttpLink` speaks it (`Accept: multipart/mixed;boundary="graphql";subscriptionSpec=1.0`):
 * one `multipart/mixed` response per subscription, a JSON part per event.
 *
 * - Each event is a part `{"payload": <ExecutionResult>}`; each part is
 *   followed by the boundary at once, so the client parses it without
 *   waiting for the next one.
 * - Heartbeats are empty parts `{}` (the client skips them).
 * - Errors that end the subscription (token expired, slow consumer, upstream
 *   errors such as CURSOR_EXPIRED) are a last part `{"payload": {"errors": […]}}`
 *   (extensions intact); the closing boundary `--graphql--` ends the stream.
 */
import type { ExecutionResult, GraphQLFormattedError } from "graphql";
import { payloadOf, type HttpEncoding } from "./frames.js";

const BOUNDARY = "graphql";
const PART_HEADER = "\r\ncontent-type: application/json; charset=utf-8\r\n\r\n";
const part = (json: string) => `${PART_HEADER}${json}\r\n--${BOUNDARY}`;

const frames = new WeakMap<ExecutionResult, Buffer>();

export const multipart: HttpEncoding = {
  transport: "multipart",
  contentType: `multipart/mixed;boundary="${BOUNDARY}";subscriptionSpec="1.0"`,
  headers: { "cache-control": "no-cache", "x-accel-buffering": "no" },
  open: `\r\n--${BOUNDARY}`,
  keepAlive: part("{}"),
  next(result) {
    let frame = frames.get(result);
    if (frame === undefined) frames.set(result, (frame = Buffer.from(part(`{"payload":${payloadOf(result)}}`), "utf8")));
    return frame;
  },
  end(errors?: readonly GraphQLFormattedError[]) {
    const last = errors === undefined || errors.length === 0 ? "" : part(JSON.stringify({ payload: { errors } }));
    return `${last}--\r\n`;
  },
};
