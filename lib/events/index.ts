/** The event log and the transactional outbox that feeds it. */
import { MemoryEventLog } from "./memory.js";
import { RedisEventLog } from "./redis.js";
import { traced } from "./traced.js";
import type { EventLog } from "./types.js";

export type { ConsumeOptions, ConsumerGroupStats, Disposable, EventLog, LoggedEvent, NewEvent, TailOptions, Topic } from "./types.js";
export { MemoryEventLog } from "./memory.js";
export { RedisEventLog, type RedisEventLogOptions } from "./redis.js";
export { Outbox, outboxEntity, outboxMigration, OUTBOX_MIGRATION_TIMESTAMP, type OutboxOptions, type OutboxRecord } from "./outbox.js";

export interface EventLogOptions {
  /** `redis://…` selects Redis Streams; unset, the in-process log (embedded mode). */
  redisUrl?: string;
  /** Key prefix in Redis (ignored in process). */
  redisPrefix: string;
}

export function createEventLog(options: EventLogOptions): EventLog {
  return traced(options.redisUrl === undefined ? new MemoryEventLog() : new RedisEventLog({ url: options.redisUrl, prefix: options.redisPrefix }));
}
