/**
 * @apollo/gateway's own spans, shaped to ours (tracing on only: `startTracing`
 * hands Apollo's tracer through `shapeApolloSpans`).
 *
 * Apollo starts six spans per operation, and every span costs the request CPU
 * (created, ended, queued, serialised). Kept: `gateway.plan` (on a plan-cache
 * miss) and `gateway.execute`; `gateway.fetch` becomes our client span
 * `fetch <subgraph>` (attribute `mtd.subgraph`), the one span per subgraph
 * fetch whose `traceparent` the subgraph continues. Not recorded:
 * `gateway.request` (the server span of lib/server.ts is the request, named
 * after the operation, with its name and type), `gateway.validate` (checking
 * variable values) and `gateway.postprocessing` (shaping the result): their
 * time stays in the span around them, and what runs inside them sees that span
 * as the current one.
 */
import { context, INVALID_SPAN_CONTEXT, SpanKind, trace, type Context, type Span, type SpanOptions, type Tracer } from "@opentelemetry/api";

/** The name @apollo/gateway asks its tracer by (`trace.getTracer("apollo/gateway-js", version)`). */
export const APOLLO_GATEWAY_TRACER = "apollo/gateway-js";

const UNRECORDED = new Set(["gateway.request", "gateway.validate", "gateway.postprocessing"]);

export function shapeApolloSpans(tracer: Tracer): Tracer {
  // The API's overloads: (name, fn), (name, options, fn), (name, options, context, fn); Apollo uses the first two.
  function startActiveSpan(name: string, second: unknown, third?: unknown, fourth?: unknown): unknown {
    const fn = (fourth ?? third ?? second) as (span: Span) => unknown;
    const options = (third === undefined ? {} : second) as SpanOptions;
    const parent = fourth === undefined ? context.active() : (third as Context);
    // Apollo ends and annotates the span it is given: a non-recording one ignores that; the current span stays current.
    if (UNRECORDED.has(name)) return fn(trace.wrapSpanContext(trace.getSpanContext(parent) ?? INVALID_SPAN_CONTEXT));
    if (name === "gateway.fetch") {
      const subgraph = String(options.attributes?.service);
      return tracer.startActiveSpan(`fetch ${subgraph}`, { kind: SpanKind.CLIENT, attributes: { "mtd.subgraph": subgraph } }, parent, fn);
    }
    return tracer.startActiveSpan(name, options, parent, fn);
  }
  return { startSpan: (name, options, parent) => tracer.startSpan(name, options, parent), startActiveSpan } as Tracer;
}
