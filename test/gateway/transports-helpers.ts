/**
 * Clients of the gateway's HTTP subscription transports, for tests: a raw
 * Server-Sent Events reader (sees ids, comments and `Last-Event-ID` as a
 * browser's EventSource would), graphql-sse's own client, and Apollo Client's
 * HttpLink (multipart).
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { createClient } from "graphql-sse";
import { deferred, waitFor, type Deferred } from "../support/wait.js";

export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/** One SSE response read as it arrives, over node:http (so a test can stop reading it). */
export class SseReader {
  readonly events: SseEvent[] = [];
  comments = 0;
  status = 0;
  headers: IncomingMessage["headers"] = {};
  readonly ended: Deferred<void> = deferred();
  response: IncomingMessage | undefined;
  private buffer = "";
  private readonly abort = new AbortController();

  constructor(url: string, options: { token: string; query: string; variables?: Record<string, unknown>; lastEventId?: string; method?: "GET" | "POST" }) {
    const body = JSON.stringify({ query: options.query, variables: options.variables });
    const target = new URL(url);
    if (options.method === "GET") {
      target.searchParams.set("query", options.query);
      if (options.variables !== undefined) target.searchParams.set("variables", JSON.stringify(options.variables));
    }
    const headers: Record<string, string> = { accept: "text/event-stream", authorization: `Bearer ${options.token}` };
    if (options.method !== "GET") headers["content-type"] = "application/json";
    if (options.lastEventId !== undefined) headers["last-event-id"] = options.lastEventId;
    const outgoing = httpRequest(target, { method: options.method ?? "POST", headers, signal: this.abort.signal }, (response) => {
      this.response = response;
      this.status = response.statusCode ?? 0;
      this.headers = response.headers;
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => this.read(chunk));
      response.on("end", () => this.ended.resolve());
      response.on("error", () => this.ended.resolve());
    });
    outgoing.on("error", () => this.ended.resolve());
    outgoing.end(options.method === "GET" ? undefined : body);
  }

  /** The `next` events' results. */
  get results(): any[] {
    return this.events.filter((event) => event.event === "next").map((event) => event.data);
  }

  async count(n: number, timeoutMs = 10_000): Promise<any[]> {
    await waitFor(() => this.results.length >= n, timeoutMs, `${n} SSE results`);
    return this.results.slice(0, n);
  }

  /** Disconnects, as a client that goes away (or loses its network) would. */
  stop(): void {
    this.abort.abort();
  }

  private read(chunk: string) {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf("\n\n")) !== -1) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: SseEvent = { event: "", data: undefined };
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) this.comments++;
        else if (line.startsWith("id: ")) event.id = line.slice(4);
        else if (line.startsWith("event: ")) event.event = line.slice(7);
        else if (line.startsWith("data:")) data += line.slice(5).trimStart();
      }
      if (event.event === "") continue;
      event.data = data === "" ? null : JSON.parse(data);
      this.events.push(event);
    }
  }
}

/** What a subscription of a real client received. */
export class Collected {
  readonly results: any[] = [];
  errors: any[] | undefined;
  completed = false;
  /** Connections made again after one was lost (graphql-sse's client with `reconnect`). */
  reconnects = 0;
  /** Called with each result as it arrives. */
  onResult: (result: any) => void = () => {};
  readonly ended: Deferred<void> = deferred();
  stop: () => void = () => {};

  async count(n: number, timeoutMs = 10_000): Promise<any[]> {
    await waitFor(() => this.results.length >= n || this.errors !== undefined, timeoutMs, `${n} results`);
    if (this.results.length < n) throw new Error(`subscription failed before ${n} results: ${JSON.stringify(this.errors)}`);
    return this.results.slice(0, n);
  }
}

/**
 * graphql-sse's own client (distinct connections mode). No retries, unless
 * `reconnect` is given: then a lost connection is retried (every 100 ms) and
 * each attempt sends `Last-Event-ID` = `reconnect.lastEventId()`, as the
 * README's client guide does with the last cursor received (graphql-sse's
 * client does not read SSE ids itself).
 */
export function sseSubscribe(url: string, token: string, query: string, variables?: Record<string, unknown>, reconnect?: { lastEventId(): string | undefined }): Collected {
  const collected = new Collected();
  const client = createClient({
    url,
    headers: () => {
      const last = reconnect?.lastEventId();
      return { authorization: `Bearer ${token}`, ...(last === undefined ? {} : { "last-event-id": last }) };
    },
    retryAttempts: reconnect === undefined ? 0 : 200,
    retry: () => sleep(100),
    on: { connected: (reconnected) => void (reconnected && collected.reconnects++) },
  });
  const stop = client.subscribe(
    { query, variables },
    {
      next: (result) => {
        if (result.data === undefined || result.data === null) collected.errors = result.errors as any[];
        else {
          collected.results.push(result.data);
          collected.onResult(result.data);
        }
      },
      error: (error) => {
        collected.errors = [error];
        collected.ended.resolve();
      },
      complete: () => {
        collected.completed = true;
        collected.ended.resolve();
      },
    },
  );
  collected.stop = () => {
    stop();
    client.dispose();
  };
  return collected;
}

/** Apollo Client 4 with only an HttpLink: subscriptions over its multipart protocol. */
export function multipartSubscribe(url: string, token: string, query: string, variables?: Record<string, unknown>): Collected {
  const collected = new Collected();
  const client = new ApolloClient({ link: new HttpLink({ uri: url, headers: { authorization: `Bearer ${token}` } }), cache: new InMemoryCache() });
  const subscription = client.subscribe({ query: gql(query), variables, fetchPolicy: "no-cache" }).subscribe({
    next: (result) => {
      if (result.error !== undefined) collected.errors = [...((result.error as { errors?: unknown[] }).errors ?? [result.error])];
      else collected.results.push(result.data);
    },
    error: (error) => {
      collected.errors = [...((error as { errors?: unknown[] }).errors ?? [error])];
      collected.ended.resolve();
    },
    complete: () => {
      collected.completed = true;
      collected.ended.resolve();
    },
  });
  collected.stop = () => {
    subscription.unsubscribe();
    client.stop();
  };
  return collected;
}
