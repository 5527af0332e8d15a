/**
 * The evaluator a batch at a time (subgraphs/policies/evaluator.ts): set-based
 * statements per batch, steps within a batch as if each event had its own
 * transaction, redeliveries and stale versions inside a batch, and a poison
 * event that neither blocks nor loses the others. On SQLite + the in-process
 * log and on MariaDB + Redis Streams.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NewEvent } from "../../lib/events/types.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { ACCESS_CHANGES, allChanges, assessmentEvent, baselineTenant, type StoredChange } from "../support/policy-events.js";
import { waitFor } from "../support/wait.js";

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`the evaluator in batches on ${engine.name}`, () => {
    let graph: TestGraph;

    beforeAll(async () => {
      graph = await startGraph(engine);
    });
    afterAll(() => graph?.stop());

    /** A tenant whose IOS devices above LOW lose exchange and sharepoint. */
    const tenant = () => baselineTenant(graph, "b");

    const changes = (admin: string) =>
      allChanges(async (after) => {
        const page = await graph.query(admin, ACCESS_CHANGES, { after });
        expect(page.errors).toBeUndefined();
        return page.data!.accessChanges;
      });

    /** Devices' decisions as the policies subgraph has them (the devices here are known to policies only). */
    async function access(admin: string, ids: string[]): Promise<{ access: { allowed: boolean }[] }[]> {
      const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Device { access { allowed } } } }`;
      const result = await graph.query(admin, query, { r: ids.map((id) => ({ __typename: "Device", id })) }, graph.subgraphs.policies!.url);
      expect(result.errors).toBeUndefined();
      return result.data!._entities;
    }

    async function untilChanges(admin: string, count: number): Promise<StoredChange[]> {
      await waitFor(async () => (await changes(admin)).length >= count, 60_000, `${count} access changes`);
      return changes(admin);
    }

    it("300 assessments published at once: every revocation once, in sequence order, with a few statements per batch instead of a dozen per event", async () => {
      const { tenantId, admin } = await tenant();
      const ids = Array.from({ length: 300 }, (_, i) => `set-${String(i).padStart(3, "0")}`);
      const statements = graph.statements.policies!;
      const mark = statements.mark();
      await graph.events.publish("threats", ids.map((id) => assessmentEvent(tenantId, id, 1, "HIGH")));
      const all = await untilChanges(admin, 600);
      expect(all).toHaveLength(600);
      expect(all.map((c) => c.sequence)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
      expect(new Set(all.map((c) => `${c.device.id}/${c.resource}`)).size).toBe(600);
      expect(all.every((c) => !c.allowed)).toBe(true);
      // One event per transaction took about 13 statements each (≈3,900 here). A batch takes a fixed few,
      // whatever its size; the deadline poll adds two reads a second meanwhile.
      const sent = statements.since(mark);
      expect(sent.length, sent.slice(0, 40).join("\n")).toBeLessThan(150);
    }, 90_000);

    it("one device flipping within a batch gets every change, in order, as if each event had its own transaction; a redelivery and a stale version in the batch change nothing", async () => {
      const { tenantId, admin } = await tenant();
      const repeated = randomUUID();
      await graph.events.publish("threats", [
        assessmentEvent(tenantId, "flip-1", 1, "HIGH"),
        assessmentEvent(tenantId, "flip-2", 1, "HIGH"),
        assessmentEvent(tenantId, "flip-1", 2, "SECURED", repeated),
        assessmentEvent(tenantId, "flip-1", 2, "SECURED", repeated),
        assessmentEvent(tenantId, "flip-2", 1, "SECURED"), // stale: version 1 is applied already
        assessmentEvent(tenantId, "flip-1", 3, "HIGH"),
        assessmentEvent(tenantId, "flip-3", 1, "LOW"), // compliant: no change; marks the end of the batch below
      ]);
      const all = await untilChanges(admin, 8);
      await waitFor(async () => (await access(admin, ["flip-3"]))[0]?.access.length === 2, 30_000, "flip-3 evaluated");
      expect((await changes(admin)).map((c) => [c.sequence, c.device.id, c.resource, c.allowed])).toEqual([
        [1, "flip-1", "exchange", false],
        [2, "flip-1", "sharepoint", false],
        [3, "flip-2", "exchange", false],
        [4, "flip-2", "sharepoint", false],
        [5, "flip-1", "exchange", true],
        [6, "flip-1", "sharepoint", true],
        [7, "flip-1", "exchange", false],
        [8, "flip-1", "sharepoint", false],
      ]);
      expect(all).toHaveLength(8);
    }, 60_000);

    it("a poison event in a batch is skipped and logged: the events around it, and those after, are applied", async () => {
      const { tenantId, admin } = await tenant();
      const poison = [
        { ...assessmentEvent(tenantId, "bad-1", 1, "HIGH"), payload: null },
        assessmentEvent(tenantId, "x".repeat(200), 1, "HIGH"),
        { ...assessmentEvent(tenantId, "bad-3", 1, "HIGH"), payload: { ...assessmentEvent(tenantId, "bad-3", 1, "HIGH").payload, platform: "SYMBIAN" } },
        { ...assessmentEvent(tenantId, "bad-4", 1, "HIGH"), payload: { ...assessmentEvent(tenantId, "bad-4", 1, "HIGH").payload, level: "CRITICAL" } },
      ] as NewEvent[];
      await graph.events.publish("threats", [assessmentEvent(tenantId, "good-1", 1, "HIGH"), ...poison, assessmentEvent(tenantId, "good-2", 1, "HIGH")]);
      await graph.events.publish("threats", [assessmentEvent(tenantId, "good-3", 1, "HIGH")]);
      const all = await untilChanges(admin, 6);
      expect(all.map((c) => [c.sequence, c.device.id, c.resource])).toEqual([
        [1, "good-1", "exchange"],
        [2, "good-1", "sharepoint"],
        [3, "good-2", "exchange"],
        [4, "good-2", "sharepoint"],
        [5, "good-3", "exchange"],
        [6, "good-3", "sharepoint"],
      ]);
      expect(await access(admin, ["bad-1", "bad-3", "bad-4"])).toEqual([{ access: [] }, { access: [] }, { access: [] }]);
    });
  });
}
