/**
 * Upstream subscriptions to subgraphs over graphql-ws.
 *
 * - One multiplexed graphql-ws connection per subgraph URL and identity (the
 *   client's token, sent in `connection_init`); it closes when its last
 *   subscription ends.
 * - Identical primary operations (same document, variables and token) share
 *   one upstream subscription; each event goes to every listener. For a
 *   resumable field a client joins only an upstream subscription that stands
 *   exactly where the client asks to start (its `after`, or live), so sharing
 *   never skips nor repeats an event for anyone.
 * - A dropped connection is re-established with exponential backoff and
 *   jitter. A resumable subscription resubscribes with its resume argument set
 *   to the last cursor received, so nothing is lost; cursors already seen are
 *   dropped, so nothing is delivered twice.
 * - A resumable subscription started live (no resume argument) asks the
 *   subgraph for its head marker (lib/resumable.ts) and pins that cursor: a
 *   drop before its first event resumes after the head, so nothing committed
 *   since the subscription started is lost. (A drop before the marker arrives
 *   starts live again: the subscription had not started on the subgraph.)
 * - Keep-alive: a ping every `keepAliveMs`; a connection that does not answer
 *   within as long is terminated (and re-established): connection.ts.
 */
import type { FormattedExecutionResult } from "graphql-ws";
import type { GraphQLError } from "graphql";
import type { Logger } from "../../lib/logger.js";
import { HEAD_EXTENSION, headOf } from "../../lib/resumable.js";
import { closeConnection, openConnection, type Connection } from "./connection.js";
import { describeFailure, isRetryable, toGraphQLError, upstreamFailure } from "./protocol.js";
import { stableJson } from "./stable-json.js";

export interface UpstreamRequest {
  /** Subgraph name, for messages. */
  subgraph: string;
  /** `ws://…/graphql` */
  url: string;
  /** `Bearer <JWT>`: the identity the subscription runs as. */
  authorization: string;
  query: string;
  operationName?: string;
  variables: Record<string, unknown>;
  /** For resumable fields: the variable that resumes, and where the cursor is in each event's data. */
  resume?: { variable: string; cursorPath: readonly string[] };
}

export interface UpstreamEvent {
  readonly data: Record<string, unknown> | null | undefined;
  /** Errors the subgraph sent with this event. */
  readonly errors?: readonly GraphQLError[];
  readonly cursor?: string;
  /** The subgraph's span for this event (`extensions.traceparent`, tracing on): the gateway's work on it continues that trace. */
  readonly traceparent?: string;
  /** How many client subscriptions this upstream subscription fed when the event arrived. */
  readonly listeners: number;
  /**
   * Results computed for this event, shared by its listeners. Every listener of
   * one upstream subscription has the same identity, so identical work (same
   * document and variables) is done once per event.
   */
  readonly shared: Map<string, Promise<unknown>>;
}

export interface UpstreamListener {
  /**
   * Resumable requests only, before any event: the cursor this listener's
   * events continue after (its own resume argument, where the shared
   * subscription stood when it joined, or the head the subgraph pinned for a
   * live one). Resuming after it loses nothing; never called while unknown
   * (live, head not yet received).
   */
  startsAfter(cursor: string): void;
  event(event: UpstreamEvent): void;
  /** The upstream subscription ended for good. */
  error(errors: readonly GraphQLError[]): void;
  /** The subgraph completed the subscription. */
  complete(): void;
}

export interface UpstreamStats {
  /** Open (or opening) graphql-ws connections to subgraphs. */
  connections: number;
  /** Distinct upstream subscriptions. */
  subscriptions: number;
  /** Client subscriptions attached to them. */
  listeners: number;
  /** `subscribe` messages sent upstream since start, resumptions included. */
  subscribes: number;
  /** Resumptions after a dropped connection. */
  resumes: number;
  /** Live resumable subscriptions that learned their head cursor before any event (head markers received). */
  pins: number;
}

export interface UpstreamOptions {
  logger: Logger;
  /** Ping interval and pong timeout towards subgraphs (ms); 0 disables. */
  keepAliveMs: number;
  /** Longest backoff between attempts (ms). */
  retryMaxMs: number;
  /** First backoff (ms). Default 100. */
  retryBaseMs?: number;
}

/** Cursors remembered per upstream subscription to drop duplicates. */
const SEEN_CURSORS = 4096;

export class UpstreamPool {
  private readonly connections = new Map<string, Connection>();
  /** Upstream subscriptions by sharing key (several per key when they stand at different cursors). */
  private readonly subscriptions = new Map<string, Set<SharedSubscription>>();
  private readonly counters = { subscribes: 0, resumes: 0, pins: 0 };
  private disposed = false;

  constructor(private readonly options: UpstreamOptions) {}

  /**
   * Attaches `listener` to the upstream subscription for `request`, starting it
   * if needed. A resumable request joins an upstream subscription only where
   * that one stands exactly at the requested cursor (or, without a cursor, a
   * live one), so a joiner misses nothing and receives nothing twice.
   * Returns the detach function.
   */
  subscribe(request: UpstreamRequest, listener: UpstreamListener): () => void {
    if (this.disposed) throw new Error("upstream pool disposed");
    const key = subscriptionKey(request);
    const position = request.resume === undefined ? undefined : ((request.variables[request.resume.variable] as string | null | undefined) ?? null);
    let group = this.subscriptions.get(key);
    if (group === undefined) this.subscriptions.set(key, (group = new Set()));
    let shared = [...group].find((candidate) => candidate.joinableAt(position));
    if (shared === undefined) {
      shared = new SharedSubscription(this, key, request, this.acquire(request));
      group.add(shared);
      shared.add(listener);
      shared.start();
    } else {
      shared.add(listener);
    }
    const subscription = shared;
    let detached = false;
    return () => {
      if (detached) return;
      detached = true;
      subscription.remove(listener);
    };
  }

  stats(): UpstreamStats {
    let listeners = 0;
    let subscriptions = 0;
    for (const group of this.subscriptions.values()) {
      subscriptions += group.size;
      for (const subscription of group) listeners += subscription.listenerCount;
    }
    return { connections: this.connections.size, subscriptions, listeners, ...this.counters };
  }

  /** Terminates every open socket to subgraphs as a network failure would (for fault tests and operators). */
  dropConnections(): void {
    for (const connection of this.connections.values()) for (const socket of connection.sockets) socket.terminate();
  }

  /** Ends every upstream subscription (listeners get `complete`) and closes every connection. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const group of [...this.subscriptions.values()]) for (const subscription of [...group]) subscription.end();
    await Promise.all([...this.connections.values()].map(closeConnection));
    this.connections.clear();
  }

  /** @internal */
  get logger() {
    return this.options.logger;
  }

  /** @internal */
  backoff(attempt: number): number {
    const base = this.options.retryBaseMs ?? 100;
    const ceiling = Math.min(this.options.retryMaxMs, base * 2 ** Math.min(attempt, 20));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  /** @internal */
  count(what: "subscribes" | "resumes" | "pins") {
    this.counters[what]++;
  }

  /** @internal */
  forget(key: string, subscription: SharedSubscription, connection: Connection) {
    const group = this.subscriptions.get(key);
    group?.delete(subscription);
    if (group?.size === 0) this.subscriptions.delete(key);
    if (--connection.users > 0) return;
    this.connections.delete(connection.key);
    void closeConnection(connection);
  }

  private acquire(request: UpstreamRequest): Connection {
    const key = `${request.url}\u0000${request.authorization}`;
    let connection = this.connections.get(key);
    if (connection === undefined) {
      connection = openConnection(key, request.url, request.authorization, this.options.keepAliveMs);
      this.connections.set(key, connection);
    }
    connection.users++;
    return connection;
  }
}

class SharedSubscription {
  private readonly listeners = new Set<UpstreamListener>();
  private readonly seen = new Set<string>();
  private lastCursor: string | undefined;
  private attempt = 0;
  private generation = 0;
  private unsubscribe: (() => void) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly pool: UpstreamPool,
    private readonly key: string,
    private readonly request: UpstreamRequest,
    private readonly connection: Connection,
  ) {}

  get listenerCount() {
    return this.listeners.size;
  }

  /** Whether a listener asking for events after `position` (null: live; undefined: not resumable) can share this subscription. */
  joinableAt(position: string | null | undefined): boolean {
    if (this.closed) return false;
    if (position === undefined) return true;
    const initial = (this.request.variables[this.request.resume!.variable] as string | null | undefined) ?? null;
    if (position === null) return initial === null;
    return (this.lastCursor ?? initial) === position;
  }

  add(listener: UpstreamListener) {
    this.listeners.add(listener);
    if (this.request.resume === undefined) return;
    const position = this.lastCursor ?? (this.request.variables[this.request.resume.variable] as string | null | undefined);
    if (position != null) listener.startsAfter(position);
  }

  remove(listener: UpstreamListener) {
    this.listeners.delete(listener);
    if (this.listeners.size === 0) this.close();
  }

  start() {
    if (this.closed) return;
    const generation = ++this.generation;
    const { request } = this;
    const variables = { ...request.variables };
    if (request.resume !== undefined && this.lastCursor !== undefined) {
      variables[request.resume.variable] = this.lastCursor;
    }
    // Started live: ask where the stream starts, so a drop before the first event can resume from there.
    const live = request.resume !== undefined && variables[request.resume.variable] == null;
    if (generation > 1) this.pool.count("resumes");
    this.pool.count("subscribes");
    const current = () => generation === this.generation && !this.closed;
    this.unsubscribe = this.connection.client.subscribe<Record<string, unknown>>(
      { query: request.query, operationName: request.operationName, variables, ...(live ? { extensions: { [HEAD_EXTENSION]: true } } : {}) },
      {
        next: (result) => {
          if (current()) this.receive(result);
        },
        error: (failure) => {
          if (current()) this.fail(failure);
        },
        complete: () => {
          if (!current()) return;
          this.close();
          for (const listener of [...this.listeners]) listener.complete();
        },
      },
    );
  }

  /** Ends the subscription and tells its listeners it completed (gateway shutdown). */
  end() {
    const listeners = [...this.listeners];
    this.close();
    for (const listener of listeners) listener.complete();
  }

  private receive(result: FormattedExecutionResult<Record<string, unknown>, unknown>) {
    if ((result.data === null || result.data === undefined) && result.errors !== undefined && result.errors.length > 0) {
      // graphql-ws sends a subscription its subgraph refused (FORBIDDEN, BAD_USER_INPUT, …) as one result without data.
      return this.fail([...result.errors]);
    }
    this.attempt = 0;
    let cursor: string | undefined;
    if (this.request.resume !== undefined) {
      const head = headOf(result);
      if (head !== undefined) {
        // Where the live stream starts: not an event, but the cursor to resume after until the first one.
        this.pool.count("pins");
        if (this.lastCursor !== undefined) return;
        this.lastCursor = head;
        for (const listener of this.listeners) listener.startsAfter(head);
        return;
      }
      const value = path(result.data, this.request.resume.cursorPath);
      if (typeof value === "string") {
        if (this.seen.has(value)) return; // a replay overlapping what was already delivered
        this.remember(value);
        cursor = value;
        this.lastCursor = value;
      }
    }
    const event: UpstreamEvent = {
      data: result.data,
      errors: result.errors?.map((error) => toGraphQLError(error)),
      cursor,
      traceparent: traceparentOf(result.extensions),
      listeners: this.listeners.size,
      shared: new Map(),
    };
    for (const listener of [...this.listeners]) listener.event(event);
  }

  private fail(failure: unknown) {
    this.unsubscribe = undefined;
    if (isRetryable(failure)) {
      const delay = this.pool.backoff(this.attempt++);
      // The first failure and every tenth after it: a subgraph that stays down does not flood the log.
      const log = this.attempt % 10 === 1 ? this.pool.logger.warn.bind(this.pool.logger) : this.pool.logger.debug.bind(this.pool.logger);
      log(
        { subgraph: this.request.subgraph, attempt: this.attempt, delayMs: delay, cursor: this.lastCursor, reason: describeFailure(failure) },
        "upstream subscription dropped; resubscribing",
      );
      this.retryTimer = setTimeout(() => this.start(), delay);
      return;
    }
    const errors = upstreamFailure(this.request.subgraph, failure);
    const listeners = [...this.listeners];
    this.close();
    for (const listener of listeners) listener.error(errors);
  }

  private remember(cursor: string) {
    this.seen.add(cursor);
    if (this.seen.size > SEEN_CURSORS) this.seen.delete(this.seen.values().next().value!);
  }

  private close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.listeners.clear();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.pool.forget(this.key, this, this.connection);
  }
}

/** The sharing key: subgraph, identity, document and variables (keys sorted), the resume position aside. */
function subscriptionKey(request: UpstreamRequest): string {
  const variables = { ...request.variables };
  if (request.resume !== undefined) delete variables[request.resume.variable];
  return [request.url, request.authorization, request.operationName ?? "", request.query, stableJson(variables)].join("\u0000");
}

function path(data: unknown, keys: readonly string[]): unknown {
  let value = data;
  for (const key of keys) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function traceparentOf(extensions: unknown): string | undefined {
  const value = (extensions as { traceparent?: unknown } | undefined)?.traceparent;
  return typeof value === "string" ? value : undefined;
}

/** `http(s)://host/graphql` → `ws(s)://host/graphql`. */
export function webSocketUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

