/**
 * The threats subgraph's tables. It owns them alone; what it knows about
 * devices it keeps from the `devices` topic (`threat_devices`), together with
 * each device's current assessment.
 */
import { EntitySchema, type EntitySchemaColumnOptions } from "typeorm";
import { integerColumn, timestampColumn } from "../../../lib/db.js";
import type { MtdPartner, Ownership } from "../../../lib/domain-enums.js";
import type { DataStatus } from "../../../lib/events/contracts.js";
import type { ConnectorState, Platform, ThreatCategory, ThreatLevel, ThreatStatus } from "../generated/graphql.js";

/** What the threats subgraph resolves a `Device` to: the reference; fields load through per-request DataLoaders. */
export interface DeviceReference {
  id: string;
}

/** One per tenant and partner; at most one of a tenant's connectors is not DISABLED. */
export interface ConnectorRecord {
  tenantId: string;
  partner: MtdPartner;
  /** As stored: ENABLED may already be overdue until the next check or read turns it UNRESPONSIVE. */
  state: ConnectorState;
  enabledPlatforms: Platform[];
  blockOnMissingPartnerData: Platform[];
  unresponsiveAfterMinutes: number;
  enabledAt: Date;
  lastHeartbeatAt: Date | null;
  /** `(lastHeartbeatAt ?? enabledAt) + unresponsiveAfterMinutes`; null while DISABLED. */
  deadlineAt: Date | null;
  /** When the partner became unresponsive (the deadline it missed); null unless UNRESPONSIVE. */
  unresponsiveSince: Date | null;
  updatedAt: Date;
}

/** Per tenant: the connector version (orders `connector.state.changed`) and the version whose assessments are republished. */
export interface TenantRecord {
  tenantId: string;
  connectorVersion: number;
  /** Assessments of every device reflect connector version `assessedVersion`; behind `connectorVersion`, a republish is due. */
  assessedVersion: number;
}

/** A device as learnt from the `devices` topic, with its current assessment. The row is the per-device lock. */
export interface DeviceStateRecord {
  tenantId: string;
  deviceId: string;
  platform: Platform;
  ownership: Ownership;
  retiredAt: Date | null;
  /** Version of the last device event applied. */
  deviceVersion: number;
  level: ThreatLevel | null;
  dataStatus: DataStatus;
  blockOnMissing: boolean;
  partner: MtdPartner | null;
  unresponsiveSince: Date | null;
  /** Incremented on every change of the assessment: the version of `device.assessment.changed`. 0 before the first. */
  assessmentVersion: number;
  assessedAt: Date | null;
}

/** An accepted report: the idempotency record (unique on tenant, partner, report id). */
export interface ReportRecord {
  tenantId: string;
  partner: MtdPartner;
  reportId: string;
  deviceId: string;
  observedAt: Date;
  receivedAt: Date;
  threatCount: number;
  /** The report's content fingerprint (fingerprint.ts); null for reports accepted before it was stored. */
  fingerprint: string | null;
}

/**
 * A device a partner has reported on (whether its risk by that partner is
 * known, `PartnerData.reported`): one row per tenant, partner and device,
 * kept for good, while the reports themselves are pruned after
 * `MTD_RETENTION_REPORTS`.
 */
export interface ReportedDeviceRecord {
  tenantId: string;
  partner: MtdPartner;
  deviceId: string;
  firstReportedAt: Date;
}

/**
 * A threat as last observed; unique on tenant, partner, device and external
 * id. Kept while ACTIVE; once RESOLVED, until its last observation is older
 * than `MTD_RETENTION_REPORTS` (then pruned, see `reports.ts`).
 */
export interface ThreatRecord {
  id: string;
  tenantId: string;
  partner: MtdPartner;
  deviceId: string;
  externalId: string;
  category: ThreatCategory;
  severity: ThreatLevel;
  title: string;
  status: ThreatStatus;
  /** First time seen ACTIVE (the first observation when it was never ACTIVE). */
  detectedAt: Date;
  resolvedAt: Date | null;
  /** The observation the stored state comes from: an older one does not overwrite it. */
  observedAt: Date;
  updatedAt: Date;
}

/** A list of enum values as one comma-separated string (`IOS,ANDROID`). */
function listColumn(name: string): EntitySchemaColumnOptions {
  return {
    type: "varchar",
    length: 64,
    name,
    transformer: {
      to: (value: readonly string[] | undefined) => value?.join(","),
      from: (value: string | null) => (value == null || value === "" ? [] : value.split(",")),
    },
  };
}

function booleanColumn(name: string): EntitySchemaColumnOptions {
  return {
    type: "integer",
    name,
    transformer: {
      to: (value: boolean | undefined) => (value === undefined ? undefined : value ? 1 : 0),
      from: (value: number | string | null) => Number(value) === 1,
    },
  };
}

export const ConnectorEntity = new EntitySchema<ConnectorRecord>({
  name: "ThreatConnector",
  tableName: "threat_connectors",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    partner: { type: "varchar", length: 64, primary: true },
    state: { type: "varchar", length: 16 },
    enabledPlatforms: listColumn("enabled_platforms"),
    blockOnMissingPartnerData: listColumn("block_on_missing"),
    unresponsiveAfterMinutes: integerColumn({ name: "unresponsive_after_minutes" }),
    enabledAt: timestampColumn({ name: "enabled_at" }),
    lastHeartbeatAt: timestampColumn({ name: "last_heartbeat_at", nullable: true }),
    deadlineAt: timestampColumn({ name: "deadline_at", nullable: true }),
    unresponsiveSince: timestampColumn({ name: "unresponsive_since", nullable: true }),
    updatedAt: timestampColumn({ name: "updated_at" }),
  },
});

export const TenantEntity = new EntitySchema<TenantRecord>({
  name: "ThreatTenant",
  tableName: "threat_tenants",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    connectorVersion: integerColumn({ name: "connector_version" }),
    assessedVersion: integerColumn({ name: "assessed_version" }),
  },
});

export const DeviceStateEntity = new EntitySchema<DeviceStateRecord>({
  name: "ThreatDevice",
  tableName: "threat_devices",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    deviceId: { type: "varchar", length: 128, primary: true, name: "device_id" },
    platform: { type: "varchar", length: 16 },
    ownership: { type: "varchar", length: 16 },
    retiredAt: timestampColumn({ name: "retired_at", nullable: true }),
    deviceVersion: integerColumn({ name: "device_version" }),
    level: { type: "varchar", length: 16, nullable: true },
    dataStatus: { type: "varchar", length: 32, name: "data_status" },
    blockOnMissing: booleanColumn("block_on_missing"),
    partner: { type: "varchar", length: 64, nullable: true },
    unresponsiveSince: timestampColumn({ name: "unresponsive_since", nullable: true }),
    assessmentVersion: integerColumn({ name: "assessment_version" }),
    assessedAt: timestampColumn({ name: "assessed_at", nullable: true }),
  },
});

export const ReportEntity = new EntitySchema<ReportRecord>({
  name: "ThreatReport",
  tableName: "threat_reports",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    partner: { type: "varchar", length: 64, primary: true },
    reportId: { type: "varchar", length: 128, primary: true, name: "report_id" },
    deviceId: { type: "varchar", length: 128, name: "device_id" },
    observedAt: timestampColumn({ name: "observed_at" }),
    receivedAt: timestampColumn({ name: "received_at" }),
    threatCount: integerColumn({ name: "threat_count" }),
    fingerprint: { type: "varchar", length: 64, nullable: true },
  },
  // Retention prunes reports by age (lib/retention.ts).
  indices: [{ name: "threat_reports_received", columns: ["receivedAt"] }],
});

export const ReportedDeviceEntity = new EntitySchema<ReportedDeviceRecord>({
  name: "ThreatReportedDevice",
  tableName: "threat_reported_devices",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    partner: { type: "varchar", length: 64, primary: true },
    deviceId: { type: "varchar", length: 128, primary: true, name: "device_id" },
    firstReportedAt: timestampColumn({ name: "first_reported_at" }),
  },
});

export const ThreatEntity = new EntitySchema<ThreatRecord>({
  name: "Threat",
  tableName: "threats",
  columns: {
    id: { type: "varchar", length: 36, primary: true },
    tenantId: { type: "varchar", length: 64, name: "tenant_id" },
    partner: { type: "varchar", length: 64 },
    deviceId: { type: "varchar", length: 128, name: "device_id" },
    externalId: { type: "varchar", length: 256, name: "external_id" },
    category: { type: "varchar", length: 16 },
    severity: { type: "varchar", length: 16 },
    title: { type: "varchar", length: 512 },
    status: { type: "varchar", length: 16 },
    detectedAt: timestampColumn({ name: "detected_at" }),
    resolvedAt: timestampColumn({ name: "resolved_at", nullable: true }),
    observedAt: timestampColumn({ name: "observed_at" }),
    updatedAt: timestampColumn({ name: "updated_at" }),
  },
  indices: [
    { name: "threats_key", columns: ["tenantId", "partner", "deviceId", "externalId"], unique: true },
    // Retention prunes RESOLVED threats by their last observation (lib/retention.ts).
    { name: "threats_status_observed", columns: ["status", "observedAt"] },
  ],
});

export const ENTITIES = [ConnectorEntity, TenantEntity, DeviceStateEntity, ReportEntity, ReportedDeviceEntity, ThreatEntity];
