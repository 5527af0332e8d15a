/**
 * OTLP/HTTP sinks for the bench's traced peers of our gateway: each peer its
 * sampler, its own sink in the bench process, which counts the spans it
 * receives (so a run shows that none were dropped) and drops them.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { PeerName } from "./peers.js";

/** The traced peers' samplers: every trace recorded, or 1 % of them (following a caller's decision). */
const SAMPLERS: Partial<Record<PeerName, Record<string, string>>> = {
  "ours-traced": { OTEL_TRACES_SAMPLER: "always_on" },
  "ours-sampled": { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.01" },
};

export interface TraceSink {
  /** The environment that points the traced peer's exporter at this sink, with the peer's sampler. */
  env: Record<string, string>;
  /** Spans received so far (counted in the protobuf bodies), so a run can show that none were dropped. */
  spans(): number;
  close(): Promise<void>;
}

/** Whether `peer` is one of ours with tracing on (it needs a `startTraceSink`). */
export function traced(peer: PeerName): boolean {
  return SAMPLERS[peer] !== undefined;
}

/** An OTLP/HTTP protobuf sink for one traced peer: counts the spans of every export and drops them. */
export async function startTraceSink(peer: PeerName): Promise<TraceSink> {
  const sampler = SAMPLERS[peer];
  if (sampler === undefined) throw new Error(`${peer} is not traced`);
  return startSink(sampler);
}

/** An OTLP/HTTP protobuf sink whose `env` sets `sampler` (the SDK's default, parentbased_always_on, when empty). */
export async function startSink(sampler: Record<string, string>): Promise<TraceSink> {
  let spans = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      spans += countSpans(Buffer.concat(chunks));
      response.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf", ...sampler },
    spans: () => spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The length-delimited fields numbered `field` of the protobuf message in `bytes[from, to)`, as [start, end) ranges. */
function messages(bytes: Buffer, field: number, from = 0, to = bytes.length): [number, number][] {
  const found: [number, number][] = [];
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[from++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (from < to) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) from += 8;
    else if (wire === 5) from += 4;
    else if (wire === 2) {
      const length = varint();
      if (key >>> 3 === field) found.push([from, from + length]);
      from += length;
    } else throw new Error(`OTLP body: unexpected wire type ${wire}`);
  }
  return found;
}

/** Spans in an OTLP `ExportTraceServiceRequest`: resource_spans (1) → scope_spans (2) → spans (2). */
export function countSpans(body: Buffer): number {
  let count = 0;
  for (const [from, to] of messages(body, 1)) for (const [scopeFrom, scopeTo] of messages(body, 2, from, to)) count += messages(body, 2, scopeFrom, scopeTo).length;
  return count;
}
