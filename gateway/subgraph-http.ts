/**
 * How the gateway talks HTTP to subgraphs: the `fetcher` of its data sources.
 *
 * - One keep-alive connection pool per process (`node:http` Agent): no TCP
 *   handshake per fetch, and none of the per-request machinery of a WHATWG
 *   fetch (Apollo's default, make-fetch-happen, or undici's `fetch`).
 * - Each fetch says which kind of operation's plan it belongs to
 *   (`OPERATION_HEADER`, set by the data source, never sent on):
 * - In-flight deduplication: identical fetches (same URL, same Authorization,
 *   same body) of query operations (never of a mutation's plan) that overlap
 *   in time go to the subgraph once; every caller gets its own copy of the
 *   response. The caller's token is part of the key, so nothing is shared
 *   across identities.
 * - A fetch of anything but a mutation is sent once more on a new connection
 *   when a pooled connection it reused fails before any response: the
 *   subgraph closed that idle connection just as it was reused (its
 *   keep-alive timeout), and the request never reached it. A mutation's fetch,
 *   or one that does not say what it is, is never sent twice.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { RemoteGraphQLDataSource } from "@apollo/gateway";

export type Fetcher = NonNullable<NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>["fetcher"]>;

/** Set by a data source to the operation type of the plan a fetch belongs to (`query`, `mutation`, `subscription`; `internal` for the gateway's own); never sent. */
export const OPERATION_HEADER = "x-mtd-operation";

interface Received {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Read-only response headers over Node's (lower-cased) header object. */
class ReceivedHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
  }

  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.raw)) yield [name, this.get(name)!];
  }

  keys(): IterableIterator<string> {
    return Object.keys(this.raw)[Symbol.iterator]();
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  forEach(callback: (value: string, name: string) => void): void {
    for (const [name, value] of this.entries()) callback(value, name);
  }

  [Symbol.iterator]() {
    return this.entries();
  }
}

/** A fully read response: what the data source reads of it (status, headers, text, json, clone). */
class BufferedResponse {
  readonly ok: boolean;
  readonly redirected = false;
  readonly bodyUsed = false;
  readonly headers: ReceivedHeaders;

  constructor(
    readonly url: string,
    private readonly received: Received,
  ) {
    this.ok = received.status >= 200 && received.status < 300;
    this.headers = new ReceivedHeaders(received.headers);
  }

  get status() {
    return this.received.status;
  }

  get statusText() {
    return this.received.statusText;
  }

  async text(): Promise<string> {
    return this.received.body;
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.received.body);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = Buffer.from(this.received.body, "utf8");
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  clone(): BufferedResponse {
    return new BufferedResponse(this.url, this.received);
  }
}

export interface SubgraphFetcherOptions {
  /** Open connections per subgraph origin at most. Default 256. */
  maxSockets?: number;
}

/** A fetcher for RemoteGraphQLDataSource with a keep-alive pool and in-flight deduplication. */
export function createSubgraphFetcher(options: SubgraphFetcherOptions = {}): Fetcher {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 256, scheduling: "lifo" as const };
  const http = new Agent(agentOptions);
  const https = new HttpsAgent(agentOptions);
  const inflight = new Map<string, Promise<Received>>();

  const send = (url: string, method: string, headers: Record<string, string>, body: string | undefined, retryable: boolean): Promise<Received> =>
    new Promise<Received>((resolve, reject) => {
      const secure = url.startsWith("https:");
      let answered = false;
      const outgoing = (secure ? httpsRequest : httpRequest)(url, { method, headers, agent: secure ? https : http }, (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? "", headers: response.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
      });
      outgoing.on("error", (error) => {
        if (retryable && !answered && outgoing.reusedSocket) resolve(send(url, method, headers, body, false));
        else reject(error);
      });
      outgoing.end(body);
    });

  const fetcher = async (url: string, init?: { method?: string; headers?: unknown; body?: unknown }) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries((init?.headers ?? {}) as Record<string, string>)) headers[name.toLowerCase()] = value;
    const operation = headers[OPERATION_HEADER];
    delete headers[OPERATION_HEADER];
    const shareable = operation === "query";
    const retryable = operation !== undefined && operation !== "mutation";
    const method = init?.method ?? "GET";
    const body = typeof init?.body === "string" ? init.body : undefined;
    if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
    if (!shareable) return new BufferedResponse(url, await send(url, method, headers, body, retryable));
    const key = `${url}\u0000${headers.authorization ?? ""}\u0000${body ?? ""}`;
    let pending = inflight.get(key);
    if (pending === undefined) {
      pending = send(url, method, headers, body, retryable).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    return new BufferedResponse(url, await pending);
  };
  return fetcher as unknown as Fetcher;
}

/** The gateway process's fetcher: one keep-alive pool for queries, mutations and subscription entity fetches alike. */
export const subgraphFetcher: Fetcher = createSubgraphFetcher();
