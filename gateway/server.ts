/**
 * The gateway: one endpoint for the whole graph. Queries and mutations run on
 * `@apollo/gateway` over the composed supergraph; the caller's token is
 * verified here (early, clear errors) and forwarded to every subgraph, which
 * verifies it again.
 */
import type { IncomingMessage } from "node:http";
import { ApolloServer } from "@apollo/server";
import { GraphQLError } from "graphql";
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import type { QueryPlan } from "@apollo/query-planner";
import { BoundedCache, documentStore } from "../lib/cache.js";
import { createTokenVerifier, type Identity } from "../lib/auth.js";
import { DEFAULT_PORTS, developmentSecret, type Config, type SubgraphName } from "../lib/config.js";
import { formatError } from "../lib/errors.js";
import type { Logger } from "../lib/logger.js";
import { metrics, operationLabel } from "../lib/metrics.js";
import { requestIdFrom, requestObserver } from "../lib/observability.js";
import { protection } from "../lib/protection.js";
import { inSpan, SpanKind } from "../lib/tracing.js";
import { createTokenBuckets } from "../lib/rate-limit/index.js";
import { header, serve, type Served } from "../lib/server.js";
import { consoleRoutes } from "./console.js";
import { rateLimitPlugin } from "./rate-limit.js";
import { SHAREABLE_HEADER, subgraphFetcher } from "./subgraph-http.js";
import { useFederatedSubscriptions } from "./subscriptions/server.js";
import { loadSupergraph } from "./supergraph.js";

export interface GatewayContext {
  identity: Identity;
  requestId: string;
}

export interface GatewayDeps {
  config: Config;
  logger: Logger;
  /** The supergraph SDL. Default: `schema/supergraph.graphql`. */
  supergraphSdl?: string;
}

/** Forwards the caller's verified token and the request id to a subgraph. */
class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    private readonly subgraph: string,
    url: string,
  ) {
    // Keep-alive pool, in-flight deduplication of identical query fetches (subgraph-http.ts).
    super({ url, fetcher: subgraphFetcher });
  }

  /** Times every fetch: `mtd_gateway_subgraph_fetch_duration_seconds{subgraph, operation}`. */
  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    const started = process.hrtime.bigint();
    try {
      return await inSpan(`fetch ${this.subgraph}`, { "mtd.subgraph": this.subgraph }, () => super.process(options), SpanKind.CLIENT);
    } finally {
      const name = "incomingRequestContext" in options ? options.incomingRequestContext.operationName : undefined;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.subgraphFetchDuration.observe({ subgraph: this.subgraph, operation: operationLabel("gateway", name) }, seconds);
    }
  }

  override willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    const { request, context } = options;
    // The fetches of a query may join an identical one in flight (same token); a mutation's never do.
    if ("incomingRequestContext" in options && options.incomingRequestContext.operation?.operation === "query") request.http?.headers.set(SHAREABLE_HEADER, "1");
    if (!("identity" in context) || context.identity === undefined) return;
    request.http?.headers.set("authorization", context.identity.authorization);
    request.http?.headers.set("x-request-id", context.requestId);
  }

  /**
   * A subgraph that refuses a request with a non-2xx status (Apollo Server
   * answers 400 when a variable fails its scalar, e.g. a negative SafeInt)
   * still says why in GraphQL errors: pass its first error on with its code,
   * instead of Apollo's generic "400: Bad Request".
   */
  override async errorFromResponse(response: Parameters<RemoteGraphQLDataSource["errorFromResponse"]>[0]) {
    const body = (await this.parseBody(response.clone())) as { errors?: { message?: unknown; extensions?: { code?: unknown } }[] } | string;
    const first = typeof body === "object" ? body.errors?.[0] : undefined;
    if (typeof first?.message === "string" && typeof first.extensions?.code === "string") {
      return new GraphQLError(first.message, { extensions: { code: first.extensions.code } });
    }
    return super.errorFromResponse(response);
  }
}

export async function start({ config, logger: parentLogger, supergraphSdl }: GatewayDeps): Promise<Served> {
  const logger = parentLogger.child({ component: "gateway" });
  const verify = createTokenVerifier({ ...config.auth, secret: developmentSecret(config) });
  const sdl = supergraphSdl ?? loadSupergraph();
  const gateway = new ApolloGateway({
    supergraphSdl: sdl,
    buildService: ({ name }) => new SubgraphDataSource(name, config.subgraphUrls[name as SubgraphName]),
    // Bounded by count, not by Apollo's estimate of bytes (lib/cache.ts).
    queryPlannerConfig: { cache: new BoundedCache<QueryPlan>({ service: "gateway", name: "query_plans", maxEntries: config.caches.queryPlans }) },
  });
  const buckets = createTokenBuckets({ redisUrl: config.redisUrl, redisPrefix: config.redisPrefix });
  const guard = protection(config, "gateway");
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    formatError: formatError(config.env === "production"),
    includeStacktraceInErrorResponses: false,
    // bin/start.ts drains on SIGTERM; Apollo's own handler would stop the server under it and re-raise the signal.
    stopOnTerminationSignals: false,
    documentStore: documentStore(config.caches, "gateway"),
    ...guard,
    plugins: [
      requestObserver<GatewayContext>({
        service: "gateway",
        logger,
        requestIdOf: (context) => context.requestId,
        callerOf: (context) => context.identity && { tenantId: context.identity.tenantId, subject: context.identity.subject, role: context.identity.role },
      }),
      // Rate limits first: a flood of oversized operations is refused by the cheaper check.
      rateLimitPlugin<GatewayContext>({ buckets, limits: config.rateLimits, identityOf: (context) => context.identity, logger }),
      ...guard.plugins,
    ],
  });
  await apollo.start().catch(async (error: unknown) => {
    await buckets.close();
    throw error;
  });
  const served = await serve({
    apollo,
    port: config.port ?? DEFAULT_PORTS.gateway,
    host: config.host,
    maxBodyBytes: config.maxBodyBytes,
    logger,
    routes: consoleRoutes(),
    websocket: (wss) => {
      const subscriptions = useFederatedSubscriptions({
        wss,
        supergraphSdl: sdl,
        subgraphUrls: config.subgraphUrls,
        limits: config.subscriptions,
        operationLimits: config.limits,
        maxPlans: config.caches.subscriptionPlans,
        verify,
        logger,
        production: config.env === "production",
      });
      const unlisten = gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => subscriptions.updateSupergraph(coreSupergraphSdl));
      return async () => {
        unlisten();
        await subscriptions.dispose();
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
