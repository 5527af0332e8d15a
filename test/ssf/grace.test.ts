/**
 * CAEP only when a device actually becomes (or stops being) noncompliant: a
 * `compliance.changed` of a grace period starting or ending without access
 * changing (previous = current) sends no SET; the flip after it does.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ComplianceChangedPayload } from "../../lib/events/contracts.js";
import { engines } from "../support/engines.js";
import type { TestGraph } from "../support/graph.js";
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
  });
}
