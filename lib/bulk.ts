/**
 * Multi-row writes of entities: one `INSERT … VALUES (…), (…)` per slice of
 * rows, plain, ignoring rows whose key exists, or updating them (MySQL
 * `ON DUPLICATE KEY UPDATE`, SQLite `ON CONFLICT … DO UPDATE`). The statement
 * is made from the entity's metadata (identifiers quoted by the driver) with a
 * placeholder per value; values go through the driver and the columns'
 * transformers as TypeORM's own inserts do.
 *
 * Why not TypeORM's insert builder: for a batch of hundreds of rows it keeps
 * a named parameter per value and looks each one up again while it builds and
 * escapes the statement, which took a third of the devices and threats
 * subgraphs' CPU under bulk ingest (profiles in the README). This does the
 * same write with one array of values.
 */
import type { EntityManager, EntityTarget, ObjectLiteral } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata.js";
import { chunks, engineOf } from "./db.js";

export interface BulkInsertOptions<T> {
  /**
   * A row whose key exists: `error` (the default, a unique violation),
   * `ignore` (the stored row stays; on any unique key), `update` (the stored
   * row takes every inserted column but the conflict key's; on `conflictPaths`
   * on SQLite, on any unique key on MySQL: give the one key a row can collide on).
   */
  onConflict?: "error" | "ignore" | "update";
  /** The key of `update` (property names): the primary key unless given. */
  conflictPaths?: readonly (keyof T & string)[];
}

/** Rows per statement: 500 rows of 15 columns stay far below SQLite's 32,766 variables and MySQL's packet size. */
const ROWS_PER_STATEMENT = 500;

/**
 * Writes `rows` of `entity` with `manager` (in its transaction, if it has
 * one), a statement per 500 rows. Every column but an auto-increment key is
 * written: a property left undefined is stored as NULL, not as the column's
 * default.
 */
export async function insertRows<T extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<T>, rows: readonly T[], options: BulkInsertOptions<T> = {}): Promise<void> {
  if (rows.length === 0) return;
  const { driver } = manager.connection;
  const metadata = manager.connection.getMetadata(entity);
  // A generated key (an auto-increment) is the database's to fill.
  const columns = metadata.columns.filter((column) => column.generationStrategy !== "increment");
  const conflict = options.conflictPaths === undefined ? metadata.primaryColumns : metadata.mapPropertyPathsToColumns([...options.conflictPaths]);
  const quote = (column: ColumnMetadata) => driver.escape(column.databaseName);
  const mysql = engineOf(manager.connection) === "mysql";
  const onConflict = options.onConflict ?? "error";
  const head = `INSERT INTO ${driver.escape(metadata.tableName)} (${columns.map(quote).join(", ")}) VALUES `;
  const updated = columns.filter((column) => !conflict.includes(column));
  // MySQL's INSERT IGNORE would also turn errors such as a value too long into warnings: a no-op update ignores duplicates only.
  const tail =
    onConflict === "error"
      ? ""
      : onConflict === "ignore" || updated.length === 0
        ? mysql
          ? ` ON DUPLICATE KEY UPDATE ${quote(conflict[0]!)} = ${quote(conflict[0]!)}`
          : " ON CONFLICT DO NOTHING"
        : mysql
          ? ` ON DUPLICATE KEY UPDATE ${updated.map((column) => `${quote(column)} = VALUES(${quote(column)})`).join(", ")}`
          : ` ON CONFLICT (${conflict.map(quote).join(", ")}) DO UPDATE SET ${updated.map((column) => `${quote(column)} = excluded.${quote(column)}`).join(", ")}`;
  const tuple = `(${columns.map(() => "?").join(", ")})`;
  for (const slice of chunks(rows, ROWS_PER_STATEMENT)) {
    const values: unknown[] = [];
    for (const row of slice) for (const column of columns) values.push(driver.preparePersistentValue(column.getEntityValue(row), column) ?? null);
    await manager.query(head + slice.map(() => tuple).join(", ") + tail, values);
  }
}
