/**
 * graphql-ws (`graphql-transport-ws`) on the gateway's WebSocket server, same
 * port and path as HTTP: a thin adapter over the subscription engine
 * (engine.ts), with the transport policy every graphql-ws server of ours
 * shares (lib/ws-policy.ts).
 *
 * - `connection_init` must carry `{ authorization: "Bearer <JWT>" }`; a missing
 *   or invalid token closes the socket with 4403. When the token expires every
 *   subscription ends with an UNAUTHENTICATED error and the socket closes with 4403.
 * - Only subscriptions are served here: a query or mutation gets an
 *   OPERATION_NOT_SUPPORTED error (send it over HTTP).
 * - At most `maxPerConnection` subscriptions per connection (and the engine's
 *   per-tenant limit) answer TOO_MANY_SUBSCRIPTIONS, the engine's subscribe
 *   rate limit RATE_LIMITED (`extensions.retryAfterSeconds`), as the
 *   subscription's `error` message; a client that cannot keep
 *   up is closed with 4290 (GatewayCloseCode.SlowConsumer): more than
 *   `maxQueuedEvents` behind on one subscription, or more than
 *   `maxQueuedBytes` held for the connection, its subscriptions' results
 *   waiting plus the socket's unsent bytes (client-bytes.ts).
 * - Keep-alive: WebSocket pings every `keepAliveMs`; a client that misses a pong is dropped.
 */
import type { ExecutionArgs, GraphQLError } from "graphql";
import { useServer, type Extra } from "graphql-ws/use/ws";
import type { WebSocketServer } from "ws";
import type { TokenVerifier } from "../../lib/auth.js";
import { admitConnection, FORBIDDEN_CLOSE_CODE, TOKEN_EXPIRED_REASON, type AdmittedConnection } from "../../lib/ws-policy.js";
import { ClientBytes } from "./client-bytes.js";
import type { SubscriptionEngine } from "./engine.js";
import { nextFrame, writeFrame } from "./frames.js";
import { GatewayCloseCode, SLOW_CONSUMER_REASON, SubscriptionFailure, tokenExpired, tooManySubscriptions } from "./protocol.js";
import type { ClientStream } from "./stream.js";

export interface WebSocketTransportOptions {
  wss: WebSocketServer;
  engine: SubscriptionEngine;
  verify: TokenVerifier;
}

interface ConnectionState {
  admitted?: AdmittedConnection;
  streams: Set<ClientStream>;
  bytes: ClientBytes;
  /** Subscriptions whose admission (rate limit, tenant count) is under way. */
  admitting: number;
}

type ConnectionExtra = { state?: ConnectionState };

/** The `service` label of this endpoint's metrics. */
const SERVICE = "gateway";
/** How long an expiring connection waits for its final errors to be written. */
const FLUSH_BEFORE_CLOSE_MS = 1000;

/** Serves the engine's subscriptions over graphql-ws on `wss`; returns its disposer. */
export function serveWebSocket({ wss, engine, verify }: WebSocketTransportOptions): () => Promise<void> {
  const { maxPerConnection, keepAliveMs, maxQueuedBytes } = engine.limits;
  const stateOf = (extra: ConnectionExtra & Extra): ConnectionState =>
    (extra.state ??= { streams: new Set(), admitting: 0, bytes: new ClientBytes(maxQueuedBytes, () => extra.socket.bufferedAmount, "graphql-ws") });

  async function expire(extra: ConnectionExtra & Extra) {
    const streams = [...stateOf(extra).streams];
    for (const stream of streams) stream.fail([tokenExpired()]);
    await Promise.race([Promise.all(streams.map((stream) => stream.done)), new Promise((resolve) => setTimeout(resolve, FLUSH_BEFORE_CLOSE_MS).unref())]);
    // Let graphql-ws write the errors it was handed before the close frame.
    await new Promise((resolve) => setImmediate(resolve));
    extra.socket.close(FORBIDDEN_CLOSE_CODE, TOKEN_EXPIRED_REASON);
  }

  const server = useServer<{ authorization?: unknown }, ConnectionExtra>(
    {
      onConnect: async (ctx) => {
        const admitted = await admitConnection({ verify, service: SERVICE, socket: ctx.extra.socket, connectionParams: ctx.connectionParams, onExpire: () => void expire(ctx.extra) });
        if (admitted === undefined) return false;
        stateOf(ctx.extra).admitted = admitted;
        return true;
      },

      onSubscribe: async (ctx, id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> => {
        const state = stateOf(ctx.extra);
        // Subscriptions being admitted hold their place: concurrent subscribes cannot pass the limit together.
        if (state.streams.size + state.admitting >= maxPerConnection) {
          return [tooManySubscriptions(`at most ${maxPerConnection} active subscriptions per connection; complete one first`)];
        }
        state.admitting++;
        const started = await engine.subscribe({
          identity: state.admitted!.identity,
          query: typeof payload.query === "string" ? payload.query : "",
          operationName: payload.operationName,
          variables: payload.variables,
          transport: "graphql-ws",
          // The group's frame, serialised once, written as is (graphql-ws would stringify per subscriber).
          deliver: (result) => writeFrame(ctx.extra.socket, ctx.extra.request.socket, nextFrame(id, result)),
          onOverflow: () => ctx.extra.socket.close(GatewayCloseCode.SlowConsumer, SLOW_CONSUMER_REASON),
          bytes: state.bytes,
        }).finally(() => state.admitting--);
        if (started.errors !== undefined) return started.errors;
        const { stream } = started;
        state.streams.add(stream);
        void stream.done.then(() => state.streams.delete(stream));
        return { ...started.execution, variableValues: payload.variables, contextValue: { stream } };
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
        state.admitted?.release();
        for (const stream of [...state.streams]) void stream.return();
      },
    },
    wss,
    keepAliveMs,
  );
  return async () => {
    await server.dispose();
  };
}
