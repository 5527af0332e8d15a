/**
 * Compliance and conditional access, as pure functions of what policies knows
 * about a device. Reasons are written for a help desk.
 */
import type { Platform, ThreatLevel } from "../../lib/events/contracts.js";
import type { CompliancePolicyRecord, ConditionalAccessPolicyRecord, PolicyDeviceRecord } from "./data/entities.js";

const LEVEL_ORDER: Record<ThreatLevel, number> = { SECURED: 0, LOW: 1, MEDIUM: 2, HIGH: 3 };

export type DeviceFacts = Pick<PolicyDeviceRecord, "platform" | "retired" | "level" | "dataStatus" | "blockOnMissing" | "partner" | "unresponsiveSince">;

export interface Compliance {
  compliant: boolean;
  reason: string;
}

export interface Decision {
  allowed: boolean;
  reason: string;
}

export function evaluateCompliance(device: DeviceFacts, policy: CompliancePolicyRecord | undefined): Compliance {
  if (device.retired) return { compliant: false, reason: "device retired" };
  if (policy === undefined) return { compliant: true, reason: `no ${device.platform} compliance policy` };
  const partner = device.partner ?? "the MTD partner";
  switch (device.dataStatus) {
    case "REPORTED": {
      const level = device.level ?? "SECURED";
      return LEVEL_ORDER[level] <= LEVEL_ORDER[policy.maxThreatLevel]
        ? { compliant: true, reason: `risk ${level} within ${device.platform} policy maximum ${policy.maxThreatLevel}` }
        : { compliant: false, reason: `risk ${level} exceeds ${device.platform} policy maximum ${policy.maxThreatLevel}` };
    }
    case "MISSING":
      return device.blockOnMissing
        ? { compliant: false, reason: `no data from ${partner} for this device; ${device.platform} requires partner data` }
        : { compliant: true, reason: `no data from ${partner} for this device yet; not required on ${device.platform}` };
    case "PARTNER_UNRESPONSIVE":
      return {
        compliant: true,
        reason: `partner ${partner} unresponsive since ${device.unresponsiveSince?.toISOString() ?? "an unknown time"}; partner data ignored`,
      };
    case "NOT_CONNECTED":
      return { compliant: true, reason: `no MTD partner connected for ${device.platform}; partner data not required` };
  }
}

/**
 * One decision per resource of every enabled conditional-access policy that
 * covers the device's platform. A retired device is covered by nothing and
 * keeps only revocations of what it had (see `diffDecisions`).
 */
export function evaluateAccess(
  device: DeviceFacts,
  compliance: Compliance,
  policies: readonly ConditionalAccessPolicyRecord[],
): Map<string, Decision> {
  const decisions = new Map<string, Decision>();
  for (const policy of coveringPolicies(device.platform, policies)) {
    for (const resource of policy.resources) {
      if (decisions.has(resource)) continue;
      decisions.set(resource, {
        allowed: compliance.compliant,
        reason: compliance.compliant
          ? `compliant: ${compliance.reason}`
          : `noncompliant: ${compliance.reason} (required by conditional-access policy "${policy.name}")`,
      });
    }
  }
  return decisions;
}

export function coveringPolicies(platform: Platform, policies: readonly ConditionalAccessPolicyRecord[]) {
  return policies.filter((policy) => policy.enabled && policy.platforms.includes(platform)).sort((a, b) => a.id.localeCompare(b.id));
}

export interface DecisionChange {
  resource: string;
  /** The decision to store, or null to delete it (no policy covers the resource any more). */
  decision: Decision | null;
  /** Set when `allowed` flips: an access change (REVOKED or RESTORED) to record. */
  accessChange?: Decision;
}

/**
 * What changes between the stored decisions and the new ones. A retired
 * device loses every access it had. A resource no policy covers any more is
 * deleted, and restored if it was revoked.
 */
export function diffDecisions(
  retired: boolean,
  stored: ReadonlyMap<string, Decision>,
  next: ReadonlyMap<string, Decision>,
): DecisionChange[] {
  const changes: DecisionChange[] = [];
  if (retired) {
    for (const [resource, previous] of stored) {
      if (previous.allowed || previous.reason !== "device retired; all access revoked") {
        const decision = { allowed: false, reason: "device retired; all access revoked" };
        changes.push({ resource, decision, accessChange: previous.allowed ? decision : undefined });
      }
    }
    return changes;
  }
  for (const [resource, decision] of next) {
    const previous = stored.get(resource);
    if (previous !== undefined && previous.allowed === decision.allowed && previous.reason === decision.reason) continue;
    // A resource seen for the first time is a change only when it is revoked: access was implicitly allowed before.
    const flipped = previous === undefined ? !decision.allowed : previous.allowed !== decision.allowed;
    changes.push({ resource, decision, accessChange: flipped ? decision : undefined });
  }
  for (const [resource, previous] of stored) {
    if (next.has(resource)) continue;
    const restored = { allowed: true, reason: `no conditional-access policy requires compliance for ${resource}` };
    changes.push({ resource, decision: null, accessChange: previous.allowed ? undefined : restored });
  }
  return changes;
}
