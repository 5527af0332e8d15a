/**
 * The inventory's tables: the only code that touches them. Who may see which
 * app is decided here, in SQL (on the app rows' copy of their device's platform
 * and ownership, joined to the tenant's settings), so paging and counts only
 * ever see visible rows.
 */
import { randomUUID } from "node:crypto";
import type { DataSource, SelectQueryBuilder } from "typeorm";
import type { Actor, AuditTrail } from "../../../lib/audit.js";
import { isUniqueViolation } from "../../../lib/db.js";
import { encodeCursor } from "../../../lib/paging.js";
import { INVENTORY_SETTINGS_CHANGED, type CatalogNewEvent } from "../../../lib/events/catalog.js";
import type { DeviceEventPayload, SharingSettings } from "../../../lib/events/contracts.js";
import type { UnitOfWork } from "../../../lib/unit-of-work.js";
import type { Ownership, Platform } from "../generated/graphql.js";
import {
  AppNameEntity,
  InstalledAppEntity,
  InventoryDeviceEntity,
  SettingsEntity,
  type AppNameRecord,
  type InstalledAppRecord,
  type SettingsRecord,
} from "./entities.js";
import { APP_COLUMNS, appFromRow, escapeLike, insertChunked, LIKE_ESCAPE } from "./sql.js";
import { versionKey } from "./version.js";

/**
 * Whose eyes a query is for. `tenant`: everything of the tenant (admin,
 * analyst). `partner`: only what the tenant's sharing settings allow.
 */
export interface Viewer {
  tenantId: string;
  scope: "tenant" | "partner";
}

/** Validated filter values; every one given must hold. */
export interface AppFilterValues {
  appId?: string;
  /** Lower-cased text the name must contain. */
  nameContains?: string;
  version?: string;
  /** A version; rows whose version key is lower match. */
  versionBelow?: string;
  managed?: boolean;
  validated?: boolean;
  platform?: Platform;
  ownership?: Ownership;
}

/** An `InstalledAppConnection` whose total is counted only when a client asks for it. */
export interface AppPage {
  edges: { cursor: string; node: InstalledAppRecord }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  count: () => Promise<number>;
}

/** An app of a snapshot as the MDM reported it (validated). */
export interface AppValues {
  appId: string;
  name: string;
  version: string;
  shortVersion: string | null;
  bundleSize: number | null;
  dynamicSize: number | null;
  validated: boolean;
  managed: boolean;
}

export type SyncOutcome =
  | { kind: "stored"; capturedAt: Date; appCount: number }
  | { kind: "stale"; capturedAt: Date; appCount: number }
  | { kind: "unknown-device" };

export type DeviceEventOutcome = "applied" | "ignored";


/** A settings update found the version moved on: another admin changed them first. */
class LostRace extends Error {}

export const DEFAULT_SETTINGS: SharingSettings = { iosAppSyncEnabled: false, includePersonalDevices: false };

export class InventoryRepository {
  private readonly dataSource: DataSource;

  constructor(
    private readonly work: UnitOfWork,
    private readonly audit: AuditTrail,
  ) {
    this.dataSource = work.dataSource;
  }

  // ---- settings ----------------------------------------------------------

  async settings(tenantId: string): Promise<SharingSettings> {
    const record = await this.dataSource.getRepository(SettingsEntity).findOne({ where: { tenantId } });
    return record === null ? DEFAULT_SETTINGS : pickSettings(record);
  }

  /** Stores both flags; a change is written as `inventory.settings.changed` in the same transaction. */
  async setSettings(tenantId: string, values: SharingSettings, changedBy: string, actor: Actor): Promise<SharingSettings> {
    // Another admin changing them concurrently makes this attempt lose (a duplicate first
    // row, or a version that moved on): it is tried again on top of theirs.
    const lostRace = (error: unknown) => isUniqueViolation(error) || error instanceof LostRace;
    await this.work.transaction(async (tx) => {
      const repository = tx.manager.getRepository(SettingsEntity);
      const existing = await repository.findOne({ where: { tenantId } });
      const previous = existing === null ? DEFAULT_SETTINGS : pickSettings(existing);
      if (previous.iosAppSyncEnabled === values.iosAppSyncEnabled && previous.includePersonalDevices === values.includePersonalDevices) return;
      const record: SettingsRecord = { tenantId, ...values, updatedAt: new Date(), version: (existing?.version ?? 0) + 1 };
      if (existing === null) await repository.insert(record);
      else if ((await repository.update({ tenantId, version: existing.version }, record)).affected === 0) throw new LostRace();
      const event: CatalogNewEvent<"inventory"> = {
        id: randomUUID(),
        type: INVENTORY_SETTINGS_CHANGED,
        tenantId,
        aggregateId: "settings",
        version: record.version,
        occurredAt: record.updatedAt.toISOString(),
        payload: { ...values, previous, changedBy },
      };
      tx.emit(event);
      await this.audit.record(tx, tenantId, actor, { action: "inventorySettings.updated", targetType: "AppInventorySettings", targetId: tenantId, before: previous, after: { ...values } });
    }, { retryOn: lostRace });
    return { ...values };
  }

  // ---- devices (from the devices topic) -----------------------------------

  /**
   * Applies a `device.*` event: keeps the device's platform, ownership and
   * retirement. Idempotent and order-safe by the per-device `version`: an event
   * at or below the stored version changes nothing. Retirement drops the
   * device's snapshot; a new platform or ownership is copied to its app rows.
   */
  applyDeviceEvent(tenantId: string, version: number, device: DeviceEventPayload): Promise<DeviceEventOutcome> {
    const retiredAt = device.retiredAt === null ? null : new Date(device.retiredAt);
    // A concurrent consumer may insert the device first: the second attempt is an update (or stale).
    return this.work.transaction(async ({ manager }) => {
      const values = { platform: device.platform, ownership: device.ownership, retiredAt, version };
      const updated = await manager
        .createQueryBuilder()
        .update(InventoryDeviceEntity)
        .set(retiredAt === null ? values : { ...values, capturedAt: null, appCount: 0 })
        .where("tenant_id = :tenantId AND id = :id AND version < :version", { tenantId, id: device.id, version })
        .execute();
      if (updated.affected === 0) {
        const exists = await manager.getRepository(InventoryDeviceEntity).exists({ where: { tenantId, id: device.id } });
        if (exists) return "ignored";
        await manager.getRepository(InventoryDeviceEntity).insert({ tenantId, id: device.id, ...values, capturedAt: null, appCount: 0 });
      } else if (retiredAt === null) {
        // The app rows carry the device's platform and ownership for visibility: keep them in step.
        await manager
          .createQueryBuilder()
          .update(InstalledAppEntity)
          .set({ platform: device.platform, ownership: device.ownership })
          .where("tenant_id = :tenantId AND device_id = :id AND (platform <> :platform OR ownership <> :ownership)", {
            tenantId,
            id: device.id,
            platform: device.platform,
            ownership: device.ownership,
          })
          .execute();
      }
      if (retiredAt !== null) await manager.getRepository(InstalledAppEntity).delete({ tenantId, deviceId: device.id });
      return "applied";
    }, { retryOn: isUniqueViolation });
  }

  // ---- snapshots --------------------------------------------------------------

  /**
   * Replaces the device's snapshot in one transaction, unless the stored one
   * was captured at or after `capturedAt`. The device row is claimed first by a
   * conditional UPDATE, which also serialises concurrent syncs of one device on
   * MySQL (row lock until commit).
   */
  sync(tenantId: string, deviceId: string, capturedAt: Date, apps: readonly AppValues[]): Promise<SyncOutcome> {
    // A deadlock victim (InnoDB's locks on neighbouring devices' rows) is rolled back and tried again by the unit of work.
    return this.work.transaction(async ({ manager }): Promise<SyncOutcome> => {
      const claimed = await manager
        .createQueryBuilder()
        .update(InventoryDeviceEntity)
        .set({ capturedAt, appCount: apps.length })
        .where("tenant_id = :tenantId AND id = :deviceId AND retired_at IS NULL AND (captured_at IS NULL OR captured_at < :capturedAt)", {
          tenantId,
          deviceId,
          capturedAt: capturedAt.getTime(),
        })
        .execute();
      const device = await manager.getRepository(InventoryDeviceEntity).findOne({ where: { tenantId, id: deviceId } });
      if (claimed.affected === 0 || device === null) {
        if (device === null || device.retiredAt !== null) return { kind: "unknown-device" };
        return { kind: "stale", capturedAt: device.capturedAt!, appCount: device.appCount };
      }
      await manager.getRepository(InstalledAppEntity).delete({ tenantId, deviceId });
      const rows: InstalledAppRecord[] = apps.map((app) => ({
        tenantId,
        deviceId,
        platform: device.platform,
        ownership: device.ownership,
        ...app,
        nameLower: app.name.toLowerCase(),
        versionKey: versionKey(app.version),
        reportedAt: capturedAt,
      }));
      await insertChunked(manager, rows, InstalledAppEntity, false);
      const names = new Map<string, AppNameRecord>();
      for (const app of rows) names.set(`${app.appId}\n${app.name}`, { tenantId, appId: app.appId, name: app.name, nameLower: app.nameLower });
      await insertChunked(manager, [...names.values()], AppNameEntity, true);
      return { kind: "stored", capturedAt, appCount: apps.length };
    });
  }

  // ---- queries ------------------------------------------------------------------

  /** `first + 1` visible apps after the cursor in (device id, app id) order; the total is counted on demand. */
  async list(viewer: Viewer, filter: AppFilterValues, options: { first: number; after?: readonly [string, string] }): Promise<AppPage> {
    const page = this.visibleApps(viewer, filter)
      .select("a")
      .orderBy("a.deviceId", "ASC")
      .addOrderBy("a.appId", "ASC")
      .limit(options.first + 1);
    if (options.after !== undefined) {
      const [afterDevice, afterApp] = options.after;
      // The first conjunct is a plain range on the index; the second steps past the cursor row.
      page.andWhere("a.device_id >= :afterDevice AND (a.device_id > :afterDevice OR a.app_id > :afterApp)", { afterDevice, afterApp });
    }
    const rows = await page.getMany();
    const nodes = rows.slice(0, options.first);
    const edges = nodes.map((node) => ({ cursor: encodeCursor([node.deviceId, node.appId]), node }));
    let total: Promise<number> | undefined;
    return {
      edges,
      pageInfo: { hasNextPage: rows.length > options.first, endCursor: edges.at(-1)?.cursor ?? null },
      count: () => (total ??= this.count(viewer, filter)),
    };
  }

  private async count(viewer: Viewer, filter: AppFilterValues): Promise<number> {
    // COUNT(*), not getCount(): every join is many-to-one, and TypeORM counts composite keys by concatenating them.
    const row = await this.visibleApps(viewer, filter).select("COUNT(*)", "count").getRawOne<{ count: string | number }>();
    return Number(row?.count ?? 0);
  }

  /**
   * The first `first` visible apps (after `afterAppId`, in app id order) of each
   * device, and each device's visible total: one statement for any number of
   * devices (two with `afterAppId`, whose totals are counted apart).
   */
  async appsOfDevices(
    viewer: Viewer,
    deviceIds: readonly string[],
    options: { first: number; afterAppId?: string },
  ): Promise<Map<string, { rows: InstalledAppRecord[]; total: number; hasNextPage: boolean }>> {
    const ranked = (base: SelectQueryBuilder<any>) => {
      const query = this.visibleApps(viewer, {}, base)
        .select([])
        .addSelect("ROW_NUMBER() OVER (PARTITION BY a.device_id ORDER BY a.app_id)", "app_rank")
        .addSelect("COUNT(*) OVER (PARTITION BY a.device_id)", "device_total")
        .andWhere("a.device_id IN (:...deviceIds)", { deviceIds });
      for (const column of APP_COLUMNS) query.addSelect(`a.${column}`, column);
      if (options.afterAppId !== undefined) query.andWhere("a.app_id > :afterAppId", { afterAppId: options.afterAppId });
      return query;
    };
    const rows = await this.dataSource
      .createQueryBuilder()
      .select("ranked.*")
      .from(ranked, "ranked")
      .where("ranked.app_rank <= :limit", { limit: options.first + 1 })
      .orderBy("ranked.device_id", "ASC")
      .addOrderBy("ranked.app_id", "ASC")
      .getRawMany<Record<string, unknown>>();
    const result = new Map<string, { rows: InstalledAppRecord[]; total: number; hasNextPage: boolean }>();
    for (const row of rows) {
      const app = appFromRow(row);
      let entry = result.get(app.deviceId);
      if (entry === undefined) {
        entry = { rows: [], total: Number(row.device_total), hasNextPage: false };
        result.set(app.deviceId, entry);
      }
      if (entry.rows.length < options.first) entry.rows.push(app);
      else entry.hasNextPage = true;
    }
    if (options.afterAppId !== undefined) {
      // After a cursor the window only saw the rest; the totals count every visible app.
      for (const entry of result.values()) entry.total = 0;
      const totals = await this.visibleApps(viewer, {})
        .select("a.device_id", "device_id")
        .addSelect("COUNT(*)", "total")
        .andWhere("a.device_id IN (:...deviceIds)", { deviceIds })
        .groupBy("a.device_id")
        .getRawMany<{ device_id: string; total: string | number }>();
      for (const { device_id: deviceId, total } of totals) {
        const entry = result.get(deviceId) ?? { rows: [], total: 0, hasNextPage: false };
        entry.total = Number(total);
        result.set(deviceId, entry);
      }
    }
    return result;
  }

  /** Devices per version of one app, highest version first (numerically). */
  async versionCounts(viewer: Viewer, appId: string): Promise<{ version: string; devices: number }[]> {
    const rows = await this.visibleApps(viewer, { appId })
      .select("a.version", "version")
      .addSelect("COUNT(*)", "devices")
      .groupBy("a.version_key")
      .addGroupBy("a.version")
      .orderBy("a.version_key", "DESC")
      .addOrderBy("a.version", "DESC")
      .getRawMany<{ version: string; devices: string | number }>();
    return rows.map((row) => ({ version: row.version, devices: Number(row.devices) }));
  }

  /**
   * Installed apps of the viewer's tenant matching `filter` that the viewer
   * may see. A partner's rows are joined to the tenant's settings (one row;
   * none: nothing shared) and tested on the row's copy of its device's
   * platform and ownership, which the app indexes carry:
   *
   *   s.ios_app_sync_enabled AND a.platform = 'IOS'
   *   AND (a.ownership = 'CORPORATE' OR a.managed OR s.include_personal_devices)
   *
   * Retired devices have no app rows (retirement deletes them).
   */
  private visibleApps(
    viewer: Viewer,
    filter: AppFilterValues,
    base: SelectQueryBuilder<any> = this.dataSource.createQueryBuilder(),
  ): SelectQueryBuilder<InstalledAppRecord> {
    const query = base.from(InstalledAppEntity, "a").where("a.tenant_id = :tenantId", { tenantId: viewer.tenantId });
    if (viewer.scope === "partner") {
      query
        .innerJoin(SettingsEntity.options.name, "s", "s.tenant_id = a.tenant_id")
        .andWhere("s.ios_app_sync_enabled = :shared AND a.platform = :ios", { shared: true, ios: "IOS" })
        .andWhere("(a.ownership = :corporate OR a.managed = :shared OR s.include_personal_devices = :shared)", { corporate: "CORPORATE" });
    }
    if (filter.platform !== undefined) query.andWhere("a.platform = :platform", { platform: filter.platform });
    if (filter.ownership !== undefined) query.andWhere("a.ownership = :ownership", { ownership: filter.ownership });
    if (filter.appId !== undefined) query.andWhere("a.app_id = :appId", { appId: filter.appId });
    if (filter.nameContains !== undefined) {
      const pattern = `%${escapeLike(filter.nameContains)}%`;
      // Distinct names first (small), then the installations of the matching app ids by index.
      query.andWhere(
        (where) =>
          `a.app_id IN ${where
            .subQuery()
            .select("n.app_id")
            .from(AppNameEntity, "n")
            .where("n.tenant_id = :tenantId")
            .andWhere(`n.name_lower LIKE :namePattern ESCAPE '${LIKE_ESCAPE}'`)
            .getQuery()}`,
      );
      query.andWhere(`a.name_lower LIKE :namePattern ESCAPE '${LIKE_ESCAPE}'`, { namePattern: pattern });
    }
    if (filter.version !== undefined) query.andWhere("a.version = :version", { version: filter.version });
    if (filter.versionBelow !== undefined) query.andWhere("a.version_key < :versionKeyBelow", { versionKeyBelow: versionKey(filter.versionBelow) });
    if (filter.managed !== undefined) query.andWhere("a.managed = :managed", { managed: filter.managed });
    if (filter.validated !== undefined) query.andWhere("a.validated = :validated", { validated: filter.validated });
    return query;
  }
}

function pickSettings(record: SettingsRecord): SharingSettings {
  return { iosAppSyncEnabled: Boolean(record.iosAppSyncEnabled), includePersonalDevices: Boolean(record.includePersonalDevices) };
}
