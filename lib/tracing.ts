/**
 * OpenTelemetry traces, on only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
 *
 * Off (the default), nothing of the SDK or the exporters is loaded: every helper
 * below checks one boolean and calls its function directly, so the hot paths
 * pay a branch. On, `startTracing` loads the Node tracer provider (AsyncLocalStorage
 * context, W3C `traceparent` propagation) and the OTLP/HTTP exporter the protocol
 * names (`http/protobuf`, the OTLP default, or `http/json`); the SDK reads the
 * standard `OTEL_TRACES_SAMPLER(_ARG)` and `OTEL_BSP_*` variables itself.
 *
 * How a trace crosses the system:
 * - HTTP: `lib/server.ts` runs each request inside `inbound()` (continuing a
 *   caller's `traceparent`); the gateway's subgraph fetches send `traceparent`
 *   (`injectInto`), so subgraph requests are children of the gateway's fetch span.
 * - Event log: every event written to an outbox carries the `traceparent` of the
 *   transaction that wrote it (`currentTraceparent`); consumers continue it
 *   (`continueFrom`), or link every trace of a batch (`linkedTo`).
 * - Subscriptions: a subgraph's subscription event carries the producing
 *   event's `traceparent` in the graphql-ws `next` payload's `extensions`; the
 *   gateway continues it for the event's execution and delivery.
 *
 * Attributes name operations, event types, counts and sizes: never variables,
 * tokens or other values from a request.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span } from "@opentelemetry/api";
import type { Logger } from "pino";
import { APOLLO_GATEWAY_TRACER, shapeApolloSpans } from "./tracing-apollo.js";

export type OtlpProtocol = "http/protobuf" | "http/json";

export interface TracingConfig {
  /** `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, used as is). Unset: tracing off. */
  endpoint?: string;
  /** The traces URL: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `<endpoint>/v1/traces`. */
  tracesUrl?: string;
  /** `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf` (default) or `http/json`. */
  protocol: OtlpProtocol;
  /** `OTEL_SERVICE_NAME`. Default `mtd-<service>`. */
  serviceName?: string;
}

export type { Span };

const TRACER = "mtd-graph";
let enabled = false;

/** Whether spans are recorded in this process. */
export function tracingEnabled(): boolean {
  return enabled;
}

/**
 * Loads the SDK and the exporter when an endpoint is configured; resolves to a
 * disposer that flushes what is buffered. Without an endpoint it loads nothing.
 */
export async function startTracing(config: TracingConfig, service: string, logger: Logger): Promise<{ dispose(): Promise<void> }> {
  if (config.tracesUrl === undefined || enabled) return { dispose: async () => {} };
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { resourceFromAttributes }, { OTLPTraceExporter }] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/resources"),
    config.protocol === "http/json" ? import("@opentelemetry/exporter-trace-otlp-http") : import("@opentelemetry/exporter-trace-otlp-proto"),
  ]);
  const serviceName = config.serviceName ?? `mtd-${service}`;
  // @apollo/gateway's tracer shaped to our spans (lib/tracing-apollo.ts); every other tracer as the SDK makes it.
  class Provider extends NodeTracerProvider {
    override getTracer(name: string, version?: string, options?: { schemaUrl?: string }) {
      const tracer = super.getTracer(name, version, options);
      return name === APOLLO_GATEWAY_TRACER ? shapeApolloSpans(tracer) : tracer;
    }
  }
  const provider = new Provider({
    resource: resourceFromAttributes({ "service.name": serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.tracesUrl }))],
  });
  provider.register();
  enabled = true;
  logger.info({ serviceName, url: config.tracesUrl, protocol: config.protocol }, "tracing on");
  return {
    dispose: async () => {
      enabled = false;
      await provider.shutdown().catch((error: unknown) => logger.warn({ err: error }, "tracing: flush on shutdown failed"));
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** Tracing off: call `fn` as it is, its synchronous throw as a rejection. */
function direct<T>(fn: (span?: Span) => Promise<T> | T): Promise<T> {
  try {
    return Promise.resolve(fn(undefined));
  } catch (error) {
    return Promise.reject(error);
  }
}

function tracer() {
  return trace.getTracer(TRACER);
}

/** Runs `fn` in `span` (made active), ending it when `fn` settles and recording a failure. */
async function within<T>(span: Span, parent: Context, fn: (span: Span) => Promise<T> | T): Promise<T> {
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : "error" });
    throw error;
  } finally {
    span.end();
  }
}

/** A span for work inside the current trace (a database transaction, a publish, a fetch). */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span?: Span) => Promise<T> | T, kind: SpanKind = SpanKind.INTERNAL): Promise<T> {
  if (!enabled) return direct(fn);
  const parent = context.active();
  return within(tracer().startSpan(name, { kind, attributes }, parent), parent, fn);
}

/** A server span for an inbound request, continuing the caller's `traceparent` header when it sent one. */
export function inbound<T>(name: string, headers: Record<string, string | string[] | undefined>, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  return within(tracer().startSpan(name, { kind: SpanKind.SERVER, attributes }, parent), parent, fn);
}

/** Sets `traceparent` (and `tracestate`) of the current span on outgoing request headers. */
export function injectInto(headers: Record<string, string>): void {
  if (enabled) propagation.inject(context.active(), headers);
}

/** The W3C `traceparent` of the current span, to store with an event; undefined when tracing is off or no span is active. */
export function currentTraceparent(): string | undefined {
  if (!enabled) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** The current trace id, for log lines. */
export function currentTraceId(): string | undefined {
  if (!enabled) return undefined;
  const span = trace.getActiveSpan();
  return span?.spanContext().traceId;
}

function remote(traceparent: string | undefined): Context {
  return traceparent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** A consumer span continuing the trace of the event it handles (a child of the producing transaction). */
export function continueFrom<T>(traceparent: string | undefined, name: string, attributes: Attributes, fn: (span?: Span) => Promise<T> | T): Promise<T> {
  if (!enabled) return direct(fn);
  const parent = remote(traceparent);
  return within(tracer().startSpan(name, { kind: SpanKind.CONSUMER, attributes }, parent), parent, fn);
}

/** One span for a batch of events from many traces: a new trace linked to each of theirs. */
export function linkedTo<T>(traceparents: readonly (string | undefined)[], name: string, attributes: Attributes, fn: (span?: Span) => Promise<T> | T): Promise<T> {
  if (!enabled) return direct(fn);
  const links: Link[] = [];
  for (const traceparent of new Set(traceparents)) {
    const spanContext = traceparent === undefined ? undefined : trace.getSpanContext(remote(traceparent));
    if (spanContext !== undefined) links.push({ context: spanContext });
  }
  if (links.length === 1) return continueFrom(traceparents.find((value) => value !== undefined), name, attributes, fn);
  return within(tracer().startSpan(name, { kind: SpanKind.CONSUMER, attributes, links }, ROOT_CONTEXT), ROOT_CONTEXT, fn);
}

/** Names the current (request) span after the GraphQL operation once it is known. */
export function nameCurrentSpan(name: string, attributes: Attributes): void {
  if (!enabled) return;
  const span = trace.getActiveSpan();
  span?.updateName(name);
  span?.setAttributes(attributes);
}

export { SpanKind };

const CARRIED = Symbol("mtd.traceparent");

/** Attaches the `traceparent` of the event a subscription payload came from (read back by `carriedTrace`). */
export function carryTrace<T extends object>(value: T, traceparent: string | undefined): T {
  if (traceparent !== undefined) (value as Record<symbol, unknown>)[CARRIED] = traceparent;
  return value;
}

/** The `traceparent` `carryTrace` attached to a subscription payload, if any. */
export function carriedTrace(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const carried = (value as Record<symbol, unknown>)[CARRIED];
  return typeof carried === "string" ? carried : undefined;
}
