/**
 * Persistence: one TypeORM code path for SQLite (embedded default, better-sqlite3)
 * and MySQL/MariaDB (mysql2). Schema changes are migrations that run on start;
 * `synchronize` is never used.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  DataSource,
  type EntitySchema,
  type EntitySchemaColumnOptions,
  type Logger as TypeOrmLogger,
  type MigrationInterface,
  type QueryRunner,
} from "typeorm";

export interface DatabaseOptions {
  /** Owner of the tables; names the SQLite file and the migrations table. */
  name: string;
  /** `mysql://…`; unset means a SQLite file `<dataDir>/<name>.sqlite`. */
  databaseUrl?: string;
  dataDir: string;
  entities: EntitySchema[];
  migrations: (new () => MigrationInterface)[];
  /** Where the statements sent are logged (tests count them); none by default. */
  sqlLogger?: TypeOrmLogger;
}

export interface Database {
  dataSource: DataSource;
  /** Round-trips to the database: readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const common = {
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: `${options.name}_migrations`,
    migrationsTransactionMode: "each" as const,
    synchronize: false,
    ...(options.sqlLogger === undefined ? { logging: false as const } : { logging: ["query" as const], logger: options.sqlLogger }),
  };
  let dataSource: DataSource;
  if (options.databaseUrl !== undefined) {
    const url = new URL(options.databaseUrl);
    url.protocol = "mysql:";
    dataSource = new DataSource({
      ...common,
      type: "mysql",
      url: url.toString(),
      charset: "utf8mb4_bin",
      timezone: "Z",
      supportBigNumbers: true,
      bigNumberStrings: false,
      // TypeORM sends text queries, never prepared statements; mysql2 still gives every pooled connection an
      // LRU of 16,000 statements whose four arrays are allocated in full (512 KiB of heap per connection, 10 MiB
      // at 20, measured in a heap snapshot of the threats subgraph under the soak): a small one costs nothing.
      extra: { connectionLimit: 20, maxPreparedStatements: 16 },
    });
  } else {
    mkdirSync(options.dataDir, { recursive: true });
    dataSource = new DataSource({
      ...common,
      type: "better-sqlite3",
      database: join(options.dataDir, `${options.name}.sqlite`),
      prepareDatabase: (db: { pragma(source: string): unknown }) => {
        db.pragma("journal_mode = WAL");
        db.pragma("busy_timeout = 5000");
        db.pragma("synchronous = NORMAL");
      },
    });
  }
  await dataSource.initialize();
  if (options.databaseUrl === undefined) serializeConnection(dataSource);
  try {
    await dataSource.runMigrations({ transaction: "each" });
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return {
    dataSource,
    ping: async () => {
      await dataSource.query("SELECT 1");
    },
    close: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
    },
  };
}

/**
 * Timestamps are stored as epoch milliseconds in a BIGINT: millisecond precision
 * and identical behaviour on SQLite and MySQL, no time zone surprises.
 */
export function timestampColumn(options: { nullable?: boolean; name: string }): EntitySchemaColumnOptions {
  return {
    type: "bigint",
    name: options.name,
    nullable: options.nullable ?? false,
    transformer: {
      to: (value: Date | null | undefined) => (value == null ? value : value.getTime()),
      from: (value: string | number | null) => (value == null ? null : new Date(Number(value))),
    },
  };
}

/** Integer column read back as a JS number on both engines. */
export function integerColumn(options: { name: string; nullable?: boolean; big?: boolean; default?: number }): EntitySchemaColumnOptions {
  return {
    type: options.big ? "bigint" : "integer",
    name: options.name,
    nullable: options.nullable ?? false,
    default: options.default,
    transformer: {
      to: (value: number | null | undefined) => value,
      from: (value: string | number | null) => (value == null ? null : Number(value)),
    },
  };
}

/** The engine behind a data source: where the few dialect differences (locks, column types) are decided. */
export function engineOf(dataSource: DataSource): "mysql" | "sqlite" {
  return dataSource.options.type === "mysql" ? "mysql" : "sqlite";
}

/** True when the query runner talks to MySQL/MariaDB (for the few dialect differences in migrations). */
export function isMysql(queryRunner: QueryRunner): boolean {
  return engineOf(queryRunner.connection) === "mysql";
}

/** The driver's error code (`ER_DUP_ENTRY`, `SQLITE_CONSTRAINT_UNIQUE`, …), through TypeORM's wrapper or not. */
function driverErrorCode(error: unknown): string | undefined {
  const driverError = (error as { driverError?: { code?: string } } | undefined)?.driverError;
  return driverError?.code ?? (error as { code?: string } | undefined)?.code;
}

/** True for a primary-key or unique-index violation on either engine (a concurrent writer won the race). */
export function isUniqueViolation(error: unknown): boolean {
  const code = driverErrorCode(error);
  return code === "ER_DUP_ENTRY" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE";
}

/** MySQL/MariaDB rolled the transaction back to break a deadlock: it may simply be run again. */
export function isDeadlock(error: unknown): boolean {
  return driverErrorCode(error) === "ER_LOCK_DEADLOCK";
}

/** `rows` in consecutive slices of at most `size`: multi-row statements kept under the engines' parameter limits. */
export function* chunks<T>(rows: readonly T[], size: number): Generator<T[]> {
  for (let start = 0; start < rows.length; start += size) yield rows.slice(start, start + size);
}

/** Runs `work` up to `attempts` times while it fails with an error `retriable` accepts (a lost race, a deadlock victim). */
export async function retrying<T>(attempts: number, retriable: (error: unknown) => boolean, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !retriable(error)) throw error;
    }
  }
}

/**
 * SQLite through TypeORM has one connection (one shared query runner): two
 * transactions started concurrently would nest (the second becomes a
 * savepoint of the first, and they commit or roll back together), and a
 * statement of another request issued while a transaction awaits would run
 * inside it, seeing its uncommitted rows. On SQLite, therefore, each
 * transaction, and each statement outside a transaction, runs alone: a
 * transaction holds the connection until it ends, and everything it awaits
 * (tracked with AsyncLocalStorage) runs inside. better-sqlite3 is synchronous,
 * so this costs no parallelism. MySQL keeps its pool and row locks.
 *
 * Work started inside a transaction callback but meant to run after it (an
 * outbox flush, say) must be started after the transaction resolves.
 */
function serializeConnection(dataSource: DataSource): void {
  const holder = new AsyncLocalStorage<true>();
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    if (holder.getStore()) return work();
    const run = tail.then(() => holder.run(true, work));
    tail = run.catch(() => undefined);
    return run;
  };
  const manager = dataSource.manager;
  const transaction = manager.transaction.bind(manager) as (...args: unknown[]) => Promise<unknown>;
  manager.transaction = ((...args: unknown[]) => exclusive(() => transaction(...args))) as typeof manager.transaction;
  const runner = dataSource.driver.createQueryRunner("master");
  const query = runner.query.bind(runner) as (...args: unknown[]) => Promise<unknown>;
  runner.query = ((...args: unknown[]) => exclusive(() => query(...args))) as typeof runner.query;
}
