/**
 * @apollo/gateway's own spans, shaped to ours (tracing on only: `startTracing`
 * hands Apollo's tracer through `shapeApolloSpans`).
 *
 * Apollo starts six spans per operation, each as the current span of an
 * AsyncLocalStorage context, and each recorded span costs the request a few
 * percent of the gateway's CPU (created, ended, queued, serialised). The
 * gateway carries its spans instead (lib/tracing.ts) and records none of
 * Apollo's: `gateway.request` and `gateway.execute` are its request span (or a
 * subscription's `subscription deliver`), `gateway.fetch` is the data source's
 * `fetch <subgraph>` span (gateway/data-source.ts), `gateway.validate`
 * (checking variable values) and `gateway.postprocessing` (shaping the result)
 * stay in the span around them. `gateway.plan` (on a plan-cache miss: planning
 * is the gateway's own expensive step) is timed here and recorded under the
 * request's span once the gateway hands over the plan (`plannedBetween`, from
 * its `experimental_didResolveQueryPlan`): planning is synchronous, so the
 * time between its start and end is the plan's.
 */
import { performance } from "node:perf_hooks";
import { INVALID_SPAN_CONTEXT, trace, type Span, type Tracer } from "@opentelemetry/api";

/** The name @apollo/gateway asks its tracer by (`trace.getTracer("apollo/gateway-js", version)`). */
export const APOLLO_GATEWAY_TRACER = "apollo/gateway-js";

/** What Apollo is handed for every span: its end() and attributes go nowhere; no context is made current. */
const NOT_RECORDED: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** When each plan the gateway made was planned (`performance.now()` at start and end), until `plannedBetween` takes it. */
const PLANNED = new WeakMap<object, [number, number]>();

export function shapeApolloSpans(): Tracer {
  // The API's overloads: (name, fn), (name, options, fn), (name, options, context, fn); Apollo uses the first two.
  function startActiveSpan(name: string, second: unknown, third?: unknown, fourth?: unknown): unknown {
    const fn = (fourth ?? third ?? second) as (span: Span) => unknown;
    if (name !== "gateway.plan") return fn(NOT_RECORDED);
    const start = performance.now();
    const plan = fn(NOT_RECORDED);
    if (typeof plan === "object" && plan !== null) PLANNED.set(plan, [start, performance.now()]);
    return plan;
  }
  return { startSpan: () => NOT_RECORDED, startActiveSpan } as unknown as Tracer;
}

/** When `plan` was planned, if this request planned it (a plan-cache miss); asked once per plan. */
export function plannedBetween(plan: object): [number, number] | undefined {
  const planned = PLANNED.get(plan);
  PLANNED.delete(plan);
  return planned;
}
