/**
 * How a subgraph is served: its schema built from `schema/<name>.graphql`,
 * Apollo Server (lib/apollo.ts), token verification and the partner rule
 * (lib/partner-rule.ts) on every request and graphql-ws operation, the
 * HTTP server with health and metrics, and graphql-ws on the same port when
 * it has subscriptions.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { buildSubgraphSchema } from "@apollo/subgraph";
import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/index.js";
import { parse } from "graphql";
import { createApolloServer } from "../lib/apollo.js";
import { createTokenVerifier, type Identity, type TokenVerifier } from "../lib/auth.js";
import { developmentSecret, DEFAULT_PORTS, type Config, type SubgraphName } from "../lib/config.js";
import type { Logger } from "../lib/logger.js";
import { requestIdFrom } from "../lib/observability.js";
import { admitPrincipal, type ConnectorDirectory } from "../lib/partner-rule.js";
import { header, serve, type Served, type ServeOptions } from "../lib/server.js";
import type { RequestContext } from "./context.js";
import { guardEntityRepresentations } from "./entity-representations.js";
import { guardServiceSdl } from "./service-sdl.js";
import { serveSubscriptions } from "./subscriptions.js";

/** What `serveSubgraph` needs of the subgraph's parts. */
export interface ServedParts<TContext extends RequestContext> {
  resolvers: unknown;
  /** Builds the per-request context (DataLoaders are created here, per request). */
  context: (base: RequestContext) => TContext;
  /** Extra HTTP routes served on the subgraph's port (see `serve`). */
  routes?: ServeOptions<TContext>["routes"];
  /** Serve `Subscription` fields over graphql-ws on the same port and path. */
  subscriptions?: boolean;
}

function loadTypeDefs(name: SubgraphName) {
  return parse(readFileSync(new URL(`../schema/${name}.graphql`, import.meta.url), "utf8"));
}

function tokenVerifier(config: Config): TokenVerifier {
  return createTokenVerifier({ ...config.auth, secret: developmentSecret(config) });
}

export async function serveSubgraph<TContext extends RequestContext>(
  name: SubgraphName,
  config: Config,
  logger: Logger,
  parts: ServedParts<TContext>,
  partnerConnectors: ConnectorDirectory,
  ready: () => Promise<void>,
): Promise<Served> {
  const schema = buildSubgraphSchema({ typeDefs: loadTypeDefs(name), resolvers: parts.resolvers as GraphQLResolverMap<unknown> });
  guardEntityRepresentations(schema);
  guardServiceSdl(schema, config.introspection);
  const verify = tokenVerifier(config);
  // The partner rule, before any resolver: for every HTTP request and every graphql-ws operation.
  const admit = (identity: Identity) => admitPrincipal(identity, partnerConnectors);
  const apollo = createApolloServer<TContext>({
    config,
    service: name,
    logger,
    schema,
    subscriptionTransports: "WebSocket (graphql-transport-ws)",
    requestIdOf: (context) => context.requestId,
    callerOf: (context) => ({ tenantId: context.identity.tenantId, subject: context.identity.subject, role: context.identity.role }),
  });
  await apollo.start();
  return serve({
    apollo,
    port: config.port ?? DEFAULT_PORTS[name],
    host: config.host,
    metrics: config.metricsPort === undefined,
    maxBodyBytes: config.maxBodyBytes,
    logger,
    ready,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    routes: parts.routes,
    websocket: parts.subscriptions
      ? (wss) => serveSubscriptions({ wss, schema, verify, admit, context: parts.context, logger, production: config.env === "production", service: name, limits: config.limits })
      : undefined,
    context: async (request: IncomingMessage) => {
      const identity = await verify(header(request, "authorization"));
      await admit(identity);
      const requestId = requestIdFrom(header(request, "x-request-id"));
      return parts.context({ identity, requestId, logger: logger.child({ requestId, tenantId: identity.tenantId }) });
    },
  });
}
