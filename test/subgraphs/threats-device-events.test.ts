/**
 * The threats subgraph learns devices from the devices topic a batch at a
 * time (subgraphs/threats/data/assessments.ts `applyDeviceEvents`): a bulk
 * enrolment costs a few statements per batch, every device gets its first
 * assessment once, and a device updated within a batch ends on its last
 * version. On SQLite + the in-process log and on MariaDB + Redis Streams.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AssessmentChangedPayload } from "../../lib/events/contracts.js";
import type { LoggedEvent } from "../../lib/events/types.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";

const ENROLL_BATCH = /* GraphQL */ `mutation($inputs: [EnrollDeviceInput!]!) { enrollDevicesBatch(inputs: $inputs) { id error { code } } }`;
const REPORT = /* GraphQL */ `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { device { riskLevel } } }`;

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`threats learning devices in batches on ${engine.name}`, () => {
    let graph: TestGraph;
    const events: LoggedEvent[] = [];
    const tailing = new AbortController();
    let tail: Promise<void>;

    beforeAll(async () => {
      graph = await startGraph(engine);
      const after = await graph.events.position("threats");
      tail = (async () => {
        for await (const event of graph.events.tail("threats", { after, signal: tailing.signal })) events.push(event);
      })();
    });
    afterAll(async () => {
      tailing.abort();
      await tail?.catch(() => {});
      await graph?.stop();
    });

    it("300 devices enrolled in one batch: each assessed once, reportable, with a few statements per batch instead of a transaction per device", async () => {
      const tenantId = `de-${randomUUID().slice(0, 8)}`;
      const admin = await graph.token({ tenantId, role: "admin" });
      const partner = await graph.token({ tenantId, role: "partner", partner: "LOOKOUT" });
      expect((await graph.query(admin, `mutation { enableMtdConnector(input: { partner: LOOKOUT, enabledPlatforms: [IOS] }) { state } }`)).errors).toBeUndefined();
      const ids = Array.from({ length: 300 }, (_, i) => `de-${String(i).padStart(3, "0")}`);
      const assessed = () => new Set(events.filter((e) => e.type === "device.assessment.changed" && e.tenantId === tenantId).map((e) => e.aggregateId));
      const statements = graph.statements.threats!;
      const mark = statements.mark();
      const result = await graph.query(admin, ENROLL_BATCH, { inputs: ids.map((id) => ({ id, name: `iPhone ${id}`, platform: "IOS", osVersion: "17", ownership: "CORPORATE" })) });
      expect(result.errors).toBeUndefined();
      await waitFor(() => assessed().size === ids.length, 60_000, "every device assessed");
      // A transaction per device event took five statements or more each (1,500 here).
      const sent = statements.since(mark);
      expect(sent.length, sent.slice(0, 40).join("\n")).toBeLessThan(150);
      const first = events.filter((e) => e.type === "device.assessment.changed" && e.tenantId === tenantId) as LoggedEvent<AssessmentChangedPayload>[];
      expect(first).toHaveLength(ids.length);
      expect(first.every((e) => e.version === 1 && e.payload.dataStatus === "MISSING")).toBe(true);
      const report = await graph.query(partner, REPORT, { input: { reportId: randomUUID(), deviceId: ids.at(-1), observedAt: new Date().toISOString(), threats: [{ externalId: "x", category: "APP", severity: "HIGH", title: "x", status: "ACTIVE" }] } });
      expect(report.errors).toBeUndefined();
      expect(report.data!.reportThreats.device.riskLevel).toBe("HIGH");
    }, 90_000);

    it("a device enrolled and retired within one batch ends retired; a replayed older version changes nothing", async () => {
      const tenantId = `dr-${randomUUID().slice(0, 8)}`;
      const partner = await graph.token({ tenantId, role: "partner", partner: "LOOKOUT" });
      const admin = await graph.token({ tenantId, role: "admin" });
      expect((await graph.query(admin, `mutation { enableMtdConnector(input: { partner: LOOKOUT, enabledPlatforms: [IOS] }) { state } }`)).errors).toBeUndefined();
      const device = (id: string, version: number, retiredAt: string | null) => ({
        id: randomUUID(),
        type: retiredAt === null ? "device.enrolled" : "device.retired",
        tenantId,
        aggregateId: id,
        version,
        occurredAt: new Date().toISOString(),
        payload: { id, name: `iPhone ${id}`, platform: "IOS", ownership: "CORPORATE", osVersion: "17", userPrincipalName: null, enrolledAt: new Date().toISOString(), retiredAt },
      });
      const retired = new Date().toISOString();
      await graph.events.publish("devices", [device("dr-1", 1, null), device("dr-1", 2, retired), device("dr-2", 1, null), device("dr-1", 1, null)]);
      await waitFor(async () => (await graph.query(partner, REPORT, { input: { reportId: randomUUID(), deviceId: "dr-2", observedAt: new Date(0).toISOString(), threats: [] } })).errors === undefined, 30_000, "dr-2 known");
      const onRetired = await graph.query(partner, REPORT, { input: { reportId: randomUUID(), deviceId: "dr-1", observedAt: new Date().toISOString(), threats: [] } });
      expect(onRetired.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    }, 60_000);
  });
}
