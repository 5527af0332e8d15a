/**
 * One graphql-ws connection from the gateway to a subgraph, for one identity:
 * lazy (opened by its first subscription), never retried by graphql-ws itself
 * (upstream.ts resubscribes with the last cursor), with a keep-alive: a ping
 * every `keepAliveMs`, and a connection whose pong does not come within as
 * long is terminated, as a network failure would end it.
 */
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

export interface Connection {
  /** URL and identity. */
  readonly key: string;
  readonly client: Client;
  /** Upstream subscriptions on it: it closes when the last one ends. */
  users: number;
  /** Open sockets (for fault tests and operators that drop them). */
  readonly sockets: Set<WebSocket>;
}

export function openConnection(key: string, url: string, authorization: string, keepAliveMs: number): Connection {
  const sockets = new Set<WebSocket>();
  let pongTimeout: NodeJS.Timeout | undefined;
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization },
    lazy: true,
    // Reconnection is ours: a resumable subscription must resubscribe with its last cursor.
    retryAttempts: 0,
    keepAlive: keepAliveMs,
    on: {
      opened: (socket) => void sockets.add(socket as WebSocket),
      closed: () => {
        clearTimeout(pongTimeout);
        for (const socket of sockets) if (socket.readyState === WebSocket.CLOSED) sockets.delete(socket);
      },
      ping: (received) => {
        if (received || keepAliveMs <= 0) return;
        clearTimeout(pongTimeout);
        pongTimeout = setTimeout(() => client.terminate(), keepAliveMs);
        pongTimeout.unref();
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimeout);
      },
    },
  });
  return { key, client, users: 0, sockets };
}

/**
 * Closes a connection's client. graphql-ws's `dispose` awaits the connection
 * attempt, which rejects with the close event when the subgraph closed the
 * socket before acknowledging it (a subgraph stopping: 1012): then there is
 * nothing left to close, and the rejection must not go unhandled.
 */
export async function closeConnection(connection: Connection): Promise<void> {
  try {
    await connection.client.dispose();
  } catch {
    // closed before it was acknowledged
  }
}
