/**
 * `devicesByCompliance`: the tenant's devices in one compliance state, paged in
 * id order from the policies subgraph's stored state, with names from the
 * devices subgraph through the gateway. Assessments are published as the
 * threats subgraph publishes them.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AssessmentChangedPayload } from "../../lib/events/contracts.js";
import type { Platform, ThreatLevel } from "../../lib/domain-enums.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";

const BY_COMPLIANCE = /* GraphQL */ `
  query($state: ComplianceState!, $platform: Platform, $first: Int, $after: String) {
    devicesByCompliance(state: $state, platform: $platform, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id name platform complianceState } }
    }
  }
`;
const ENROLL_BATCH = `mutation($inputs: [EnrollDeviceInput!]!) { enrollDevicesBatch(inputs: $inputs) { error { message } } }`;
const SET_COMPLIANCE = `mutation($input: SetCompliancePolicyInput!) { setCompliancePolicy(input: $input) { id } }`;
const STATE = `query($id: ID!) { device(id: $id) { complianceState } }`;

interface Node { id: string; name: string; platform: string; complianceState: string }

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`devicesByCompliance on ${engine.name}`, () => {
    let graph: TestGraph;
    let version = 1000;

    beforeAll(async () => {
      graph = await startGraph(engine);
    });
    afterAll(() => graph?.stop());

    /** Every node of `state` page by page (`first` a page) and each page's totalCount. */
    async function all(token: string, state: string, first = 2, platform?: Platform, url?: string) {
      const nodes: Node[] = [];
      const totals = new Set<number>();
      for (let after: string | null = null; ; ) {
        const page: any = await graph.query(token, BY_COMPLIANCE, { state, platform, first, after }, url);
        expect(page.errors).toBeUndefined();
        totals.add(page.data.devicesByCompliance.totalCount);
        nodes.push(...page.data.devicesByCompliance.edges.map((edge: { node: Node }) => edge.node));
        if (!page.data.devicesByCompliance.pageInfo.hasNextPage) break;
        after = page.data.devicesByCompliance.pageInfo.endCursor;
      }
      return { ids: nodes.map((node) => node.id), totals: [...totals], nodes };
    }

    async function assess(tenantId: string, deviceId: string, platform: Platform, level: ThreatLevel, expected: string) {
      const payload: AssessmentChangedPayload = { deviceId, platform, previousLevel: null, level, dataStatus: "REPORTED", blockOnMissing: false, partner: "LOOKOUT", unresponsiveSince: null };
      await graph.events.publish("threats", [{ id: randomUUID(), type: "device.assessment.changed", tenantId, aggregateId: deviceId, version: ++version, occurredAt: new Date().toISOString(), payload }]);
      const admin = await graph.token({ tenantId, role: "admin" });
      await waitFor(async () => (await graph.query(admin, STATE, { id: deviceId })).data?.device?.complianceState === expected, 10_000, `${deviceId} ${expected}`);
    }

    /** A tenant: IOS at LOW (NONCOMPLIANT at once), ANDROID at LOW with 60 minutes of grace; `ios` + `android` devices, all COMPLIANT. */
    async function fleet(tenantId: string, ios: string[], android: string[]) {
      const admin = await graph.token({ tenantId, role: "admin" });
      for (const [platform, grace] of [["IOS", 0], ["ANDROID", 60]] as const) {
        expect((await graph.query(admin, SET_COMPLIANCE, { input: { platform, name: platform, maxThreatLevel: "LOW", gracePeriodMinutes: grace } })).errors).toBeUndefined();
      }
      const inputs = [...ios.map((id) => ({ id, platform: "IOS" })), ...android.map((id) => ({ id, platform: "ANDROID" }))].map((d) => ({ ...d, name: `${tenantId} ${d.id}`, osVersion: "17", ownership: "CORPORATE" }));
      const batch = await graph.query(admin, ENROLL_BATCH, { inputs });
      expect(batch.data!.enrollDevicesBatch.every((item: { error: unknown }) => item.error === null)).toBe(true);
      // Policies learns of the devices from their enrolment events.
      await waitFor(async () => (await graph.query(admin, BY_COMPLIANCE, { state: "COMPLIANT" })).data?.devicesByCompliance?.totalCount === inputs.length, 10_000, `${tenantId} known to policies`);
      return admin;
    }

    let tenantId: string;
    let admin: string;
    const ios = Array.from({ length: 12 }, (_, i) => `i-${String(i).padStart(2, "0")}`);

    beforeAll(async () => {
      tenantId = `bc-${randomUUID().slice(0, 8)}`;
      admin = await fleet(tenantId, ios, ["a-0", "a-1", "a-2", "a-3"]);
      for (const id of ["i-01", "i-04", "i-07", "i-10"]) await assess(tenantId, id, "IOS", "HIGH", "NONCOMPLIANT");
      for (const id of ["a-1", "a-2"]) await assess(tenantId, id, "ANDROID", "HIGH", "IN_GRACE_PERIOD");
      expect((await graph.query(admin, `mutation { retireDevice(id: "i-10") { id } }`)).errors).toBeUndefined();
      await waitFor(async () => (await graph.query(admin, BY_COMPLIANCE, { state: "NONCOMPLIANT" })).data?.devicesByCompliance?.totalCount === 3, 10_000, "i-10 retired in policies");
      // Another tenant with the same ids in other states: none of it is ever listed for this one.
      const other = `bc-other-${randomUUID().slice(0, 8)}`;
      await fleet(other, ["i-00", "i-02", "i-99"], []);
      for (const id of ["i-00", "i-02", "i-99"]) await assess(other, id, "IOS", "HIGH", "NONCOMPLIANT");
    });

    it("lists each state across pages in id order, totalCount the devices in it, retired devices left out", async () => {
      const noncompliant = await all(admin, "NONCOMPLIANT");
      expect(noncompliant).toMatchObject({ ids: ["i-01", "i-04", "i-07"], totals: [3] });
      expect(noncompliant.nodes[0]).toEqual({ id: "i-01", name: `${tenantId} i-01`, platform: "IOS", complianceState: "NONCOMPLIANT" });
      const grace = await all(admin, "IN_GRACE_PERIOD", 1);
      expect(grace).toMatchObject({ ids: ["a-1", "a-2"], totals: [2] });
      expect(grace.nodes.every((node) => node.complianceState === "IN_GRACE_PERIOD" && node.platform === "ANDROID")).toBe(true);
      const compliant = await all(admin, "COMPLIANT", 3);
      expect(compliant).toMatchObject({ ids: ["a-0", "a-3", ...ios.filter((id) => !["i-01", "i-04", "i-07", "i-10"].includes(id))], totals: [10] });
      expect(compliant.nodes.every((node) => node.complianceState === "COMPLIANT")).toBe(true);
    });

    it("narrows by platform", async () => {
      expect(await all(admin, "COMPLIANT", 2, "ANDROID")).toMatchObject({ ids: ["a-0", "a-3"], totals: [2] });
      expect(await all(admin, "NONCOMPLIANT", 2, "ANDROID")).toMatchObject({ ids: [], totals: [0] });
      expect(await all(admin, "IN_GRACE_PERIOD", 2, "IOS")).toMatchObject({ ids: [], totals: [0] });
    });

    it("never lists another tenant's devices, through the gateway or on the subgraph directly", async () => {
      for (const url of [graph.gatewayUrl, graph.subgraphs.policies!.url]) {
        const page = await graph.query(admin, BY_COMPLIANCE.replace("name platform ", url === graph.gatewayUrl ? "name platform " : ""), { state: "NONCOMPLIANT", first: 500 }, url);
        expect(page.data!.devicesByCompliance.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual(["i-01", "i-04", "i-07"]);
        expect(page.data!.devicesByCompliance.totalCount).toBe(3);
      }
      const stranger = await graph.token({ tenantId: `bc-none-${randomUUID().slice(0, 8)}`, role: "admin" });
      expect(await all(stranger, "NONCOMPLIANT")).toMatchObject({ ids: [], totals: [0] });
      expect(await all(stranger, "COMPLIANT")).toMatchObject({ ids: [], totals: [0] });
    });

    it("admins and analysts only", async () => {
      const analyst = await graph.token({ tenantId, role: "analyst" });
      expect((await all(analyst, "NONCOMPLIANT")).ids).toEqual(["i-01", "i-04", "i-07"]);
      for (const claims of [{ role: "enforcement" }, { role: "partner", partner: "LOOKOUT" }] as const) {
        const token = await graph.token({ tenantId, ...claims });
        for (const url of [graph.gatewayUrl, graph.subgraphs.policies!.url]) {
          const result = await graph.query(token, `query { devicesByCompliance(state: NONCOMPLIANT) { totalCount edges { node { id } } } }`, undefined, url);
          expect(result.errors![0]!.extensions!.code).toBe("FORBIDDEN");
          expect(result.data ?? null).toBeNull();
        }
      }
      const none = await graph.query(null, `query { devicesByCompliance(state: NONCOMPLIANT) { totalCount } }`);
      expect(none.errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
    });

    it("deviceCountsByCompliance: each state's count exactly, by platform, for admins and analysts of the tenant only", async () => {
      const COUNTS = `query($platform: Platform) { deviceCountsByCompliance(platform: $platform) { state count } }`;
      const counts = async (token: string | null, platform?: Platform, url?: string) => graph.query(token, COUNTS, { platform }, url);
      const all = [{ state: "COMPLIANT", count: 10 }, { state: "IN_GRACE_PERIOD", count: 2 }, { state: "NONCOMPLIANT", count: 3 }];
      const analyst = await graph.token({ tenantId, role: "analyst" });
      for (const url of [graph.gatewayUrl, graph.subgraphs.policies!.url]) {
        expect((await counts(admin, undefined, url)).data!.deviceCountsByCompliance).toEqual(all);
        expect((await counts(analyst, undefined, url)).data!.deviceCountsByCompliance).toEqual(all);
      }
      expect((await counts(admin, "ANDROID")).data!.deviceCountsByCompliance).toEqual([{ state: "COMPLIANT", count: 2 }, { state: "IN_GRACE_PERIOD", count: 2 }, { state: "NONCOMPLIANT", count: 0 }]);
      const stranger = await graph.token({ tenantId: `bc-none-${randomUUID().slice(0, 8)}`, role: "analyst" });
      expect((await counts(stranger)).data!.deviceCountsByCompliance.map((entry: { count: number }) => entry.count)).toEqual([0, 0, 0]);
      for (const claims of [{ role: "enforcement" }, { role: "partner", partner: "LOOKOUT" }] as const) {
        const refused = await counts(await graph.token({ tenantId, ...claims }), undefined, graph.subgraphs.policies!.url);
        expect(refused.errors![0]!.extensions!.code).toBe("FORBIDDEN");
      }
      expect((await counts(null)).errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
      const bad = await graph.query(admin, COUNTS, { platform: "BLACKBERRY" });
      expect(bad.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
    });

    it("bad input is BAD_USER_INPUT naming the argument", async () => {
      expect((await graph.query(admin, BY_COMPLIANCE, { state: "NONCOMPLIANT", first: 501 })).errors![0]!.message).toMatch(/^first: expected an integer from 1 to 500/);
      expect((await graph.query(admin, BY_COMPLIANCE, { state: "NONCOMPLIANT", first: 0 })).errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
      expect((await graph.query(admin, BY_COMPLIANCE, { state: "NONCOMPLIANT", after: "garbage" })).errors![0]!.message).toMatch(/^after: not a cursor/);
      const unknown = await graph.query(admin, BY_COMPLIANCE, { state: "BROKEN" });
      expect(unknown.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
      expect(unknown.errors![0]!.message).toContain("BROKEN");
    });
  });
}
