import { EntitySchema } from "typeorm";
import { integerColumn, timestampColumn } from "../../../lib/db.js";
import type { DataStatus } from "../../../lib/events/contracts.js";
import type { MtdPartner, Platform, ThreatLevel } from "../../../lib/domain-enums.js";

/** What policies knows of a device: from device events and the threats subgraph's assessments. */
export interface PolicyDeviceRecord {
  tenantId: string;
  deviceId: string;
  platform: Platform;
  userPrincipalName: string | null;
  retired: boolean;
  /** Last applied device event version (devices subgraph). */
  deviceVersion: number;
  /** Last applied assessment version (threats subgraph); 0 = none yet. */
  assessmentVersion: number;
  level: ThreatLevel | null;
  dataStatus: DataStatus;
  blockOnMissing: boolean;
  partner: MtdPartner | null;
  unresponsiveSince: Date | null;
  /** False only while NONCOMPLIANT (access revoked); true while COMPLIANT or IN_GRACE_PERIOD. */
  compliant: boolean;
  /** Set while IN_GRACE_PERIOD: when the device turns NONCOMPLIANT unless it recovers first. The durable deadline `Deadlines` polls. */
  graceDeadline: Date | null;
  complianceReason: string;
  evaluatedAt: Date;
}

export interface CompliancePolicyRecord {
  tenantId: string;
  id: string;
  platform: Platform;
  name: string;
  maxThreatLevel: ThreatLevel;
  /** 0: a device over the threshold is NONCOMPLIANT at once; otherwise IN_GRACE_PERIOD for this long first. */
  gracePeriodMinutes: number;
  updatedAt: Date;
}

export type ConditionalAccessMode = "ENFORCED" | "REPORT_ONLY";

export interface ConditionalAccessPolicyRecord {
  tenantId: string;
  id: string;
  name: string;
  resources: string[];
  platforms: Platform[];
  enabled: boolean;
  /** REPORT_ONLY: never decides access; only its impact (the devices it would block) is kept. */
  mode: ConditionalAccessMode;
  updatedAt: Date;
}

/** An enabled policy would block (REPORT_ONLY) or blocks (ENFORCED) the device now. Kept current by the evaluator. */
export interface PolicyImpactRecord {
  tenantId: string;
  policyId: string;
  deviceId: string;
}

/** A time-boxed exception: the device is allowed on `resources` until `expiresAt`, whatever its compliance. */
export interface AccessExceptionRecord {
  tenantId: string;
  id: string;
  deviceId: string;
  resources: string[];
  reason: string;
  expiresAt: Date;
  /** The granting admin's `sub`. */
  grantedBy: string;
  grantedAt: Date;
  revokedAt: Date | null;
  /** Set once the expiry has been evaluated (the deadline poll claims it exactly once). */
  expiryEvaluated: boolean;
}

export interface AccessDecisionRecord {
  tenantId: string;
  deviceId: string;
  resource: string;
  allowed: boolean;
  reason: string;
  decidedAt: Date;
}

export interface AccessChangeRecord {
  tenantId: string;
  sequence: number;
  deviceId: string;
  resource: string;
  allowed: boolean;
  reason: string;
  at: Date;
}

/** The last access-change sequence handed out per tenant; its row is also the tenant's evaluation lock. */
export interface TenantSequenceRecord {
  tenantId: string;
  lastSequence: number;
}

const json = <T>() => ({
  to: (value: T) => JSON.stringify(value),
  from: (value: string) => JSON.parse(value) as T,
});

export const PolicyDeviceEntity = new EntitySchema<PolicyDeviceRecord>({
  name: "PolicyDevice",
  tableName: "policy_devices",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    deviceId: { type: "varchar", length: 128, primary: true, name: "device_id" },
    platform: { type: "varchar", length: 16 },
    userPrincipalName: { type: "varchar", length: 320, nullable: true, name: "user_principal_name" },
    retired: { type: "boolean" },
    deviceVersion: integerColumn({ name: "device_version" }),
    assessmentVersion: integerColumn({ name: "assessment_version" }),
    level: { type: "varchar", length: 16, nullable: true },
    dataStatus: { type: "varchar", length: 32, name: "data_status" },
    blockOnMissing: { type: "boolean", name: "block_on_missing" },
    partner: { type: "varchar", length: 64, nullable: true },
    unresponsiveSince: timestampColumn({ name: "unresponsive_since", nullable: true }),
    compliant: { type: "boolean" },
    graceDeadline: timestampColumn({ name: "grace_deadline", nullable: true }),
    complianceReason: { type: "varchar", length: 512, name: "compliance_reason" },
    evaluatedAt: timestampColumn({ name: "evaluated_at" }),
  },
});

export const CompliancePolicyEntity = new EntitySchema<CompliancePolicyRecord>({
  name: "CompliancePolicy",
  tableName: "compliance_policies",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    id: { type: "varchar", length: 64, primary: true },
    platform: { type: "varchar", length: 16 },
    name: { type: "varchar", length: 256 },
    maxThreatLevel: { type: "varchar", length: 16, name: "max_threat_level" },
    gracePeriodMinutes: integerColumn({ name: "grace_period_minutes", default: 0 }),
    updatedAt: timestampColumn({ name: "updated_at" }),
  },
});

export const ConditionalAccessPolicyEntity = new EntitySchema<ConditionalAccessPolicyRecord>({
  name: "ConditionalAccessPolicy",
  tableName: "conditional_access_policies",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    id: { type: "varchar", length: 64, primary: true },
    name: { type: "varchar", length: 256 },
    resources: { type: "text", transformer: json<string[]>() },
    platforms: { type: "varchar", length: 128, transformer: json<Platform[]>() },
    enabled: { type: "boolean" },
    mode: { type: "varchar", length: 16, default: "ENFORCED" },
    updatedAt: timestampColumn({ name: "updated_at" }),
  },
});

export const PolicyImpactEntity = new EntitySchema<PolicyImpactRecord>({
  name: "PolicyImpact",
  tableName: "policy_impacts",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    policyId: { type: "varchar", length: 64, primary: true, name: "policy_id" },
    deviceId: { type: "varchar", length: 128, primary: true, name: "device_id" },
  },
});

export const AccessExceptionEntity = new EntitySchema<AccessExceptionRecord>({
  name: "AccessException",
  tableName: "access_exceptions",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    id: { type: "varchar", length: 36, primary: true },
    deviceId: { type: "varchar", length: 128, name: "device_id" },
    resources: { type: "text", transformer: json<string[]>() },
    reason: { type: "varchar", length: 512 },
    expiresAt: timestampColumn({ name: "expires_at" }),
    grantedBy: { type: "varchar", length: 256, name: "granted_by" },
    grantedAt: timestampColumn({ name: "granted_at" }),
    revokedAt: timestampColumn({ name: "revoked_at", nullable: true }),
    expiryEvaluated: { type: "boolean", name: "expiry_evaluated" },
  },
});

export const AccessDecisionEntity = new EntitySchema<AccessDecisionRecord>({
  name: "AccessDecision",
  tableName: "access_decisions",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    deviceId: { type: "varchar", length: 128, primary: true, name: "device_id" },
    resource: { type: "varchar", length: 128, primary: true },
    allowed: { type: "boolean" },
    reason: { type: "varchar", length: 512 },
    decidedAt: timestampColumn({ name: "decided_at" }),
  },
});

export const AccessChangeEntity = new EntitySchema<AccessChangeRecord>({
  name: "AccessChange",
  tableName: "access_changes",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    sequence: { ...integerColumn({ name: "sequence", big: true }), primary: true },
    deviceId: { type: "varchar", length: 128, name: "device_id" },
    resource: { type: "varchar", length: 128 },
    allowed: { type: "boolean" },
    reason: { type: "varchar", length: 512 },
    at: timestampColumn({ name: "at" }),
  },
  indices: [{ name: "access_changes_at", columns: ["at"] }],
});

export const TenantSequenceEntity = new EntitySchema<TenantSequenceRecord>({
  name: "TenantSequence",
  tableName: "tenant_sequences",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    lastSequence: integerColumn({ name: "last_sequence", big: true }),
  },
});

export const POLICY_ENTITIES = [
  PolicyDeviceEntity,
  CompliancePolicyEntity,
  ConditionalAccessPolicyEntity,
  AccessDecisionEntity,
  AccessChangeEntity,
  TenantSequenceEntity,
  PolicyImpactEntity,
  AccessExceptionEntity,
];
