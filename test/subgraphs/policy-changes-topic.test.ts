/**
 * `policy.changed` is the policies service's private trigger: it travels on
 * `policies.private`, not on the public `policies` topic, and one that an
 * earlier release wrote to `policies` (still in the log or an outbox after an
 * upgrade) is still applied. On SQLite + the in-process log and on MariaDB +
 * Redis Streams.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoggedEvent } from "../../lib/events/types.js";
import { CompliancePolicyEntity } from "../../subgraphs/policies/data/entities.js";
import { SAMPLES, sampleEvent } from "../support/catalog-samples.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { ACCESS_CHANGES, allChanges, assessmentEvent } from "../support/policy-events.js";
import { waitFor } from "../support/wait.js";

const SET_COMPLIANCE = `mutation($input: SetCompliancePolicyInput!) { setCompliancePolicy(input: $input) { id } }`;
const SET_ACCESS = `mutation($input: SetConditionalAccessPolicyInput!) { setConditionalAccessPolicy(input: $input) { id } }`;

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`policy changes on their private topic on ${engine.name}`, () => {
    let graph: TestGraph;

    beforeAll(async () => {
      graph = await startGraph(engine);
    });
    afterAll(() => graph?.stop());

    /** The events of `topic` after `after` until `until` returns true for the events so far. */
    async function read(topic: string, after: string, until: (events: LoggedEvent[]) => boolean): Promise<LoggedEvent[]> {
      const events: LoggedEvent[] = [];
      const signal = AbortSignal.timeout(30_000);
      for await (const event of graph.events.tail(topic, { after, signal })) {
        events.push(event);
        if (until(events)) return events;
      }
      throw new Error(`${topic}: not seen within 30 s`);
    }

    async function tenant() {
      const tenantId = `pc-${randomUUID().slice(0, 8)}`;
      return { tenantId, admin: await graph.token({ tenantId, role: "admin" }) };
    }

    async function setPolicies(admin: string, maxThreatLevel: string): Promise<string> {
      const compliance = await graph.query(admin, SET_COMPLIANCE, { input: { platform: "IOS", name: "iOS baseline", maxThreatLevel } });
      expect(compliance.errors).toBeUndefined();
      expect((await graph.query(admin, SET_ACCESS, { input: { name: "Mail", resources: ["exchange"], platforms: ["IOS"], enabled: true } })).errors).toBeUndefined();
      return compliance.data!.setCompliancePolicy.id;
    }

    it("setting policies publishes policy.changed on policies.private, and none on policies", async () => {
      const { tenantId, admin } = await tenant();
      const privately = await graph.events.position("policies.private");
      const publicly = await graph.events.position("policies");
      await setPolicies(admin, "LOW");
      const mine = (events: LoggedEvent[]) => events.filter((event) => event.tenantId === tenantId);
      const changes = mine(await read("policies.private", privately, (events) => mine(events).length === 2));
      expect(changes.map((event) => [event.type, (event.payload as { kind: string }).kind])).toEqual([
        ["policy.changed", "compliance"],
        ["policy.changed", "conditional-access"],
      ]);
      // Each transaction's events are published together: once they are on the private topic, nothing of them comes later on the public one.
      const marker = sampleEvent("access.changed", tenantId, SAMPLES.policies["access.changed"].valid);
      await graph.events.publish("policies", [marker]);
      const seen = await read("policies", publicly, (events) => events.some((event) => event.id === marker.id));
      expect(mine(seen).map((event) => event.type)).toEqual(["access.changed"]);
    });

    it("a policy.changed an earlier release wrote to the public policies topic is still applied", async () => {
      const { tenantId, admin } = await tenant();
      const policyId = await setPolicies(admin, "LOW");
      await graph.events.publish("threats", [assessmentEvent(tenantId, "legacy-1", 1, "MEDIUM")]);
      const changes = () => allChanges(async (after) => (await graph.query(admin, ACCESS_CHANGES, { after })).data!.accessChanges);
      await waitFor(async () => (await changes()).length === 1, 30_000, "the revocation");
      // What an earlier release committed: the relaxed policy, and its trigger on the public topic (through its outbox).
      await graph.subgraphs.policies!.database.dataSource.getRepository(CompliancePolicyEntity).update({ tenantId, id: policyId }, { maxThreatLevel: "HIGH" });
      await graph.events.publish("policies", [sampleEvent("policy.changed", tenantId, { kind: "compliance", policyId, platforms: ["IOS"] }, { aggregateId: policyId, version: undefined })]);
      await waitFor(async () => (await changes()).length === 2, 30_000, "the restoration");
      expect((await changes()).map((change) => [change.sequence, change.device.id, change.allowed])).toEqual([
        [1, "legacy-1", false],
        [2, "legacy-1", true],
      ]);
    });
  });
}
