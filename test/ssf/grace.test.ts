/**
 * CAEP only when a device actually becomes (or stops being) noncompliant: a
 * `compliance.changed` of a grace period starting or ending without access
 * changing (previous = current) sends no SET; the flip after it does. Also
 * end to end, from the evaluator: a grace period, a report-only policy
 * switched to ENFORCED and an exception send nothing; the deadline does.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AssessmentChangedPayload, ComplianceChangedPayload } from "../../lib/events/contracts.js";
import type { ThreatLevel } from "../../lib/domain-enums.js";
import { createLogger } from "../../lib/logger.js";
import { start as startPolicies } from "../../subgraphs/policies/server.js";
import { engines } from "../support/engines.js";
import type { TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";
import { pushStream, register, startSsfGraph, tenant } from "./support.js";

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`Shared Signals and grace periods on ${engine.name}`, () => {
    let graph: TestGraph;
    beforeAll(async () => {
      graph = await startSsfGraph(engine);
    });
    afterAll(() => graph?.stop());

    async function publish(tenantId: string, change: Pick<ComplianceChangedPayload, "previous" | "current" | "previousState" | "state" | "complianceDeadline">) {
      const changeId = randomUUID();
      const at = new Date().toISOString();
      const payload: ComplianceChangedPayload = { changeId, deviceId: "grace-1", userPrincipalName: "ada@example.com", reason: "risk HIGH from LOOKOUT exceeds IOS policy maximum LOW", at, platform: "IOS", partner: "LOOKOUT", level: "HIGH", policy: null, ...change };
      await graph.events.publish("policies", [{ id: changeId, type: "compliance.changed", tenantId, aggregateId: "grace-1", occurredAt: at, payload }]);
      return changeId;
    }

    it("a grace period starting sends nothing; its end in a revocation sends not-compliant, once", async () => {
      const { admin, tenantId } = await tenant(graph);
      const { receiver } = await pushStream(await register(graph, admin));
      try {
        const deadline = new Date(Date.now() + 60_000).toISOString();
        await publish(tenantId, { previous: "COMPLIANT", current: "COMPLIANT", previousState: "COMPLIANT", state: "IN_GRACE_PERIOD", complianceDeadline: deadline });
        const revoked = await publish(tenantId, { previous: "COMPLIANT", current: "NONCOMPLIANT", previousState: "IN_GRACE_PERIOD", state: "NONCOMPLIANT", complianceDeadline: null });
        const [set] = await receiver.until((sets) => sets.length === 1);
        expect(set!.claims.txn).toBe(revoked);
        expect(set!.event.current_status).toBe("not-compliant");
        // A later grace period resolved in time: nothing either; the SETs stay one.
        await publish(tenantId, { previous: "NONCOMPLIANT", current: "COMPLIANT", previousState: "NONCOMPLIANT", state: "COMPLIANT", complianceDeadline: null });
        await publish(tenantId, { previous: "COMPLIANT", current: "COMPLIANT", previousState: "COMPLIANT", state: "IN_GRACE_PERIOD", complianceDeadline: deadline });
        await publish(tenantId, { previous: "COMPLIANT", current: "COMPLIANT", previousState: "IN_GRACE_PERIOD", state: "COMPLIANT", complianceDeadline: null });
        const last = await publish(tenantId, { previous: "COMPLIANT", current: "NONCOMPLIANT", previousState: "COMPLIANT", state: "NONCOMPLIANT", complianceDeadline: null });
        const sets = await receiver.until((received) => received.some((s) => s.claims.txn === last));
        expect(sets.map((s) => s.event.current_status)).toEqual(["not-compliant", "compliant", "not-compliant"]);
      } finally {
        await receiver.stop();
      }
    });

    it("end to end: entering grace, a report-only policy switched to ENFORCED and an exception send nothing; the deadline sends not-compliant once, the resolution compliant", async () => {
      const { admin, tenantId } = await tenant(graph);
      const ok = async (document: string, variables?: Record<string, unknown>) => {
        const result = await graph.query(admin, document, variables);
        expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
        return result.data!;
      };
      await ok(`mutation { setCompliancePolicy(input: { platform: IOS, name: "iOS", maxThreatLevel: LOW, gracePeriodMinutes: 1 }) { id } }`);
      await ok(`mutation { setConditionalAccessPolicy(input: { name: "Mail", resources: ["exchange"], platforms: [IOS], enabled: true }) { id } }`);
      const files = (await ok(`mutation { setConditionalAccessPolicy(input: { name: "Files", resources: ["files"], platforms: [IOS], enabled: true, mode: REPORT_ONLY }) { id } }`)).setConditionalAccessPolicy.id;
      await ok(`mutation { enrollDevice(input: { id: "e2e-1", name: "phone", platform: IOS, osVersion: "17", ownership: CORPORATE, userPrincipalName: "ada@example.com" }) { id } }`);
      const state = async () => (await ok(`query { device(id: "e2e-1") { complianceState access { resource allowed reason } } }`)).device;
      let version = 10_000; // ahead of what the threats subgraph publishes for the device itself
      const assess = async (level: ThreatLevel) => {
        const payload: AssessmentChangedPayload = { deviceId: "e2e-1", platform: "IOS", previousLevel: null, level, dataStatus: "REPORTED", blockOnMissing: false, partner: "LOOKOUT", unresponsiveSince: null };
        await graph.events.publish("threats", [{ id: randomUUID(), type: "device.assessment.changed", tenantId, aggregateId: "e2e-1", version: ++version, occurredAt: new Date().toISOString(), payload }]);
        await waitFor(async () => (await state()).access.some((a: { reason: string }) => a.reason.includes(`risk ${level} `)), 10_000, `e2e-1 at ${level}`);
      };
      await assess("SECURED");
      const { receiver } = await pushStream(await register(graph, admin));
      try {
        await assess("HIGH");
        expect((await state()).complianceState).toBe("IN_GRACE_PERIOD");
        await ok(`mutation($id: ID!) { setConditionalAccessPolicy(input: { id: $id, name: "Files", resources: ["files"], platforms: [IOS], enabled: true, mode: ENFORCED }) { id } }`, { id: files });
        await ok(`mutation { grantAccessException(input: { deviceId: "e2e-1", resources: ["files"], reason: "pilot", expiresAt: "${new Date(Date.now() + 3_600_000).toISOString()}" }) { id } }`);
        await waitFor(async () => (await state()).access.some((a: { resource: string; reason: string }) => a.resource === "files" && a.reason.startsWith("exception: pilot")), 10_000, "files excepted");

        const ahead = await startPolicies({ config: { ...graph.config, port: 0 }, logger: createLogger("silent", "test"), events: graph.events }, { now: () => Date.now() + 2 * 60_000, deadlinePollMs: 25 });
        try {
          await waitFor(async () => (await state()).complianceState === "NONCOMPLIANT", 10_000, "the deadline");
        } finally {
          await ahead.dispose();
        }
        const [set] = await receiver.until((sets) => sets.length > 0);
        expect([set!.event.previous_status, set!.event.current_status]).toEqual(["compliant", "not-compliant"]);
        await assess("SECURED");
        const sets = await receiver.until((received) => received.length >= 2);
        expect(sets.map((s) => s.event.current_status)).toEqual(["not-compliant", "compliant"]);
      } finally {
        await receiver.stop();
      }
    });
  });
}
