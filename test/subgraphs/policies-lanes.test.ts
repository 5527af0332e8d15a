/**
 * The evaluator's urgent lane (subgraphs/policies/consumers.ts): a report on a
 * single device does not queue behind a bulk backlog of the tenant's
 * assessments, and a device's effects stay in version order when its later,
 * urgent report overtakes its earlier one from a batch. Through the gateway
 * and the threats subgraph, on SQLite + the in-process log and on MariaDB +
 * Redis Streams.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AssessmentChangedPayload } from "../../lib/events/contracts.js";
import { Tenant, type Query } from "../gateway/subscriptions-helpers.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";

const BACKLOG = 3000;
const REPORT_BATCH = /* GraphQL */ `mutation($inputs: [ReportThreatsInput!]!) { reportThreatsBatch(inputs: $inputs) { reportId error { code message } } }`;

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`the evaluator's urgent lane on ${engine.name}`, () => {
    let graph: TestGraph;

    beforeAll(async () => {
      graph = await startGraph(engine);
    });
    afterAll(() => graph?.stop());

    it("an urgent report overtakes a bulk backlog of its tenant; a device's later urgent report is not undone by its earlier batched one", async () => {
      const tenantId = `lane-${randomUUID().slice(0, 8)}`;
      const tenant = await Tenant.create(tenantId, graph.query as Query, graph.token);
      for (const id of ["urgent-1", "ordered-1", "ordered-2"]) await tenant.enroll(id);
      // Known to threats once its enrolment event is through: a report observed at the epoch with no threats stores nothing that counts.
      for (const deviceId of ["ordered-1", "ordered-2"]) {
        await waitFor(async () => (await graph.query(tenant.partner, `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { reportId } }`, { input: { reportId: `known-${deviceId}`, deviceId, observedAt: new Date(0).toISOString(), threats: [] } })).errors?.[0]?.extensions?.code !== "NOT_FOUND", 30_000, `threats to know ${deviceId}`);
      }
      await tenant.restore("urgent-1"); // reported SECURED: its revocation below is the only change it has

      // A bulk backlog in the assessments lane: BACKLOG devices turning HIGH, published at once.
      await graph.events.publish(
        "threats",
        Array.from({ length: BACKLOG }, (_, i) => {
          const deviceId = `bulk-${String(i).padStart(4, "0")}`;
          const payload: AssessmentChangedPayload = { deviceId, platform: "IOS", previousLevel: null, level: "HIGH", dataStatus: "REPORTED", blockOnMissing: false, partner: "LOOKOUT", unresponsiveSince: null };
          return { id: randomUUID(), type: "device.assessment.changed", tenantId, aggregateId: deviceId, version: 1, occurredAt: new Date().toISOString(), payload };
        }),
      );
      // Behind it, a batch (two devices: not urgent) revoking ordered-1 and ordered-2 …
      const observedAt = new Date(Date.now() - 120_000).toISOString();
      const batch = await tenant.ok(
        REPORT_BATCH,
        { inputs: ["ordered-1", "ordered-2"].map((deviceId) => ({ reportId: `batch-${deviceId}`, deviceId, observedAt, threats: [{ externalId: "jailbreak", category: "DEVICE", severity: "HIGH", title: "Jailbroken", status: "ACTIVE" }] })) },
        tenant.partner,
      );
      expect(batch.reportThreatsBatch.map((item: { error: unknown }) => item.error)).toEqual([null, null]);
      // … then single reports: ordered-1 resolved (observed later: the newer state), urgent-1 revoked.
      await tenant.restore("ordered-1");
      await tenant.revoke("urgent-1");

      // Done once ordered-2's revocations (the batch's, behind the backlog) are stored.
      let changes = await tenant.changes();
      await waitFor(async () => (changes = await tenant.changes()).filter((c) => c.deviceId === "ordered-2").length === 2, 120_000, "the backlog and the batch applied");
      expect(changes.map((c) => c.sequence)).toEqual(Array.from({ length: changes.length }, (_, i) => i + 1));
      const bulk = changes.filter((c) => c.deviceId.startsWith("bulk-"));
      expect(bulk).toHaveLength(2 * BACKLOG);

      const urgent = changes.filter((c) => c.deviceId === "urgent-1");
      expect(urgent.map((c) => [c.resource, c.allowed])).toEqual([["exchange", false], ["sharepoint", false]]);
      // On MariaDB + Redis the urgent revocation did not wait for the backlog: it is stored before the backlog's
      // last change. (Embedded, every service shares one thread with the synchronous SQLite driver, and the
      // report itself queues behind the bulk work on that thread: README, "An urgent report during bulk work".)
      if (engine.database === "mysql") expect(urgent[1]!.sequence).toBeLessThan(bulk.at(-1)!.sequence);

      // ordered-1's batched HIGH was overtaken by its later resolution: it ends allowed, never revoked after.
      for (const resource of ["exchange", "sharepoint"]) {
        const flips = changes.filter((c) => c.deviceId === "ordered-1" && c.resource === resource).map((c) => c.allowed);
        expect(flips.every((allowed, i) => allowed === (i % 2 === 1)), `${resource}: ${flips.join(",")}`).toBe(true);
        expect(flips.length % 2, `${resource}: ${flips.join(",")}`).toBe(0);
      }
      const access = await graph.query(tenant.admin, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Device { access { allowed } } } }`, { r: [{ __typename: "Device", id: "ordered-1" }] }, graph.subgraphs.policies!.url);
      expect(access.data!._entities).toEqual([{ access: [{ allowed: true }, { allowed: true }] }]);
    }, 180_000);
  });
}
