/**
 * `lib/tracing.ts` without tracing, for the bench's "ours-untraced" peer
 * (no-tracing.mjs resolves every import of it here): each function calls
 * straight through or answers nothing, and no OpenTelemetry package is loaded.
 * The same exports as lib/tracing.ts (a missing one fails the peer at start).
 */
type Fn<T> = () => Promise<T> | T;
const run = <T>(fn: Fn<T>): Promise<T> => fn() as Promise<T>;

export type OtlpProtocol = "http/protobuf" | "http/json";
export type Span = never;
export const SpanKind = { INTERNAL: 0, SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 } as const;
export const tracingEnabled = () => false;
export const startTracing = async () => ({ dispose: async () => {} });
export const inSpan = <T>(_name: string, _attributes: unknown, fn: Fn<T>) => run(fn);
export const inbound = <T>(_name: string, _headers: unknown, _attributes: unknown, fn: Fn<T>) => run(fn);
export const childSpan = <T>(_parent: unknown, _name: string, _attributes: unknown, _kind: unknown, fn: Fn<T>) => run(fn);
export const continueFrom = <T>(_traceparent: unknown, _name: string, _attributes: unknown, fn: Fn<T>) => run(fn);
export const linkedTo = <T>(_traceparents: unknown, _name: string, _attributes: unknown, fn: Fn<T>) => run(fn);
export const bindSpan = <T>(carrier: T) => carrier;
export const carryTrace = <T>(value: T) => value;
export const spanOf = () => undefined;
export const traceparentOf = () => undefined;
export const traceIdOf = () => undefined;
export const traceIdIn = () => undefined;
export const currentTraceparent = () => undefined;
export const currentTraceId = () => undefined;
export const carriedTrace = () => undefined;
export const recordSpan = () => {};
export const nameSpan = () => {};
