/** The event log and the transactional outbox that feeds it. */
import { MemoryEventLog } from "./memory.js";
import { RedisEventLog } from "./redis.js";
import type { EventLogRetention } from "../config.js";
import { redisConfigured, type RedisTarget } from "../redis.js";
import { traced } from "./traced.js";
import type { EventLog } from "./types.js";

export type { RetentionOptions, ConsumeOptions, ConsumerGroupStats, Disposable, EventLog, LoggedEvent, NewEvent, TailOptions, Topic } from "./types.js";
export { MemoryEventLog } from "./memory.js";
export { RedisEventLog, type RedisEventLogOptions } from "./redis.js";
export { Outbox, outboxEntity, outboxMigration, OUTBOX_MIGRATION_TIMESTAMP, type OutboxOptions, type OutboxRecord } from "./outbox.js";

export interface EventLogOptions {
  /** A Redis (`REDIS_URL`) or Redis Cluster (`REDIS_CLUSTER_NODES`) selects Redis Streams; neither, the in-process log (embedded mode). */
  redis: RedisTarget;
  /** Key prefix in Redis (ignored in process). */
  redisPrefix: string;
  /** How much of each topic is kept (`config.eventLog`, `MTD_EVENT_LOG_*`). Default: `retentionOf({})`. */
  retention?: EventLogRetention;
}

export function createEventLog(options: EventLogOptions): EventLog {
  const retention = options.retention && { retentionMs: options.retention.retentionSeconds * 1000, maxEntries: options.retention.maxEntries };
  return traced(redisConfigured(options.redis) ? new RedisEventLog({ ...options.redis, prefix: options.redisPrefix, ...retention }) : new MemoryEventLog(retention));
}
