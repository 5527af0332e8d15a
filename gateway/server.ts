/**
 * The gateway: one endpoint for the whole graph. Queries and mutations run on
 * `@apollo/gateway` over the composed supergraph; subscriptions on our engine
 * (subscriptions/engine.ts) over graphql-ws, SSE and multipart HTTP, all on
 * `/graphql`. The caller's token is verified here (early, clear errors) and
 * forwarded to every subgraph, which verifies it again. CORS for the origins
 * of `MTD_CORS_ORIGINS` (cors.ts); the supergraph from `MTD_SUPERGRAPH_PATH`
 * is reloaded when the file changes (supergraph.ts).
 */
import type { IncomingMessage } from "node:http";
import { ApolloGateway } from "@apollo/gateway";
import type { QueryPlan } from "@apollo/query-planner";
import { BoundedCache } from "../lib/cache.js";
import { createApolloServer } from "../lib/apollo.js";
import { createTokenVerifier, type Identity } from "../lib/auth.js";
import { DEFAULT_PORTS, developmentSecret, type Config } from "../lib/config.js";
import type { Logger } from "../lib/logger.js";
import { requestIdFrom } from "../lib/observability.js";
import { createTokenBuckets } from "../lib/rate-limit/index.js";
import { header, serve, type Served } from "../lib/server.js";
import { recordSpan, spanOf, tracingEnabled } from "../lib/tracing.js";
import { plannedBetween } from "../lib/tracing-apollo.js";
import { consoleRoutes } from "./console.js";
import { cors } from "./cors.js";
import { SubgraphDataSource } from "./data-source.js";
import { rateLimitPlugin } from "./rate-limit.js";
import { SubscriptionEngine } from "./subscriptions/engine.js";
import { createTenantSubscriptions } from "./subscriptions/tenant-limit/index.js";
import { httpSubscriptions, SUPPORTED_TRANSPORTS } from "./subscriptions/http.js";
import { serveWebSocket } from "./subscriptions/ws.js";
import { checkSupergraph, loadSupergraph, supergraphFromFile } from "./supergraph.js";

export interface GatewayContext {
  identity: Identity;
  requestId: string;
}

export interface GatewayDeps {
  config: Config;
  logger: Logger;
  /** The supergraph SDL. Default: the file `config.supergraphPath` (watched), else `schema/supergraph.graphql`. */
  supergraphSdl?: string;
}

export async function start({ config, logger: parentLogger, supergraphSdl }: GatewayDeps): Promise<Served> {
  const logger = parentLogger.child({ component: "gateway" });
  const verify = createTokenVerifier({ ...config.auth, secret: developmentSecret(config) });
  // With a supergraph file, subgraph URLs come from its join__graph unless MTD_SUBGRAPH_<NAME>_URL is set.
  const fromFile = supergraphSdl === undefined && config.supergraphPath !== undefined;
  const urlOverrides: Readonly<Partial<Record<string, string>>> = fromFile ? config.subgraphUrlOverrides : config.subgraphUrls;
  const urlOf = (name: string, joinUrl: string | undefined) => urlOverrides[name] ?? (joinUrl === "" ? undefined : joinUrl);
  const sdl = fromFile ? undefined : (supergraphSdl ?? loadSupergraph());
  // Unless this is set, @apollo/gateway reports usage to Apollo (usage-reporting.api.apollographql.com, on stop and hourly)
  // and probes the cloud metadata endpoints (169.254.169.254, …) to describe the host: the gateway talks to its subgraphs only.
  process.env.APOLLO_TELEMETRY_DISABLED = "true";
  const gateway = new ApolloGateway({
    supergraphSdl: sdl ?? supergraphFromFile(config.supergraphPath!, logger, (candidate) => checkSupergraph(candidate, urlOf)),
    buildService: ({ name, url }) => new SubgraphDataSource(name, urlOf(name, url)!),
    // Bounded by count, not by Apollo's estimate of bytes (lib/cache.ts).
    queryPlannerConfig: { cache: new BoundedCache<QueryPlan>({ service: "gateway", name: "query_plans", maxEntries: config.caches.queryPlans }) },
    // Tracing on: a plan this request made (a cache miss) as a span under its request span (lib/tracing-apollo.ts).
    experimental_didResolveQueryPlan: tracingEnabled()
      ? ({ queryPlan, requestContext }) => {
          const planned = plannedBetween(queryPlan);
          if (planned !== undefined) recordSpan(spanOf(requestContext.context), "gateway.plan", { "graphql.operation.name": requestContext.operationName ?? "" }, planned);
        }
      : undefined,
  });
  const buckets = createTokenBuckets({ redis: config.redis, redisPrefix: config.redisPrefix });
  const apollo = createApolloServer<GatewayContext>({
    config,
    service: "gateway",
    logger,
    gateway,
    requestIdOf: (context) => context.requestId,
    callerOf: (context) => context.identity && { tenantId: context.identity.tenantId, subject: context.identity.subject, role: context.identity.role },
    subscriptionTransports: SUPPORTED_TRANSPORTS,
    plugins: [
      // Rate limits before the operation limits: a flood of oversized operations is refused by the cheaper check.
      rateLimitPlugin<GatewayContext>({ buckets, limits: config.rateLimits, identityOf: (context) => context.identity, logger }),
    ],
  });
  // The supergraph the gateway serves, at start and after every reload (the engine follows it).
  let loadedSdl = sdl;
  let following: SubscriptionEngine | undefined;
  const unlisten = gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    loadedSdl = coreSupergraphSdl;
    following?.updateSupergraph(coreSupergraphSdl);
  });
  await apollo.start().catch(async (error: unknown) => {
    await buckets.close();
    throw error;
  });
  // One engine for every subscription transport, planned on the supergraph the gateway loaded.
  const engine = new SubscriptionEngine({
    supergraphSdl: loadedSdl!,
    subgraphUrls: urlOverrides,
    limits: config.subscriptions,
    operationLimits: config.limits,
    maxPlans: config.caches.subscriptionPlans,
    logger,
    production: config.env === "production",
    // With Redis: one count per tenant across the replicas, each replica's share under a lease.
    tenantSubscriptions: createTenantSubscriptions({ redis: config.redis, redisPrefix: config.redisPrefix, leaseMs: config.subscriptions.tenantLeaseMs, logger }),
    subscribeRate: { buckets, limit: config.rateLimits.subscribe },
  });
  following = engine;
  const allowOrigin = cors(config.corsOrigins);
  const subscriptionsOverHttp = httpSubscriptions({ engine, verify, maxBodyBytes: config.maxBodyBytes });
  const served = await serve({
    apollo,
    port: config.port ?? DEFAULT_PORTS.gateway,
    host: config.host,
    metrics: config.metricsPort === undefined,
    maxBodyBytes: config.maxBodyBytes,
    logger,
    routes: consoleRoutes(),
    before: async (request, response, url) => allowOrigin(request, response) || (url.pathname === "/graphql" && (await subscriptionsOverHttp(request, response, url))),
    websocket: (wss) => {
      const disposeWebSocket = serveWebSocket({ wss, engine, verify });
      return async () => {
        unlisten();
        await disposeWebSocket();
        await engine.dispose();
      };
    },
    ready: async () => {
      if (gateway.schema === undefined) throw new Error("supergraph not loaded");
      await buckets.ping().catch((error: unknown) => {
        throw new Error(`rate-limit store unreachable: ${error instanceof Error ? error.message : String(error)}`);
      });
    },
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    context: async (request: IncomingMessage) => {
      const identity = await verify(header(request, "authorization"));
      return { identity, requestId: requestIdFrom(header(request, "x-request-id")) };
    },
  });
  return {
    ...served,
    dispose: async () => {
      await served.dispose();
      await buckets.close();
    },
  };
}
