/**
 * Subscriber clients for the fan-out, latency and memory scenarios, in their
 * own process (forked with IPC): `count` plain `ws` sockets to `url`, speaking
 * graphql-transport-ws (`mode: "graphql"`, one subscription each) or just
 * reading frames (`mode: "raw"`, the floor); or `count` HTTP subscriptions,
 * Server-Sent Events (`mode: "sse"`) or Apollo's multipart protocol
 * (`mode: "multipart"`), on a keep-alive `node:http` agent. Each event's
 * `accessChanged.at` (epoch ms, ISO) gives its latency on arrival.
 *
 * Messages from the parent: `{ type: "stats" }` → `{ type: "stats", received, errors }`;
 * `{ type: "collect", since }` → latencies and arrival times of frames whose
 * sequence is above `since`; `{ type: "frames" }` → every frame's sequence and
 * arrival; `{ type: "close" }` closes every socket and exits.
 */
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";

interface Options {
  url: string;
  count: number;
  mode: "graphql" | "raw" | "sse" | "multipart";
  authorization?: string;
  query?: string;
  variables?: Record<string, unknown>;
}

const options = JSON.parse(process.env.BENCH_SUBSCRIBERS!) as Options;
const now = () => performance.timeOrigin + performance.now();
const sockets: WebSocket[] = [];
/** Per frame: sequence, arrival (epoch ms), latency (ms). Flat for memory. */
const frames: number[] = [];
let received = 0;
let errors = 0;
let ready = 0;
let closing = false;
const problems: string[] = [];

function problem(message: string) {
  errors++;
  if (problems.length < 5) problems.push(message);
}

/**
 * Reads a frame as cheaply as possible (the client must not be what limits the
 * measurement): `sequence` and `at` are found by search; anything that is not a
 * `next` with an access change is parsed and counted as an error.
 */
function onFrame(data: WebSocket.RawData | string, at = now()) {
  const text = String(data);
  const sequenceAt = text.indexOf('"sequence":');
  const atAt = text.indexOf('"at":"');
  if (sequenceAt === -1 || atAt === -1 || (options.mode === "graphql" && !text.includes('"type":"next"'))) {
    const message = JSON.parse(text) as { type?: string; payload?: unknown };
    if (message.type === "ping" || message.type === "pong") return;
    return problem(`${message.type}: ${JSON.stringify(message.payload)}`.slice(0, 500));
  }
  const sequence = parseInt(text.slice(sequenceAt + 11, sequenceAt + 31), 10);
  const stamped = Date.parse(text.slice(atAt + 6, text.indexOf('"', atAt + 6)));
  received++;
  frames.push(sequence, at, at - stamped);
}

function open(index: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(options.url, options.mode === "graphql" ? "graphql-transport-ws" : undefined);
    sockets[index] = socket;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      ready++;
      resolve();
    };
    socket.on("open", () => {
      if (options.mode === "raw") return done();
      socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: options.authorization } }));
    });
    socket.on("message", (data) => {
      if (options.mode === "graphql" && !settled) {
        const message = JSON.parse(String(data)) as { type: string };
        if (message.type === "connection_ack") {
          socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: options.query, variables: options.variables ?? {} } }));
          return done();
        }
      }
      onFrame(data);
    });
    socket.on("error", (error) => problem(String(error)));
    socket.on("close", (code, reason) => {
      if (!closing) problem(`closed ${code} ${String(reason)}`);
      done();
    });
  });
}

/** Where one event ends in each HTTP transport's body, and what marks a keep-alive. */
const HTTP_DELIMITERS = { sse: "\n\n", multipart: "\r\n--graphql" } as const;
const httpAgent = new Agent({ keepAlive: true, maxSockets: Infinity });
const responses: { destroy(): void }[] = [];

function openHttp(mode: "sse" | "multipart"): Promise<void> {
  const url = options.url.replace(/^ws/, "http");
  const accept = mode === "sse" ? "text/event-stream" : 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0",application/json';
  const delimiter = HTTP_DELIMITERS[mode];
  return new Promise((resolve) => {
    const outgoing = request(url, { method: "POST", agent: httpAgent, headers: { accept, "content-type": "application/json", authorization: options.authorization ?? "" } }, (response) => {
      responses.push(response);
      if (response.statusCode !== 200) problem(`HTTP ${response.statusCode}`);
      ready++;
      resolve();
      let buffer = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        const at = now();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf(delimiter)) !== -1) {
          const piece = buffer.slice(0, end);
          buffer = buffer.slice(end + delimiter.length);
          // Keep-alives (`:` comments, `{}` parts) and the stream's opening carry no event.
          if (piece.includes('"sequence":')) onFrame(piece, at);
          else if (piece.includes('"errors"')) problem(piece.slice(0, 500));
        }
      });
      response.on("end", () => {
        if (!closing) problem("stream ended");
      });
    });
    outgoing.on("error", (error) => {
      if (!closing) problem(String(error));
      resolve();
    });
    outgoing.end(JSON.stringify({ query: options.query, variables: options.variables ?? {} }));
  });
}

process.on("message", (message: { type: string; since?: number }) => {
  if (message.type === "stats") {
    process.send!({ type: "stats", received, errors, ready, problems });
  } else if (message.type === "collect") {
    const since = message.since ?? 0;
    const latencies: number[] = [];
    let first = Infinity;
    let last = 0;
    for (let i = 0; i < frames.length; i += 3) {
      if (frames[i]! <= since) continue;
      first = Math.min(first, frames[i + 1]!);
      last = Math.max(last, frames[i + 1]!);
      latencies.push(frames[i + 2]!);
    }
    process.send!({ type: "collected", latencies, first, last, errors, problems });
  } else if (message.type === "frames") {
    // Every frame's sequence and arrival (epoch ms), flat.
    const pairs: number[] = [];
    for (let i = 0; i < frames.length; i += 3) pairs.push(frames[i]!, frames[i + 1]!);
    process.send!({ type: "frames", pairs, errors, problems });
  } else if (message.type === "close") {
    closing = true;
    for (const socket of sockets) socket?.terminate();
    for (const response of responses) response.destroy();
    process.exit(0);
  }
});

// Open in batches: thousands of simultaneous handshakes would overflow the server's accept backlog.
const BATCH = 250;
for (let start = 0; start < options.count; start += BATCH) {
  const { mode } = options;
  await Promise.all(Array.from({ length: Math.min(BATCH, options.count - start) }, (_, i) => (mode === "sse" || mode === "multipart" ? openHttp(mode) : open(start + i))));
}
process.send!({ type: "ready", ready, errors, problems });
