/**
 * TypeORM's better-sqlite3 driver runs every query of the data source on one
 * connection: a transaction that awaits lets other requests' statements run
 * inside it (seeing its uncommitted rows), and a second transaction becomes a
 * savepoint of the first. On SQLite the repository therefore runs its units of
 * work one at a time through this gate; on MySQL, with a connection pool and
 * real isolation, the gate lets everything through at once.
 */
import type { DataSource } from "typeorm";

export interface Gate {
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function gateFor(dataSource: DataSource): Gate {
  return dataSource.options.type === "better-sqlite3" ? new SerialGate() : { run: (work) => work() };
}

/** Runs the units of work given to it one after another, in call order. */
export class SerialGate implements Gate {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
