/**
 * The bulk paths an MDM sync and a partner re-sync use: `enrollDevicesBatch`
 * and `reportThreatsBatch`. Each item has its own result or error; a refused
 * item writes nothing and the others are stored; a batch is one transaction
 * with at most one assessment event per device.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AssessmentChangedPayload, DeviceEventPayload } from "../../lib/events/contracts.js";
import type { LoggedEvent } from "../../lib/events/types.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitForPartnerRule } from "../support/partners.js";
import { waitFor } from "../support/wait.js";

const ENROLL_BATCH = /* GraphQL */ `
  mutation Enroll($inputs: [EnrollDeviceInput!]!) {
    enrollDevicesBatch(inputs: $inputs) { id device { id name platform } error { code message } }
  }
`;
const REPORT_BATCH = /* GraphQL */ `
  mutation Report($inputs: [ReportThreatsInput!]!) {
    reportThreatsBatch(inputs: $inputs) { reportId result { duplicate device { id riskLevel } } error { code message } }
  }
`;
const ENABLE = /* GraphQL */ `mutation Enable($input: EnableMtdConnectorInput!) { enableMtdConnector(input: $input) { partner } }`;
const DEVICES = /* GraphQL */ `query { devices(first: 500) { totalCount edges { node { id name } } } }`;
const THREATS = /* GraphQL */ `query Risk($id: ID!) { device(id: $id) { riskLevel threats { externalId severity status } } }`;

const device = (id: string, name = `device ${id}`) => ({ id, name, platform: "IOS", osVersion: "17.4.1", ownership: "CORPORATE" });
let reports = 0;
const reportOf = (deviceId: string, severity: string, agoMs: number, status = "ACTIVE") => ({
  reportId: `bulk-${++reports}`,
  deviceId,
  observedAt: new Date(Date.now() - agoMs).toISOString(),
  threats: [{ externalId: "t-1", category: "APP", severity, title: "threat t-1", status }],
});

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`bulk ingest on ${engine.name}`, () => {
    let graph: TestGraph;
    let admin: string;
    let partner: string;
    /** Every event of the devices and threats topics, once each. */
    const events: LoggedEvent[] = [];
    const tailing = new AbortController();
    const tails: Promise<void>[] = [];
    const ofType = <T>(type: string, aggregateId: string) => events.filter((e) => e.type === type && e.aggregateId === aggregateId) as LoggedEvent<T>[];

    beforeAll(async () => {
      graph = await startGraph(engine);
      admin = await graph.token({ tenantId: "bulk", role: "admin" });
      partner = await graph.token({ tenantId: "bulk", role: "partner", partner: "LOOKOUT" });
      const seen = new Set<string>();
      for (const topic of ["devices", "threats"]) {
        tails.push(
          (async () => {
            for await (const event of graph.events.tail(topic, { after: "0", signal: tailing.signal })) {
              if (!seen.has(event.id)) events.push(event);
              seen.add(event.id);
            }
          })(),
        );
      }
      expect((await graph.query(admin, ENABLE, { input: { partner: "LOOKOUT", enabledPlatforms: ["IOS"] } })).errors).toBeUndefined();
      await waitForPartnerRule(graph, partner);
    });
    afterAll(async () => {
      tailing.abort();
      await Promise.all(tails.map((tail) => tail.catch(() => {})));
      await graph?.stop();
    });

    it("enrollDevicesBatch stores the good devices, reports each bad one, and is idempotent", async () => {
      const inputs = [device("e-1"), { ...device("bad id!") }, device("e-2"), { ...device("e-3"), name: "" }, device("e-1", "renamed e-1"), { ...device("e-4"), id: undefined }];
      const result = await graph.query(admin, ENROLL_BATCH, { inputs });
      expect(result.errors).toBeUndefined();
      const items = result.data!.enrollDevicesBatch;
      expect(items[0]).toMatchObject({ id: "e-1", device: { id: "e-1", name: "device e-1" }, error: null });
      expect(items[1]).toMatchObject({ id: "bad id!", device: null, error: { code: "BAD_USER_INPUT" } });
      expect(items[1].error.message).toMatch(/^inputs\[1\]\.id: /);
      expect(items[2]).toMatchObject({ id: "e-2", device: { id: "e-2" }, error: null });
      expect(items[3]).toMatchObject({ id: "e-3", device: null, error: { code: "BAD_USER_INPUT" } });
      expect(items[3].error.message).toMatch(/^inputs\[3\]\.name: /);
      expect(items[4]).toMatchObject({ id: "e-1", device: { name: "renamed e-1" }, error: null });
      expect(items[5].id).toMatch(/^[0-9a-f-]{36}$/);
      const generated = items[5].id as string;

      const listed = (await graph.query(admin, DEVICES)).data!.devices;
      expect(listed.edges.map((edge: { node: { id: string } }) => edge.node.id).sort()).toEqual(["e-1", "e-2", generated].sort());
      // e-1 twice in one batch: enrolled, then updated, versions in order.
      await waitFor(() => ofType("device.updated", "e-1").length === 1, 10_000, "e-1 updated");
      expect(ofType<DeviceEventPayload>("device.enrolled", "e-1").map((e) => e.version)).toEqual([1]);
      expect(ofType<DeviceEventPayload>("device.updated", "e-1").map((e) => [e.version, e.payload.name])).toEqual([[2, "renamed e-1"]]);

      // The same batch again changes nothing: no event, no version.
      const before = events.filter((e) => e.topic === "devices").length;
      const again = await graph.query(admin, ENROLL_BATCH, { inputs: [device("e-2"), device("e-1", "renamed e-1")] });
      expect(again.data!.enrollDevicesBatch.map((item: { error: unknown }) => item.error)).toEqual([null, null]);
      await graph.query(admin, ENROLL_BATCH, { inputs: [device("e-5")] });
      await waitFor(() => ofType("device.enrolled", "e-5").length === 1, 10_000, "e-5 enrolled");
      expect(events.filter((e) => e.topic === "devices").length).toBe(before + 1);
    });

    it("enrollDevicesBatch is admin only and at most 1,000 devices", async () => {
      const analyst = await graph.token({ tenantId: "bulk", role: "analyst" });
      const refused = await graph.query(analyst, ENROLL_BATCH, { inputs: [device("x-1")] });
      expect(refused.errors![0]!.extensions!.code).toBe("FORBIDDEN");
      const devicesUrl = graph.subgraphs.devices!.url;
      const tooMany = await graph.query(admin, ENROLL_BATCH, { inputs: Array.from({ length: 1001 }, (_, i) => device(`x-${i}`)) }, devicesUrl);
      expect(tooMany.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
      expect((await graph.query(admin, DEVICES)).data!.devices.edges.some((edge: { node: { id: string } }) => edge.node.id.startsWith("x-"))).toBe(false);
    });

    it("reportThreatsBatch applies reports in order with one assessment event per device, refusing bad items alone", async () => {
      await graph.query(admin, ENROLL_BATCH, { inputs: [device("r-1"), device("r-2")] });
      await waitFor(() => ofType("device.assessment.changed", "r-1").length === 1 && ofType("device.assessment.changed", "r-2").length === 1, 10_000, "devices known to threats");
      const other = await graph.token({ tenantId: "elsewhere", role: "admin" });
      await graph.query(other, ENROLL_BATCH, { inputs: [device("foreign-1")] });

      const replayed = reportOf("r-2", "LOW", 9000);
      const inputs = [
        reportOf("r-1", "LOW", 5000),
        reportOf("r-1", "HIGH", 4000),
        reportOf("r-1", "MEDIUM", 6000), // older than the stored observation: ignored
        reportOf("foreign-1", "HIGH", 1000), // another tenant's device does not exist here
        { ...reportOf("r-2", "LOW", 1000), observedAt: "not a date" },
        replayed,
        replayed,
      ];
      const result = await graph.query(partner, REPORT_BATCH, { inputs });
      expect(result.errors?.[0]?.extensions?.code === "BAD_USER_INPUT" ? "coerced" : "ok").toBe("coerced");
      // A malformed DateTime fails variable coercion for the whole request; send it apart.
      inputs.splice(4, 1);
      const batch = await graph.query(partner, REPORT_BATCH, { inputs });
      expect(batch.errors).toBeUndefined();
      const items = batch.data!.reportThreatsBatch;
      expect(items.map((item: { result: { duplicate: boolean } | null; error: { code: string } | null }) => item.error?.code ?? item.result!.duplicate)).toEqual([false, false, false, "NOT_FOUND", false, true]);
      expect(items[0].result.device).toEqual({ id: "r-1", riskLevel: "HIGH" });

      const stored = (await graph.query(partner, THREATS, { id: "r-1" })).data!.device;
      expect(stored).toEqual({ riskLevel: "HIGH", threats: [{ externalId: "t-1", severity: "HIGH", status: "ACTIVE" }] });
      await waitFor(() => ofType("device.assessment.changed", "r-2").length === 2, 10_000, "r-2 assessed");
      const r1 = ofType<AssessmentChangedPayload>("device.assessment.changed", "r-1");
      expect(r1.map((e) => [e.version, e.payload.previousLevel, e.payload.level])).toEqual([
        [1, null, null],
        [2, null, "HIGH"],
      ]);
      const foreign = await graph.query(await graph.token({ tenantId: "elsewhere", role: "analyst" }), THREATS, { id: "foreign-1" });
      expect(foreign.data!.device.threats).toEqual([]);
    });

    it("reportThreatsBatch with a bad report in a batch stores the good ones only", async () => {
      const result = await graph.query(partner, REPORT_BATCH, {
        inputs: [reportOf("r-2", "HIGH", 500), { ...reportOf("r-1", "LOW", 100), threats: [{ externalId: "t-1", category: "APP", severity: "SECURED", title: "x", status: "ACTIVE" }] }],
      });
      const items = result.data!.reportThreatsBatch;
      expect(items[0]).toMatchObject({ result: { device: { id: "r-2", riskLevel: "HIGH" } }, error: null });
      expect(items[1]).toMatchObject({ result: null, error: { code: "BAD_USER_INPUT" } });
      expect((await graph.query(partner, THREATS, { id: "r-1" })).data!.device.riskLevel).toBe("HIGH");
    });
  });
}
