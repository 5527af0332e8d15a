/**
 * The console's GraphQL client: urql over HTTP (`POST /graphql`, same origin)
 * and graphql-ws over `ws(s)://<host>/graphql` for subscriptions, both with
 * the session's token.
 *
 * Resuming: a subscription whose operation context carries `resumeCursor`
 * (a function reading the cursor out of one result) is re-sent, when
 * graphql-ws reconnects, with `after` set to the cursor of the last result
 * it delivered, so the graph replays only what was missed.
 */
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from "urql";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";

export type ConnectionState = "connecting" | "live" | "reconnecting";

export interface ResumableContext {
  /** Reads the cursor from one subscription result; the next (re)subscribe resumes after it. */
  resumeCursor?: (data: unknown) => string | undefined;
}

export interface ConsoleClient {
  urql: Client;
  ws: WsClient;
  dispose(): void;
}

export function createConsoleClient(token: string, onState: (state: ConnectionState) => void): ConsoleClient {
  const authorization = `Bearer ${token}`;
  const ws = createWsClient({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
    connectionParams: { authorization },
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    on: {
      connecting: (retrying) => onState(retrying ? "reconnecting" : "connecting"),
      connected: () => onState("live"),
      closed: () => onState("reconnecting"),
    },
  });
  const urql = new Client({
    url: "/graphql",
    preferGetMethod: false,
    requestPolicy: "cache-and-network",
    fetchOptions: () => ({ headers: { authorization } }),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request, operation) => ({
          subscribe: (sink) => {
            const { resumeCursor } = operation.context as ResumableContext;
            // graphql-ws sends this same object again on every reconnect.
            const payload = { ...request, query: request.query ?? "" };
            const unsubscribe = ws.subscribe(payload, {
              next: (result) => {
                const cursor = resumeCursor?.(result.data);
                if (cursor !== undefined) payload.variables = { ...payload.variables, after: cursor };
                sink.next(result as Parameters<typeof sink.next>[0]);
              },
              error: (error) => sink.error(error),
              complete: () => sink.complete(),
            });
            return { unsubscribe };
          },
        }),
      }),
    ],
  });
  return { urql, ws, dispose: () => void ws.dispose() };
}
