/**
 * graphql-ws (`graphql-transport-ws`) on the gateway's WebSocket server: same
 * port and path as HTTP. Subscriptions are planned on the supergraph
 * (planner.ts), shared upstream per identity (upstream.ts), executed per event
 * (execute.ts) and delivered in order through a bounded queue per client
 * (stream.ts).
 *
 * - `connection_init` must carry `{ authorization: "Bearer <JWT>" }`; a missing
 *   or invalid token closes the socket with 4403. When the token expires every
 *   subscription ends with an UNAUTHENTICATED error and the socket closes with 4403.
 * - Only subscriptions are served here: a query or mutation gets an
 *   OPERATION_NOT_SUPPORTED error (send it over HTTP).
 * - Operations get the same limits as over HTTP (lib/protection.ts:
 *   OPERATION_LIMIT), checked on the document as planned (with the cursor the
 *   gateway adds to resumable fields, as the subgraph will see it).
 * - Limits per connection and per tenant (on this gateway process) answer
 *   TOO_MANY_SUBSCRIPTIONS; a client that cannot keep up is closed with 4409.
 * - Keep-alive: WebSocket pings every `keepAliveMs`; a client that misses a pong is dropped.
 */
import { randomUUID } from "node:crypto";
import type { ExecutionArgs, GraphQLError } from "graphql";
import { useServer, type Extra } from "graphql-ws/use/ws";
import type { WebSocketServer } from "ws";
import { callAt } from "../../lib/async.js";
import type { Identity, TokenVerifier } from "../../lib/auth.js";
import type { OperationLimits, SubscriptionLimits, SubgraphName } from "../../lib/config.js";
import type { Logger } from "../../lib/logger.js";
import { metrics } from "../../lib/metrics.js";
import { operationChecker } from "../../lib/protection.js";
import { EventExecutor } from "./execute.js";
import { nextFrame, writeFrame } from "./frames.js";
import { bindVariables, CURSOR_ALIAS, Planners, RESUME_VARIABLE } from "./planner.js";
import { GatewayCloseCode, SLOW_CONSUMER_REASON, SubscriptionFailure, TOKEN_EXPIRED_REASON, tokenExpired, tooManySubscriptions } from "./protocol.js";
import { ClientStream } from "./stream.js";
import { UpstreamPool, webSocketUrl, type UpstreamStats } from "./upstream.js";

export interface SubscriptionServerOptions {
  wss: WebSocketServer;
  supergraphSdl: string;
  /** HTTP URL of each subgraph (`config.subgraphUrls`); the WebSocket URL is derived from it. */
  subgraphUrls: Readonly<Record<SubgraphName, string>>;
  limits: SubscriptionLimits;
  /** Depth, aliases, cost, … as on the HTTP path (`config.limits`). */
  operationLimits: OperationLimits;
  /** Subscription plans kept per supergraph (`config.caches.subscriptionPlans`). Default 1000. */
  maxPlans?: number;
  verify: TokenVerifier;
  logger: Logger;
  /** Masks internal error messages. */
  production: boolean;
}

export interface SubscriptionServer {
  /** Plans new subscriptions on this supergraph from now on. */
  updateSupergraph(sdl: string): void;
  /** Upstream connections and subscriptions, for tests and metrics. */
  stats(): UpstreamStats & { clients: number; slowConsumersClosed: number };
  /** Drops every upstream socket as a network failure would; subscriptions resume. */
  dropUpstreamConnections(): void;
  dispose(): Promise<void>;
}

interface ConnectionState {
  identity?: Identity;
  cancelExpiry?: () => void;
  streams: Set<ClientStream>;
  /** Root field of each active subscription, by id (metrics). */
  fields: Map<string, string>;
}

type ConnectionExtra = { state?: ConnectionState };

/** The `service` label of this endpoint's metrics. */
const SERVICE = "gateway";
/** How long an expiring connection waits for its final errors to be written. */
const FLUSH_BEFORE_CLOSE_MS = 1000;

export function useFederatedSubscriptions(options: SubscriptionServerOptions): SubscriptionServer {
  const { wss, limits, verify, production } = options;
  const logger = options.logger.child({ component: "subscriptions" });
  const planners = new Planners(options.supergraphSdl, { maxTokens: options.operationLimits.maxTokens, maxPlans: options.maxPlans });
  const upstream = new UpstreamPool({ logger, keepAliveMs: limits.keepAliveMs, retryMaxMs: limits.upstreamRetryMaxMs });
  const executor = new EventExecutor((name) => options.subgraphUrls[name as SubgraphName], logger, production);
  const checkOperation = operationChecker(options.operationLimits);
  const perTenant = new Map<string, number>();
  let clients = 0;
  let slowConsumersClosed = 0;

  const stateOf = (extra: ConnectionExtra & Extra): ConnectionState => (extra.state ??= { streams: new Set(), fields: new Map() });

  function armExpiry(extra: ConnectionExtra & Extra, identity: Identity) {
    const state = stateOf(extra);
    state.cancelExpiry = callAt(identity.expiresAt * 1000, () => void expire(extra));
  }

  async function expire(extra: ConnectionExtra & Extra) {
    const state = stateOf(extra);
    const streams = [...state.streams];
    for (const stream of streams) stream.fail([tokenExpired()]);
    await Promise.race([Promise.all(streams.map((stream) => stream.done)), new Promise((resolve) => setTimeout(resolve, FLUSH_BEFORE_CLOSE_MS).unref())]);
    // Let graphql-ws write the errors it was handed before the close frame.
    await new Promise((resolve) => setImmediate(resolve));
    extra.socket.close(GatewayCloseCode.Forbidden, TOKEN_EXPIRED_REASON);
  }

  const server = useServer<{ authorization?: unknown }, ConnectionExtra>(
    {
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        try {
          const identity = await verify(typeof authorization === "string" ? authorization : undefined);
          stateOf(ctx.extra).identity = identity;
          armExpiry(ctx.extra, identity);
          clients++;
          metrics.websocketConnections.inc({ service: SERVICE });
          return true;
        } catch (error) {
          const reason = (error as Error).message ?? "invalid token";
          // graphql-ws closes with 4403 "Forbidden" on false; say why first (close reasons are at most 123 bytes).
          ctx.extra.socket.close(GatewayCloseCode.Forbidden, `Forbidden: ${reason}`.slice(0, 123));
          return false;
        }
      },

      onSubscribe: (ctx, id, payload): ExecutionArgs | readonly GraphQLError[] => {
        const state = stateOf(ctx.extra);
        const identity = state.identity!;
        const planner = planners.current;
        const planned = planner.plan(typeof payload.query === "string" ? payload.query : "", payload.operationName ?? undefined);
        if (planned.errors !== undefined) return planned.errors;
        const { plan } = planned;
        const bound = bindVariables(plan, payload.variables);
        if (bound.errors !== undefined) return bound.errors;
        const refused = checkOperation(planner.apiSchema, plan.document, bound.bound.variables, plan.operationName);
        if (refused !== undefined) {
          metrics.operationLimited.inc({ service: SERVICE, limit: String(refused.extensions.limit) });
          return [refused];
        }

        if (state.streams.size >= limits.maxPerConnection) {
          return [tooManySubscriptions(`at most ${limits.maxPerConnection} active subscriptions per connection; complete one first`)];
        }
        const tenantCount = perTenant.get(identity.tenantId) ?? 0;
        if (tenantCount >= limits.maxPerTenant) {
          return [tooManySubscriptions(`at most ${limits.maxPerTenant} active subscriptions per tenant on this gateway; complete one first`)];
        }
        perTenant.set(identity.tenantId, tenantCount + 1);

        const requestId = randomUUID();
        const delivered = metrics.eventsDelivered.labels({ service: SERVICE, field: plan.rootField });
        const { variables } = bound.bound;
        let detach = () => {};
        const stream = new ClientStream({
          maxQueued: limits.maxQueuedEvents,
          execute: executor.bind({ plan, variables, identity, requestId }),
          // The group's frame, serialised once, written as is (graphql-ws would stringify per subscriber).
          deliver: (result) => {
            delivered.inc();
            return writeFrame(ctx.extra.socket, nextFrame(id, result));
          },
          onOverflow: () => {
            slowConsumersClosed++;
            logger.warn({ requestId, tenantId: identity.tenantId, subscriptionId: id }, "slow consumer closed");
            ctx.extra.socket.close(GatewayCloseCode.SlowConsumer, SLOW_CONSUMER_REASON);
          },
          onEnd: () => {
            detach();
            state.streams.delete(stream);
            if (state.fields.delete(id)) metrics.subscriptions.dec({ service: SERVICE, field: plan.rootField });
            const left = (perTenant.get(identity.tenantId) ?? 1) - 1;
            if (left <= 0) perTenant.delete(identity.tenantId);
            else perTenant.set(identity.tenantId, left);
          },
        });
        state.streams.add(stream);
        state.fields.set(id, plan.rootField);
        metrics.subscriptions.inc({ service: SERVICE, field: plan.rootField });
        const primaryVariables = Object.fromEntries((plan.primary.variableUsages ?? []).map((name) => [name, variables[name] ?? null]));
        detach = upstream.subscribe(
          {
            subgraph: plan.primary.serviceName,
            url: webSocketUrl(options.subgraphUrls[plan.primary.serviceName as SubgraphName]),
            authorization: identity.authorization,
            query: plan.primary.operation,
            operationName: plan.primary.operationName,
            variables: primaryVariables,
            resume: plan.resume === undefined ? undefined : { variable: RESUME_VARIABLE, cursorPath: [plan.rootKey, CURSOR_ALIAS] },
          },
          stream,
        );
        return { schema: planner.apiSchema, document: plan.document, operationName: plan.operationName, variableValues: variables, contextValue: { stream } };
      },

      subscribe: (args) => (args.contextValue as { stream: ClientStream }).stream,

      onError: (_ctx, _id, _payload, errors) => {
        const failure = errors[0]?.originalError;
        if (failure instanceof SubscriptionFailure) return failure.errors.map((error) => error.toJSON());
        return undefined;
      },

      onClose: (ctx) => {
        const state = ctx.extra.state;
        if (state === undefined) return;
        state.cancelExpiry?.();
        if (state.identity !== undefined) {
          clients--;
          metrics.websocketConnections.dec({ service: SERVICE });
        }
        for (const stream of [...state.streams]) void stream.return();
      },
    },
    wss,
    limits.keepAliveMs,
  );

  let disposed: Promise<void> | undefined;
  return {
    updateSupergraph: (sdl) => {
      if (planners.update(sdl)) logger.info("supergraph changed: new subscriptions are planned on it");
    },
    stats: () => ({ ...upstream.stats(), clients, slowConsumersClosed }),
    dropUpstreamConnections: () => upstream.dropConnections(),
    dispose: () =>
      (disposed ??= (async () => {
        await server.dispose();
        await upstream.dispose();
      })()),
  };
}
