/**
 * `deviceCountsByRisk` on both engines: exact counts of the tenant's devices by
 * risk level (retired ones left out, a platform filter), the same for every
 * reading role, another tenant's devices never counted, bad input refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { enablePartner } from "../support/partners.js";
import { waitFor } from "../support/wait.js";

const ENROLL = /* GraphQL */ `mutation Enroll($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`;
const RETIRE = /* GraphQL */ `mutation Retire($id: ID!) { retireDevice(id: $id) { id } }`;
const REPORT = /* GraphQL */ `mutation Report($input: ReportThreatsInput!) { reportThreats(input: $input) { device { id riskLevel } } }`;
const COUNTS = /* GraphQL */ `query Counts($platform: Platform) { deviceCountsByRisk(platform: $platform) { level count } }`;

type Counts = Record<string, number>;
/** The answer as { level (or "none"): count }, in the order given. */
function counts(entries: { level: string | null; count: number }[]): Counts {
  return Object.fromEntries(entries.map(({ level, count }) => [level ?? "none", count]));
}

let reports = 0;
function reportOf(deviceId: string, severity: "LOW" | "MEDIUM" | "HIGH" | null) {
  const threats = severity === null ? [] : [{ externalId: `t-${deviceId}`, category: "APP", severity, title: "a threat", status: "ACTIVE" }];
  return { reportId: `risk-count-${++reports}`, deviceId, observedAt: new Date().toISOString(), threats };
}

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`deviceCountsByRisk on ${engine.name}`, () => {
    let graph: TestGraph;
    let admin: string;
    let other: string;

    async function ok(token: string, query: string, variables?: Record<string, unknown>, url?: string) {
      const result = await graph.query(token, query, variables, url);
      expect(result.errors).toBeUndefined();
      return result.data!;
    }
    const read = async (token: string, platform?: string, url?: string) => (await ok(token, COUNTS, { platform }, url)).deviceCountsByRisk as { level: string | null; count: number }[];

    beforeAll(async () => {
      graph = await startGraph(engine);
      admin = await graph.token({ tenantId: "counts", role: "admin" });
      other = await graph.token({ tenantId: "counts-other", role: "admin" });
      const lookout = await graph.token({ tenantId: "counts", role: "partner", partner: "LOOKOUT" });
      const otherLookout = await graph.token({ tenantId: "counts-other", role: "partner", partner: "LOOKOUT" });
      await enablePartner(graph, admin, lookout, "LOOKOUT", ["IOS", "ANDROID"]);
      await enablePartner(graph, other, otherLookout, "LOOKOUT", ["IOS", "ANDROID"]);
      // id → platform and the risk its report gives (undefined: never reported on).
      const fleet: [string, string, "LOW" | "MEDIUM" | "HIGH" | null | undefined][] = [
        ["c-1", "IOS", null],
        ["c-2", "ANDROID", null],
        ["c-3", "IOS", "LOW"],
        ["c-4", "IOS", "MEDIUM"],
        ["c-5", "IOS", "HIGH"],
        ["c-6", "ANDROID", "HIGH"],
        ["c-7", "IOS", undefined],
        ["c-8", "IOS", "HIGH"], // retired below
      ];
      for (const [id, platform] of fleet) {
        await ok(admin, ENROLL, { input: { id, name: `device ${id}`, platform, osVersion: "17.4.1", ownership: "CORPORATE" } });
      }
      await ok(other, ENROLL, { input: { id: "c-1", name: "other's device", platform: "IOS", osVersion: "17.4.1", ownership: "CORPORATE" } });
      // The threats subgraph learns devices from their enrolment events.
      await waitFor(async () => (await read(admin)).reduce((sum, entry) => sum + entry.count, 0) === fleet.length, 10_000, "every device counted");
      for (const [id, , severity] of fleet) if (severity !== undefined) await ok(lookout, REPORT, { input: reportOf(id, severity) });
      await ok(otherLookout, REPORT, { input: reportOf("c-1", "HIGH") });
      await ok(admin, RETIRE, { id: "c-8" });
      await waitFor(async () => counts(await read(admin)).HIGH === 2, 10_000, "the retired device no longer counted");
    });
    afterAll(async () => {
      await graph?.stop();
    });

    it("counts every level exactly, in order, zeros and the devices without partner data included", async () => {
      const entries = await read(admin);
      expect(entries.map((entry) => entry.level)).toEqual(["SECURED", "LOW", "MEDIUM", "HIGH", null]);
      expect(counts(entries)).toEqual({ SECURED: 2, LOW: 1, MEDIUM: 1, HIGH: 2, none: 1 });
      // The same devices `devices` lists (retired ones left out).
      const listed = (await ok(admin, `{ devices(first: 500) { totalCount edges { node { riskLevel } } } }`)).devices;
      expect(entries.reduce((sum, entry) => sum + entry.count, 0)).toBe(listed.totalCount);
    });

    it("counts one platform's devices", async () => {
      expect(counts(await read(admin, "ANDROID"))).toEqual({ SECURED: 1, LOW: 0, MEDIUM: 0, HIGH: 1, none: 0 });
      expect(counts(await read(admin, "WINDOWS"))).toEqual({ SECURED: 0, LOW: 0, MEDIUM: 0, HIGH: 0, none: 0 });
    });

    it("gives every reading role the same counts, through the gateway and on the subgraph; another tenant counts only its own", async () => {
      const expected = { SECURED: 2, LOW: 1, MEDIUM: 1, HIGH: 2, none: 1 };
      for (const role of ["analyst", "enforcement"] as const) {
        const token = await graph.token({ tenantId: "counts", role });
        expect(counts(await read(token))).toEqual(expected);
        expect(counts(await read(token, undefined, graph.subgraphs.threats!.url))).toEqual(expected);
      }
      expect(counts(await read(await graph.token({ tenantId: "counts", role: "partner", partner: "LOOKOUT" })))).toEqual(expected);
      expect(counts(await read(other))).toEqual({ SECURED: 0, LOW: 0, MEDIUM: 0, HIGH: 1, none: 0 });
      const stranger = await graph.token({ tenantId: "counts-empty", role: "analyst" });
      expect(counts(await read(stranger, undefined, graph.subgraphs.threats!.url))).toEqual({ SECURED: 0, LOW: 0, MEDIUM: 0, HIGH: 0, none: 0 });
    });

    it("refuses a partner whose connector is not enabled, no token and a bad platform, and counts on unchanged", async () => {
      const disabled = await graph.query(await graph.token({ tenantId: "counts", role: "partner", partner: "ZIMPERIUM" }), COUNTS, {}, graph.subgraphs.threats!.url);
      expect(disabled.errors![0]!.extensions!.code).toBe("FORBIDDEN");
      const anonymous = await graph.query(null, COUNTS, {}, graph.subgraphs.threats!.url);
      expect(anonymous.errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
      const bad = await graph.query(admin, COUNTS, { platform: "BLACKBERRY" });
      expect(bad.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
      expect(bad.errors![0]!.message).toContain("BLACKBERRY");
      expect(counts(await read(admin))).toEqual({ SECURED: 2, LOW: 1, MEDIUM: 1, HIGH: 2, none: 1 });
    });
  });
}
