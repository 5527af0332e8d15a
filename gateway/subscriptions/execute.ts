/**
 * Per event: the ordinary plan `Sequence[primary, rest]` runs through
 * `executeQueryPlan` from @apollo/gateway, with the primary's subgraph replaced
 * by a data source that answers with the event. The gateway's executor merges
 * the event, runs the `rest` entity fetches (batched per event: one request per
 * subgraph and plan step, whatever the number of entities) with the client's
 * token, and shapes the response (aliases, fragments, `__typename`).
 *
 * Entity fetches go through the gateway's one data source (../data-source.ts).
 * A failed entity fetch puts an error on that event; the stream goes on.
 * Errors are always GraphQLErrors, formatted as on the HTTP path.
 */
import { executeQueryPlan, type GraphQLDataSource, type ServiceMap } from "@apollo/gateway";
import type { ExecutionResult, GraphQLError } from "graphql";
import type { Identity } from "../../lib/auth.js";
import type { Logger } from "../../lib/logger.js";
import { bindSpan, continueFrom, traceIdOf, type Span } from "../../lib/tracing.js";
import { SubgraphDataSource } from "../data-source.js";
import { CURSOR_ALIAS, RESUME_VARIABLE, type SubscriptionPlan } from "./planner.js";
import { errorFormatter, toGraphQLError } from "./protocol.js";
import { stableJson } from "./stable-json.js";
import type { UpstreamEvent } from "./upstream.js";

export interface EventContext {
  identity: Identity;
  requestId: string;
}

/** One client subscription, as the executor needs it. */
export interface EventRequest extends EventContext {
  plan: SubscriptionPlan;
  /** The client's variables (plus the resume variable). */
  variables: Record<string, unknown>;
}

/** How long a result is shared with subscribers of the same scope that receive the same change through another upstream subscription. */
const SCOPE_SHARE_MS = 2_000;
/** Results remembered for that at most. */
const SCOPE_SHARE_ENTRIES = 4_096;

export class EventExecutor {
  private readonly dataSources = new Map<string, GraphQLDataSource>();
  private readonly planIds = new WeakMap<SubscriptionPlan, number>();
  /** Recent results by scope and cursor, oldest first (see bind). */
  private readonly scoped = new Map<string, { result: Promise<ExecutionResult>; at: number }>();
  private nextPlanId = 0;
  private readonly format: (error: GraphQLError) => GraphQLError;

  constructor(
    /** HTTP URL of each subgraph by name. */
    private readonly subgraphUrl: (name: string) => string,
    private readonly logger: Logger,
    production: boolean,
  ) {
    this.format = errorFormatter(production);
  }

  /**
   * The executor of one client subscription: its result for each event.
   *
   * Identical work is done once per event. Listeners of one upstream
   * subscription share an identity, so the same document and variables give
   * the same result (`event.shared`). Beyond that, subscribers with other
   * tokens of the same authorization scope (tenant, role, partner: all that
   * the subgraphs authorize on) receive the same change, recognised by its
   * cursor, through their own upstream subscriptions: the first to arrive
   * executes it, the others share its result (and so its serialised frame)
   * for SCOPE_SHARE_MS.
   */
  bind(request: EventRequest): (event: UpstreamEvent) => Promise<ExecutionResult> {
    const planId = this.planId(request.plan);
    const key = `${planId}\u0000${stableJson(request.variables)}`;
    const { identity, plan } = request;
    // Where the subscription resumed from does not change what an event yields.
    const { [RESUME_VARIABLE]: _resume, ...eventVariables } = request.variables;
    const scope = `${planId}\u0000${stableJson(plan.resume === undefined ? request.variables : eventVariables)}\u0000${identity.tenantId}\u0000${identity.role}\u0000${identity.partner ?? ""}\u0000`;
    return (event) => {
      let result = event.shared.get(key) as Promise<ExecutionResult> | undefined;
      if (result === undefined) {
        result = event.cursor === undefined ? this.traced(request, event) : this.inScope(scope + event.cursor, () => this.traced(request, event));
        event.shared.set(key, result);
      }
      return result;
    };
  }

  /** The result of `key` computed within the last SCOPE_SHARE_MS, or `compute()`'s, remembered. */
  private inScope(key: string, compute: () => Promise<ExecutionResult>): Promise<ExecutionResult> {
    const now = Date.now();
    const known = this.scoped.get(key);
    if (known !== undefined && now - known.at < SCOPE_SHARE_MS) return known.result;
    const result = compute();
    this.scoped.delete(key);
    this.scoped.set(key, { result, at: now });
    if (this.scoped.size > SCOPE_SHARE_ENTRIES) this.scoped.delete(this.scoped.keys().next().value!);
    return result;
  }

  /**
   * `run`, in a span continuing the subgraph's trace of the event (tracing on):
   * one per event and group, with the number of subscriptions fed and the size
   * of the result written to each of them.
   */
  private traced(request: EventRequest, event: UpstreamEvent): Promise<ExecutionResult> {
    if (event.traceparent === undefined) return this.run(request, event);
    const attributes = { "mtd.subscription.field": request.plan.rootField, "mtd.subscribers": event.listeners };
    return continueFrom(event.traceparent, `subscription deliver ${request.plan.rootField}`, attributes, async (span) => {
      const result = await this.run(request, event, span);
      span?.setAttribute("mtd.result_bytes", Buffer.byteLength(JSON.stringify(result)));
      return result;
    });
  }

  /** Executes the plan for one event; its entity fetches go under `span` (carried with the context: lib/tracing.ts). */
  private async run(request: EventRequest, event: UpstreamEvent, span?: Span): Promise<ExecutionResult> {
    const { plan } = request;
    const data = structuredClone(event.data ?? null);
    const primary: GraphQLDataSource = { process: async () => ({ data, errors: event.errors?.map((error) => error.toJSON()) }) };
    const serviceMap: ServiceMap = Object.create(null) as ServiceMap;
    for (const name of plan.supergraph.subgraphNames) serviceMap[name] = this.dataSource(name);
    serviceMap[plan.primary.serviceName] = primary;

    const context = bindSpan<EventContext>({ identity: request.identity, requestId: request.requestId }, span);
    const requestContext = {
      request: { query: undefined, operationName: plan.operationName, variables: request.variables },
      context,
      metrics: {},
      logger: this.logger,
      schema: plan.supergraph.apiSchema,
      document: plan.document,
      operationName: plan.operationName ?? null,
      operation: plan.operationContext.operation,
      overallCachePolicy: undefined,
    } as unknown as Parameters<typeof executeQueryPlan>[2];

    let result: ExecutionResult;
    try {
      const response = await executeQueryPlan(plan.queryPlan, serviceMap, requestContext, plan.operationContext, plan.supergraph.supergraphSchema, plan.supergraph.api);
      result = { data: response.data as ExecutionResult["data"], errors: response.errors?.map((error) => toGraphQLError(error)) };
    } catch (error) {
      this.logger.error({ err: error, requestId: request.requestId, traceId: traceIdOf(span) }, "subscription event execution failed");
      result = { data: null, errors: [toGraphQLError(error)] };
    }
    if (plan.resume !== undefined) {
      const root = result.data?.[plan.rootKey];
      if (root !== null && typeof root === "object") delete (root as Record<string, unknown>)[CURSOR_ALIAS];
    }
    if (result.errors === undefined || result.errors.length === 0) return { data: result.data };
    return { data: result.data, errors: result.errors.map(this.format) };
  }

  private planId(plan: SubscriptionPlan): number {
    let id = this.planIds.get(plan);
    if (id === undefined) this.planIds.set(plan, (id = this.nextPlanId++));
    return id;
  }

  /** One data source per subgraph and URL (a new supergraph may move a subgraph). */
  private dataSource(name: string): GraphQLDataSource {
    const url = this.subgraphUrl(name);
    const key = `${name}\u0000${url}`;
    let source = this.dataSources.get(key);
    if (source === undefined) {
      source = new SubgraphDataSource(name, url);
      this.dataSources.set(key, source);
    }
    return source;
  }
}
