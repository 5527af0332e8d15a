/** The inventory's SQL helpers: raw app rows read back on either engine, LIKE escaping, chunked multi-row inserts. */
import type { EntityManager } from "typeorm";
import type { Ownership, Platform } from "../generated/graphql.js";
import type { AppNameEntity, InstalledAppEntity, InstalledAppRecord } from "./entities.js";

/** Rows per multi-row INSERT: 13 columns × 500 stays far below both engines' parameter limits. */
const INSERT_CHUNK = 500;
/** `LIKE … ESCAPE '!'`: `!` is ordinary on both engines (a backslash is an escape in MySQL string literals, not in SQLite's). */
export const LIKE_ESCAPE = "!";

export const APP_COLUMNS = [
  "tenant_id",
  "device_id",
  "app_id",
  "platform",
  "ownership",
  "name",
  "name_lower",
  "version",
  "version_key",
  "short_version",
  "bundle_size",
  "dynamic_size",
  "validated",
  "managed",
  "reported_at",
] as const;

/** A raw row of `APP_COLUMNS` (either engine's types) as a record. */
export function appFromRow(row: Record<string, unknown>): InstalledAppRecord {
  const optionalNumber = (value: unknown) => (value == null ? null : Number(value));
  return {
    tenantId: String(row.tenant_id),
    deviceId: String(row.device_id),
    appId: String(row.app_id),
    platform: String(row.platform) as Platform,
    ownership: String(row.ownership) as Ownership,
    name: String(row.name),
    nameLower: String(row.name_lower),
    version: String(row.version),
    versionKey: String(row.version_key),
    shortVersion: row.short_version == null ? null : String(row.short_version),
    bundleSize: optionalNumber(row.bundle_size),
    dynamicSize: optionalNumber(row.dynamic_size),
    validated: Boolean(Number(row.validated)),
    managed: Boolean(Number(row.managed)),
    reportedAt: new Date(Number(row.reported_at)),
  };
}

export function escapeLike(text: string): string {
  return text.replace(/[!%_]/g, (character) => `${LIKE_ESCAPE}${character}`);
}

export async function insertChunked<T extends object>(
  manager: EntityManager,
  rows: readonly T[],
  entity: typeof InstalledAppEntity | typeof AppNameEntity,
  ignoreExisting: boolean,
): Promise<void> {
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    const insert = manager
      .createQueryBuilder()
      .insert()
      .into(entity)
      .values(rows.slice(start, start + INSERT_CHUNK) as never)
      .updateEntity(false);
    if (ignoreExisting) insert.orIgnore();
    await insert.execute();
  }
}
