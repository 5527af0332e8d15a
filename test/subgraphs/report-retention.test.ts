/**
 * Reports under retention, on both engines: a report id is remembered for
 * `MTD_RETENTION_REPORTS` (a replay within it is `duplicate`, the id with
 * other content CONFLICT), then its row is pruned; whether the partner ever
 * reported on a device is kept apart, so a device's risk stays what its
 * reports made it (SECURED, not "never reported") through a reassessment
 * after every report row is gone. The migration fills that from the reports
 * stored before it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";

const ENROLL = `mutation($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`;
const ENABLE = `mutation($input: EnableMtdConnectorInput!) { enableMtdConnector(input: $input) { partner } }`;
const REPORT = `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { duplicate } }`;
const RISK = `query($id: ID!) { device(id: $id) { riskLevel } }`;
const TENANT = "kept";

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`report retention on ${engine.name}`, () => {
    let graph: TestGraph;
    let admin: string;
    let analyst: string;
    let partner: string;
    const rows = async (table: string) => {
      const [{ n }] = (await graph.subgraphs.threats!.database.dataSource.query(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = ?`, [TENANT])) as [{ n: number | string }];
      return Number(n);
    };
    /** Devices of the tenant whose stored assessment blocks on missing partner data (what the connector change below turns on). */
    const reassessed = async () => {
      const [{ n }] = (await graph.subgraphs.threats!.database.dataSource.query("SELECT COUNT(*) AS n FROM threat_devices WHERE tenant_id = ? AND block_on_missing = 1", [TENANT])) as [{ n: number | string }];
      return Number(n);
    };
    const risk = async (id: string) => (await graph.query(analyst, RISK, { id })).data!.device.riskLevel as string | null;
    const observation = (deviceId: string, status: "ACTIVE" | "RESOLVED", at: number) => ({
      reportId: `${deviceId}-${status}-${at}`,
      deviceId,
      observedAt: new Date(at).toISOString(),
      threats: [{ externalId: "jailbreak", category: "DEVICE", severity: "HIGH", title: "Jailbroken", status }],
    });

    beforeAll(async () => {
      graph = await startGraph({ ...engine, env: { MTD_RETENTION_REPORTS: "3s", MTD_RETENTION_INTERVAL: "1s" } });
      admin = await graph.token({ tenantId: TENANT, role: "admin" });
      analyst = await graph.token({ tenantId: TENANT, role: "analyst" });
      partner = await graph.token({ tenantId: TENANT, role: "partner", partner: "LOOKOUT" });
      expect((await graph.query(admin, ENABLE, { input: { partner: "LOOKOUT", enabledPlatforms: ["IOS"] } })).errors).toBeUndefined();
      for (const id of ["k-1", "k-2"]) {
        expect((await graph.query(admin, ENROLL, { input: { id, name: id, platform: "IOS", osVersion: "17", ownership: "CORPORATE" } })).errors).toBeUndefined();
      }
    });
    afterAll(() => graph?.stop());

    it("remembers a report id within the window, prunes it after, and keeps the device's risk through a reassessment", async () => {
      const start = Date.now() - 60_000;
      const active = observation("k-1", "ACTIVE", start);
      // Threats learns of the enrolment through the event log: until then the device is NOT_FOUND.
      await waitFor(async () => (await graph.query(partner, REPORT, { input: active })).errors === undefined, 10_000, "k-1 known to threats");
      const resolved = observation("k-1", "RESOLVED", start + 1000);
      expect((await graph.query(partner, REPORT, { input: resolved })).data).toEqual({ reportThreats: { duplicate: false } });
      expect(await risk("k-1")).toBe("SECURED");
      expect(await risk("k-2")).toBeNull(); // never reported on

      // Within the window: the replay is a duplicate, the id with other content a CONFLICT.
      expect((await graph.query(partner, REPORT, { input: resolved })).data).toEqual({ reportThreats: { duplicate: true } });
      const reused = await graph.query(partner, REPORT, { input: { ...resolved, deviceId: "k-2" } });
      expect(reused.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", reportId: resolved.reportId });
      expect(await rows("threat_reports")).toBe(2);

      // Past it every report row goes; what a device's risk needs stays.
      await waitFor(async () => (await rows("threat_reports")) === 0, 15_000, "the reports pruned");
      expect(await rows("threat_reported_devices")).toBe(1);
      // A connector change reassesses every device from the stored data (no report rows left): k-1 is still SECURED, k-2 still never reported on.
      expect((await graph.query(admin, ENABLE, { input: { partner: "LOOKOUT", enabledPlatforms: ["IOS"], blockOnMissingPartnerData: ["IOS"] } })).errors).toBeUndefined();
      await waitFor(async () => (await reassessed()) === 2, 15_000, "both devices reassessed");
      expect(await risk("k-1")).toBe("SECURED");
      expect(await risk("k-2")).toBeNull();

      // Past the window the id is free: a replay is applied again, and being older than what is stored it changes nothing.
      expect((await graph.query(partner, REPORT, { input: active })).data).toEqual({ reportThreats: { duplicate: false } });
      expect(await risk("k-1")).toBe("SECURED");
    }, 60_000);

    it("fills the reported devices from the reports stored before the migration", async () => {
      const dataSource = graph.subgraphs.threats!.database.dataSource;
      // k-2 was never reported on (the test above): two reports stored by the schema before, the first received at `receivedAt`.
      await dataSource.undoLastMigration({ transaction: "each" }); // 0004, the index for pruning resolved threats
      await dataSource.undoLastMigration({ transaction: "each" }); // 0003, which fills the reported devices
      const receivedAt = Date.now();
      await dataSource.query("INSERT INTO threat_reports (tenant_id, partner, report_id, device_id, observed_at, received_at, threat_count, fingerprint) VALUES (?, 'LOOKOUT', 'before-1', 'k-2', ?, ?, 1, NULL)", [TENANT, receivedAt - 1000, receivedAt]);
      await dataSource.query("INSERT INTO threat_reports (tenant_id, partner, report_id, device_id, observed_at, received_at, threat_count, fingerprint) VALUES (?, 'LOOKOUT', 'before-2', 'k-2', ?, ?, 1, NULL)", [TENANT, receivedAt, receivedAt + 5]);
      await dataSource.runMigrations({ transaction: "each" });
      const rows = (await dataSource.query("SELECT partner, device_id AS deviceId, first_reported_at AS firstReportedAt FROM threat_reported_devices WHERE tenant_id = ? AND device_id = 'k-2'", [TENANT])) as Record<string, unknown>[];
      expect(rows.map((row) => ({ ...row, firstReportedAt: Number(row.firstReportedAt) }))).toEqual([{ partner: "LOOKOUT", deviceId: "k-2", firstReportedAt: receivedAt }]);
    });
  });
}
