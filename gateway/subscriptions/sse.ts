/**
 * GraphQL over Server-Sent Events, the graphql-sse protocol's "distinct
 * connections" mode: one `text/event-stream` response per subscription.
 *
 * - `event: next` carries an ExecutionResult as `data`; `event: complete`
 *   ends the stream. Errors that end the subscription (token expired, slow
 *   consumer, upstream errors such as CURSOR_EXPIRED) come as a last `next`
 *   with `errors` (extensions intact), then `complete`.
 * - Each event's SSE `id` is the resumable field's cursor: a client that
 *   reconnects with `Last-Event-ID` resumes right after it (EventSource does
 *   so by itself).
 * - A comment line (`:`) opens the stream and keeps idle ones alive.
 */
import type { ExecutionResult, GraphQLFormattedError } from "graphql";
import { payloadOf, type HttpEncoding } from "./frames.js";

const frames = new WeakMap<ExecutionResult, Buffer>();

/** The event's `id` line: a cursor never holds a line break, but an id must not carry one whatever happens. */
const idLine = (cursor: string | undefined) => (cursor === undefined ? "" : `id: ${cursor.replace(/[\r\n]/g, "")}\n`);

export const sse: HttpEncoding = {
  transport: "sse",
  contentType: "text/event-stream; charset=utf-8",
  headers: { "cache-control": "no-cache", "x-accel-buffering": "no" },
  open: ":\n\n",
  keepAlive: ":\n\n",
  next(result, cursor) {
    // The group's subscribers share the result and, so, its cursor: one frame per event and group.
    let frame = frames.get(result);
    if (frame === undefined) frames.set(result, (frame = Buffer.from(`${idLine(cursor)}event: next\ndata: ${payloadOf(result)}\n\n`, "utf8")));
    return frame;
  },
  end(errors?: readonly GraphQLFormattedError[]) {
    const last = errors === undefined || errors.length === 0 ? "" : `event: next\ndata: ${JSON.stringify({ errors })}\n\n`;
    return `${last}event: complete\ndata:\n\n`;
  },
};
