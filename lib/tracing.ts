/**
 * OpenTelemetry traces, on only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
 *
 * Off (the default), nothing of the SDK or the exporters is loaded: every helper
 * below checks one boolean and calls its function directly, so the hot paths
 * pay a branch. On, `startTracing` loads the Node tracer provider (W3C
 * `traceparent` propagation) and the OTLP/HTTP exporter the protocol names
 * (`http/protobuf`, the OTLP default, or `http/json`); the SDK reads the
 * standard `OTEL_TRACES_SAMPLER(_ARG)` and `OTEL_BSP_*` variables itself.
 *
 * Two ways a span reaches the work under it:
 * - Carried: a request's span travels with its GraphQL context object
 *   (`bindSpan` / `spanOf`), and work under it names it as parent
 *   (`childSpan`). The gateway passes every span this way and runs without
 *   async context (`asyncContext: false`): on Node 20 an enabled
 *   AsyncLocalStorage puts async hooks on every promise of the process, as dear
 *   per request as the spans themselves.
 * - Current: subgraphs follow a span across resolvers, repositories and the
 *   outbox with AsyncLocalStorage (the SDK's context manager; `inSpan`,
 *   `currentTraceparent`, the log lines' `traceId`).
 *
 * How a trace crosses the system:
 * - HTTP: `lib/server.ts` runs each request inside `inbound()` (continuing a
 *   caller's `traceparent`) and binds its span to the request's context; the
 *   gateway's fetch span for each subgraph request sends its `traceparent`
 *   (gateway/data-source.ts), so subgraph requests are its children.
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

export interface TracingOptions {
  /**
   * Make spans current through AsyncLocalStorage (the SDK's context manager), for
   * code that finds its span as the current one. False: spans are only carried
   * (`bindSpan`, `childSpan`), and no async hook is enabled. Default true.
   */
  asyncContext?: boolean;
}

/**
 * Loads the SDK and the exporter when an endpoint is configured; resolves to a
 * disposer that flushes what is buffered. Without an endpoint it loads nothing.
 */
export async function startTracing(config: TracingConfig, service: string, logger: Logger, options: TracingOptions = {}): Promise<{ dispose(): Promise<void> }> {
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
      return name === APOLLO_GATEWAY_TRACER ? shapeApolloSpans() : super.getTracer(name, version, options);
    }
  }
  const provider = new Provider({
    resource: resourceFromAttributes({ "service.name": serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.tracesUrl }))],
  });
  const asyncContext = options.asyncContext ?? true;
  // `null`: no context manager at all (the API's no-op one: nothing is ever current).
  provider.register(asyncContext ? {} : { contextManager: null });
  enabled = true;
  logger.info({ serviceName, url: config.tracesUrl, protocol: config.protocol, asyncContext }, "tracing on");
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

/** A server span for an inbound request, continuing the caller's `traceparent` header when it sent one; `fn` gets it to carry. */
export function inbound<T>(name: string, headers: Record<string, string | string[] | undefined>, attributes: Attributes, fn: (span?: Span) => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  return within(tracer().startSpan(name, { kind: SpanKind.SERVER, attributes }, parent), parent, fn);
}

/**
 * A span under `parent` (a carried span), or under the current one when none is
 * given; none at all when neither exists (no trace to continue: none is started).
 */
export function childSpan<T>(parent: Span | undefined, name: string, attributes: Attributes, kind: SpanKind, fn: (span?: Span) => Promise<T> | T): Promise<T> {
  if (!enabled) return direct(fn);
  const parentContext = parent === undefined ? context.active() : trace.setSpan(ROOT_CONTEXT, parent);
  if (trace.getSpan(parentContext) === undefined) return direct(fn);
  return within(tracer().startSpan(name, { kind, attributes }, parentContext), parentContext, fn);
}

const CARRIED_SPAN = Symbol("mtd.span");

/**
 * Carries `span` with `carrier` (a request's GraphQL context, a fetch's options), read back by `spanOf`.
 * An own enumerable property: Apollo Server copies the context object for each operation, and the span
 * goes with the copy.
 */
export function bindSpan<T extends object>(carrier: T, span: Span | undefined): T {
  if (span !== undefined) (carrier as Record<symbol, unknown>)[CARRIED_SPAN] = span;
  return carrier;
}

/** The span `bindSpan` carried with `carrier`, if any. */
export function spanOf(carrier: object | undefined): Span | undefined {
  return enabled && carrier !== undefined ? ((carrier as Record<symbol, unknown>)[CARRIED_SPAN] as Span | undefined) : undefined;
}

/**
 * The W3C `traceparent` naming `span` as the parent, for an outgoing request: made from its ids
 * (version 00), as the propagator would, without building a context around it per fetch.
 */
export function traceparentOf(span: Span | undefined): string | undefined {
  if (span === undefined) return undefined;
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags & 1 ? "01" : "00"}`;
}

/** The trace id of `span`, for a log line. */
export function traceIdOf(span: Span | undefined): string | undefined {
  return span?.spanContext().traceId;
}

/** The trace id a `traceparent` names (an event's: `00-<trace id>-<span id>-<flags>`), for a log line. */
export function traceIdIn(traceparent: string | undefined): string | undefined {
  return traceparent?.split("-")[1];
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

/** A span that ran from `startTime` to `endTime` (`performance.now()` values), recorded under `parent` after the fact. */
export function recordSpan(parent: Span | undefined, name: string, attributes: Attributes, [startTime, endTime]: [number, number]): void {
  if (parent === undefined) return;
  tracer().startSpan(name, { attributes, startTime }, trace.setSpan(ROOT_CONTEXT, parent)).end(endTime);
}

/** Names a request's span after its GraphQL operation once that is known. */
export function nameSpan(span: Span | undefined, name: string, attributes: Attributes): void {
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
