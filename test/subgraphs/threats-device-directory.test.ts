/**
 * A device is reportable as soon as its enrolment is acknowledged: a report on
 * a device the threats subgraph has not learnt from the devices topic yet is
 * resolved through the devices subgraph (subgraphs/threats/device-directory.ts)
 * and applied; NOT_FOUND only for a device that does not exist in the tenant
 * (or is retired); the partner rule and tenant isolation hold for such devices
 * too; the enrolment event arriving afterwards changes nothing; a devices
 * subgraph that cannot answer is an error to retry, never NOT_FOUND. On SQLite
 * + the in-process log and on MariaDB + Redis Streams.
 *
 * "Known to the devices subgraph only" is made by writing the device's row into
 * the devices subgraph's table directly, without its event: the state a bulk
 * enrolment leaves for as long as the threats subgraph's consumer lags.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertRows } from "../../lib/bulk.js";
import type { LoggedEvent } from "../../lib/events/types.js";
import { createLogger } from "../../lib/logger.js";
import { DeviceEntity, type DeviceRecord } from "../../subgraphs/devices/data/entities.js";
import { start as startThreats } from "../../subgraphs/threats/server.js";
import { DeviceStateEntity } from "../../subgraphs/threats/data/entities.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";

const REPORT = /* GraphQL */ `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { duplicate device { id riskLevel } } }`;
const BATCH = /* GraphQL */ `mutation($inputs: [ReportThreatsInput!]!) { reportThreatsBatch(inputs: $inputs) { reportId result { device { id riskLevel } } error { code message } } }`;

const threat = { externalId: "jb", category: "DEVICE", severity: "HIGH", title: "Jailbroken", status: "ACTIVE" };
const reportOn = (deviceId: string, threats = [threat]) => ({ reportId: randomUUID(), deviceId, observedAt: new Date().toISOString(), threats });

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`reports on devices not learnt from events yet, on ${engine.name}`, () => {
    let graph: TestGraph;
    const assessments: LoggedEvent[] = [];
    const tailing = new AbortController();
    let tail: Promise<void>;

    /** A tenant with LOOKOUT covering iOS; its admin and partner tokens. */
    const tenant = async () => {
      const tenantId = `dd-${randomUUID().slice(0, 8)}`;
      const admin = await graph.token({ tenantId, role: "admin" });
      const partner = await graph.token({ tenantId, role: "partner", partner: "LOOKOUT" });
      expect((await graph.query(admin, `mutation { enableMtdConnector(input: { partner: LOOKOUT, enabledPlatforms: [IOS] }) { state } }`)).errors).toBeUndefined();
      return { tenantId, admin, partner };
    };
    /** Devices the devices subgraph has and whose events never went out. */
    const silently = async (tenantId: string, devices: (Partial<DeviceRecord> & { id: string })[]) => {
      const now = new Date();
      const rows = devices.map((device): DeviceRecord => ({ tenantId, name: device.id, platform: "IOS", osVersion: "17", ownership: "CORPORATE", userPrincipalName: null, enrolledAt: now, updatedAt: now, retiredAt: null, version: 1, ...device }));
      await insertRows(graph.subgraphs.devices!.database.dataSource.manager, DeviceEntity, rows);
    };
    const threatsRow = (tenantId: string, deviceId: string) => graph.subgraphs.threats!.database.dataSource.getRepository(DeviceStateEntity).findOne({ where: { tenantId, deviceId } });

    beforeAll(async () => {
      graph = await startGraph(engine);
      const after = await graph.events.position("threats");
      tail = (async () => {
        for await (const event of graph.events.tail("threats", { after, signal: tailing.signal })) if (event.type === "device.assessment.changed") assessments.push(event);
      })();
    });
    afterAll(async () => {
      tailing.abort();
      await tail?.catch(() => {});
      await graph?.stop();
    });

    it("a report on a device only the devices subgraph knows is applied; the device is learnt at its version and assessed once", async () => {
      const { tenantId, partner } = await tenant();
      await silently(tenantId, [{ id: "quiet-1", version: 3, ownership: "PERSONAL" }]);
      const result = await graph.query(partner, REPORT, { input: reportOn("quiet-1") });
      expect(result.errors).toBeUndefined();
      expect(result.data!.reportThreats).toEqual({ duplicate: false, device: { id: "quiet-1", riskLevel: "HIGH" } });
      expect(await threatsRow(tenantId, "quiet-1")).toMatchObject({ platform: "IOS", ownership: "PERSONAL", deviceVersion: 3, retiredAt: null, level: "HIGH", assessmentVersion: 2 });
      // Learnt (MISSING), then reported (HIGH): one assessment each, the second urgent.
      await waitFor(() => assessments.filter((e) => e.tenantId === tenantId).length === 2, 10_000, "both assessments");
      expect(assessments.filter((e) => e.tenantId === tenantId).map((e) => [e.version, (e.payload as { level: string | null }).level, (e.payload as { urgent?: boolean }).urgent ?? false])).toEqual([
        [1, null, false],
        [2, "HIGH", true],
      ]);
    });

    it("the enrolment event arriving afterwards is stale: nothing changes, nothing is republished", async () => {
      const { tenantId, partner } = await tenant();
      await silently(tenantId, [{ id: "late-1", version: 2 }]);
      expect((await graph.query(partner, REPORT, { input: reportOn("late-1") })).errors).toBeUndefined();
      const before = await threatsRow(tenantId, "late-1");
      const enrolled = (version: number, platform: string) => ({
        id: randomUUID(),
        type: "device.enrolled",
        tenantId,
        aggregateId: "late-1",
        version,
        occurredAt: new Date().toISOString(),
        payload: { id: "late-1", name: "late-1", platform, ownership: "CORPORATE", osVersion: "17", userPrincipalName: null, enrolledAt: new Date().toISOString(), retiredAt: null },
      });
      // Version 1 (stale: the directory gave 2), then version 3 of a marker device so the consumer is known to be past it.
      await graph.events.publish("devices", [enrolled(1, "ANDROID"), { ...enrolled(1, "IOS"), aggregateId: "marker", payload: { ...enrolled(1, "IOS").payload, id: "marker" } }]);
      await waitFor(async () => (await threatsRow(tenantId, "marker")) !== null, 10_000, "the marker applied");
      expect(await threatsRow(tenantId, "late-1")).toEqual(before);
    });

    it("in a batch: a device of the tenant only the devices subgraph knows is applied; one that does not exist, one retired there and another tenant's are NOT_FOUND; one on a platform the partner does not cover is FORBIDDEN", async () => {
      const { tenantId, partner } = await tenant();
      const other = await tenant();
      await silently(tenantId, [{ id: "b-quiet" }, { id: "b-retired", retiredAt: new Date(), version: 2 }, { id: "b-windows", platform: "WINDOWS" }]);
      await silently(other.tenantId, [{ id: "b-elsewhere" }]);
      const result = await graph.query(partner, BATCH, { inputs: ["b-quiet", "b-never", "b-retired", "b-elsewhere", "b-windows"].map((id) => reportOn(id)) });
      expect(result.errors).toBeUndefined();
      const items = result.data!.reportThreatsBatch as { result: { device: { id: string; riskLevel: string } } | null; error: { code: string; message: string } | null }[];
      expect(items[0]).toMatchObject({ result: { device: { id: "b-quiet", riskLevel: "HIGH" } }, error: null });
      expect(items.slice(1, 4).map((item) => item.error?.code)).toEqual(["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
      expect(items[4]!.error).toMatchObject({ code: "FORBIDDEN" });
      expect(items[4]!.error!.message).toMatch(/does not cover WINDOWS devices/);
      // Another tenant's device is not learnt into this tenant.
      expect(await threatsRow(tenantId, "b-elsewhere")).toBeNull();
      expect(await threatsRow(tenantId, "b-retired")).toMatchObject({ deviceVersion: 2 });
    });

    it("several reports on one such device in a batch are applied in order: the later observation wins", async () => {
      const { tenantId, partner } = await tenant();
      await silently(tenantId, [{ id: "o-1" }]);
      const at = (ms: number) => new Date(Date.now() - ms).toISOString();
      const inputs = [
        { reportId: randomUUID(), deviceId: "o-1", observedAt: at(2000), threats: [threat] },
        { reportId: randomUUID(), deviceId: "o-1", observedAt: at(1000), threats: [{ ...threat, status: "RESOLVED" }] },
      ];
      const result = await graph.query(partner, BATCH, { inputs });
      expect(result.errors).toBeUndefined();
      expect((result.data!.reportThreatsBatch as { error: unknown }[]).map((item) => item.error)).toEqual([null, null]);
      expect(await threatsRow(tenantId, "o-1")).toMatchObject({ level: "SECURED" });
    });

    it("a devices subgraph that cannot answer: the report fails (INTERNAL_SERVER_ERROR, to retry), never NOT_FOUND; known devices are unaffected", async () => {
      const { tenantId, partner } = await tenant();
      await silently(tenantId, [{ id: "u-quiet" }]);
      await graph.events.publish("devices", [
        { id: randomUUID(), type: "device.enrolled", tenantId, aggregateId: "u-known", version: 1, occurredAt: new Date().toISOString(), payload: { id: "u-known", name: "u", platform: "IOS", ownership: "CORPORATE", osVersion: "17", userPrincipalName: null, enrolledAt: new Date().toISOString(), retiredAt: null } },
      ]);
      await waitFor(async () => (await threatsRow(tenantId, "u-known")) !== null, 10_000, "u-known learnt");
      // A second threats replica whose devices subgraph is a port nobody listens on.
      const replica = await startThreats({ config: { ...graph.config, port: 0, subgraphUrls: { ...graph.config.subgraphUrls, devices: "http://127.0.0.1:9/graphql" } }, logger: createLogger("silent", "test"), events: graph.events });
      try {
        const single = await graph.query(partner, REPORT, { input: reportOn("u-quiet") }, replica.url);
        expect(single.errors?.[0]?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
        const batch = await graph.query(partner, BATCH, { inputs: [reportOn("u-quiet"), reportOn("u-known")] }, replica.url);
        const items = batch.data!.reportThreatsBatch as { error: { code: string } | null }[];
        expect(items.map((item) => item.error?.code ?? null)).toEqual(["INTERNAL_SERVER_ERROR", null]);
      } finally {
        await replica.dispose();
      }
    });
  });
}
