/** Where state lives and how long it is kept: the database, Redis, the event log's retention, history retention. */
import { splitHostPort, type RedisTarget } from "../redis.js";
import type { ConfigReader } from "./reader.js";

export interface StorageConfig {
  /** `DATABASE_URL`: `mysql://user:pass@host:port/db`. Unset: SQLite files under `dataDir`. */
  databaseUrl?: string;
  /**
   * The event log's and the shared rate limits' Redis: `REDIS_URL` (`redis://host:port`) or
   * `REDIS_CLUSTER_NODES` (`host:port,host:port,…`, a Redis Cluster). Neither: the in-process event log.
   */
  redis: RedisTarget;
  /** `MTD_REDIS_PREFIX`: key prefix for every Redis key. Default `mtd`. */
  redisPrefix: string;
  /** How much of each event-log topic is kept (`lib/events/`). */
  eventLog: EventLogRetention;
  /** How long history is kept (`lib/retention.ts`). */
  retention: Retention;
}

export interface Retention {
  /** `MTD_RETENTION_ACCESS_CHANGES`: access changes older than this are pruned; older cursors are CURSOR_EXPIRED. Default `30d`. */
  accessChangesMs: number;
  /** `MTD_RETENTION_AUDIT`: audit entries older than this are pruned. Default `365d`. */
  auditMs: number;
  /** `MTD_RETENTION_REPORTS`: how long a partner's report id is remembered (a replay within it is `duplicate`, other content `CONFLICT`). Default `30d`. */
  reportsMs: number;
  /** `MTD_RETENTION_INTERVAL`: how often each service prunes, in small batches (at most `60s`). Default `30s`. */
  intervalMs: number;
}

export interface EventLogRetention {
  /**
   * `MTD_EVENT_LOG_RETENTION_SECONDS`: an event acknowledged by every consumer group of its topic is
   * dropped from the log once it is this old (kept meanwhile for tails that reconnect and groups that
   * start late). Default 600.
   */
  retentionSeconds: number;
  /**
   * `MTD_EVENT_LOG_MAX_ENTRIES`: last resort per topic: past this many events the oldest go even if a
   * group has not acknowledged them (a group that far behind is stuck; its lag says so). Default 1000000.
   */
  maxEntries: number;
}

export function readStorage(reader: ConfigReader): StorageConfig {
  const databaseUrl = reader.read("DATABASE_URL");
  if (databaseUrl !== undefined) reader.checkUrl(databaseUrl, "DATABASE_URL", ["mysql:", "mariadb:"]);
  const redisUrl = reader.read("REDIS_URL");
  if (redisUrl !== undefined) reader.checkUrl(redisUrl, "REDIS_URL", ["redis:", "rediss:"]);
  const clusterNodes = reader.read("REDIS_CLUSTER_NODES")?.split(",").map((node) => node.trim());
  for (const node of clusterNodes ?? []) {
    try {
      splitHostPort(node);
    } catch {
      reader.problem(`REDIS_CLUSTER_NODES must be host:port,host:port,…; got "${node}"`);
    }
  }
  if (redisUrl !== undefined && clusterNodes !== undefined) reader.problem("set REDIS_URL or REDIS_CLUSTER_NODES, not both");
  return {
    databaseUrl,
    redis: { url: redisUrl, clusterNodes },
    redisPrefix: reader.read("MTD_REDIS_PREFIX") ?? "mtd",
    eventLog: {
      retentionSeconds: reader.integerOr("MTD_EVENT_LOG_RETENTION_SECONDS", 0, 30 * 86_400, 600),
      maxEntries: reader.integerOr("MTD_EVENT_LOG_MAX_ENTRIES", 1000, 1_000_000_000, 1_000_000),
    },
    retention: {
      accessChangesMs: reader.duration("MTD_RETENTION_ACCESS_CHANGES", "30d", 1000),
      auditMs: reader.duration("MTD_RETENTION_AUDIT", "365d", 1000),
      reportsMs: reader.duration("MTD_RETENTION_REPORTS", "30d", 1000),
      intervalMs: reader.duration("MTD_RETENTION_INTERVAL", "30s", 1000, 60_000),
    },
  };
}
