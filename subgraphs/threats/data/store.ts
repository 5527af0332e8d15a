/**
 * Transactions of the threats subgraph: events written to the outbox in the
 * same transaction as the state they describe and flushed right after the
 * commit; per-row locks on MySQL; one transaction at a time on SQLite.
 */
import type { DataSource, EntityManager, ObjectLiteral, SelectQueryBuilder } from "typeorm";
import { isDeadlock, retrying } from "../../../lib/db.js";
import type { Outbox } from "../../../lib/events/outbox.js";
import type { NewEvent } from "../../../lib/events/types.js";

export interface Transaction {
  manager: EntityManager;
  /** Queues events for topic `threats`: written to the outbox when `work` resolves, still inside the transaction. */
  emit(...events: NewEvent[]): void;
  /**
   * Adds `FOR UPDATE` on MySQL: the rows stay locked until the commit, which is
   * how concurrent writers of one device (or tenant) are serialised there.
   * SQLite has no row locks and needs none: its transactions run one at a time.
   */
  forUpdate<T extends ObjectLiteral>(query: SelectQueryBuilder<T>): SelectQueryBuilder<T>;
}

/** Attempts of a transaction that MySQL chose as a deadlock victim. */
const DEADLOCK_ATTEMPTS = 3;

export class Store {
  readonly mysql: boolean;
  constructor(
    readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    /** Epoch ms: the subgraph's clock (tests move it). */
    readonly now: () => number,
  ) {
    this.mysql = dataSource.options.type === "mysql";
  }

  /** Runs `work` in a transaction; its events are enqueued before the commit and flushed after it. */
  async transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    // On SQLite, lib/db.ts runs the data source's transactions one at a time.
    return retrying(DEADLOCK_ATTEMPTS, isDeadlock, () => this.once(work));
  }

  private async once<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const events: NewEvent[] = [];
    const forUpdate = this.mysql ? <R extends ObjectLiteral>(query: SelectQueryBuilder<R>) => query.setLock("pessimistic_write") : <R extends ObjectLiteral>(query: SelectQueryBuilder<R>) => query;
    const run = async (manager: EntityManager) => {
      const result = await work({ manager, emit: (...more) => events.push(...more), forUpdate });
      if (events.length > 0) await this.outbox.enqueue(manager, "threats", events);
      return result;
    };
    // READ COMMITTED on MySQL: a read after taking a row lock sees what the lock holder committed.
    const result = this.mysql ? await this.dataSource.transaction("READ COMMITTED", run) : await this.dataSource.transaction(run);
    if (events.length > 0) void this.outbox.flush();
    return result;
  }
}
