/**
 * graphql-ws on a subgraph's `/graphql`, with the transport policy the
 * gateway's graphql-ws server shares (lib/ws-policy.ts): the token comes in
 * `connection_init` as `{ authorization: "Bearer …" }`; a missing or invalid
 * one closes the socket with 4403; when it expires the socket is closed with
 * 4403 "token expired". Each operation passes the partner rule
 * (lib/partner-rule.ts) or gets its FORBIDDEN error. Operations are parsed,
 * validated and checked against the same limits as over HTTP, with the same
 * codes as at the gateway (OPERATION_LIMIT, GRAPHQL_PARSE_FAILED,
 * GRAPHQL_VALIDATION_FAILED); the open connections and active subscriptions
 * are counted in the metrics. A client that asks for a resumable stream's
 * head marker (`extensions.resumableHead`, lib/resumable.ts) gets it as its
 * first `next` (subscribe.ts).
 */
import { randomUUID } from "node:crypto";
import { useServer } from "graphql-ws/use/ws";
import { getOperationAST, GraphQLError, type DocumentNode, type GraphQLSchema } from "graphql";
import type { WebSocketServer } from "ws";
import type { Identity, TokenVerifier } from "../lib/auth.js";
import type { OperationLimits } from "../lib/config.js";
import type { Logger } from "../lib/logger.js";
import { metrics, observeDelivery } from "../lib/metrics.js";
import { operationChecker } from "../lib/protection.js";
import { admitConnection, admitOperation, FORBIDDEN_CLOSE_CODE, TOKEN_EXPIRED_REASON, type AdmittedConnection } from "../lib/ws-policy.js";
import type { RequestContext } from "./context.js";
import { asksForHead } from "../lib/resumable.js";
import { tracingEnabled } from "../lib/tracing.js";
import { subscriber } from "./subscribe.js";

type ConnectionExtra = {
  admitted?: AdmittedConnection;
  /** Active subscriptions of the connection, by id: their root field (metrics label) and its response key. */
  active?: Map<string, { field: string; key: string }>;
};

/** Keep-alive ping interval on subgraph sockets (ms). */
const KEEP_ALIVE_MS = 12_000;

export interface SubscriptionServerOptions<TContext extends RequestContext> {
  /** The WebSocket server on the subgraph's HTTP server and path. */
  wss: WebSocketServer;
  schema: GraphQLSchema;
  verify: TokenVerifier;
  /** Admits the connection's principal for each operation (the partner rule); a GraphQLError it throws is the operation's error. */
  admit: (identity: Identity) => Promise<void>;
  /** Builds the per-operation context, as for an HTTP request. */
  context: (base: RequestContext) => TContext;
  logger: Logger;
  /** Hides internal error details. */
  production: boolean;
  /** The metrics label. */
  service: string;
  limits: OperationLimits;
}

export function serveSubscriptions<TContext extends RequestContext>(options: SubscriptionServerOptions<TContext>): () => Promise<void> {
  const { wss, schema, verify, admit, context, logger, production, service, limits } = options;
  const check = operationChecker(limits);
  /** Contexts of operations whose client asked for the head marker. */
  const headAsked = new WeakSet<object>();
  const server = useServer<{ authorization?: unknown }, ConnectionExtra>(
    {
      schema,
      isProd: production,
      // Head markers for clients that ask; with tracing on, each event continues the trace of the change it reports.
      subscribe: subscriber({ traced: tracingEnabled(), wantsHead: (args) => headAsked.has(args.contextValue as object) }),
      onSubscribe: async (ctx, _id, payload) => {
        const document = admitOperation(check, service, schema, payload, limits.maxTokens);
        if (!("kind" in document)) return document;
        try {
          await admit(ctx.extra.admitted!.identity);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
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
        const socket = ctx.extra.socket;
        ctx.extra.admitted = await admitConnection({ verify, service, socket, connectionParams: ctx.connectionParams, onExpire: () => socket.close(FORBIDDEN_CLOSE_CODE, TOKEN_EXPIRED_REASON) });
        return ctx.extra.admitted !== undefined;
      },
      onClose: (ctx) => ctx.extra.admitted?.release(),
      context: (ctx, _id, payload) => {
        const identity = ctx.extra.admitted!.identity;
        const requestId = randomUUID();
        const value = context({ identity, requestId, logger: logger.child({ requestId, tenantId: identity.tenantId }) });
        if (asksForHead(payload.extensions)) headAsked.add(value);
        return value;
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
