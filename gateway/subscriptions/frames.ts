/**
 * `next` frames, serialised once (graphql-ws here; SSE and multipart share `payloadOf`). Every subscriber of a group (same upstream
 * subscription, same document and variables: see EventExecutor.bind) receives
 * the very same ExecutionResult object for an event, so its JSON is made once
 * per event and group, and the frame bytes once per message id (clients
 * usually number their first subscription alike), then the same Buffer is
 * written to every socket. The bytes are what graphql-ws itself would send:
 * `{"id":…,"type":"next","payload":…}`. `HttpEncoding` is the framing
 * each HTTP transport implements (sse.ts, multipart.ts).
 */
import type { ExecutionResult, GraphQLFormattedError } from "graphql";
import { MessageType } from "graphql-ws";
import type { ServerResponse } from "node:http";
import type { Writable } from "node:stream";
import type WebSocket from "ws";
import type { Transport } from "./protocol.js";

/** How a transport frames a subscription's response. */
export interface HttpEncoding {
  transport: Transport;
  contentType: string;
  headers: Record<string, string>;
  /** Written when the stream opens. */
  open: string;
  /** Written every `keepAliveMs` while the stream is open. */
  keepAlive: string;
  next(result: ExecutionResult, cursor: string | undefined): Buffer;
  /** The end of the stream, after the errors that ended it, if any. */
  end(errors?: readonly GraphQLFormattedError[]): string;
}

const payloads = new WeakMap<ExecutionResult, string>();
const frames = new WeakMap<ExecutionResult, Map<string, Buffer>>();

/** `result` as JSON, serialised once for every transport and subscriber that sends it. */
export function payloadOf(result: ExecutionResult): string {
  let payload = payloads.get(result);
  if (payload === undefined) payloads.set(result, (payload = JSON.stringify(result)));
  return payload;
}

/** The `next` frame carrying `result` for subscription `id`. */
export function nextFrame(id: string, result: ExecutionResult): Buffer {
  let byId = frames.get(result);
  if (byId === undefined) frames.set(result, (byId = new Map()));
  let frame = byId.get(id);
  if (frame === undefined) {
    frame = Buffer.from(`{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":${payloadOf(result)}}`, "utf8");
    byId.set(id, frame);
  }
  return frame;
}

/**
 * Bytes a socket may hold unsent (in ws and the socket's own buffer) before
 * writes to it wait for it to drain: a client that stops reading then stops its
 * stream, whose queue fills up until it is closed as too slow.
 */
export const HIGH_WATER_BYTES = 256 * 1024;

/**
/** Streams corked by `coalesce` until the loop's next check phase. */
const corked = new WeakSet<Writable>();

/**
 * Holds `stream`'s writes until the event loop's check phase (setImmediate),
 * so the frames of every event delivered in one turn (a burst's events read
 * together from upstream) leave in one write, not a system call each. Writes
 * still count towards the stream's buffered bytes, so pacing is unchanged.
 */
function coalesce(stream: Writable): void {
  if (corked.has(stream)) return;
  corked.add(stream);
  stream.cork();
  setImmediate(() => {
    corked.delete(stream);
    stream.uncork();
  });
}

/**
 * Writes a text frame over `raw`, the socket's connection (coalesced with the
 * turn's other frames to it). Returns nothing when the socket took it without
 * backlog (the common case: no promise, no callback per delivery), or a
 * promise that resolves once the frame is written when the socket is over
 * HIGH_WATER_BYTES. A socket that is no longer open takes nothing: its close
 * ends the stream.
 */
export function writeFrame(socket: WebSocket, raw: Writable, frame: Buffer): Promise<void> | undefined {
  if (socket.readyState !== socket.OPEN) return undefined;
  coalesce(raw);
  if (socket.bufferedAmount < HIGH_WATER_BYTES) {
    socket.send(frame, { binary: false });
    return undefined;
  }
  return new Promise((resolve, reject) => socket.send(frame, { binary: false }, (error) => (error ? reject(error) : resolve())));
}

/**
 * Writes a chunk of a streamed HTTP response, coalesced and paced like `writeFrame`: no
 * promise while the response holds less than HIGH_WATER_BYTES unsent, else a
 * promise that resolves once the chunk is flushed. A finished response takes nothing.
 */
export function writeChunk(response: ServerResponse, chunk: Buffer | string): Promise<void> | undefined {
  if (response.writableEnded || response.destroyed) return undefined;
  coalesce(response);
  if (response.writableLength < HIGH_WATER_BYTES) {
    response.write(chunk);
    return undefined;
  }
  return new Promise((resolve) => response.write(chunk, () => resolve()));
}
