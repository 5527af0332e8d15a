import { EntitySchema } from "typeorm";
import { integerColumn, timestampColumn } from "../../../lib/db.js";
import type { Ownership, Platform } from "../generated/graphql.js";
import { VERSION_KEY_LENGTH } from "./version.js";

/** A Device as the inventory subgraph returns it: a reference the gateway completes from the devices subgraph. */
export interface DeviceReference {
  __typename?: "Device";
  id: string;
}

/** A tenant's sharing settings. No row: both flags off. */
export interface SettingsRecord {
  tenantId: string;
  iosAppSyncEnabled: boolean;
  includePersonalDevices: boolean;
  updatedAt: Date;
  /** Incremented on every change; orders the tenant's `inventory.settings.changed` events. */
  version: number;
}

/** What the inventory knows about a device, kept from the `devices` topic, plus its snapshot's header. */
export interface InventoryDeviceRecord {
  tenantId: string;
  id: string;
  platform: Platform;
  ownership: Ownership;
  retiredAt: Date | null;
  /** The version of the last device event applied; older or repeated events are ignored. */
  version: number;
  /** When the stored snapshot was captured; null before the first sync (and after retirement). */
  capturedAt: Date | null;
  /** Apps in the stored snapshot. */
  appCount: number;
}

/** One app of a device's snapshot. */
export interface InstalledAppRecord {
  tenantId: string;
  deviceId: string;
  appId: string;
  /**
   * The device's platform and ownership, copied from its device row (kept in
   * step by device events): who may see the app is then decided on this table's
   * indexes alone, without a join per row.
   */
  platform: Platform;
  ownership: Ownership;
  name: string;
  /** `name.toLowerCase()`: what `nameContains` searches. */
  nameLower: string;
  version: string;
  /** `versionKey(version)`: what `versionBelow` compares and `appVersionCounts` sorts by. */
  versionKey: string;
  shortVersion: string | null;
  bundleSize: number | null;
  dynamicSize: number | null;
  validated: boolean;
  managed: boolean;
  /** The `capturedAt` of the snapshot that reported the app. */
  reportedAt: Date;
}

/**
 * Every (app id, name) pair seen in the tenant: a small table that turns a
 * substring search over names into a scan of distinct names, followed by an
 * index lookup by app id. Pairs are added on sync and never removed (a stale
 * pair only costs a lookup that finds nothing).
 */
export interface AppNameRecord {
  tenantId: string;
  appId: string;
  name: string;
  nameLower: string;
}

export const SettingsEntity = new EntitySchema<SettingsRecord>({
  name: "InventorySettings",
  tableName: "inventory_settings",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    iosAppSyncEnabled: { type: "boolean", name: "ios_app_sync_enabled" },
    includePersonalDevices: { type: "boolean", name: "include_personal_devices" },
    updatedAt: timestampColumn({ name: "updated_at" }),
    version: integerColumn({ name: "version" }),
  },
});

export const InventoryDeviceEntity = new EntitySchema<InventoryDeviceRecord>({
  name: "InventoryDevice",
  tableName: "inventory_devices",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    id: { type: "varchar", length: 128, primary: true },
    platform: { type: "varchar", length: 16 },
    ownership: { type: "varchar", length: 16 },
    retiredAt: timestampColumn({ name: "retired_at", nullable: true }),
    version: integerColumn({ name: "version" }),
    capturedAt: timestampColumn({ name: "captured_at", nullable: true }),
    appCount: integerColumn({ name: "app_count" }),
  },
});

export const InstalledAppEntity = new EntitySchema<InstalledAppRecord>({
  name: "InstalledApp",
  tableName: "inventory_apps",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    deviceId: { type: "varchar", length: 128, primary: true, name: "device_id" },
    appId: { type: "varchar", length: 256, primary: true, name: "app_id" },
    platform: { type: "varchar", length: 16 },
    ownership: { type: "varchar", length: 16 },
    name: { type: "varchar", length: 256 },
    nameLower: { type: "varchar", length: 512, name: "name_lower" },
    version: { type: "varchar", length: 64 },
    versionKey: { type: "varchar", length: VERSION_KEY_LENGTH, name: "version_key" },
    shortVersion: { type: "varchar", length: 64, nullable: true, name: "short_version" },
    bundleSize: integerColumn({ name: "bundle_size", nullable: true, big: true }),
    dynamicSize: integerColumn({ name: "dynamic_size", nullable: true, big: true }),
    validated: { type: "boolean" },
    managed: { type: "boolean" },
    reportedAt: timestampColumn({ name: "reported_at" }),
  },
});

export const AppNameEntity = new EntitySchema<AppNameRecord>({
  name: "InventoryAppName",
  tableName: "inventory_app_names",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    appId: { type: "varchar", length: 256, primary: true, name: "app_id" },
    name: { type: "varchar", length: 256, primary: true },
    nameLower: { type: "varchar", length: 512, name: "name_lower" },
  },
});

export const ENTITIES = [SettingsEntity, InventoryDeviceEntity, InstalledAppEntity, AppNameEntity];
