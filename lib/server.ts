/**
 * One HTTP + WebSocket server per service: GraphQL over HTTP through Apollo
 * Server's `executeHTTPGraphQLRequest` on plain `node:http`, graphql-ws on the
 * same port and path, the health endpoints and `GET /metrics` (unless metrics
 * have a port of their own: `serveMetricsPort`). Returns something disposable.
 *
 * `dispose()` drains: it stops accepting connections, answers readiness with
 * 503, closes WebSockets with 1012 (Service Restart: reconnect, elsewhere),
 * lets in-flight HTTP requests finish (at most `shutdownTimeoutMs`, then cuts
 * them) and only then stops Apollo Server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HeaderMap, type ApolloServer, type BaseContext } from "@apollo/server";
import { WebSocketServer } from "ws";
import type { Logger } from "./logger.js";
import { serveMetrics } from "./metrics.js";
import { bindSpan, inbound } from "./tracing.js";

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
  /**
   * Runs first for every request (CORS, subscriptions over HTTP); returns true
   * when it answered the request, false to let it go on to the routes and GraphQL.
   */
  before?: (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<boolean> | boolean;
  /** Attaches graphql-ws (or anything) to the WebSocket server on `/graphql`; returns its disposer. */
  websocket?: (wss: WebSocketServer) => () => Promise<void>;
  port: number;
  host: string;
  /** Serve `GET /metrics` on this port (false when `MTD_METRICS_PORT` gives them one of their own). */
  metrics: boolean;
  maxBodyBytes: number;
  logger: Logger;
  /** How long `dispose()` waits for in-flight HTTP requests before cutting their connections. Default 10000 ms. */
  shutdownTimeoutMs?: number;
}

export interface Served {
  /** `http://host:port/graphql` */
  url: string;
  port: number;
  dispose(): Promise<void>;
}

const GRAPHQL_PATH = "/graphql";

/** WebSocket close code 1012 (Service Restart): the server is going away; reconnect, to another replica. */
export const SERVICE_RESTART = 1012;

export async function serve<TContext extends BaseContext>(options: ServeOptions<TContext>): Promise<Served> {
  const { apollo, logger } = options;
  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const server = createServer((request, response) => {
    inFlight += 1;
    response.once("close", () => {
      inFlight -= 1;
      if (inFlight === 0) idle?.();
    });
    // While draining, a kept-alive connection carries no further request.
    if (draining) response.setHeader("connection", "close");
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, "request failed");
      if (!response.headersSent) send(response, 500, { error: "internal server error" });
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (options.before !== undefined && (await options.before(request, response, url))) return;
    if (url.pathname === "/health/live" || url.pathname === "/health") {
      return send(response, 200, { status: "ok" });
    }
    if (url.pathname === "/metrics" && options.metrics) return serveMetrics(request, response);
    if (url.pathname === "/health/ready") {
      if (draining) return send(response, 503, { status: "unavailable", reason: "shutting down" });
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
    const method = (request.method ?? "GET").toUpperCase();
    // A server span per GraphQL request (continuing the caller's `traceparent`), carried with the request's
    // context (lib/tracing.ts): the observer names it after the operation, the gateway's fetches go under it.
    const result = await inbound(`${method} ${GRAPHQL_PATH}`, request.headers, { "http.request.method": method }, (span) =>
      apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method, headers, search: url.search, body },
        context: async () => bindSpan(await options.context(request), span),
      }),
    );
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

  const { host, port } = await listen(server, options.port, options.host);

  let disposed: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}${GRAPHQL_PATH}`,
    port,
    dispose: () =>
      (disposed ??= (async () => {
        draining = true;
        // 1. No new connections; idle kept-alive ones are closed now, busy ones after their response.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // 2. WebSocket clients: reconnect elsewhere.
        for (const client of wss.clients) client.close(SERVICE_RESTART, "service restart");
        await disposeWebsocket?.();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        // 3. In-flight HTTP requests finish, within the timeout.
        const timeoutMs = options.shutdownTimeoutMs ?? 10_000;
        let timer: NodeJS.Timeout | undefined;
        const finished = inFlight === 0 ? Promise.resolve(true) : new Promise<boolean>((resolve) => (idle = () => resolve(true)));
        const inTime = await Promise.race([finished, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]);
        clearTimeout(timer);
        if (!inTime) logger.warn({ inFlight, timeoutMs }, "shutdown timeout: cutting in-flight requests");
        server.closeAllConnections();
        for (const client of wss.clients) client.terminate(); // did not answer the close frame in time
        await closed;
        await apollo.stop();
      })()),
  };
}

/**
 * `GET /metrics` alone on `port` (`MTD_METRICS_PORT`): the process's registry,
 * every service of the process in it. One per process; nothing else is
 * answered there (404).
 */
export async function serveMetricsPort(options: { port: number; host: string }): Promise<{ url: string; port: number; dispose(): Promise<void> }> {
  const server = createServer((request, response) => {
    const { pathname } = new URL(request.url ?? "/", "http://localhost");
    if (pathname !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) return send(response, 404, { error: `no route ${pathname}` });
    serveMetrics(request, response).catch(() => response.destroy());
  });
  const { host, port } = await listen(server, options.port, options.host);
  let disposed: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/metrics`,
    port,
    dispose: () =>
      (disposed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

/** Listens on `port` (0: the OS picks) and `host`; the port it got and a host to reach it by (loopback for a wildcard). */
async function listen(server: Server, port: number, host: string): Promise<{ host: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return { port: (server.address() as AddressInfo).port, host: host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host };
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
