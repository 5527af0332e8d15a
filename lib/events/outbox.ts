/**
 * The transactional outbox: a service writes its events into its own table in
 * the same transaction as the change they describe, and publishes them to the
 * event log after the commit. A crash between commit and publish loses
 * nothing: the periodic sweep publishes what is left.
 *
 * Right after a commit the events go out from memory (`publishCommitted`: no
 * read-back of the rows just written, the XADDs of a publish pipelined), and
 * their rows are then marked published with one UPDATE. The row stays the
 * durable copy: what that publish did not get out (the log unreachable, the
 * process killed) is published by the sweep, which takes only rows older than
 * its period, so it does not race the publish from memory for fresh ones.
 *
 * Delivery is at-least-once. A crash between publish and marking, or two
 * replicas flushing at once, publishes a row twice: consumers dedupe by event
 * id. Rows go out in `sequence` order as far as they are visible to a flush;
 * transactions that commit out of sequence order are published in commit
 * order, which is why consumers also check per-aggregate versions.
 *
 * Published rows are kept (marked `published_at`); pruning them is a separate
 * concern.
 */
import type { Logger } from "pino";
import {
  EntitySchema,
  In,
  IsNull,
  LessThan,
  Table,
  type DataSource,
  type EntityManager,
  type MigrationInterface,
  type QueryRunner,
} from "typeorm";
import { insertRows } from "../bulk.js";
import { chunks, engineOf, integerColumn, isMysql } from "../db.js";
import { currentTraceparent } from "../tracing.js";
import type { EventLog, NewEvent, Topic } from "./types.js";

export interface OutboxRecord {
  /** Insertion order; publication follows it. */
  sequence: number;
  topic: string;
  /** The event's id, unique: enqueuing the same event twice fails the transaction. */
  eventId: string;
  /** JSON of the NewEvent. */
  event: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; null until published. */
  publishedAt: number | null;
}

/** Rows per SELECT / INSERT / publish. */
const BATCH_SIZE = 500;

/** The outbox table of `service`: `${service}_outbox`. Include it in the service's data source. */
export function outboxEntity(service: string): EntitySchema<OutboxRecord> {
  return new EntitySchema<OutboxRecord>({
    name: `${service}_outbox`,
    tableName: `${service}_outbox`,
    columns: {
      sequence: { ...integerColumn({ name: "sequence" }), primary: true, generated: "increment" },
      topic: { type: "varchar", length: 64 },
      eventId: { type: "varchar", length: 64, name: "event_id", unique: true },
      event: { type: "text" },
      createdAt: integerColumn({ name: "created_at", big: true }),
      publishedAt: integerColumn({ name: "published_at", big: true, nullable: true }),
    },
    indices: [{ name: `${service}_outbox_unpublished`, columns: ["publishedAt", "sequence"] }],
  });
}

/**
 * The timestamp of every outbox migration. TypeORM takes a migration's
 * timestamp from the last 13 characters of its `name` (it refuses names
 * without one, so a bare `Devices0001` is rejected) and runs pending
 * migrations in timestamp order. This is the smallest 13-digit timestamp, so
 * the outbox table exists before any service migration with a real timestamp
 * (e.g. `Devices0001_1767225600000`), which may then enqueue events.
 */
export const OUTBOX_MIGRATION_TIMESTAMP = 1_000_000_000_000;

/**
 * The migration creating `${service}_outbox`, named `Outbox_${service}_1000000000000`.
 * The event JSON is `mediumtext` on MySQL (16 MB; `text` stops at 64 KB) and `text` on SQLite.
 */
export function outboxMigration(service: string): new () => MigrationInterface {
  const table = `${service}_outbox`;
  return class OutboxMigration implements MigrationInterface {
    name = `Outbox_${service}_${OUTBOX_MIGRATION_TIMESTAMP}`;

    async up(queryRunner: QueryRunner): Promise<void> {
      const mysql = isMysql(queryRunner);
      await queryRunner.createTable(
        new Table({
          name: table,
          columns: [
            // SQLite only auto-increments an INTEGER PRIMARY KEY (64-bit there); MySQL's INT is 32-bit.
            { name: "sequence", type: mysql ? "bigint" : "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" },
            { name: "topic", type: "varchar", length: "64" },
            { name: "event_id", type: "varchar", length: "64" },
            { name: "event", type: mysql ? "mediumtext" : "text" },
            { name: "created_at", type: "bigint" },
            { name: "published_at", type: "bigint", isNullable: true },
          ],
          uniques: [{ name: `${table}_event_id`, columnNames: ["event_id"] }],
          indices: [{ name: `${table}_unpublished`, columnNames: ["published_at", "sequence"] }],
        }),
      );
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.dropTable(table);
    }
  };
}

export interface OutboxOptions {
  /** The service's data source; its entities include `outboxEntity(service)`. */
  dataSource: DataSource;
  /** Where rows are published. */
  log: EventLog;
  /** Owner of the table `${service}_outbox`. */
  service: string;
  /** Period of the sweep started by `start()`. Default 1000 ms. */
  sweepIntervalMs?: number;
  /** Where failed flushes are reported (warn). Default: nowhere. */
  logger?: Logger;
}

export class Outbox {
  private readonly entity: EntitySchema<OutboxRecord>;
  /** The flush in progress, and the one queued to run after it. */
  private running?: Promise<void>;
  private queued?: Promise<void>;
  private sweep?: NodeJS.Timeout;
  private disposed = false;

  private readonly mysql: boolean;

  constructor(private readonly options: OutboxOptions) {
    this.entity = outboxEntity(options.service);
    this.mysql = engineOf(options.dataSource) === "mysql";
  }

  /**
   * Writes `events` for `topic` inside the caller's transaction: pass its
   * transactional EntityManager. Resolves with the events as written (with the
   * trace of the transaction, tracing on): what `publishCommitted` sends after
   * the commit.
   */
  async enqueue(manager: EntityManager, topic: Topic, events: readonly NewEvent[]): Promise<NewEvent[]> {
    const createdAt = Date.now();
    // Each event carries the trace of the transaction writing it (tracing on), for its consumers to continue.
    const traceparent = currentTraceparent();
    const written = events.map((event) => (traceparent === undefined || event.traceparent !== undefined ? event : { ...event, traceparent }));
    await insertRows(manager, this.entity, written.map((event) => ({ topic, eventId: event.id, event: JSON.stringify(event), createdAt, publishedAt: null })) as OutboxRecord[]);
    return written;
  }

  /**
   * Publishes the events of a transaction that has committed, from memory and
   * in order, then marks their rows published. Never rejects: a failure is
   * logged and the rows wait for the sweep.
   */
  async publishCommitted(batches: readonly { topic: Topic; events: readonly NewEvent[] }[]): Promise<void> {
    try {
      for (const { topic, events } of batches) if (events.length > 0) await this.options.log.publish(topic, events);
      const ids = batches.flatMap(({ events }) => events.map((event) => event.id));
      const repository = this.options.dataSource.getRepository(this.entity);
      for (const chunk of chunks(ids, BATCH_SIZE)) await repository.update({ eventId: In(chunk), publishedAt: IsNull() }, { publishedAt: Date.now() });
    } catch (error) {
      this.options.logger?.warn({ err: error, service: this.options.service }, "publishing committed events failed; the sweep publishes them");
    }
  }

  /**
   * Publishes every unpublished row, in sequence order, and marks it published.
   * Call it right after the commit. Single-flight: a call during a flush makes
   * it run once more afterwards (it may have missed the caller's rows) and
   * resolves then. Rejects on failure for callers that await it; a caller may
   * also `void` it: failures are logged and the rows wait for the next flush.
   */
  flush(): Promise<void> {
    if (this.running === undefined) {
      const running = this.publishPending().finally(() => {
        this.running = undefined;
      });
      running.catch((error: unknown) => this.options.logger?.warn({ err: error, service: this.options.service }, "outbox flush failed"));
      this.running = running;
      return running;
    }
    if (this.queued === undefined) {
      const queued = this.running
        .catch(() => {})
        .then(() => {
          this.queued = undefined;
          return this.flush();
        });
      queued.catch(() => {}); // logged by the flush it runs
      this.queued = queued;
    }
    return this.queued;
  }

  /**
   * Starts the periodic sweep: the safety net for a crash between commit and
   * publish. Each sweep publishes the unpublished rows older than its period
   * (fresh ones are the publish from memory's); none while a flush runs.
   */
  start(): void {
    if (this.sweep !== undefined || this.disposed) return;
    const periodMs = this.options.sweepIntervalMs ?? 1000;
    this.sweep = setInterval(() => {
      if (this.running !== undefined) return;
      const running = this.publishPending(Date.now() - periodMs).finally(() => {
        if (this.running === running) this.running = undefined;
      });
      running.catch((error: unknown) => this.options.logger?.warn({ err: error, service: this.options.service }, "outbox sweep failed"));
      this.running = running;
    }, periodMs);
    this.sweep.unref();
  }

  /** Stops the sweep and waits for a running flush. Idempotent. */
  async dispose(): Promise<void> {
    this.disposed = true;
    clearInterval(this.sweep);
    this.sweep = undefined;
    await (this.queued ?? this.running)?.catch(() => {});
  }

  /** Unpublished rows and the age of the oldest (null when there is none). */
  async backlog(): Promise<{ count: number; oldestAgeMs: number | null }> {
    const repository = this.options.dataSource.getRepository(this.entity);
    const unpublished = { publishedAt: IsNull() };
    const [count, oldest] = await Promise.all([repository.countBy(unpublished), repository.minimum("createdAt", unpublished)]);
    return { count, oldestAgeMs: oldest === null ? null : Math.max(0, Date.now() - Number(oldest)) };
  }

  /** Publishes the unpublished rows (created before `createdBefore`, epoch ms, when given) in sequence order, and marks them. */
  private async publishPending(createdBefore?: number): Promise<void> {
    const { dataSource } = this.options;
    const where = createdBefore === undefined ? { publishedAt: IsNull() } : { publishedAt: IsNull(), createdAt: LessThan(createdBefore) };
    for (;;) {
      // On SQLite in a transaction (one shared connection, see lib/db.ts): a plain read could see the rows of a
      // transaction still in flight and publish events of a change that then rolls back. On MySQL a plain read
      // sees committed rows only, and saves the two round trips of a transaction on every event's way out.
      const unpublished = (manager: EntityManager) => manager.getRepository(this.entity).find({ where, order: { sequence: "ASC" }, take: BATCH_SIZE });
      const rows = this.mysql ? await unpublished(dataSource.manager) : await dataSource.transaction(unpublished);
      if (rows.length === 0) return;
      // Consecutive rows of one topic go out in one publish.
      for (let start = 0, end = 1; start < rows.length; start = end, end = start + 1) {
        while (end < rows.length && rows[end].topic === rows[start].topic) end += 1;
        const events = rows.slice(start, end).map((row) => JSON.parse(row.event) as NewEvent);
        await this.options.log.publish(rows[start].topic, events);
      }
      await dataSource.transaction((manager) => manager.getRepository(this.entity).update({ sequence: In(rows.map((row) => row.sequence)) }, { publishedAt: Date.now() }));
      if (rows.length < BATCH_SIZE) return;
    }
  }
}
