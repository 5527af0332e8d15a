/** The event log and the transactional outbox that feeds it. */
import { MemoryEventLog } from "./memory.js";
import { RedisEventLog } from "./redis.js";
import type { EventLogRetention } from "../config.js";
import { traced } from "./traced.js";
import type { EventLog } from "./types.js";

export type { RetentionOptions, ConsumeOptions, ConsumerGroupStats, Disposable, EventLog, LoggedEvent, NewEvent, TailOptions, Topic } from "./types.js";
export { MemoryEventLog } from "./memory.js";
export { RedisEventLog, type RedisEventLogOptions } from "./redis.js";
export { Outbox, outboxEntity, outboxMigration, OUTBOX_MIGRATION_TIMESTAMP, type OutboxOptions, type OutboxRecord } from "./outbox.js";

export interface EventLogOptions {
  /** `redis://…` selects Redis Streams; unset, the in-process log (embedded mode). */
  redisUrl?: string;
  /** Key prefix in Redis (ignored in process). */
  redisPrefix: string;
  /** How much of each topic is kept (`config.eventLog`, `MTD_EVENT_LOG_*`). Default: `retentionOf({})`. */
  retention?: EventLogRetention;
}

export function createEventLog(options: EventLogOptions): EventLog {
  const retention = options.retention && { retentionMs: options.retention.retentionSeconds * 1000, maxEntries: options.retention.maxEntries };
  return traced(options.redisUrl === undefined ? new MemoryEventLog(retention) : new RedisEventLog({ url: options.redisUrl, prefix: options.redisPrefix, ...retention }));
}
