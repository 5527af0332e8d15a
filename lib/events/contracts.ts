/**
 * The events subgraphs exchange, by topic: the payload of each event type.
 * Which topic carries which type, and the check of each payload, are in
 * catalog.ts. A field is only ever added, never renamed or removed.
 */
import type { ComplianceStateName, ConnectorState, MtdPartner, Ownership, Platform, ThreatLevel } from "../domain-enums.js";

/** Topic `devices`: `device.enrolled`, `device.updated`, `device.retired`; aggregate = device id, versioned per device. */
export interface DeviceEventPayload {
  id: string;
  name: string;
  platform: Platform;
  ownership: Ownership;
  osVersion: string;
  userPrincipalName: string | null;
  enrolledAt: string;
  retiredAt: string | null;
}

/**
 * Whether the partner's data counts for a device:
 * REPORTED: the partner reported on it; MISSING: connected, the platform is
 * enabled, but no report yet; PARTNER_UNRESPONSIVE: the connector missed its
 * heartbeats (data ignored, fail open); NOT_CONNECTED: no enabled connector, or
 * the device's platform is not enabled on it.
 */
export const DATA_STATUSES = ["REPORTED", "MISSING", "PARTNER_UNRESPONSIVE", "NOT_CONNECTED"] as const;
export type DataStatus = (typeof DATA_STATUSES)[number];

/**
 * Topic `threats`: `device.assessment.changed`; aggregate = device id, versioned
 * per device (a consumer ignores a version at or below the one it applied).
 */
export interface AssessmentChangedPayload {
  deviceId: string;
  platform: Platform;
  previousLevel: ThreatLevel | null;
  /** The partner's assessment, null before any report. Counts only when `dataStatus` is REPORTED. */
  level: ThreatLevel | null;
  dataStatus: DataStatus;
  /** Missing partner data blocks compliance on this platform. */
  blockOnMissing: boolean;
  partner: MtdPartner | null;
  /** When the partner became unresponsive (PARTNER_UNRESPONSIVE only). */
  unresponsiveSince: string | null;
  /**
   * True for the assessment of a report on a single device (`reportThreats`,
   * or a batch of one): the policies evaluator applies it in its urgent lane,
   * ahead of any bulk backlog (re-syncs, enrolment waves, connector changes).
   * Absent otherwise.
   */
  urgent?: boolean;
}

/**
 * Topic `threats`: `connector.state.changed`, one per state transition of one
 * connector (key: tenant + partner; a tenant has one connector per partner,
 * several active at once on disjoint platforms); aggregate = `connector`,
 * versioned per tenant (so also increasing per tenant + partner).
 */
export interface ConnectorStateChangedPayload {
  partner: MtdPartner;
  previousState: ConnectorState | null;
  state: ConnectorState;
  /** The platforms the connector covers. Absent from older events. */
  enabledPlatforms?: Platform[];
}

/**
 * Topic `threats`: `connectors.announced`, every connector of one tenant as
 * the threats subgraph has them at the tenant's connector version (the
 * event's `version`, the same sequence `connector.state.changed` carries),
 * aggregate = `connector`. Sent for every tenant when the threats subgraph
 * starts, so a subgraph whose view of the connectors is new learns those
 * enabled before it; a consumer applies each connector unless it applied a
 * later version of it.
 */
export interface ConnectorsAnnouncedPayload {
  connectors: { partner: MtdPartner; state: ConnectorStateChangedPayload["state"]; enabledPlatforms: Platform[] }[];
}

/**
 * Topic `policies.private`: `policy.changed`, a compliance or conditional-access
 * policy set, read by the policies service alone (its trigger to re-evaluate
 * the devices of those platforms); aggregate = policy id.
 */
export interface PolicyChangedPayload {
  kind: "compliance" | "conditional-access";
  policyId: string;
  platforms: Platform[];
}

/** Topic `policies`: `access.changed`; aggregate = device id. `sequence` is per tenant, strictly increasing. */
export interface AccessChangedPayload {
  sequence: number;
  cursor: string;
  deviceId: string;
  resource: string;
  allowed: boolean;
  reason: string;
  at: string;
}

/**
 * Topic `policies`: `compliance.changed`, one per change of a device's
 * compliance state; aggregate = device id. Feeds the Shared Signals
 * transmitter, which reports a flip of `previous` → `current` (and nothing
 * for an event where they are equal: a grace period starting or ending
 * without the device becoming NONCOMPLIANT).
 */
export interface ComplianceChangedPayload {
  changeId: string;
  deviceId: string;
  userPrincipalName: string | null;
  /** The enforced state before (IN_GRACE_PERIOD counts as COMPLIANT: access unchanged); null when policies first sees the device. */
  previous: "COMPLIANT" | "NONCOMPLIANT" | null;
  /** The enforced state now: NONCOMPLIANT only once access is revoked (after any grace period). */
  current: "COMPLIANT" | "NONCOMPLIANT";
  /** The state before, grace included; null when policies first sees the device. Absent from older events. */
  previousState?: ComplianceStateName | null;
  /** The state now, grace included. Absent from older events. */
  state?: ComplianceStateName;
  /** While IN_GRACE_PERIOD: when the device turns NONCOMPLIANT unless resolved. Absent from older events. */
  complianceDeadline?: string | null;
  reason: string;
  at: string;
  /** The device's platform. Added for the Shared Signals transmitter; absent from older events. */
  platform?: Platform;
  /** The MTD partner whose assessment counted, if any. Absent from older events. */
  partner?: MtdPartner | null;
  /** The partner's threat level for the device (null before any report). Absent from older events. */
  level?: ThreatLevel | null;
  /** The compliance policy of the device's platform, null when there is none. Absent from older events. */
  policy?: { id: string; name: string; maxThreatLevel: ThreatLevel } | null;
}

export interface SharingSettings {
  iosAppSyncEnabled: boolean;
  includePersonalDevices: boolean;
}

/** Topic `inventory`: `inventory.settings.changed`; aggregate `settings`, versioned per tenant. */
export interface InventorySettingsChangedPayload extends SharingSettings {
  previous: SharingSettings;
  /** The `sub` of the admin who changed them. */
  changedBy: string;
}

/** Topic `audit`: `audit.recorded`, one entry of a service's audit trail (lib/audit.ts); also the stored row. */
export interface AuditRecord {
  id: string;
  tenantId: string;
  /** The service that made the change. */
  service: string;
  action: string;
  targetType: string;
  targetId: string;
  actor: string;
  actorRole: string;
  requestId: string | null;
  /** JSON text, or null. */
  before: string | null;
  after: string | null;
  /** Epoch ms. */
  at: number;
}
