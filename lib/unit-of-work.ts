/**
 * The unit of work every service writes through: one transaction, the
 * events it emits written to the service's outbox inside it and published
 * from memory right after the commit (the rows stay for the sweep), row
 * locks that serialise concurrent writers of one row, the record of events a
 * consumer group already applied (in bulk), and the retry of a transaction
 * MySQL chose as a deadlock victim.
 *
 * On MySQL/MariaDB a transaction runs at READ COMMITTED and `forUpdate` /
 * `lock` take row locks held until the commit (a read after taking a lock
 * sees what the previous holder committed). SQLite has no row locks and needs
 * none: lib/db.ts runs its transactions one at a time.
 */
import { EntitySchema, In, Table, TableIndex, type DataSource, type EntityManager, type EntityTarget, type FindOptionsWhere, type MigrationInterface, type ObjectLiteral, type QueryRunner, type SelectQueryBuilder } from "typeorm";
import { insertRows } from "./bulk.js";
import { chunks, engineOf, isDeadlock, retrying, timestampColumn } from "./db.js";
import type { CatalogNewEvent, CatalogTopic } from "./events/catalog.js";
import type { Outbox } from "./events/outbox.js";
import type { NewEvent, Topic } from "./events/types.js";

export interface Transaction {
  manager: EntityManager;
  /** Queues events for the service's own topic: written to the outbox when the work resolves, still inside the transaction. */
  emit(...events: CatalogNewEvent[]): void;
  /** `emit` for another topic (e.g. `audit`, a private one). */
  emitTo<T extends CatalogTopic>(topic: T, ...events: CatalogNewEvent<T>[]): void;
  /** Adds `FOR UPDATE` on MySQL: the rows stay locked until the commit. Nothing on SQLite. */
  forUpdate<T extends ObjectLiteral>(query: SelectQueryBuilder<T>): SelectQueryBuilder<T>;
  /**
   * The row of `entity` matching `key`, locked until the commit. With
   * `initial`, a missing row is inserted first (a concurrent insert of the same
   * row is fine): the row is a lock of its own, e.g. a tenant's.
   */
  lock<T extends ObjectLiteral>(entity: EntityTarget<T>, key: FindOptionsWhere<T>, initial: T): Promise<T>;
  /**
   * Records that consumer group `group` applied the events `eventIds` (one
   * read, multi-row inserts) and resolves with those it had not applied
   * before, in the order given, each once: the caller applies only these (the
   * others are redeliveries). A concurrent transaction recording one of them
   * too fails with a unique violation: run the work with
   * `retryOn: isUniqueViolation` to apply the rest on a second attempt.
   */
  markProcessed(group: string, eventIds: readonly string[]): Promise<string[]>;
}

export interface TransactionOptions {
  /** Errors besides a deadlock after which the whole transaction is run again (a lost race). */
  retryOn?: (error: unknown) => boolean;
}

export interface UnitOfWorkOptions {
  dataSource: DataSource;
  outbox: Pick<Outbox, "enqueue" | "publishCommitted">;
  /** The service's own topic (`emit`). */
  topic: Topic;
  /** The service's processed-events table (`processedEventsEntity(service)`), registered in its data source. */
  processedEvents: EntitySchema<ProcessedEventRecord>;
  /** Epoch ms: the service's clock (tests move it). Default `Date.now`. */
  now?: () => number;
}

/** Attempts of a transaction that lost a race or was chosen as a deadlock victim. */
const ATTEMPTS = 3;
/** Event ids per read / multi-row insert of `markProcessed`. */
const PROCESSED_CHUNK = 500;

export class UnitOfWork {
  readonly dataSource: DataSource;
  readonly mysql: boolean;
  /** Epoch ms: the service's clock. */
  readonly now: () => number;

  constructor(private readonly options: UnitOfWorkOptions) {
    this.dataSource = options.dataSource;
    this.mysql = engineOf(options.dataSource) === "mysql";
    this.now = options.now ?? Date.now;
  }

  /** Runs `work` in a transaction; its events are enqueued before the commit and published after it. */
  transaction<T>(work: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const { retryOn } = options;
    return retrying(ATTEMPTS, (error) => isDeadlock(error) || retryOn?.(error) === true, () => this.once(work));
  }

  private async once<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const queued: { topic: Topic; events: NewEvent[] }[] = [];
    const queue = (topic: Topic, events: NewEvent[]) => {
      const last = queued.at(-1);
      if (last?.topic === topic) last.events.push(...events);
      else queued.push({ topic, events: [...events] });
    };
    const written: { topic: Topic; events: NewEvent[] }[] = [];
    const run = async (manager: EntityManager) => {
      const result = await work(this.bind(manager, queue));
      for (const { topic, events } of queued) if (events.length > 0) written.push({ topic, events: await this.options.outbox.enqueue(manager, topic, events) });
      return result;
    };
    const result = this.mysql ? await this.dataSource.transaction("READ COMMITTED", run) : await this.dataSource.transaction(run);
    // From memory, right after the commit; the outbox rows are the durable copy for the sweep.
    if (written.length > 0) void this.options.outbox.publishCommitted(written);
    return result;
  }

  private bind(manager: EntityManager, queue: (topic: Topic, events: NewEvent[]) => void): Transaction {
    const forUpdate = <R extends ObjectLiteral>(query: SelectQueryBuilder<R>) => (this.mysql ? query.setLock("pessimistic_write") : query);
    const { topic, processedEvents } = this.options;
    return {
      manager,
      emit: (...events) => queue(topic, events),
      emitTo: (other, ...events) => queue(other, events),
      forUpdate,
      lock: async <R extends ObjectLiteral>(entity: EntityTarget<R>, key: FindOptionsWhere<R>, initial: R) => {
        const locked = () => forUpdate(manager.getRepository(entity).createQueryBuilder("locked").where(key)).getOne();
        // Lock first: an existing row is never read under a shared lock that two writers would both try to upgrade.
        const row = await locked();
        if (row !== null) return row;
        await manager.createQueryBuilder().insert().into(entity).values(initial).orIgnore().updateEntity(false).execute();
        return (await locked())!;
      },
      markProcessed: async (group, eventIds) => {
        const repository = manager.getRepository(processedEvents);
        const unique = [...new Set(eventIds)];
        const seen = new Set<string>();
        for (const chunk of chunks(unique, PROCESSED_CHUNK)) {
          const rows = await repository.find({ select: { eventId: true }, where: { consumerGroup: group, eventId: In(chunk) } });
          for (const row of rows) seen.add(row.eventId);
        }
        const fresh = unique.filter((id) => !seen.has(id));
        const processedAt = new Date(this.now());
        await insertRows(manager, processedEvents, fresh.map((eventId) => ({ consumerGroup: group, eventId, processedAt })));
        return fresh;
      },
    };
  }
}

/** Events already applied, per consumer group: redelivered events are skipped. */
export interface ProcessedEventRecord {
  consumerGroup: string;
  eventId: string;
  processedAt: Date;
}

/** The processed-events table of `service`: `${service}_processed_events`. */
export function processedEventsEntity(service: string): EntitySchema<ProcessedEventRecord> {
  return new EntitySchema<ProcessedEventRecord>({
    name: `${service}_processed_events`,
    tableName: `${service}_processed_events`,
    columns: {
      consumerGroup: { type: "varchar", length: 64, primary: true, name: "consumer_group" },
      eventId: { type: "varchar", length: 64, primary: true, name: "event_id" },
      processedAt: timestampColumn({ name: "processed_at" }),
    },
    indices: [{ name: `${service}_processed_events_at`, columns: ["processedAt"] }],
  });
}

/** Retention prunes processed-event records by age (lib/retention.ts): `ProcessedEventsAge_${service}_1000000000004` indexes `processed_at`. */
export function processedEventsAgeMigration(service: string): new () => MigrationInterface {
  const table = `${service}_processed_events`;
  return class ProcessedEventsAgeMigration implements MigrationInterface {
    name = `ProcessedEventsAge_${service}_1000000000004`;

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.createIndex(table, new TableIndex({ name: `${table}_at`, columnNames: ["processed_at"] }));
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.dropIndex(table, `${table}_at`);
    }
  };
}

/**
 * The migration creating `${service}_processed_events` (unless a service
 * migration of an earlier release already did), right after the outbox's and
 * the audit trail's: `ProcessedEvents_${service}_1000000000003`.
 */
export function processedEventsMigration(service: string): new () => MigrationInterface {
  const table = `${service}_processed_events`;
  return class ProcessedEventsMigration implements MigrationInterface {
    name = `ProcessedEvents_${service}_1000000000003`;

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.createTable(
        new Table({
          name: table,
          columns: [
            { name: "consumer_group", type: "varchar", length: "64", isPrimary: true },
            { name: "event_id", type: "varchar", length: "64", isPrimary: true },
            { name: "processed_at", type: "bigint" },
          ],
        }),
        true,
      );
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.dropTable(table, true);
    }
  };
}
