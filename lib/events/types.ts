/**
 * The event log: how subgraphs learn what happened elsewhere. Two
 * implementations behind this one interface: in-process (embedded default) and
 * Redis Streams (`REDIS_URL`). Delivery to consumer groups is at-least-once;
 * consumers are idempotent by event id and per-aggregate version.
 */

/** What a service writes to its outbox. */
export interface NewEvent<TPayload = unknown> {
  /** Unique event id (UUID); consumers dedupe on it. */
  id: string;
  /** e.g. `device.enrolled`, `device.assessment.changed`, `access.changed`. */
  type: string;
  tenantId: string;
  /** The entity the event is about (device id, policy id, …). */
  aggregateId: string;
  /** Per-aggregate version where order matters: a consumer ignores a version at or below the one it applied. */
  version?: number;
  /** ISO-8601 time the change was committed. */
  occurredAt: string;
  payload: TPayload;
  /** W3C `traceparent` of the transaction that wrote the event (tracing on): consumers continue its trace. */
  traceparent?: string;
}

/** An event as read back from the log. */
export interface LoggedEvent<TPayload = unknown> extends NewEvent<TPayload> {
  topic: string;
  /** Position in the topic, opaque and totally ordered within the topic (Redis stream id, or a counter in memory). */
  position: string;
}

/** Topics are named after the service that owns the events. */
export type Topic = "devices" | "threats" | "policies" | "inventory" | (string & {});

export interface ConsumeOptions {
  /** Consumer group name, e.g. `policies.evaluator`. A group sees every event once (at-least-once). */
  group: string;
  /** This consumer's name within the group (unique per process). */
  consumer: string;
  /** Entries pending longer than this on a consumer are reclaimed by another. Default 30 000 ms. */
  reclaimAfterMs?: number;
  /** Events handled per read (Redis `XREADGROUP COUNT`), and the largest batch `consumeBatches` hands over. Default 100. */
  batchSize?: number;
  /** Where a group that does not exist yet starts: `"0"` = the beginning (default), `"$"` = only new events. */
  startAt?: "0" | "$";
  /**
   * Only events whose JSON (as `JSON.stringify` writes it, e.g. `"urgent":true`)
   * contains this text are handed over; the others are acknowledged unseen,
   * with their batch, without being parsed. A screen, not a check: the handler
   * still tests what it needs (the text may occur elsewhere in an event).
   */
  mentions?: string;
}

export interface TailOptions {
  /** Deliver events strictly after this position; `"$"` (default) = only events published from now on. */
  after?: string;
  signal?: AbortSignal;
}

export interface Disposable {
  dispose(): Promise<void>;
}

/**
 * How much of each topic a log keeps (both implementations alike). The log is
 * not the history: the database is what resumable subscriptions replay, and
 * the transactional outbox is the durable copy of what was published. So an
 * event goes once every consumer group of its topic has acknowledged it
 * (nothing pending, nothing not yet delivered) and it is older than
 * `retentionMs` (kept meanwhile for tails that reconnect after their last
 * position and for groups that start late, which begin at the oldest kept
 * event). A topic without groups keeps the retention window only. Past
 * `maxEntries` events the oldest go anyway, acknowledged or not: a group that
 * far behind is stuck (its lag says so).
 */
export interface RetentionOptions {
  /** Acknowledged events younger than this are kept. Default 600 000 (10 minutes). */
  retentionMs?: number;
  /** Events kept per topic at most. Default 1 000 000. */
  maxEntries?: number;
  /** How often the log trims its topics on its own. Default 10 000 ms. */
  trimEveryMs?: number;
}

/** The retention in effect: the options that are set, the defaults for the rest. */
export function retentionOf({ retentionMs, maxEntries, trimEveryMs }: RetentionOptions): Required<RetentionOptions> {
  return { retentionMs: retentionMs ?? 600_000, maxEntries: maxEntries ?? 1_000_000, trimEveryMs: trimEveryMs ?? 10_000 };
}

export interface EventLog {
  /** Appends events to a topic, in order. Resolves once they are durable in the log. */
  publish(topic: Topic, events: readonly NewEvent[]): Promise<void>;
  /**
   * Consumes a topic as a member of a consumer group. The handler is awaited one
   * event at a time, in log order; an event is acknowledged only after its
   * handler resolves. A handler that throws leaves the event pending: it is
   * retried (and reclaimed by another consumer if this one dies).
   */
  consume(topic: Topic, options: ConsumeOptions, handler: (event: LoggedEvent) => Promise<void>): Disposable;
  /**
   * `consume`, a batch at a time: the handler gets the events available now
   * (at least one, at most `batchSize`), in log order, and they are all
   * acknowledged together (one XACK) after it resolves. Nothing waits to fill
   * a batch: under a trickle batches hold one event, under a burst they fill.
   * A handler that throws leaves the whole batch pending: it is handed over
   * again (and reclaimed by another consumer if this one dies) before any
   * later event, so a handler must tolerate seeing events it already applied.
   */
  consumeBatches(topic: Topic, options: ConsumeOptions, handler: (events: LoggedEvent[]) => Promise<void>): Disposable;
  /** The position of the last event of the topic (`"0"` when it is empty): tail after it to see only what comes next. */
  position(topic: Topic): Promise<string>;
  /** Reads a topic from a position and keeps following it (for subscriptions). Ends when `signal` aborts. */
  tail(topic: Topic, options?: TailOptions): AsyncIterable<LoggedEvent>;
  /**
   * The consumer groups of the topics this log consumes in this process (every
   * group of those topics, whoever runs it): how far behind each is. For metrics.
   */
  consumerGroups(): Promise<ConsumerGroupStats[]>;
  /**
   * Drops what no one needs any more from the topics this log published to or
   * consumed (see `RetentionOptions`); also runs every `trimEveryMs`. Resolves
   * with the number of events dropped.
   */
  trim(): Promise<number>;
  /** Round-trips to the log's store (readiness); resolves at once in process. */
  ping(): Promise<void>;
  /** Stops every consumer and tail and releases connections. Idempotent. */
  close(): Promise<void>;
}

export interface ConsumerGroupStats {
  topic: string;
  group: string;
  /** Events of the topic the group has not been given yet; null when the store cannot tell (Redis after trimming or deletions). */
  lag: number | null;
  /** Events given to a consumer of the group and not acknowledged yet. */
  pending: number;
}

/** `ConsumeOptions.mentions` as a test of an event's JSON. */
export function screen(mentions: string | undefined): (json: string) => boolean {
  return mentions === undefined ? () => true : (json) => json.includes(mentions);
}
