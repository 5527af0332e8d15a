/**
 * @apollo/gateway's own spans, shaped to ours (tracing on only: `startTracing`
 * hands Apollo's tracer through `shapeApolloSpans`).
 *
 * Apollo starts six spans per operation, and each recorded span costs the
 * request a few percent of the gateway's CPU (created, made current, ended,
 * queued, serialised). Kept: `gateway.plan` (on a plan-cache miss: planning is
 * the gateway's own expensive step), and `gateway.fetch` as our client span
 * `fetch <subgraph>` (attribute `mtd.subgraph`), the one span per subgraph
 * fetch whose `traceparent` the subgraph continues. Not recorded:
 * `gateway.request` and `gateway.execute` (the request span of lib/server.ts,
 * or a subscription's `subscription deliver`, already covers them: named after
 * the operation, with its name and type), `gateway.validate` (checking
 * variable values) and `gateway.postprocessing` (shaping the result). Their
 * time stays in the span around them, and what runs inside them sees that span
 * as the current one.
 */
import { context, INVALID_SPAN_CONTEXT, SpanKind, trace, type Context, type Span, type SpanOptions, type Tracer } from "@opentelemetry/api";

/** The name @apollo/gateway asks its tracer by (`trace.getTracer("apollo/gateway-js", version)`). */
export const APOLLO_GATEWAY_TRACER = "apollo/gateway-js";

const UNRECORDED = new Set(["gateway.request", "gateway.validate", "gateway.execute", "gateway.postprocessing"]);

/** What Apollo is handed for a span that is not recorded: its end() and attributes go nowhere; the current context stays. */
const NOT_RECORDED: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export function shapeApolloSpans(tracer: Tracer): Tracer {
  // The API's overloads: (name, fn), (name, options, fn), (name, options, context, fn); Apollo uses the first two.
  function startActiveSpan(name: string, second: unknown, third?: unknown, fourth?: unknown): unknown {
    const fn = (fourth ?? third ?? second) as (span: Span) => unknown;
    if (UNRECORDED.has(name)) return fn(NOT_RECORDED);
    const options = (third === undefined ? {} : second) as SpanOptions;
    const parent = fourth === undefined ? context.active() : (third as Context);
    if (name === "gateway.fetch") {
      const subgraph = String(options.attributes?.service);
      return tracer.startActiveSpan(`fetch ${subgraph}`, { kind: SpanKind.CLIENT, attributes: { "mtd.subgraph": subgraph } }, parent, fn);
    }
    return tracer.startActiveSpan(name, options, parent, fn);
  }
  return { startSpan: (name, options, parent) => tracer.startSpan(name, options, parent), startActiveSpan } as Tracer;
}
