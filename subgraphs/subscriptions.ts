/**
 * graphql-ws on a subgraph's `/graphql`: the token comes in `connection_init`
 * as `{ authorization: "Bearer …" }` and is verified like an HTTP request's.
 * A missing or invalid token closes the socket with 4403; when the token
 * expires the socket is closed with 4403 "token expired".
 */
import { randomUUID } from "node:crypto";
import { CloseCode } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import type { GraphQLSchema } from "graphql";
import type { WebSocketServer } from "ws";
import type { Identity, TokenVerifier } from "../lib/auth.js";
import type { Logger } from "../lib/logger.js";
import type { RequestContext } from "./runtime.js";

type ConnectionExtra = {
  identity?: Identity;
  expiry?: NodeJS.Timeout;
};

/** Keep-alive ping interval on subgraph sockets (ms). */
const KEEP_ALIVE_MS = 12_000;

export function serveSubscriptions<TContext extends RequestContext>(
  wss: WebSocketServer,
  schema: GraphQLSchema,
  verify: TokenVerifier,
  context: (base: RequestContext) => TContext,
  logger: Logger,
  production: boolean,
): () => Promise<void> {
  const server = useServer<{ authorization?: unknown }, ConnectionExtra>(
    {
      schema,
      isProd: production,
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        try {
          const identity = await verify(typeof authorization === "string" ? authorization : undefined);
          ctx.extra.identity = identity;
          const remaining = identity.expiresAt * 1000 - Date.now();
          ctx.extra.expiry = setTimeout(() => ctx.extra.socket.close(CloseCode.Forbidden, "token expired"), Math.max(remaining, 0));
          ctx.extra.expiry.unref();
          return true;
        } catch {
          return false;
        }
      },
      onClose: (ctx) => clearTimeout(ctx.extra.expiry),
      context: (ctx) => {
        const identity = ctx.extra.identity!;
        const requestId = randomUUID();
        return context({ identity, requestId, logger: logger.child({ requestId, tenantId: identity.tenantId }) });
      },
    },
    wss,
    KEEP_ALIVE_MS,
  );
  return () => server.dispose() as Promise<void>;
}

