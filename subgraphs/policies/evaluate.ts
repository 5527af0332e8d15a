/**
 * Compliance (with its grace period), conditional access (with exceptions and
 * report-only policies), as pure functions of what policies knows about a
 * device. Reasons are written for a help desk: they name the partner, the
 * grace deadline, the exception.
 */
import { THREAT_LEVELS, type ComplianceStateName, type Platform } from "../../lib/domain-enums.js";

export type { ComplianceStateName };
import type { AccessExceptionRecord, CompliancePolicyRecord, ConditionalAccessPolicyRecord, PolicyDeviceRecord } from "./data/entities.js";

export type DeviceFacts = Pick<PolicyDeviceRecord, "platform" | "retired" | "level" | "dataStatus" | "blockOnMissing" | "partner" | "unresponsiveSince">;

/** The device against its platform's threshold, before any grace period. */
export interface Compliance {
  compliant: boolean;
  reason: string;
}

/** The compliance that decides access: the state, its grace deadline (IN_GRACE_PERIOD only) and why. */
export interface ComplianceStatus {
  state: ComplianceStateName;
  deadline: Date | null;
  reason: string;
}

/** An exception in force: the device is allowed on `resources` whatever its compliance. */
export type ActiveException = Pick<AccessExceptionRecord, "id" | "resources" | "reason" | "expiresAt" | "grantedBy">;

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
      const from = device.partner === null ? "" : ` from ${device.partner}`;
      return THREAT_LEVELS.indexOf(level) <= THREAT_LEVELS.indexOf(policy.maxThreatLevel)
        ? { compliant: true, reason: `risk ${level}${from} within ${device.platform} policy maximum ${policy.maxThreatLevel}` }
        : { compliant: false, reason: `risk ${level}${from} exceeds ${device.platform} policy maximum ${policy.maxThreatLevel}` };
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

/** The stored state of a device: NONCOMPLIANT when not compliant, IN_GRACE_PERIOD while a deadline runs. */
export function stateOf(device: Pick<PolicyDeviceRecord, "compliant" | "graceDeadline">): ComplianceStateName {
  if (!device.compliant) return "NONCOMPLIANT";
  return device.graceDeadline === null ? "COMPLIANT" : "IN_GRACE_PERIOD";
}

/**
 * The grace period on top of `compliance` (of `device` as it is now; `previous`:
 * its stored state before). A device that crosses the threshold while
 * COMPLIANT is IN_GRACE_PERIOD for the policy's `gracePeriodMinutes`
 * (NONCOMPLIANT at once with 0); a device already in grace keeps its deadline
 * whatever else changes (a higher level or a change of the policy's period
 * does not move it) and is NONCOMPLIANT once it has passed; NONCOMPLIANT stays
 * so until the device is compliant again. A retired device is NONCOMPLIANT at
 * once, in grace or not: no deadline is left to fire for it.
 */
export function withGrace(
  compliance: Compliance,
  device: Pick<PolicyDeviceRecord, "retired">,
  previous: Pick<PolicyDeviceRecord, "compliant" | "graceDeadline">,
  policy: Pick<CompliancePolicyRecord, "gracePeriodMinutes"> | undefined,
  now: Date,
): ComplianceStatus {
  if (compliance.compliant) return { state: "COMPLIANT", deadline: null, reason: compliance.reason };
  const noncompliant = (reason: string): ComplianceStatus => ({ state: "NONCOMPLIANT", deadline: null, reason });
  if (device.retired) return noncompliant(compliance.reason);
  switch (stateOf(previous)) {
    case "NONCOMPLIANT":
      return noncompliant(compliance.reason);
    case "IN_GRACE_PERIOD": {
      const deadline = previous.graceDeadline!;
      if (deadline.getTime() <= now.getTime()) return noncompliant(`${compliance.reason}; grace period ended ${deadline.toISOString()}`);
      return { state: "IN_GRACE_PERIOD", deadline, reason: compliance.reason };
    }
    case "COMPLIANT": {
      const minutes = policy?.gracePeriodMinutes ?? 0;
      if (minutes === 0) return noncompliant(compliance.reason);
      return { state: "IN_GRACE_PERIOD", deadline: new Date(now.getTime() + minutes * 60_000), reason: compliance.reason };
    }
  }
}

/**
 * One decision per resource of every enabled ENFORCED conditional-access
 * policy that covers the device's platform (REPORT_ONLY policies decide
 * nothing; see `blockingPolicies`). A retired device is covered by nothing
 * and keeps only revocations of what it had (see `diffDecisions`).
 */
export function evaluateAccess(
  device: DeviceFacts,
  status: ComplianceStatus,
  policies: readonly ConditionalAccessPolicyRecord[],
  exceptions: readonly ActiveException[] = [],
): Map<string, Decision> {
  const decisions = new Map<string, Decision>();
  for (const policy of coveringPolicies(device.platform, policies)) {
    if (policy.mode !== "ENFORCED") continue;
    for (const resource of policy.resources) {
      if (!decisions.has(resource)) decisions.set(resource, decide(resource, status, policy, exceptions));
    }
  }
  return decisions;
}

/**
 * The enabled policies, of either mode, that would block the device on at
 * least one of their resources now: what `ConditionalAccessPolicy.impact`
 * counts. A retired device counts for none.
 */
export function blockingPolicies(
  device: DeviceFacts,
  status: ComplianceStatus,
  policies: readonly ConditionalAccessPolicyRecord[],
  exceptions: readonly ActiveException[] = [],
): string[] {
  if (device.retired) return [];
  return coveringPolicies(device.platform, policies)
    .filter((policy) => policy.resources.some((resource) => !decide(resource, status, policy, exceptions).allowed))
    .map((policy) => policy.id);
}

function decide(resource: string, status: ComplianceStatus, policy: ConditionalAccessPolicyRecord, exceptions: readonly ActiveException[]): Decision {
  const exception = exceptions.find((candidate) => candidate.resources.includes(resource));
  if (exception !== undefined) {
    const until = exception.expiresAt.toISOString();
    return { allowed: true, reason: `exception: ${exception.reason} (exception ${exception.id} granted by ${exception.grantedBy}, until ${until}; device ${status.state}: ${status.reason})` };
  }
  switch (status.state) {
    case "COMPLIANT":
      return { allowed: true, reason: `compliant: ${status.reason}` };
    case "IN_GRACE_PERIOD":
      return { allowed: true, reason: `in grace period until ${status.deadline!.toISOString()}: ${status.reason} (conditional-access policy "${policy.name}" revokes then unless resolved)` };
    case "NONCOMPLIANT":
      return { allowed: false, reason: `noncompliant: ${status.reason} (required by conditional-access policy "${policy.name}")` };
  }
}

/** Enabled policies of either mode covering `platform`, in id order. */
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
