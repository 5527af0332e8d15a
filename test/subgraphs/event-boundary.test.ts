/**
 * A malformed event of each topic, published into the running graph, is
 * refused by every consumer that reads its type (counted per consumer group)
 * and leaves nothing behind, while the valid event published right after it
 * is applied. On SQLite + the in-process log and on MariaDB + Redis Streams.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metrics } from "../../lib/metrics.js";
import { SAMPLES, sampleEvent } from "../support/catalog-samples.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { baselineTenant } from "../support/policy-events.js";
import { waitFor } from "../support/wait.js";

const REPORT = `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { duplicate } }`;
const SYNC = `mutation($id: ID!, $at: DateTime!) { syncAppInventory(deviceId: $id, capturedAt: $at, apps: []) { appCount } }`;
const AUDIT = `query { auditLog(first: 200) { edges { node { id } } } }`;
const PARTNER_RULE_GROUPS = ["devices.partner-rule", "inventory.partner-rule", "policies.partner-rule", "signals.partner-rule"];

/** Refusals counted so far, by consumer group. */
async function refusals(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { labels, value } of (await metrics.eventsRefused.get()).values) counts.set(String(labels.consumer), (counts.get(String(labels.consumer)) ?? 0) + value);
  return counts;
}

/** Waits until each of `groups` has refused one more event than in `before`. */
async function untilRefusedBy(before: Map<string, number>, groups: readonly string[]): Promise<void> {
  await waitFor(async () => {
    const now = await refusals();
    return groups.every((group) => (now.get(group) ?? 0) === (before.get(group) ?? 0) + 1);
  }, 30_000, `a refusal by each of ${groups.join(", ")}`);
}

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`malformed events refused at the consumer boundary on ${engine.name}`, () => {
    let graph: TestGraph;

    beforeAll(async () => {
      graph = await startGraph(engine);
    });
    afterAll(() => graph?.stop());

    /** A tenant with the iOS baseline policies and LOOKOUT enabled on IOS. */
    async function tenant() {
      const { tenantId, admin } = await baselineTenant(graph, "eb");
      expect((await graph.query(admin, `mutation { enableMtdConnector(input: { partner: LOOKOUT, enabledPlatforms: [IOS] }) { state } }`)).errors).toBeUndefined();
      const partner = await graph.token({ tenantId, role: "partner", partner: "LOOKOUT" });
      return { tenantId, admin, partner };
    }

    /** The access decisions policies holds for each device (none for a device it does not know). */
    async function access(admin: string, ids: string[]): Promise<{ allowed: boolean }[][]> {
      const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Device { access { allowed } } } }`;
      const result = await graph.query(admin, query, { r: ids.map((id) => ({ __typename: "Device", id })) }, graph.subgraphs.policies!.url);
      expect(result.errors).toBeUndefined();
      return result.data!._entities.map((device: { access: { allowed: boolean }[] }) => device.access);
    }

    const report = (partner: string, deviceId: string) =>
      graph.query(partner, REPORT, { input: { reportId: randomUUID(), deviceId, observedAt: new Date().toISOString(), threats: [] } });

    it("devices: threats, inventory and policies apply none of a malformed device event, and the device event after it", async () => {
      const { tenantId, admin, partner } = await tenant();
      const before = await refusals();
      const { valid, malformed } = SAMPLES.devices["device.enrolled"];
      await graph.events.publish("devices", [
        sampleEvent("device.enrolled", tenantId, { ...(malformed.payload as object), id: "bad" }, { aggregateId: "bad" }),
        sampleEvent("device.enrolled", tenantId, { ...valid, id: "good" }, { aggregateId: "good" }),
      ]);
      await untilRefusedBy(before, ["threats.devices", "inventory.devices", "policies.devices"]);
      await waitFor(async () => (await report(partner, "good")).errors === undefined, 30_000, "good known to threats");
      await waitFor(async () => (await graph.query(admin, SYNC, { id: "good", at: new Date().toISOString() })).errors === undefined, 30_000, "good known to the inventory");
      await waitFor(async () => (await access(admin, ["good"]))[0]!.length === 2, 30_000, "good evaluated");
      expect((await report(partner, "bad")).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      expect((await graph.query(admin, SYNC, { id: "bad", at: new Date().toISOString() })).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      expect(await access(admin, ["bad"])).toEqual([[]]);
    });

    it("threats: both assessment lanes refuse a malformed assessment, and every partner-rule view a malformed connector event: the partner keeps its access", async () => {
      const { tenantId, admin, partner } = await tenant();
      const before = await refusals();
      const assessment = SAMPLES.threats["device.assessment.changed"];
      const connector = SAMPLES.threats["connector.state.changed"];
      await graph.events.publish("threats", [
        // Were it applied, LOOKOUT's connector would be in a state the partner rule refuses, in every subgraph but threats.
        sampleEvent("connector.state.changed", tenantId, connector.malformed.payload, { aggregateId: "connector", version: 1_000_000 }),
        sampleEvent("device.assessment.changed", tenantId, { ...(assessment.malformed.payload as object), deviceId: "bad-a", urgent: true }, { aggregateId: "bad-a" }),
        sampleEvent("device.assessment.changed", tenantId, { ...assessment.valid, deviceId: "good-a" }, { aggregateId: "good-a" }),
      ]);
      await untilRefusedBy(before, ["policies.assessments", "policies.urgent-assessments", ...PARTNER_RULE_GROUPS]);
      await waitFor(async () => (await access(admin, ["good-a"]))[0]!.length === 2, 30_000, "good-a evaluated");
      expect(await access(admin, ["good-a", "bad-a"])).toEqual([[{ allowed: false }, { allowed: false }], []]);
      const devices = await graph.query(partner, `query { devices { totalCount } }`);
      expect(devices.errors).toBeUndefined();
      const apps = await graph.query(partner, `query { apps { totalCount } }`);
      expect(apps.errors).toBeUndefined();
    });

    it("policies: the transmitter refuses a malformed compliance change and the evaluator a malformed policy change", async () => {
      const { tenantId } = await tenant();
      const before = await refusals();
      await graph.events.publish("policies", [sampleEvent("compliance.changed", tenantId, SAMPLES.policies["compliance.changed"].malformed.payload)]);
      await graph.events.publish("policies.private", [sampleEvent("policy.changed", tenantId, SAMPLES["policies.private"]["policy.changed"].malformed.payload)]);
      await untilRefusedBy(before, ["policies.ssf", "policies.policy-changes"]);
    });

    it("audit: the devices service stores none of a malformed audit entry, and the entry after it", async () => {
      const { tenantId, admin } = await tenant();
      const before = await refusals();
      const { valid, malformed } = SAMPLES.audit["audit.recorded"];
      const bad = { ...(malformed.payload as object), id: randomUUID(), tenantId };
      const good = { ...valid, id: randomUUID(), tenantId };
      await graph.events.publish("audit", [sampleEvent("audit.recorded", tenantId, bad), sampleEvent("audit.recorded", tenantId, good)]);
      await untilRefusedBy(before, ["devices.audit"]);
      const ids = async () => ((await graph.query(admin, AUDIT)).data!.auditLog.edges as { node: { id: string } }[]).map((edge) => edge.node.id);
      await waitFor(async () => (await ids()).includes(good.id), 30_000, "the valid entry stored");
      expect(await ids()).not.toContain(bad.id);
    });
  });
}
