/**
 * Prometheus metrics: one registry per process, served on `GET /metrics` by
 * every service (`lib/server.ts`). When several services share a process
 * (`npm start`) they share the registry and tell themselves apart by the
 * `service` label.
 *
 * Other modules record through the named objects below; the gauges that
 * describe state (outbox backlog, consumer-group lag) are read when scraped
 * from what `watchOutbox` / `watchEventLog` registered.
 *
 * Labels are bounded: operation names are taken as they come for the first
 * `MAX_OPERATION_NAMES` distinct names of a service and counted as `other`
 * after that, so a client inventing names cannot grow the registry.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { EventLog } from "./events/types.js";

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** Request latencies: sub-millisecond cache hits up to slow pages. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Report-to-delivery spans the event log and a consumer group: a little wider. */
const DELIVERY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export const metrics = {
  /** GraphQL over HTTP, by service, operation name and type (`query` | `mutation` | `unknown`). */
  requestDuration: new Histogram({
    name: "mtd_graphql_request_duration_seconds",
    help: "GraphQL HTTP request latency by service, operation name and operation type",
    labelNames: ["service", "operation", "type"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  /** Errors sent to clients, by `extensions.code` (one per error, so a response may count several). */
  errors: new Counter({
    name: "mtd_graphql_errors_total",
    help: "GraphQL errors returned to clients by service and extensions.code",
    labelNames: ["service", "code"] as const,
    registers: [registry],
  }),
  /** The gateway's fetches to subgraphs (queries, mutations and the entity fetches of subscription events). */
  subgraphFetchDuration: new Histogram({
    name: "mtd_gateway_subgraph_fetch_duration_seconds",
    help: "Latency of the gateway's fetches to each subgraph, by client operation name",
    labelNames: ["subgraph", "operation"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  /** Open WebSocket connections: `inc` on connect, `dec` on close. */
  websocketConnections: new Gauge({
    name: "mtd_websocket_connections",
    help: "Open WebSocket connections by service",
    labelNames: ["service"] as const,
    registers: [registry],
  }),
  /** Active subscriptions: `inc` when one starts, `dec` when it completes, errors or its socket closes. */
  subscriptions: new Gauge({
    name: "mtd_subscriptions_active",
    help: "Active GraphQL subscriptions by service, root field and (at the gateway) transport",
    labelNames: ["service", "field", "transport"] as const,
    registers: [registry],
  }),
  /** Subscription events pushed to clients. */
  eventsDelivered: new Counter({
    name: "mtd_subscription_events_delivered_total",
    help: "Subscription events delivered to clients by service, root field and (at the gateway) transport",
    labelNames: ["service", "field", "transport"] as const,
    registers: [registry],
  }),
  /** Subscriptions ended because their client fell too far behind (the gateway's bounded queues). */
  slowConsumersClosed: new Counter({
    name: "mtd_subscription_slow_consumers_closed_total",
    help: "Subscriptions closed because the client could not keep up, by service and transport",
    labelNames: ["service", "transport"] as const,
    registers: [registry],
  }),
  /** What the gateway held for a client when it was closed for exceeding its byte bound (gateway/subscriptions/client-bytes.ts). */
  slowConsumerBytes: new Histogram({
    name: "mtd_subscription_slow_consumer_bytes",
    help: "Bytes held for a client (results waiting plus its transport's unsent buffer) when it was closed for exceeding MTD_WS_MAX_QUEUED_BYTES",
    labelNames: ["service", "transport"] as const,
    buckets: [65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864, 268_435_456],
    registers: [registry],
  }),
  /** From the change's `occurredAt` / `at` to the moment it is pushed to a client (see `observeDelivery`). */
  reportToDelivery: new Histogram({
    name: "mtd_report_to_delivery_seconds",
    help: "Time from the event's occurredAt to delivery to a subscribed client",
    labelNames: ["service", "field"] as const,
    buckets: DELIVERY_BUCKETS,
    registers: [registry],
  }),
  /** Operations refused by a token bucket. */
  rateLimited: new Counter({
    name: "mtd_rate_limited_total",
    help: "Operations refused with RATE_LIMITED, by bucket scope (tenant | partner | subscribe)",
    labelNames: ["scope"] as const,
    registers: [registry],
  }),
  /** The rate limiter could not reach its store and let the operation through (fail open). */
  rateLimitErrors: new Counter({
    name: "mtd_rate_limit_store_errors_total",
    help: "Rate-limit and shared subscription-count checks that failed (store unreachable) and were let through",
    registers: [registry],
  }),
  /** Operations refused with OPERATION_LIMIT, by limit. */
  operationLimited: new Counter({
    name: "mtd_operation_limit_rejections_total",
    help: "Operations refused with OPERATION_LIMIT before execution, by service and limit",
    labelNames: ["service", "limit"] as const,
    registers: [registry],
  }),
  /** Lookups that found their entry in a bounded cache (`lib/cache.ts`). */
  cacheHits: new Counter({
    name: "mtd_cache_hits_total",
    help: "Lookups answered from a bounded cache, by service and cache",
    labelNames: ["service", "cache"] as const,
    registers: [registry],
  }),
  /** Lookups that did not. */
  cacheMisses: new Counter({
    name: "mtd_cache_misses_total",
    help: "Lookups not found in a bounded cache, by service and cache",
    labelNames: ["service", "cache"] as const,
    registers: [registry],
  }),
  /** Entries dropped to stay within the bound. */
  eventsRefused: new Counter({
    name: "mtd_events_refused_total",
    help: "Events refused at the consumer boundary because they do not match the event catalog (skipped), by topic, consumer and type",
    labelNames: ["topic", "consumer", "type"] as const,
    registers: [registry],
  }),
  cacheEvictions: new Counter({
    name: "mtd_cache_evictions_total",
    help: "Least recently used entries evicted from a bounded cache to stay within its bound, by service and cache",
    labelNames: ["service", "cache"] as const,
    registers: [registry],
  }),
};

/**
 * Records one delivered subscription event: counts it and observes the time
 * since `occurredAt` (an ISO string, a Date or epoch ms). Call it when the
 * event is handed to the client's socket.
 */
export function observeDelivery(service: string, field: string, occurredAt?: string | Date | number | null): void {
  metrics.eventsDelivered.inc({ service, field });
  if (occurredAt === undefined || occurredAt === null) return;
  const at = occurredAt instanceof Date ? occurredAt.getTime() : typeof occurredAt === "number" ? occurredAt : Date.parse(occurredAt);
  if (Number.isFinite(at)) metrics.reportToDelivery.observe({ service, field }, Math.max(0, Date.now() - at) / 1000);
}

export const MAX_OPERATION_NAMES = 200;
const operationNames = new Map<string, Set<string>>();

/** The `operation` label for `name` in `service`: the name, `anonymous`, or `other` past the cap. */
export function operationLabel(service: string, name: string | null | undefined): string {
  if (!name) return "anonymous";
  let seen = operationNames.get(service);
  if (seen === undefined) operationNames.set(service, (seen = new Set()));
  if (seen.has(name)) return name;
  if (seen.size >= MAX_OPERATION_NAMES) return "other";
  seen.add(name);
  return name;
}

/** What the cache gauges read at scrape time (`BoundedCache`). */
export interface CacheLike {
  readonly size: number;
  readonly maxEntries: number;
}

/**
 * Caches reported by `mtd_cache_entries` / `mtd_cache_max_entries`, by their
 * labels: the latest cache of a service and name replaces the one before (a new
 * supergraph's plan cache, a restarted server), so none is kept alive here.
 */
const caches = new Map<string, { labels: { service: string; cache: string }; cache: CacheLike }>();

export function watchCache(labels: { service: string; cache: string }, cache: CacheLike): void {
  caches.set(`${labels.service}\u0000${labels.cache}`, { labels, cache });
}

new Gauge({
  name: "mtd_cache_entries",
  help: "Entries held by a bounded cache, by service and cache",
  labelNames: ["service", "cache"] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { labels, cache } of caches.values()) this.set(labels, cache.size);
  },
});

new Gauge({
  name: "mtd_cache_max_entries",
  help: "The entry bound of a bounded cache (MTD_CACHE_*), by service and cache",
  labelNames: ["service", "cache"] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { labels, cache } of caches.values()) this.set(labels, cache.maxEntries);
  },
});

/** What the outbox gauges read at scrape time (`Outbox.backlog()`). */
export interface OutboxLike {
  backlog(): Promise<{ count: number; oldestAgeMs: number | null }>;
}

const outboxes = new Map<string, OutboxLike>();
/** Event logs to report on, with how many services watch each (one log is shared by the services of a process). */
const eventLogs = new Map<EventLog, number>();

/** Reports `outbox`'s backlog as `service`'s on every scrape. Returns the unwatch. */
export function watchOutbox(service: string, outbox: OutboxLike): () => void {
  outboxes.set(service, outbox);
  return () => {
    if (outboxes.get(service) === outbox) outboxes.delete(service);
  };
}

/** Reports the lag of the consumer groups `events` serves on every scrape. Returns the unwatch. */
export function watchEventLog(events: EventLog): () => void {
  eventLogs.set(events, (eventLogs.get(events) ?? 0) + 1);
  let watching = true;
  return () => {
    if (!watching) return;
    watching = false;
    const count = (eventLogs.get(events) ?? 1) - 1;
    if (count === 0) eventLogs.delete(events);
    else eventLogs.set(events, count);
  };
}

/**
 * One read per scrape shared by the gauges that need it: prom-client collects
 * the metrics of a scrape concurrently, so two gauges reading the same source
 * await the same promise (reused for `SNAPSHOT_MS`).
 */
const SNAPSHOT_MS = 250;
function snapshot<T>(read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (last === undefined || Date.now() - last.at > SNAPSHOT_MS) last = { at: Date.now(), value: read() };
    return last.value;
  };
}

const backlogs = snapshot(() =>
  Promise.all([...outboxes].map(async ([service, outbox]) => ({ service, backlog: await outbox.backlog().catch(() => undefined) }))),
);

new Gauge({
  name: "mtd_outbox_backlog_events",
  help: "Committed outbox events not yet published to the event log, by service",
  labelNames: ["service"] as const,
  registers: [registry],
  async collect() {
    this.reset();
    for (const { service, backlog } of await backlogs()) if (backlog !== undefined) this.set({ service }, backlog.count);
  },
});

new Gauge({
  name: "mtd_outbox_oldest_age_seconds",
  help: "Age of the oldest unpublished outbox event (0 when there is none), by service",
  labelNames: ["service"] as const,
  registers: [registry],
  async collect() {
    this.reset();
    for (const { service, backlog } of await backlogs()) if (backlog !== undefined) this.set({ service }, (backlog.oldestAgeMs ?? 0) / 1000);
  },
});

const groups = snapshot(async () => (await Promise.all([...eventLogs.keys()].map((events) => events.consumerGroups().catch(() => [])))).flat());

new Gauge({
  name: "mtd_consumer_group_lag",
  help: "Events of the topic not yet delivered to the consumer group",
  labelNames: ["topic", "group"] as const,
  registers: [registry],
  async collect() {
    this.reset();
    for (const { topic, group, lag } of await groups()) if (lag !== null) this.set({ topic, group }, lag);
  },
});

new Gauge({
  name: "mtd_consumer_group_pending",
  help: "Events delivered to the consumer group and not acknowledged yet",
  labelNames: ["topic", "group"] as const,
  registers: [registry],
  async collect() {
    this.reset();
    for (const { topic, group, pending } of await groups()) this.set({ topic, group }, pending);
  },
});

/** `GET /metrics` in the Prometheus text format. */
export async function serveMetrics(_request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await registry.metrics();
  response.writeHead(200, { "content-type": registry.contentType });
  response.end(body);
}
