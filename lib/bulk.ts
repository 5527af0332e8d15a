/**
 * Set-based statements of entities for the bulk paths, on both engines.
 *
 * Writes (`insertRows`): one `INSERT … VALUES (…), (…)` per slice of rows,
 * plain, ignoring rows whose key exists, or updating them (MySQL
 * `ON DUPLICATE KEY UPDATE`, SQLite `ON CONFLICT … DO UPDATE`).
 * Reads (`selectRows`): one `SELECT … WHERE … IN (…)` of every column,
 * optionally locked `FOR UPDATE` (MySQL; SQLite runs one transaction at a
 * time and needs no lock), rows hydrated into plain records.
 *
 * Statements are made from the entity's metadata (identifiers quoted by the
 * driver) with a placeholder per value; values go through the driver and the
 * columns' transformers both ways, as TypeORM's own inserts and finds do.
 *
 * Why not TypeORM's builders: for a batch of hundreds of rows they keep a
 * named parameter per value and look each one up again while they build and
 * escape the statement, and `find` aliases every column and maps the rows
 * back through its generic transformer: a third of the devices and threats
 * subgraphs' CPU under bulk ingest (profiles in the README). These do the
 * same with one array of values.
 */
import type { Driver, EntityManager, EntityTarget, ObjectLiteral } from "typeorm";
import type { EntityMetadata } from "typeorm/metadata/EntityMetadata.js";
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

/**
 * Rows matching a filter: per property, a value (`=`; `null`: `IS NULL`) or
 * a list of values (`IN`; an empty list matches nothing).
 */
export type RowFilter<T> = { [P in keyof T]?: T[P] | readonly T[P][] };

export interface SelectOptions<T> {
  /** Ascending order of these properties. */
  orderBy?: readonly (keyof T & string)[];
  /** Locks the rows read until the commit (MySQL `FOR UPDATE`; nothing on SQLite, whose transactions run one at a time). */
  forUpdate?: boolean;
}

/**
 * The rows of `entity` matching `where` (a list: any of the filters), every
 * column, as plain records whose values went through the driver and the
 * columns' transformers (what `find` returns). One statement; no statement
 * when no filter can match.
 */
export async function selectRows<T extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<T>, where: RowFilter<T> | readonly RowFilter<T>[], options: SelectOptions<T> = {}): Promise<T[]> {
  const { driver } = manager.connection;
  const metadata = manager.connection.getMetadata(entity);
  const values: unknown[] = [];
  const filters = (Array.isArray(where) ? where : [where]).flatMap((filter: RowFilter<T>) => {
    const clause = condition(driver, metadata, filter, values);
    return clause === null ? [] : [clause];
  });
  if (filters.length === 0) return [];
  const columns = metadata.columns;
  const order = (options.orderBy ?? []).map((property) => driver.escape(columnOf(metadata, property).databaseName));
  const sql =
    `SELECT ${columns.map((column) => driver.escape(column.databaseName)).join(", ")} FROM ${driver.escape(metadata.tableName)}` +
    ` WHERE ${filters.length === 1 ? filters[0] : filters.map((clause) => `(${clause})`).join(" OR ")}` +
    (order.length > 0 ? ` ORDER BY ${order.join(", ")}` : "") +
    (options.forUpdate === true && engineOf(manager.connection) === "mysql" ? " FOR UPDATE" : "");
  const raw = (await manager.query(sql, values)) as Record<string, unknown>[];
  return raw.map((row) => {
    const record = {} as T;
    for (const column of columns) column.setEntityValue(record, driver.prepareHydratedValue(row[column.databaseName], column));
    return record;
  });
}

/** `filter` as a conjunction with its values appended to `values`; null (nothing appended) when it matches nothing (an empty list). */
function condition<T>(driver: Driver, metadata: EntityMetadata, filter: RowFilter<T>, values: unknown[]): string | null {
  const terms: string[] = [];
  const own: unknown[] = [];
  for (const [property, value] of Object.entries(filter) as [string, unknown][]) {
    if (value === undefined) continue;
    const column = columnOf(metadata, property);
    const name = driver.escape(column.databaseName);
    if (Array.isArray(value)) {
      if (value.length === 0) return null;
      for (const item of value) own.push(driver.preparePersistentValue(item, column));
      terms.push(`${name} IN (${value.map(() => "?").join(", ")})`);
    } else if (value === null) {
      terms.push(`${name} IS NULL`);
    } else {
      own.push(driver.preparePersistentValue(value, column));
      terms.push(`${name} = ?`);
    }
  }
  values.push(...own);
  return terms.length === 0 ? "1 = 1" : terms.join(" AND ");
}

function columnOf(metadata: EntityMetadata, property: string): ColumnMetadata {
  const column = metadata.findColumnWithPropertyPath(property);
  if (column === undefined) throw new Error(`${metadata.name} has no column ${property}`);
  return column;
}
