/**
 * One HTTP + WebSocket server per service: GraphQL over HTTP through Apollo
 * Server's `executeHTTPGraphQLRequest` on plain `node:http`, graphql-ws on the
 * same port and path, and the health endpoints. Returns something disposable.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HeaderMap, type ApolloServer, type BaseContext } from "@apollo/server";
import { WebSocketServer } from "ws";
import type { Logger } from "./logger.js";

export interface ServeOptions<TContext extends BaseContext> {
  apollo: ApolloServer<TContext>;
  context: (request: IncomingMessage) => Promise<TContext>;
  /** Readiness: resolves when every dependency answers; rejects with the reason otherwise. */
  ready: () => Promise<void>;
  /**
   * Extra HTTP routes by exact path or path prefix ending in `/` (e.g. the
   * Shared Signals endpoints). A handler owns the response.
   */
  routes?: Record<string, (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>>;
  /** Attaches graphql-ws (or anything) to the WebSocket server on `/graphql`; returns its disposer. */
  websocket?: (wss: WebSocketServer) => () => Promise<void>;
  port: number;
  host: string;
  maxBodyBytes: number;
  logger: Logger;
}

export interface Served {
  /** `http://host:port/graphql` */
  url: string;
  port: number;
  dispose(): Promise<void>;
}

const GRAPHQL_PATH = "/graphql";

export async function serve<TContext extends BaseContext>(options: ServeOptions<TContext>): Promise<Served> {
  const { apollo, logger } = options;
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, "request failed");
      if (!response.headersSent) send(response, 500, { error: "internal server error" });
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname === "/health/live" || url.pathname === "/health") {
      return send(response, 200, { status: "ok" });
    }
    if (url.pathname === "/health/ready") {
      try {
        await options.ready();
        return send(response, 200, { status: "ready" });
      } catch (error) {
        return send(response, 503, { status: "unavailable", reason: error instanceof Error ? error.message : String(error) });
      }
    }
    const route = options.routes && findRoute(options.routes, url.pathname);
    if (route !== undefined) return route(request, response, url);
    if (url.pathname !== GRAPHQL_PATH) return send(response, 404, { error: `no route ${url.pathname}` });

    let body: unknown;
    if (request.method === "POST") {
      const raw = await readBody(request, options.maxBodyBytes);
      if (raw === undefined) return send(response, 413, { errors: [{ message: `request body exceeds ${options.maxBodyBytes} bytes`, extensions: { code: "BAD_REQUEST" } }] });
      if ((request.headers["content-type"] ?? "").includes("application/json")) {
        try {
          body = raw.length === 0 ? {} : JSON.parse(raw.toString("utf8"));
        } catch {
          return send(response, 400, { errors: [{ message: "request body is not valid JSON", extensions: { code: "BAD_REQUEST" } }] });
        }
      } else {
        body = raw.toString("utf8");
      }
    }

    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: (request.method ?? "GET").toUpperCase(), headers, search: url.search, body },
      context: () => options.context(request),
    });
    for (const [key, value] of result.headers) response.setHeader(key, value);
    response.statusCode = result.status ?? 200;
    if (result.body.kind === "complete") {
      response.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) response.write(chunk);
      response.end();
    }
  }

  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH, maxPayload: options.maxBodyBytes });
  const disposeWebsocket = options.websocket?.(wss);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;

  let disposed: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}${GRAPHQL_PATH}`,
    port,
    dispose: () =>
      (disposed ??= (async () => {
        await disposeWebsocket?.();
        for (const client of wss.clients) client.close(1001, "server going away");
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeIdleConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await apollo.stop();
      })()),
  };
}

function findRoute<T>(routes: Record<string, T>, pathname: string): T | undefined {
  if (routes[pathname] !== undefined) return routes[pathname];
  const prefix = Object.keys(routes).find((path) => path.endsWith("/") && pathname.startsWith(path));
  return prefix === undefined ? undefined : routes[prefix];
}

export function send(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  response.end(JSON.stringify(body));
}

/** Reads the body, or returns undefined once it exceeds `limit` bytes. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
