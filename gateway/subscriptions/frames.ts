/**
 * `next` frames, serialised once. Every subscriber of a group (same upstream
 * subscription, same document and variables: see EventExecutor.bind) receives
 * the very same ExecutionResult object for an event, so its JSON is made once
 * per event and group, and the frame bytes once per message id (clients
 * usually number their first subscription alike), then the same Buffer is
 * written to every socket. The bytes are what graphql-ws itself would send:
 * `{"id":…,"type":"next","payload":…}`.
 */
import type { ExecutionResult } from "graphql";
import { MessageType } from "graphql-ws";
import type WebSocket from "ws";

const payloads = new WeakMap<ExecutionResult, string>();
const frames = new WeakMap<ExecutionResult, Map<string, Buffer>>();

/** The `next` frame carrying `result` for subscription `id`. */
export function nextFrame(id: string, result: ExecutionResult): Buffer {
  let byId = frames.get(result);
  if (byId === undefined) frames.set(result, (byId = new Map()));
  let frame = byId.get(id);
  if (frame === undefined) {
    let payload = payloads.get(result);
    if (payload === undefined) payloads.set(result, (payload = JSON.stringify(result)));
    frame = Buffer.from(`{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":${payload}}`, "utf8");
    byId.set(id, frame);
  }
  return frame;
}

/**
 * Writes a text frame and resolves once the socket took it (as graphql-ws's
 * own `send` does: a client that stops reading stops its stream, whose queue
 * then fills up). A socket that is no longer open takes nothing: its close
 * ends the stream.
 */
export function writeFrame(socket: WebSocket, frame: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.readyState !== socket.OPEN) return resolve();
    socket.send(frame, { binary: false }, (error) => (error ? reject(error) : resolve()));
  });
}
