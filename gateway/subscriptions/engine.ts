/**
 * The one subscription engine of the gateway; every transport (graphql-ws in
 * ws.ts, Server-Sent Events in sse.ts, multipart HTTP in multipart.ts) is a
 * thin adapter over it that only frames what `subscribe` hands it.
 *
 * A request is planned on the current supergraph (planner.ts), bound to its
 * variables, checked against the operation limits (on the document as planned,
 * with the cursor the gateway adds to resumable fields, as the subgraph will
 * see it) and the per-tenant limit, then attached to a shared upstream
 * subscription (upstream.ts); each event is executed once per group
 * (execute.ts) and delivered in order through a bounded queue (stream.ts).
 *
 * - Admission, before planning: the tenant's subscribe rate limit (a token of
 *   `subscribe:<tid>` from the gateway's buckets, shared with the HTTP rate
 *   limits); after the checks: the per-tenant count (tenant-limit/: shared by
 *   the replicas in Redis, under a lease per replica, or this process's).
 * - `resumeAfter` (SSE's `Last-Event-ID`) replaces the operation's own resume
 *   argument: the subscription continues after that cursor, exactly as if the
 *   client had sent it as `after`.
 * - Token expiry ends the subscription with UNAUTHENTICATED, on every transport.
 * - A new supergraph: new subscriptions are planned on it; open ones keep
 *   running when their operation still plans, and end with SUPERGRAPH_CHANGED
 *   and a resume hint when it does not (`extensions.resumeAfter`: the last
 *   cursor delivered, else where the subscription started, its `after` or
 *   the pinned head, so resuming from it loses nothing).
 * - Subgraph URLs are the supergraph's `join__graph` URLs unless
 *   `subgraphUrls` names one.
 */
import { randomUUID } from "node:crypto";
import type { DocumentNode, ExecutionResult, GraphQLError, GraphQLSchema } from "graphql";
import { callAt } from "../../lib/async.js";
import type { Identity } from "../../lib/auth.js";
import type { BucketLimit, OperationLimits, SubscriptionLimits } from "../../lib/config.js";
import type { Logger } from "../../lib/logger.js";
import { metrics } from "../../lib/metrics.js";
import { operationChecker } from "../../lib/protection.js";
import type { TokenBuckets } from "../../lib/rate-limit/index.js";
import { traceIdIn } from "../../lib/tracing.js";
import { checkLimits } from "../../lib/ws-policy.js";
import { takeToken } from "../rate-limit.js";
import { EventExecutor } from "./execute.js";
import { bindVariables, CURSOR_ALIAS, Planners, RESUME_VARIABLE, type PlannedSupergraph } from "./planner.js";
import { gatewayStopping, supergraphChanged, tokenExpired, tooManySubscriptions, withoutHttp, type Transport } from "./protocol.js";
import type { ClientBytes } from "./client-bytes.js";
import { ClientStream } from "./stream.js";
import { LocalTenantSubscriptions, type TenantSubscriptions } from "./tenant-limit/index.js";
import { UpstreamPool, webSocketUrl, type UpstreamStats } from "./upstream.js";

export interface EngineOptions {
  supergraphSdl: string;
  /** Subgraph HTTP URLs that win over the supergraph's `join__graph` URLs (`MTD_SUBGRAPH_<NAME>_URL`). */
  subgraphUrls: Readonly<Partial<Record<string, string>>>;
  limits: SubscriptionLimits;
  /** Depth, aliases, cost, … as on the HTTP path (`config.limits`). */
  operationLimits: OperationLimits;
  /** Subscription plans kept per supergraph (`config.caches.subscriptionPlans`). Default 1000. */
  maxPlans?: number;
  logger: Logger;
  /** Masks internal error messages. */
  production: boolean;
  /** Active subscriptions per tenant (the engine closes it on dispose). Default: this process's count. */
  tenantSubscriptions?: TenantSubscriptions;
  /** The subscribe rate limit per tenant (`config.rateLimits.subscribe`) and the buckets it takes from. Default: none. */
  subscribeRate?: { buckets: TokenBuckets; limit: BucketLimit };
}

export interface SubscriptionRequest {
  identity: Identity;
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  transport: Transport;
  /** Resume after this cursor instead of the operation's own resume argument (resumable fields only). */
  resumeAfter?: string;
  /**
   * Writes one result (the same object for every subscriber of its group, so
   * its serialisation can be shared) with the event's cursor; returns a
   * promise when the transport is backed up and the next write must wait.
   */
  deliver(result: ExecutionResult, cursor: string | undefined): Promise<void> | void;
  /** The queue overflowed and the stream ended: tell the client where to resume (see `Active.resumeAfter`) and close. */
  onOverflow(resumeAfter: string | undefined): void;
  /** The byte bound of the client this subscription belongs to (client-bytes.ts), shared by all its subscriptions. */
  bytes?: ClientBytes;
}

/** What graphql-ws needs to recognise the operation (the stream does the rest). */
export interface PlannedExecution {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName: string | undefined;
}

export type Subscribed = { stream: ClientStream; execution: PlannedExecution; errors?: undefined } | { stream?: undefined; errors: readonly GraphQLError[] };

export interface EngineStats extends UpstreamStats {
  slowConsumersClosed: number;
}

/** The `service` label of the gateway's metrics. */
const SERVICE = "gateway";

interface Active {
  request: SubscriptionRequest;
  stream: ClientStream;
  /**
   * Where the client resumes without loss (resumable fields): the last cursor
   * delivered, else where its stream started (its own `after`, or the head
   * the subgraph pinned for a live one). Undefined until known.
   */
  resumeAfter?: string;
}

export class SubscriptionEngine {
  private readonly planners: Planners;
  private readonly upstream: UpstreamPool;
  private readonly executor: EventExecutor;
  private readonly checkOperation: ReturnType<typeof operationChecker>;
  private readonly perTenant: TenantSubscriptions;
  private readonly active = new Set<Active>();
  private readonly logger: Logger;
  private slowConsumersClosed = 0;
  private disposed: Promise<void> | undefined;

  constructor(private readonly options: EngineOptions) {
    this.logger = options.logger.child({ component: "subscriptions" });
    this.planners = new Planners(options.supergraphSdl, { maxTokens: options.operationLimits.maxTokens, maxPlans: options.maxPlans });
    this.upstream = new UpstreamPool({ logger: this.logger, keepAliveMs: options.limits.keepAliveMs, retryMaxMs: options.limits.upstreamRetryMaxMs });
    this.executor = new EventExecutor((name) => this.subgraphUrl(name, this.planners.current), this.logger, options.production);
    this.checkOperation = operationChecker(options.operationLimits);
    this.perTenant = options.tenantSubscriptions ?? new LocalTenantSubscriptions();
  }

  get limits(): SubscriptionLimits {
    return this.options.limits;
  }

  /** Starts a subscription, or says why not (GraphQL errors with codes, nothing started). */
  async subscribe(request: SubscriptionRequest): Promise<Subscribed> {
    const { identity } = request;
    const rate = this.options.subscribeRate;
    const limited = rate === undefined ? undefined : await takeToken(rate.buckets, this.logger, "subscribe", identity.tenantId, rate.limit);
    if (limited !== undefined) return { errors: [withoutHttp(limited)] };
    const planner = this.planners.current;
    const planned = planner.plan(request.query, request.operationName ?? undefined);
    if (planned.errors !== undefined) return planned;
    const { plan } = planned;
    const bound = bindVariables(plan, request.variables);
    if (bound.errors !== undefined) return bound;
    const refused = checkLimits(this.checkOperation, SERVICE, planner.apiSchema, plan.document, bound.bound.variables, plan.operationName);
    if (refused !== undefined) return { errors: [refused] };
    const { maxPerTenant, maxQueuedEvents } = this.options.limits;
    if (!(await this.perTenant.acquire(identity.tenantId, maxPerTenant))) {
      return { errors: [tooManySubscriptions(`at most ${maxPerTenant} active subscriptions per tenant; complete one first`)] };
    }
    if (this.disposed !== undefined) {
      this.perTenant.release(identity.tenantId);
      return { errors: [gatewayStopping()] };
    }

    const variables = { ...bound.bound.variables };
    if (plan.resume !== undefined && request.resumeAfter !== undefined) variables[RESUME_VARIABLE] = request.resumeAfter;
    const requestId = randomUUID();
    const labels = { service: SERVICE, field: plan.rootField, transport: request.transport };
    const delivered = metrics.eventsDelivered.labels(labels);
    let detach = () => {};
    let cancelExpiry = () => {};
    const active: Active = { request, stream: undefined as unknown as ClientStream };
    const stream = new ClientStream({
      maxQueued: maxQueuedEvents,
      bytes: request.bytes,
      execute: this.executor.bind({ plan, variables, identity, requestId }),
      startsAfter: (cursor) => (active.resumeAfter ??= cursor),
      deliver: (result, event) => {
        delivered.inc();
        if (event.cursor !== undefined) active.resumeAfter = event.cursor;
        return request.deliver(result, event.cursor);
      },
      onOverflow: (event) => {
        this.slowConsumersClosed++;
        metrics.slowConsumersClosed.inc({ service: SERVICE, transport: request.transport });
        // The trace of the event the client could not take in time.
        this.logger.warn({ requestId, traceId: traceIdIn(event.traceparent), tenantId: identity.tenantId, transport: request.transport }, "slow consumer closed");
        request.onOverflow(active.resumeAfter);
      },
      onEnd: () => {
        detach();
        cancelExpiry();
        this.active.delete(active);
        metrics.subscriptions.dec(labels);
        this.perTenant.release(identity.tenantId);
      },
    });
    active.stream = stream;
    this.active.add(active);
    metrics.subscriptions.inc(labels);
    cancelExpiry = callAt(identity.expiresAt * 1000, () => stream.fail([tokenExpired()]));
    const primaryVariables = Object.fromEntries((plan.primary.variableUsages ?? []).map((name) => [name, variables[name] ?? null]));
    detach = this.upstream.subscribe(
      {
        subgraph: plan.primary.serviceName,
        url: webSocketUrl(this.subgraphUrl(plan.primary.serviceName, planner)),
        authorization: identity.authorization,
        query: plan.primary.operation,
        operationName: plan.primary.operationName,
        variables: primaryVariables,
        resume: plan.resume === undefined ? undefined : { variable: RESUME_VARIABLE, cursorPath: [plan.rootKey, CURSOR_ALIAS] },
      },
      stream,
    );
    return { stream, execution: { schema: planner.apiSchema, document: plan.document, operationName: plan.operationName } };
  }

  /**
   * Plans new subscriptions on `sdl` from now on (it must build: see
   * `PlannedSupergraph`). Open subscriptions whose operation no longer plans
   * on it end with SUPERGRAPH_CHANGED; the others keep running.
   */
  updateSupergraph(sdl: string): void {
    if (!this.planners.update(sdl)) return;
    const planner = this.planners.current;
    let ended = 0;
    for (const active of [...this.active]) {
      const { query, operationName } = active.request;
      const replanned = planner.plan(query, operationName ?? undefined);
      if (replanned.errors === undefined) continue;
      ended++;
      active.stream.fail([supergraphChanged(replanned.errors[0]?.message ?? "the operation no longer plans", active.resumeAfter)]);
    }
    this.logger.info({ kept: this.active.size - ended, ended }, "supergraph changed: new subscriptions are planned on it");
  }

  /** Upstream connections and subscriptions, for tests and metrics. */
  stats(): EngineStats {
    return { ...this.upstream.stats(), slowConsumersClosed: this.slowConsumersClosed };
  }

  /** Drops every upstream socket as a network failure would; subscriptions resume. */
  dropUpstreamConnections(): void {
    this.upstream.dropConnections();
  }

  /** True once `dispose` was called: streams end because the gateway stops. */
  get disposing(): boolean {
    return this.disposed !== undefined;
  }

  dispose(): Promise<void> {
    return (this.disposed ??= (async () => {
      for (const active of [...this.active]) await active.stream.return();
      await this.upstream.dispose();
      await this.perTenant.close();
    })());
  }

  private subgraphUrl(name: string, supergraph: PlannedSupergraph): string {
    const url = this.options.subgraphUrls[name] ?? supergraph.subgraphUrls.get(name);
    if (url === undefined) throw new Error(`no URL for subgraph ${name}: not in the supergraph's join__graph`);
    return url;
  }
}
