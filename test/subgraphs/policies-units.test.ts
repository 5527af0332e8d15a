/** The policies subgraph's pure rules: grace periods, exceptions, report-only policies and their impact. */
import { describe, expect, it } from "vitest";
import type { ConditionalAccessPolicyRecord } from "../../subgraphs/policies/data/entities.js";
import { blockingPolicies, evaluateAccess, evaluateCompliance, stateOf, withGrace, type ActiveException, type ComplianceStatus, type DeviceFacts } from "../../subgraphs/policies/evaluate.js";

const NOW = new Date("2026-12-01T12:00:00Z");
const MINUTE = 60_000;
const device = (overrides: Partial<DeviceFacts> = {}): DeviceFacts => ({ platform: "IOS", retired: false, level: "HIGH", dataStatus: "REPORTED", blockOnMissing: false, partner: "LOOKOUT", unresponsiveSince: null, ...overrides });
const policy = { tenantId: "t", id: "c", platform: "IOS" as const, name: "iOS", maxThreatLevel: "LOW" as const, gracePeriodMinutes: 30, updatedAt: NOW };
const over = evaluateCompliance(device(), policy);
const within = evaluateCompliance(device({ level: "LOW" }), policy);
const compliantBefore = { compliant: true, graceDeadline: null };
const enrolled = { retired: false };

function caPolicy(id: string, overrides: Partial<ConditionalAccessPolicyRecord> = {}): ConditionalAccessPolicyRecord {
  return { tenantId: "t", id, name: `policy ${id}`, resources: ["exchange"], platforms: ["IOS"], enabled: true, mode: "ENFORCED", updatedAt: NOW, ...overrides };
}

describe("grace periods", () => {
  it("the reason names the partner", () => {
    expect(over).toEqual({ compliant: false, reason: "risk HIGH from LOOKOUT exceeds IOS policy maximum LOW" });
  });

  it("crossing the threshold while COMPLIANT starts the period; 0 minutes or a retired device is NONCOMPLIANT at once", () => {
    expect(withGrace(over, enrolled, compliantBefore, policy, NOW)).toEqual({ state: "IN_GRACE_PERIOD", deadline: new Date(NOW.getTime() + 30 * MINUTE), reason: over.reason });
    expect(withGrace(over, enrolled, compliantBefore, { gracePeriodMinutes: 0 }, NOW).state).toBe("NONCOMPLIANT");
    expect(withGrace(over, enrolled, compliantBefore, undefined, NOW).state).toBe("NONCOMPLIANT");
    // Retiring (the device now, not its stored state) ends grace at once, and starts none.
    const retiring = evaluateCompliance(device({ retired: true }), policy);
    expect(withGrace(retiring, { retired: true }, compliantBefore, policy, NOW)).toEqual({ state: "NONCOMPLIANT", deadline: null, reason: "device retired" });
    expect(withGrace(retiring, { retired: true }, { compliant: true, graceDeadline: new Date(NOW.getTime() + MINUTE) }, policy, NOW).state).toBe("NONCOMPLIANT");
  });

  it("in grace: the deadline stays whatever changes, ends it NONCOMPLIANT once passed; resolving ends it COMPLIANT", () => {
    const deadline = new Date(NOW.getTime() + 10 * MINUTE);
    const inGrace = { compliant: true, graceDeadline: deadline };
    expect(stateOf(inGrace)).toBe("IN_GRACE_PERIOD");
    expect(withGrace(over, enrolled, inGrace, { gracePeriodMinutes: 600 }, NOW)).toMatchObject({ state: "IN_GRACE_PERIOD", deadline });
    expect(withGrace(over, enrolled, inGrace, policy, deadline)).toEqual({ state: "NONCOMPLIANT", deadline: null, reason: `${over.reason}; grace period ended ${deadline.toISOString()}` });
    expect(withGrace(within, enrolled, inGrace, policy, NOW)).toEqual({ state: "COMPLIANT", deadline: null, reason: within.reason });
  });

  it("NONCOMPLIANT stays so until compliant: no new grace period", () => {
    const revoked = { compliant: false, graceDeadline: null };
    expect(stateOf(revoked)).toBe("NONCOMPLIANT");
    expect(withGrace(over, enrolled, revoked, policy, NOW).state).toBe("NONCOMPLIANT");
    expect(withGrace(within, enrolled, revoked, policy, NOW).state).toBe("COMPLIANT");
  });
});

describe("access", () => {
  const noncompliant: ComplianceStatus = { state: "NONCOMPLIANT", deadline: null, reason: over.reason };
  const grace: ComplianceStatus = { state: "IN_GRACE_PERIOD", deadline: new Date(NOW.getTime() + MINUTE), reason: over.reason };
  const exception: ActiveException = { id: "x-1", resources: ["exchange"], reason: "travelling", expiresAt: new Date(NOW.getTime() + MINUTE), grantedBy: "helpdesk" };

  it("IN_GRACE_PERIOD keeps access and says until when", () => {
    expect(evaluateAccess(device(), grace, [caPolicy("a")]).get("exchange")).toEqual({
      allowed: true,
      reason: `in grace period until ${grace.deadline!.toISOString()}: ${over.reason} (conditional-access policy "policy a" revokes then unless resolved)`,
    });
  });

  it("an exception allows its resources only, whatever the compliance, with a reason starting exception:", () => {
    const decisions = evaluateAccess(device(), noncompliant, [caPolicy("a", { resources: ["exchange", "files"] })], [exception]);
    expect(decisions.get("exchange")!.allowed).toBe(true);
    expect(decisions.get("exchange")!.reason).toMatch(/^exception: travelling \(exception x-1 granted by helpdesk, until 2026-12-01T12:01:00.000Z; device NONCOMPLIANT: /);
    expect(decisions.get("files")!.allowed).toBe(false);
  });

  it("REPORT_ONLY policies decide nothing; the impact counts the enabled policies of either mode that would block", () => {
    const policies = [caPolicy("enforced"), caPolicy("report", { mode: "REPORT_ONLY", resources: ["files"] }), caPolicy("off", { enabled: false, mode: "REPORT_ONLY" }), caPolicy("android", { platforms: ["ANDROID"], mode: "REPORT_ONLY" })];
    expect([...evaluateAccess(device(), noncompliant, policies).keys()]).toEqual(["exchange"]);
    expect(blockingPolicies(device(), noncompliant, policies)).toEqual(["enforced", "report"]);
    expect(blockingPolicies(device(), grace, policies)).toEqual([]);
    expect(blockingPolicies(device(), noncompliant, policies, [exception])).toEqual(["report"]);
    expect(blockingPolicies(device({ retired: true }), noncompliant, policies)).toEqual([]);
  });
});
