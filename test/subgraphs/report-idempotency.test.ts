/**
 * A report's idempotency key (partner + reportId): an identical replay is
 * `duplicate: true` and changes nothing; the same key with other content
 * (another device, other threats, another observedAt) is CONFLICT naming the
 * key, and changes nothing either. In a batch the conflict is that item's
 * error only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoggedEvent } from "../../lib/events/types.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";

const ENROLL = `mutation($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`;
const ENABLE = `mutation($input: EnableMtdConnectorInput!) { enableMtdConnector(input: $input) { partner } }`;
const REPORT = `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { reportId duplicate device { id riskLevel } } }`;
const BATCH = `mutation($inputs: [ReportThreatsInput!]!) { reportThreatsBatch(inputs: $inputs) { reportId result { duplicate } error { code message } } }`;
const THREATS = `query($id: ID!) { device(id: $id) { riskLevel threats { externalId severity title } } }`;

interface ThreatInput {
  externalId: string;
  category: string;
  severity: string;
  title: string;
  status: string;
}
const threat = (externalId: string, severity = "HIGH", title = `threat ${externalId}`): ThreatInput => ({ externalId, category: "APP", severity, title, status: "ACTIVE" });
let counter = 0;
const reportOf = (deviceId: string, threats: ThreatInput[], observedAt = new Date(Date.now() - 60_000).toISOString()) => ({ reportId: `idem-${++counter}-${Date.now()}`, deviceId, observedAt, threats });

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`report idempotency on ${engine.name}`, () => {
    const TENANT = "idem";
    let graph: TestGraph;
    let admin: string;
    let analyst: string;
    let partner: string;
    const events: LoggedEvent[] = [];
    const tailing = new AbortController();
    let tail: Promise<void>;
    const assessments = (deviceId: string) => events.filter((e) => e.type === "device.assessment.changed" && e.tenantId === TENANT && e.aggregateId === deviceId);

    async function report(input: ReturnType<typeof reportOf>) {
      return graph.query(partner, REPORT, { input });
    }
    async function accepted(input: ReturnType<typeof reportOf>) {
      const result = await report(input);
      expect(result.errors).toBeUndefined();
      return result.data!.reportThreats as { reportId: string; duplicate: boolean };
    }
    async function threatsOf(deviceId: string) {
      const result = await graph.query(analyst, THREATS, { id: deviceId });
      expect(result.errors).toBeUndefined();
      return result.data!.device as { riskLevel: string | null; threats: { externalId: string; severity: string; title: string }[] };
    }
    function expectConflict(result: Awaited<ReturnType<typeof report>>, reportId: string) {
      expect(result.data ?? null).toBeNull();
      expect(result.errors).toHaveLength(1);
      expect(result.errors![0]!.extensions).toMatchObject({ code: "CONFLICT", reportId });
      expect(result.errors![0]!.message).toContain(JSON.stringify(reportId));
    }

    beforeAll(async () => {
      graph = await startGraph(engine);
      admin = await graph.token({ tenantId: TENANT, role: "admin" });
      analyst = await graph.token({ tenantId: TENANT, role: "analyst" });
      partner = await graph.token({ tenantId: TENANT, role: "partner", partner: "LOOKOUT" });
      const seen = new Set<string>();
      tail = (async () => {
        for await (const event of graph.events.tail("threats", { after: "0", signal: tailing.signal })) {
          if (!seen.has(event.id)) events.push(event);
          seen.add(event.id);
        }
      })();
      expect((await graph.query(admin, ENABLE, { input: { partner: "LOOKOUT", enabledPlatforms: ["IOS"] } })).errors).toBeUndefined();
      for (const id of ["a", "b", "c", "d"]) {
        expect((await graph.query(admin, ENROLL, { input: { id, name: id, platform: "IOS", osVersion: "17", ownership: "CORPORATE" } })).errors).toBeUndefined();
        await waitFor(() => assessments(id).length > 0, 10_000, `${id} known to threats`);
      }
    });
    afterAll(async () => {
      tailing.abort();
      await tail?.catch(() => {});
      await graph?.stop();
    });

    it("an identical replay is duplicate, also with its threats in another order; nothing changes", async () => {
      const original = reportOf("a", [threat("x", "MEDIUM"), threat("y", "LOW")]);
      expect(await accepted(original)).toMatchObject({ reportId: original.reportId, duplicate: false });
      await waitFor(() => assessments("a").length === 2, 5000, "assessment after the report");
      expect(await accepted(original)).toMatchObject({ duplicate: true });
      expect(await accepted({ ...original, threats: [...original.threats].reverse() })).toMatchObject({ duplicate: true });
      // The same instant written another way is the same observation.
      expect(await accepted({ ...original, observedAt: original.observedAt.replace("Z", "+00:00") })).toMatchObject({ duplicate: true });
      expect((await threatsOf("a")).threats.map((t) => t.externalId).sort()).toEqual(["x", "y"]);
      expect(assessments("a")).toHaveLength(2);
    });

    it("the same reportId with another device, other threats or another observedAt is CONFLICT naming it; nothing changes", async () => {
      const original = reportOf("b", [threat("x", "MEDIUM")]);
      expect((await accepted(original)).duplicate).toBe(false);
      await waitFor(() => assessments("b").length === 2, 5000, "assessment after the report");
      const variants = [
        { ...original, deviceId: "c" },
        { ...original, threats: [threat("x", "HIGH")] },
        { ...original, threats: [threat("x", "MEDIUM", "another title")] },
        { ...original, threats: [threat("x", "MEDIUM"), threat("z")] },
        { ...original, threats: [] },
        { ...original, observedAt: new Date(Date.parse(original.observedAt) + 1).toISOString() },
      ];
      for (const variant of variants) expectConflict(await report(variant), original.reportId);
      expect(await threatsOf("b")).toEqual({ riskLevel: "MEDIUM", threats: [{ externalId: "x", severity: "MEDIUM", title: "threat x" }] });
      expect(await threatsOf("c")).toEqual({ riskLevel: null, threats: [] });
      expect(assessments("b")).toHaveLength(2);
      expect(assessments("c")).toHaveLength(1);
      // The original still replays as a duplicate.
      expect((await accepted(original)).duplicate).toBe(true);
    });

    it("concurrent first uses of one reportId with different content: one is accepted, the others CONFLICT", async () => {
      const base = reportOf("d", [threat("c-0")]);
      const contenders = Array.from({ length: 6 }, (_, i) => ({ ...base, threats: [threat(`c-${i}`)] }));
      const results = await Promise.all(contenders.map((input) => report(input)));
      const winners = results.filter((r) => r.errors === undefined);
      expect(winners).toHaveLength(1);
      expect(winners[0]!.data!.reportThreats.duplicate).toBe(false);
      for (const loser of results.filter((r) => r.errors !== undefined)) expectConflict(loser, base.reportId);
      expect((await threatsOf("d")).threats).toHaveLength(1);
    });

    it("in a batch a reused key with other content is that item's CONFLICT; the others are applied", async () => {
      const stored = reportOf("a", [threat("batch-1", "LOW")]);
      expect((await accepted(stored)).duplicate).toBe(false);
      const fresh = reportOf("c", [threat("batch-2", "LOW")]);
      const result = await graph.query(partner, BATCH, {
        inputs: [
          { ...stored, deviceId: "c" }, // the stored key, other device
          stored, // the stored key, same content
          fresh,
          { ...fresh, threats: [threat("batch-2", "HIGH")] }, // a key first used earlier in this batch, other content
          fresh, // the same again
        ],
      });
      expect(result.errors).toBeUndefined();
      const items = result.data!.reportThreatsBatch as { reportId: string; result: { duplicate: boolean } | null; error: { code: string; message: string } | null }[];
      expect(items.map((item) => [item.result?.duplicate ?? null, item.error?.code ?? null])).toEqual([
        [null, "CONFLICT"],
        [true, null],
        [false, null],
        [null, "CONFLICT"],
        [true, null],
      ]);
      expect(items[0]!.error!.message).toContain(JSON.stringify(stored.reportId));
      expect(items[3]!.error!.message).toContain(JSON.stringify(fresh.reportId));
      expect((await threatsOf("c")).threats).toEqual([{ externalId: "batch-2", severity: "LOW", title: "threat batch-2" }]);
    });

    it("a report stored before fingerprints (none recorded) is compared by device, observedAt and threat count", async () => {
      const legacy = reportOf("b", [threat("legacy")]);
      expect((await accepted(legacy)).duplicate).toBe(false);
      const dataSource = graph.subgraphs.threats!.database.dataSource;
      await dataSource.query("UPDATE threat_reports SET fingerprint = NULL WHERE tenant_id = ? AND report_id = ?", [TENANT, legacy.reportId]);
      expect((await accepted(legacy)).duplicate).toBe(true);
      expectConflict(await report({ ...legacy, deviceId: "c" }), legacy.reportId);
      expectConflict(await report({ ...legacy, threats: [] }), legacy.reportId);
      expectConflict(await report({ ...legacy, observedAt: new Date().toISOString() }), legacy.reportId);
    });
  });
}
