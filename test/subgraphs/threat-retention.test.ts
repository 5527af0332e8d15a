/**
 * Threats under retention, on both engines: a RESOLVED threat whose last
 * observation is older than `MTD_RETENTION_REPORTS` is pruned like the
 * reports; ACTIVE threats stay however old. A device's risk and its ACTIVE
 * threats are what they were, a device whose threats all went is still
 * SECURED (its partner reported on it), and a replay of an observation older
 * than what was pruned does not bring the threat back. Another tenant's
 * threat with the same device and external id is its own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";

const ENROLL = `mutation($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`;
const ENABLE = `mutation($input: EnableMtdConnectorInput!) { enableMtdConnector(input: $input) { partner } }`;
const REPORT = `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { duplicate } }`;
const DEVICE = `query($id: ID!) { device(id: $id) { riskLevel threats { externalId status } active: threats(status: ACTIVE) { externalId } } }`;
const PRUNED = "prunes";
const OTHER = "other";

type Status = "ACTIVE" | "RESOLVED";
type Level = "LOW" | "MEDIUM" | "HIGH";

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`threat retention on ${engine.name}`, () => {
    let graph: TestGraph;
    const tokens = new Map<string, { admin: string; analyst: string; partner: string }>();
    let sent = 0;
    const report = (tenantId: string, deviceId: string, observedAt: number, threats: [externalId: string, severity: Level, status: Status][]) =>
      graph.query(tokens.get(tenantId)!.partner, REPORT, {
        input: {
          reportId: `r-${++sent}`,
          deviceId,
          observedAt: new Date(observedAt).toISOString(),
          threats: threats.map(([externalId, severity, status]) => ({ externalId, category: "DEVICE", severity, title: externalId, status })),
        },
      });
    const device = async (tenantId: string, id: string) => (await graph.query(tokens.get(tenantId)!.analyst, DEVICE, { id })).data!.device;
    const rows = async (tenantId: string) => {
      const [{ n }] = (await graph.subgraphs.threats!.database.dataSource.query("SELECT COUNT(*) AS n FROM threats WHERE tenant_id = ?", [tenantId])) as [{ n: number | string }];
      return Number(n);
    };

    beforeAll(async () => {
      graph = await startGraph({ ...engine, env: { MTD_RETENTION_REPORTS: "4s", MTD_RETENTION_INTERVAL: "1s" } });
      for (const tenantId of [PRUNED, OTHER]) {
        const admin = await graph.token({ tenantId, role: "admin" });
        tokens.set(tenantId, { admin, analyst: await graph.token({ tenantId, role: "analyst" }), partner: await graph.token({ tenantId, role: "partner", partner: "LOOKOUT" }) });
        expect((await graph.query(admin, ENABLE, { input: { partner: "LOOKOUT", enabledPlatforms: ["IOS"] } })).errors).toBeUndefined();
        for (const id of ["d-1", "d-2"]) {
          expect((await graph.query(admin, ENROLL, { input: { id, name: id, platform: "IOS", osVersion: "17", ownership: "CORPORATE" } })).errors).toBeUndefined();
        }
      }
    });
    afterAll(() => graph?.stop());

    it("prunes RESOLVED threats last observed before the retention, keeps ACTIVE ones and the risk, and a replay older than them changes nothing", async () => {
      // Threats learns of the enrolments through the event log: until then a device is NOT_FOUND.
      for (const [tenantId, deviceId] of [[PRUNED, "d-1"], [PRUNED, "d-2"], [OTHER, "d-1"]] as const) {
        await waitFor(async () => (await report(tenantId, deviceId, Date.now(), [])).errors === undefined, 10_000, `${tenantId}/${deviceId} known to threats`);
      }
      const at = Date.now();
      expect((await report(PRUNED, "d-1", at, [["jailbreak", "HIGH", "ACTIVE"], ["phishing", "MEDIUM", "ACTIVE"]])).errors).toBeUndefined();
      expect((await report(PRUNED, "d-1", at + 1, [["jailbreak", "HIGH", "RESOLVED"]])).errors).toBeUndefined();
      expect((await report(PRUNED, "d-2", at, [["adware", "LOW", "RESOLVED"]])).errors).toBeUndefined();
      // The other tenant: the same device and external id, ACTIVE.
      expect((await report(OTHER, "d-1", at, [["jailbreak", "HIGH", "ACTIVE"]])).errors).toBeUndefined();
      expect(await device(PRUNED, "d-1")).toEqual({
        riskLevel: "MEDIUM",
        threats: [{ externalId: "jailbreak", status: "RESOLVED" }, { externalId: "phishing", status: "ACTIVE" }],
        active: [{ externalId: "phishing" }],
      });
      expect(await device(PRUNED, "d-2")).toEqual({ riskLevel: "SECURED", threats: [{ externalId: "adware", status: "RESOLVED" }], active: [] });

      // Past the retention the RESOLVED threats go; the ACTIVE one, observed as long ago, stays.
      await waitFor(async () => (await rows(PRUNED)) === 1, 15_000, "the resolved threats pruned");
      expect(await device(PRUNED, "d-1")).toEqual({ riskLevel: "MEDIUM", threats: [{ externalId: "phishing", status: "ACTIVE" }], active: [{ externalId: "phishing" }] });
      expect(await device(PRUNED, "d-2")).toEqual({ riskLevel: "SECURED", threats: [], active: [] }); // still reported on
      expect(await device(OTHER, "d-1")).toEqual({ riskLevel: "HIGH", threats: [{ externalId: "jailbreak", status: "ACTIVE" }], active: [{ externalId: "jailbreak" }] });

      // The first observation again, older than the RESOLVED one pruned: accepted, and jailbreak does not come back as ACTIVE.
      expect((await report(PRUNED, "d-1", at, [["jailbreak", "HIGH", "ACTIVE"], ["phishing", "MEDIUM", "ACTIVE"]])).data).toEqual({ reportThreats: { duplicate: false } });
      expect(await device(PRUNED, "d-1")).toEqual({ riskLevel: "MEDIUM", threats: [{ externalId: "phishing", status: "ACTIVE" }], active: [{ externalId: "phishing" }] });
      // A new observation is applied as ever.
      expect((await report(PRUNED, "d-1", Date.now(), [["jailbreak", "HIGH", "ACTIVE"]])).errors).toBeUndefined();
      expect(await device(PRUNED, "d-1")).toMatchObject({ riskLevel: "HIGH", active: [{ externalId: "phishing" }, { externalId: "jailbreak" }] });
    }, 60_000);

    it("finds each batch to prune through the index on status and observation time", async () => {
      const dataSource = graph.subgraphs.threats!.database.dataSource;
      const select = "SELECT id FROM threats WHERE status = 'RESOLVED' AND observed_at < 1 ORDER BY observed_at ASC LIMIT 500";
      const plan = (await dataSource.query(engine.database === "mysql" ? `EXPLAIN ${select}` : `EXPLAIN QUERY PLAN ${select}`)) as Record<string, unknown>[];
      // SQLite's plan names the index it searches; MariaDB's lists it among the keys it may use.
      expect(JSON.stringify(plan)).toContain("threats_status_observed");
    });
  });
}
