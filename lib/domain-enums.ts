/**
 * The enums more than one service speaks, as the one TypeScript source: the
 * values as `as const` arrays (in the contract's order) and their types. The
 * SDL in `schema/` declares the same enums for clients; test/lib/domain-enums
 * fails when a schema's values differ from these.
 */

export const PLATFORMS = ["IOS", "ANDROID", "WINDOWS", "MACOS"] as const;
export type Platform = (typeof PLATFORMS)[number];

export const OWNERSHIPS = ["CORPORATE", "PERSONAL"] as const;
export type Ownership = (typeof OWNERSHIPS)[number];

/** Ordered: SECURED < LOW < MEDIUM < HIGH. */
export const THREAT_LEVELS = ["SECURED", "LOW", "MEDIUM", "HIGH"] as const;
export type ThreatLevel = (typeof THREAT_LEVELS)[number];

export const MTD_PARTNERS = [
  "LOOKOUT",
  "SYMANTEC_ENDPOINT_PROTECTION_MOBILE",
  "CHECK_POINT_SANDBLAST_MOBILE",
  "ZIMPERIUM",
  "PRADEO",
  "BETTER_MOBILE",
  "SOPHOS_MOBILE",
  "WANDERA",
  "MICROSOFT_DEFENDER",
] as const;
export type MtdPartner = (typeof MTD_PARTNERS)[number];

export const CONNECTOR_STATES = ["ENABLED", "UNRESPONSIVE", "DISABLED"] as const;
export type ConnectorState = (typeof CONNECTOR_STATES)[number];

export const COMPLIANCE_STATES = ["COMPLIANT", "IN_GRACE_PERIOD", "NONCOMPLIANT"] as const;
export type ComplianceStateName = (typeof COMPLIANCE_STATES)[number];

/** Each shared enum by its SDL name. */
export const DOMAIN_ENUMS = {
  Platform: PLATFORMS,
  Ownership: OWNERSHIPS,
  ThreatLevel: THREAT_LEVELS,
  MtdPartner: MTD_PARTNERS,
  ConnectorState: CONNECTOR_STATES,
  ComplianceState: COMPLIANCE_STATES,
} as const satisfies Record<string, readonly string[]>;
