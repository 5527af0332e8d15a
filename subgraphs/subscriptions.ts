/**
 * graphql-ws on a subgraph's `/graphql`: the token comes in `connection_init`
 * as `{ authorization: "Bearer …" }` and is verified like an HTTP request's.
 * A missing or invalid token closes the socket with 4403; when the token
 * expires the socket is closed with 4403 "token expired".
 *
 * Operations get the same limits as over HTTP (`lib/protection.ts`), and the
 * open connections and active subscriptions are counted in the metrics.
 */
import { randomUUID } from "node:crypto";
import { CloseCode } from "graphql-ws";
import { callAt } from "../lib/async.js";
import { useServer } from "graphql-ws/use/ws";
import { getOperationAST, GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from "graphql";
import type { WebSocketServer } from "ws";
import type { Identity, TokenVerifier } from "../lib/auth.js";
import type { OperationLimits } from "../lib/config.js";
import type { Logger } from "../lib/logger.js";
import { metrics, observeDelivery } from "../lib/metrics.js";
import { operationChecker } from "../lib/protection.js";
import type { RequestContext } from "./runtime.js";
import { tracingEnabled } from "../lib/tracing.js";
import { tracedSubscribe } from "./traced-subscribe.js";

type ConnectionExtra = {
  identity?: Identity;
  cancelExpiry?: () => void;
  /** Active subscriptions of the connection, by id: their root field (metrics label) and its response key. */
  active?: Map<string, { field: string; key: string }>;
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
  observe: { service: string; limits: OperationLimits },
): () => Promise<void> {
  const { service, limits } = observe;
  const check = operationChecker(limits);
  const server = useServer<{ authorization?: unknown }, ConnectionExtra>(
    {
      schema,
      isProd: production,
      // With tracing on, each event continues the trace of the change it reports (traced-subscribe.ts).
      ...(tracingEnabled() ? { subscribe: tracedSubscribe } : {}),
      onSubscribe: (_ctx, _id, payload) => {
        let document;
        try {
          document = parse(payload.query, { maxTokens: limits.maxTokens });
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
        }
        const invalid = validate(schema, document);
        if (invalid.length > 0) return invalid;
        const refused = check(schema, document, payload.variables ?? {}, payload.operationName);
        if (refused !== undefined) {
          metrics.operationLimited.inc({ service, limit: String(refused.extensions.limit) });
          return [refused];
        }
        return { schema, document, variableValues: payload.variables, operationName: payload.operationName };
      },
      onOperation: (ctx, id, _payload, args) => {
        const root = rootField(args.document, args.operationName);
        (ctx.extra.active ??= new Map()).set(id, root);
        metrics.subscriptions.inc({ service, field: root.field });
      },
      onNext: (ctx, id, _payload, _args, result) => {
        const root = ctx.extra.active?.get(id);
        if (root === undefined) return;
        // Both subscription payloads of the contract carry their occurrence time as `at` (when selected).
        const at = (result as { data?: Record<string, { at?: unknown } | null> | null }).data?.[root.key]?.at;
        observeDelivery(service, root.field, typeof at === "string" || typeof at === "number" || at instanceof Date ? at : undefined);
      },
      onComplete: (ctx, id) => {
        const root = ctx.extra.active?.get(id);
        if (root === undefined) return;
        ctx.extra.active!.delete(id);
        metrics.subscriptions.dec({ service, field: root.field });
      },
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        try {
          const identity = await verify(typeof authorization === "string" ? authorization : undefined);
          ctx.extra.identity = identity;
          ctx.extra.cancelExpiry = callAt(identity.expiresAt * 1000, () => ctx.extra.socket.close(CloseCode.Forbidden, "token expired"));
          metrics.websocketConnections.inc({ service });
          return true;
        } catch {
          return false;
        }
      },
      onClose: (ctx) => {
        ctx.extra.cancelExpiry?.();
        if (ctx.extra.identity !== undefined) metrics.websocketConnections.dec({ service });
      },
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


/** The first root field the operation selects (the subscription's field) and its response key. */
function rootField(document: DocumentNode, operationName: string | null | undefined): { field: string; key: string } {
  const operation = getOperationAST(document, operationName);
  const first = operation?.selectionSet.selections.find((s) => s.kind === "Field");
  if (first?.kind !== "Field") return { field: "unknown", key: "unknown" };
  return { field: first.name.value, key: first.alias?.value ?? first.name.value };
}
