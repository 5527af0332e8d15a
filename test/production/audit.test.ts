/**
 * The audit trail: every configuration mutation leaves one entry (who, when,
 * before, after) in its service's table, in the same transaction, and in the
 * tenant's `auditLog`; refused mutations and changes that change nothing
 * leave none; only the tenant's admins and analysts read it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditTable } from "../../lib/audit.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";

const MUTATIONS = {
  enroll: `mutation($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`,
  retire: `mutation($id: ID!) { retireDevice(id: $id) { id } }`,
  enable: `mutation($input: EnableMtdConnectorInput!) { enableMtdConnector(input: $input) { state } }`,
  disable: `mutation { disableMtdConnector { state } }`,
  compliance: `mutation($input: SetCompliancePolicyInput!) { setCompliancePolicy(input: $input) { id } }`,
  conditionalAccess: `mutation($input: SetConditionalAccessPolicyInput!) { setConditionalAccessPolicy(input: $input) { id } }`,
  settings: `mutation($input: SetAppInventorySettingsInput!) { setAppInventorySettings(input: $input) { iosAppSyncEnabled } }`,
};
const AUDIT_LOG = /* GraphQL */ `
  query Audit($first: Int, $after: String) {
    auditLog(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id at actor actorRole service action targetType targetId before after requestId } }
    }
  }
`;

interface Entry {
  id: string;
  at: string;
  actor: string;
  actorRole: string;
  service: string;
  action: string;
  targetType: string;
  targetId: string;
  before: any;
  after: any;
  requestId: string | null;
}

const phone = (id: string, name = `Phone ${id}`) => ({ id, name, platform: "IOS", osVersion: "17.5", ownership: "CORPORATE" });

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`audit trail on ${engine.name}`, () => {
    let graph: TestGraph;
    let admin: string;
    let analyst: string;

    const ok = async (token: string, query: string, variables?: Record<string, unknown>) => {
      const result = await graph.query(token, query, variables);
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      return result.data!;
    };
    const refused = async (token: string, query: string, variables: Record<string, unknown> | undefined, code: string) => {
      const result = await graph.query(token, query, variables);
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(result.errors)).toBe(code);
    };
    const auditLog = async (token: string, first = 100): Promise<{ totalCount: number; entries: Entry[] }> => {
      const data = await ok(token, AUDIT_LOG, { first });
      return { totalCount: data.auditLog.totalCount, entries: data.auditLog.edges.map((edge: { node: Entry }) => edge.node) };
    };
    /** Rows of each service's own audit table for the tenant. */
    const stored = async (tenantId: string) => {
      const counts: Record<string, number> = {};
      for (const [name, subgraph] of Object.entries(graph.subgraphs)) {
        const rows = await subgraph.database.dataSource.query(`SELECT COUNT(*) AS n FROM ${auditTable(name)} WHERE tenant_id = ?`, [tenantId]);
        counts[name] = Number(rows[0].n);
      }
      return counts;
    };

    beforeAll(async () => {
      graph = await startGraph(engine);
      admin = await graph.token({ tenantId: "audited", role: "admin", subject: "alice@audited.example" });
      analyst = await graph.token({ tenantId: "audited", role: "analyst", subject: "bob@audited.example" });
    });
    afterAll(() => graph?.stop());

    it("records every configuration mutation with who, when, before and after", async () => {
      const started = Date.now();
      await ok(admin, MUTATIONS.enroll, { input: phone("a-1") });
      await ok(admin, MUTATIONS.enroll, { input: phone("a-1", "Renamed phone") });
      await ok(admin, MUTATIONS.retire, { id: "a-1" });
      await ok(admin, MUTATIONS.enable, { input: { partner: "LOOKOUT", enabledPlatforms: ["IOS"] } });
      await ok(admin, MUTATIONS.enable, { input: { partner: "LOOKOUT", enabledPlatforms: ["IOS", "ANDROID"] } });
      await ok(admin, MUTATIONS.disable);
      const compliance = await ok(admin, MUTATIONS.compliance, { input: { platform: "IOS", name: "iOS", maxThreatLevel: "LOW" } });
      await ok(admin, MUTATIONS.compliance, { input: { platform: "IOS", name: "iOS", maxThreatLevel: "MEDIUM" } });
      const policy = await ok(admin, MUTATIONS.conditionalAccess, { input: { name: "Mail", resources: ["exchange"], platforms: ["IOS"], enabled: true } });
      const policyId = policy.setConditionalAccessPolicy.id;
      await ok(admin, MUTATIONS.conditionalAccess, { input: { id: policyId, name: "Mail", resources: ["exchange"], platforms: ["IOS"], enabled: false } });
      await ok(admin, MUTATIONS.settings, { input: { iosAppSyncEnabled: true, includePersonalDevices: false } });

      // In each service's table at once (same transaction as the change)…
      expect(await stored("audited")).toEqual({ devices: 3, threats: 3, policies: 4, inventory: 1, signals: 0 });
      // …and in the tenant's log as soon as the events are through.
      await waitFor(async () => (await auditLog(analyst)).totalCount === 11, 10_000, "11 entries in auditLog");
      const { entries } = await auditLog(analyst);
      const newestFirst = [...entries].sort((a, b) => Date.parse(b.at) - Date.parse(a.at) || (b.id < a.id ? -1 : 1));
      expect(entries.map((e) => e.id)).toEqual(newestFirst.map((e) => e.id));
      for (const entry of entries) {
        expect(entry).toMatchObject({ actor: "alice@audited.example", actorRole: "admin" });
        expect(Date.parse(entry.at)).toBeGreaterThanOrEqual(started - 1000);
        expect(entry.requestId).toMatch(/^[0-9a-f-]{36}$/);
      }
      const byAction = (action: string) => entries.filter((e) => e.action === action).reverse(); // oldest first

      expect(byAction("device.enrolled")).toEqual([
        expect.objectContaining({ service: "devices", targetType: "Device", targetId: "a-1", before: null, after: expect.objectContaining({ name: "Phone a-1", platform: "IOS", retiredAt: null }) }),
      ]);
      expect(byAction("device.updated")[0]).toMatchObject({ before: { name: "Phone a-1" }, after: { name: "Renamed phone" } });
      expect(byAction("device.retired")[0]!.after.retiredAt).toEqual(expect.any(String));
      expect(byAction("connector.enabled")[0]).toMatchObject({ service: "threats", targetId: "LOOKOUT", before: null, after: { state: "ENABLED", enabledPlatforms: ["IOS"] } });
      expect(byAction("connector.updated")[0]).toMatchObject({ before: { enabledPlatforms: ["IOS"] }, after: { enabledPlatforms: ["IOS", "ANDROID"] } });
      expect(byAction("connector.disabled")[0]).toMatchObject({ before: { state: "ENABLED" }, after: { state: "DISABLED" } });
      expect(byAction("compliancePolicy.created")[0]).toMatchObject({ service: "policies", targetId: compliance.setCompliancePolicy.id, before: null, after: { maxThreatLevel: "LOW" } });
      expect(byAction("compliancePolicy.updated")[0]).toMatchObject({ before: { maxThreatLevel: "LOW" }, after: { maxThreatLevel: "MEDIUM" } });
      expect(byAction("conditionalAccessPolicy.created")[0]).toMatchObject({ targetId: policyId, after: { enabled: true, resources: ["exchange"] } });
      expect(byAction("conditionalAccessPolicy.updated")[0]).toMatchObject({ before: { enabled: true }, after: { enabled: false } });
      expect(byAction("inventorySettings.updated")[0]).toMatchObject({
        service: "inventory",
        before: { iosAppSyncEnabled: false, includePersonalDevices: false },
        after: { iosAppSyncEnabled: true, includePersonalDevices: false },
      });
    });

    it("records nothing for refused mutations or changes that change nothing", async () => {
      const tenant = "refusals";
      const boss = await graph.token({ tenantId: tenant, role: "admin" });
      const reader = await graph.token({ tenantId: tenant, role: "analyst" });
      const partner = await graph.token({ tenantId: tenant, role: "partner", partner: "LOOKOUT" });
      await ok(boss, MUTATIONS.enroll, { input: phone("r-1") });
      await ok(boss, MUTATIONS.enable, { input: { partner: "LOOKOUT", enabledPlatforms: ["IOS"] } });
      await ok(boss, MUTATIONS.compliance, { input: { platform: "IOS", name: "iOS", maxThreatLevel: "LOW" } });
      await ok(boss, MUTATIONS.settings, { input: { iosAppSyncEnabled: true, includePersonalDevices: true } });
      const before = await stored(tenant);
      expect(before).toEqual({ devices: 1, threats: 1, policies: 1, inventory: 1, signals: 0 });

      // Wrong role, bad input, conflicts, unknown ids, operation limits, and changes that change nothing.
      await refused(reader, MUTATIONS.enroll, { input: phone("r-2") }, "FORBIDDEN");
      await refused(partner, MUTATIONS.enable, { input: { partner: "LOOKOUT", enabledPlatforms: ["IOS"] } }, "FORBIDDEN");
      await refused(reader, MUTATIONS.settings, { input: { iosAppSyncEnabled: false, includePersonalDevices: false } }, "FORBIDDEN");
      await refused(boss, MUTATIONS.enroll, { input: { ...phone("r-3"), name: "" } }, "BAD_USER_INPUT");
      await refused(boss, MUTATIONS.retire, { id: "nope" }, "NOT_FOUND");
      await refused(boss, MUTATIONS.enable, { input: { partner: "ZIMPERIUM", enabledPlatforms: ["IOS"] } }, "CONFLICT");
      await refused(boss, MUTATIONS.conditionalAccess, { input: { id: "nope", name: "x", resources: ["exchange"], platforms: ["IOS"], enabled: true } }, "NOT_FOUND");
      await refused(boss, MUTATIONS.conditionalAccess, { input: { name: "x", resources: ["exchange"], platforms: [], enabled: true } }, "BAD_USER_INPUT");
      await refused(boss, `mutation { a: disableMtdConnector { state } b: disableMtdConnector { state } c: disableMtdConnector { state } d: disableMtdConnector { state } e: disableMtdConnector { state } f: disableMtdConnector { state } g: disableMtdConnector { state } h: disableMtdConnector { state } i: disableMtdConnector { state } j: disableMtdConnector { state } k: disableMtdConnector { state } l: disableMtdConnector { state } m: disableMtdConnector { state } n: disableMtdConnector { state } o: disableMtdConnector { state } p: disableMtdConnector { state } }`, undefined, "OPERATION_LIMIT");
      await ok(boss, MUTATIONS.enroll, { input: phone("r-1") });
      await ok(boss, MUTATIONS.enable, { input: { partner: "LOOKOUT", enabledPlatforms: ["IOS"] } });
      await ok(boss, MUTATIONS.compliance, { input: { platform: "IOS", name: "iOS", maxThreatLevel: "LOW" } });
      await ok(boss, MUTATIONS.settings, { input: { iosAppSyncEnabled: true, includePersonalDevices: true } });

      expect(await stored(tenant)).toEqual(before);
      await waitFor(async () => (await auditLog(reader)).totalCount === 4, 10_000, "4 entries in auditLog");
      // One more change is the marker: once it is in the log, nothing else arrived before it.
      await ok(boss, MUTATIONS.retire, { id: "r-1" });
      await waitFor(async () => (await auditLog(reader)).entries.some((e) => e.action === "device.retired"), 10_000, "marker entry");
      expect((await auditLog(reader)).totalCount).toBe(5);
    });

    it("is for the tenant's admins and analysts only, paged newest first", async () => {
      for (const role of ["enforcement", "partner"] as const) {
        const token = await graph.token({ tenantId: "audited", role, partner: role === "partner" ? "LOOKOUT" : undefined });
        await refused(token, AUDIT_LOG, { first: 10 }, "FORBIDDEN");
      }
      const stranger = await graph.token({ tenantId: "elsewhere", role: "admin" });
      expect((await auditLog(stranger)).totalCount).toBe(0);

      const pages: string[] = [];
      let after: string | null = null;
      for (;;) {
        const data: any = await ok(admin, AUDIT_LOG, { first: 4, after });
        pages.push(...data.auditLog.edges.map((edge: { node: Entry }) => edge.node.id));
        if (!data.auditLog.pageInfo.hasNextPage) break;
        after = data.auditLog.pageInfo.endCursor;
      }
      expect(pages).toEqual((await auditLog(admin)).entries.map((e) => e.id));
      expect(new Set(pages).size).toBe(11);
    });
  });
}
