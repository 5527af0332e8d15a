/**
 * The gateway: one endpoint for the whole graph. Queries and mutations run on
 * `@apollo/gateway` over the composed supergraph; the caller's token is
 * verified here (early, clear errors) and forwarded to every subgraph, which
 * verifies it again.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ApolloServer } from "@apollo/server";
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import { createTokenVerifier, type Identity } from "../lib/auth.js";
import { DEFAULT_PORTS, developmentSecret, type Config, type SubgraphName } from "../lib/config.js";
import { formatError } from "../lib/errors.js";
import type { Logger } from "../lib/logger.js";
import { header, serve, type Served } from "../lib/server.js";
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
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>) {
    if (!("identity" in context) || context.identity === undefined) return;
    request.http?.headers.set("authorization", context.identity.authorization);
    request.http?.headers.set("x-request-id", context.requestId);
  }
}

export async function start({ config, logger: parentLogger, supergraphSdl }: GatewayDeps): Promise<Served> {
  const logger = parentLogger.child({ component: "gateway" });
  const verify = createTokenVerifier({ ...config.auth, secret: developmentSecret(config) });
  const sdl = supergraphSdl ?? loadSupergraph();
  const gateway = new ApolloGateway({
    supergraphSdl: sdl,
    buildService: ({ name }) => new SubgraphDataSource({ url: config.subgraphUrls[name as SubgraphName] }),
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    formatError: formatError(config.env === "production"),
    includeStacktraceInErrorResponses: false,
    introspection: config.env !== "production",
  });
  await apollo.start();
  return serve({
    apollo,
    port: config.port ?? DEFAULT_PORTS.gateway,
    host: config.host,
    maxBodyBytes: config.maxBodyBytes,
    logger,
    websocket: (wss) => {
      const subscriptions = useFederatedSubscriptions({
        wss,
        supergraphSdl: sdl,
        subgraphUrls: config.subgraphUrls,
        limits: config.subscriptions,
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
    },
    context: async (request: IncomingMessage) => {
      const identity = await verify(header(request, "authorization"));
      return { identity, requestId: randomUUID() };
    },
  });
}
