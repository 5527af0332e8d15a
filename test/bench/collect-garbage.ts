/** Forcing a GC in a service process from the bench, through its inspector: how the memory and soak scenarios read the live heap. */
import { once } from "node:events";
import WebSocket from "ws";
import type { Service } from "../support/service-process.js";
import { listeningPorts } from "./peers.js";

/** What a service process needs for `collectGarbage`: `gc()` and an inspector on a port the OS picks (loopback). */
export const GC_NODE_OPTIONS = "--expose-gc --inspect=127.0.0.1:0";

/** Forces a GC in a process started with `GC_NODE_OPTIONS` and returns its heap in use, bytes. */
export async function collectGarbage(service: Service): Promise<number> {
  const port = listeningPorts(service.child!.pid!).find((candidate) => candidate !== service.port);
  if (port === undefined) throw new Error(`${service.name}: no inspector port`);
  const [target] = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const socket = new WebSocket(target!.webSocketDebuggerUrl);
  await once(socket, "open");
  try {
    socket.send(JSON.stringify({ id: 1, method: "Runtime.evaluate", params: { expression: "gc(), gc(), process.memoryUsage().heapUsed", returnByValue: true } }));
    const [data] = (await once(socket, "message")) as [Buffer];
    return Number((JSON.parse(String(data)) as { result: { result: { value: number } } }).result.result.value);
  } finally {
    socket.close();
  }
}
