import { randomUUID } from "node:crypto";
import { createClient, type Client } from "graphql-ws";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AssessmentChangedPayload, DataStatus } from "../../lib/events/contracts.js";
import type { ThreatLevel } from "../../lib/domain-enums.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitForPartnerRule } from "../support/partners.js";
import { waitFor } from "../support/wait.js";

const ENROLL = `mutation($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`;
const SET_COMPLIANCE = `mutation($input: SetCompliancePolicyInput!) { setCompliancePolicy(input: $input) { id name platform maxThreatLevel } }`;
const SET_CA = `mutation($input: SetConditionalAccessPolicyInput!) { setConditionalAccessPolicy(input: $input) { id name resources platforms enabled } }`;
const ACCESS = `query($id: ID!) { device(id: $id) { id complianceState access { resource allowed reason } } }`;
const CHANGES = `query($after: String, $first: Int, $resource: String) {
  accessChanges(after: $after, first: $first, resource: $resource) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { cursor sequence resource allowed reason device { id } } }
  }
}`;

interface Change {
  cursor: string;
  sequence: number;
  resource: string;
  allowed: boolean;
  reason: string;
  device: { id: string };
}

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`policies on ${engine.name}`, () => {
    let graph: TestGraph;
    const versions = new Map<string, number>();

    beforeAll(async () => {
      graph = await startGraph(engine);
    });
    afterAll(() => graph?.stop());

    /** A tenant with an admin token, an IOS policy at `max` and a CA policy on exchange + sharepoint. */
    async function tenant(max: ThreatLevel = "LOW") {
      const tenantId = `t-${randomUUID().slice(0, 8)}`;
      const admin = await graph.token({ tenantId, role: "admin" });
      const compliance = await graph.query(admin, SET_COMPLIANCE, { input: { platform: "IOS", name: "iOS baseline", maxThreatLevel: max } });
      expect(compliance.errors).toBeUndefined();
      const ca = await graph.query(admin, SET_CA, { input: { name: "Mail and files", resources: ["exchange", "sharepoint"], platforms: ["IOS"], enabled: true } });
      expect(ca.errors).toBeUndefined();
      return { tenantId, admin, caPolicyId: ca.data!.setConditionalAccessPolicy.id as string };
    }

    async function enroll(admin: string, id: string, platform = "IOS") {
      const result = await graph.query(admin, ENROLL, { input: { id, name: `phone ${id}`, platform, osVersion: "17", ownership: "CORPORATE" } });
      expect(result.errors).toBeUndefined();
    }

    /** What the threats subgraph publishes when a device's assessment changes. */
    async function assess(tenantId: string, deviceId: string, level: ThreatLevel | null, dataStatus: DataStatus = "REPORTED", extra: Partial<AssessmentChangedPayload> = {}) {
      const key = `${tenantId}/${deviceId}`;
      // Above the versions the threats subgraph itself publishes for the device (it has no connector here).
      const version = (versions.get(key) ?? 1_000) + 1;
      versions.set(key, version);
      const payload: AssessmentChangedPayload = {
        deviceId,
        platform: "IOS",
        previousLevel: null,
        level,
        dataStatus,
        blockOnMissing: false,
        partner: "LOOKOUT",
        unresponsiveSince: null,
        ...extra,
      };
      await graph.events.publish("threats", [
        { id: randomUUID(), type: "device.assessment.changed", tenantId, aggregateId: deviceId, version, occurredAt: new Date().toISOString(), payload },
      ]);
    }

    async function changes(token: string, resource?: string): Promise<Change[]> {
      const all: Change[] = [];
      let after: string | null = null;
      for (;;) {
        const page: any = await graph.query(token, CHANGES, { after, first: 500, resource });
        expect(page.errors).toBeUndefined();
        all.push(...page.data.accessChanges.edges.map((edge: { node: Change }) => edge.node));
        if (!page.data.accessChanges.pageInfo.hasNextPage) return all;
        after = page.data.accessChanges.pageInfo.endCursor;
      }
    }

    async function untilChanges(token: string, count: number) {
      await waitFor(async () => (await changes(token)).length >= count, 15_000, `${count} access changes`);
      return changes(token);
    }

    describe("from a partner's report to access changes, through the gateway", () => {
      const REPORT = `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { duplicate device { id riskLevel } } }`;

      async function connected(blockOnMissing: string[] = []) {
        const setup = await tenant("LOW");
        const connector = await graph.query(setup.admin, `mutation($input: EnableMtdConnectorInput!) { enableMtdConnector(input: $input) { state } }`, {
          input: { partner: "LOOKOUT", enabledPlatforms: ["IOS", "ANDROID"], blockOnMissingPartnerData: blockOnMissing },
        });
        expect(connector.data!.enableMtdConnector.state).toBe("ENABLED");
        const partner = await graph.token({ tenantId: setup.tenantId, role: "partner", partner: "LOOKOUT" });
        await waitForPartnerRule(graph, partner);
        return { ...setup, partner };
      }

      async function report(partner: string, deviceId: string, threats: { externalId: string; severity: string; status: string }[]) {
        const result = await graph.query(partner, REPORT, {
          input: {
            reportId: randomUUID(),
            deviceId,
            observedAt: new Date().toISOString(),
            threats: threats.map((threat) => ({ ...threat, category: "APP", title: `threat ${threat.externalId}` })),
          },
        });
        expect(result.errors).toBeUndefined();
        return result.data!.reportThreats;
      }

      async function reportWhenKnown(partner: string, deviceId: string, threats: { externalId: string; severity: string; status: string }[]) {
        // The threats subgraph learns the device from the devices subgraph's events.
        await waitFor(async () => (await graph.query(partner, REPORT, { input: { reportId: randomUUID(), deviceId, observedAt: new Date(0).toISOString(), threats: [] } })).errors?.[0]?.extensions?.code !== "NOT_FOUND", 10_000, "device known to threats");
        return report(partner, deviceId, threats);
      }

      it("a HIGH threat revokes exchange and sharepoint; resolving it restores both; reasons name the cause", async () => {
        const { admin, partner } = await connected();
        await enroll(admin, "e2e-1");
        expect((await reportWhenKnown(partner, "e2e-1", [{ externalId: "mal-1", severity: "HIGH", status: "ACTIVE" }])).device.riskLevel).toBe("HIGH");
        const revoked = await untilChanges(admin, 2);
        expect(revoked.map((c) => [c.resource, c.allowed, c.device.id])).toEqual([
          ["exchange", false, "e2e-1"],
          ["sharepoint", false, "e2e-1"],
        ]);
        expect(revoked[0]!.reason).toBe('noncompliant: risk HIGH from LOOKOUT exceeds IOS policy maximum LOW (required by conditional-access policy "Mail and files")');
        const device = (await graph.query(admin, `query { device(id: "e2e-1") { name riskLevel complianceState access { resource allowed reason } } }`)).data!.device;
        expect(device).toMatchObject({ name: "phone e2e-1", riskLevel: "HIGH", complianceState: "NONCOMPLIANT" });

        await report(partner, "e2e-1", [{ externalId: "mal-1", severity: "HIGH", status: "RESOLVED" }]);
        const all = await untilChanges(admin, 4);
        expect(all.slice(2).map((c) => [c.resource, c.allowed, c.reason])).toEqual([
          ["exchange", true, "compliant: risk SECURED from LOOKOUT within IOS policy maximum LOW"],
          ["sharepoint", true, "compliant: risk SECURED from LOOKOUT within IOS policy maximum LOW"],
        ]);
      });

      it("missing partner data blocks only on platforms configured to block", async () => {
        const { admin } = await connected(["IOS"]);
        await enroll(admin, "miss-ios", "IOS");
        await enroll(admin, "miss-android", "ANDROID");
        const revoked = await untilChanges(admin, 2);
        expect(revoked.map((c) => [c.device.id, c.resource, c.allowed])).toEqual([
          ["miss-ios", "exchange", false],
          ["miss-ios", "sharepoint", false],
        ]);
        expect(revoked[0]!.reason).toMatch(/no data from LOOKOUT for this device; IOS requires partner data/);
        const android = (await graph.query(admin, `query { device(id: "miss-android") { complianceState } }`)).data!.device;
        expect(android.complianceState).toBe("COMPLIANT");
      });

      it("retiring a device revokes all its access", async () => {
        const { admin, partner } = await connected();
        await enroll(admin, "ret-1");
        await reportWhenKnown(partner, "ret-1", []);
        await waitFor(async () => (await graph.query(admin, ACCESS, { id: "ret-1" })).data!.device.access.length === 2, 10_000, "decisions");
        await graph.query(admin, `mutation { retireDevice(id: "ret-1") { id } }`);
        const revoked = await untilChanges(admin, 2);
        expect(revoked.map((c) => [c.resource, c.allowed, c.reason])).toEqual([
          ["exchange", false, "device retired; all access revoked"],
          ["sharepoint", false, "device retired; all access revoked"],
        ]);
      });
    });

    describe("assessments as the threats subgraph publishes them", () => {
    it("revokes both resources on a HIGH risk and restores them when it is resolved", async () => {
      const { tenantId, admin } = await tenant("LOW");
      await enroll(admin, "ios-1");
      await assess(tenantId, "ios-1", "SECURED");
      await waitFor(async () => /risk SECURED/.test((await graph.query(admin, ACCESS, { id: "ios-1" })).data!.device.access[0]?.reason ?? ""), 10_000, "decisions");
      expect(await changes(admin)).toEqual([]);

      await assess(tenantId, "ios-1", "HIGH");
      const revoked = await untilChanges(admin, 2);
      expect(revoked.map((c) => [c.sequence, c.resource, c.allowed])).toEqual([
        [1, "exchange", false],
        [2, "sharepoint", false],
      ]);
      expect(revoked[0]!.reason).toBe('noncompliant: risk HIGH from LOOKOUT exceeds IOS policy maximum LOW (required by conditional-access policy "Mail and files")');
      const device = (await graph.query(admin, ACCESS, { id: "ios-1" })).data!.device;
      expect(device.complianceState).toBe("NONCOMPLIANT");
      expect(device.access.map((d: { allowed: boolean }) => d.allowed)).toEqual([false, false]);

      await assess(tenantId, "ios-1", "SECURED");
      const all = await untilChanges(admin, 4);
      expect(all.slice(2).map((c) => [c.sequence, c.resource, c.allowed])).toEqual([
        [3, "exchange", true],
        [4, "sharepoint", true],
      ]);
      expect(all[2]!.reason).toBe("compliant: risk SECURED from LOOKOUT within IOS policy maximum LOW");
    });

    it("blocks on missing partner data only where configured, and ignores an unresponsive partner", async () => {
      const { tenantId, admin } = await tenant("LOW");
      await enroll(admin, "m-1");
      await assess(tenantId, "m-1", null, "MISSING", { blockOnMissing: false });
      await waitFor(async () => /no data from LOOKOUT/.test((await graph.query(admin, ACCESS, { id: "m-1" })).data!.device.access[0]?.reason ?? ""), 10_000, "decisions");
      const open = (await graph.query(admin, ACCESS, { id: "m-1" })).data!.device;
      expect(open.complianceState).toBe("COMPLIANT");
      expect(open.access[0].reason).toBe("compliant: no data from LOOKOUT for this device yet; not required on IOS");

      await assess(tenantId, "m-1", null, "MISSING", { blockOnMissing: true });
      const blocked = await untilChanges(admin, 2);
      expect(blocked.every((c) => !c.allowed)).toBe(true);
      expect(blocked[0]!.reason).toMatch(/no data from LOOKOUT for this device; IOS requires partner data/);

      await assess(tenantId, "m-1", "HIGH", "REPORTED");
      await waitFor(async () => /risk HIGH from LOOKOUT exceeds/.test((await graph.query(admin, ACCESS, { id: "m-1" })).data!.device.access[0].reason), 10_000, "HIGH reason");
      expect(await changes(admin)).toHaveLength(2); // still revoked: no new change

      const since = "2026-11-29T10:00:00.000Z";
      await assess(tenantId, "m-1", "HIGH", "PARTNER_UNRESPONSIVE", { unresponsiveSince: since });
      const restored = await untilChanges(admin, 4);
      expect(restored.slice(2).every((c) => c.allowed)).toBe(true);
      expect(restored[2]!.reason).toBe(`compliant: partner LOOKOUT unresponsive since ${since}; partner data ignored`);
    });

    it("ignores a stale assessment (older version) and a redelivered event", async () => {
      const { tenantId, admin } = await tenant("LOW");
      await enroll(admin, "s-1");
      await assess(tenantId, "s-1", "HIGH");
      await untilChanges(admin, 2);
      const event = {
        id: randomUUID(),
        type: "device.assessment.changed",
        tenantId,
        aggregateId: "s-1",
        version: 1, // older than the one applied
        occurredAt: new Date().toISOString(),
        payload: { deviceId: "s-1", platform: "IOS", previousLevel: null, level: "SECURED", dataStatus: "REPORTED", blockOnMissing: false, partner: "LOOKOUT", unresponsiveSince: null },
      };
      await graph.events.publish("threats", [event, event]);
      await assess(tenantId, "s-1", "HIGH"); // a newer no-op event marks that the stale ones were consumed
      const marker = await graph.query(admin, ACCESS, { id: "s-1" });
      await waitFor(async () => (await graph.query(admin, ACCESS, { id: "s-1" })).data!.device.complianceState === "NONCOMPLIANT");
      expect(marker.data!.device.complianceState).toBe("NONCOMPLIANT");
      expect(await changes(admin)).toHaveLength(2);
    });

    });

    it("tightening a policy from HIGH to LOW revokes every MEDIUM device, in sequence order", async () => {
      const devices = 1000;
      const { tenantId, admin } = await tenant("HIGH");
      const ids = Array.from({ length: devices }, (_, i) => `bulk-${String(i).padStart(4, "0")}`);
      // Enrollment goes through the devices subgraph's events; here the evaluator learns devices from assessments.
      for (let i = 0; i < ids.length; i += 250) {
        await graph.events.publish(
          "threats",
          ids.slice(i, i + 250).map((deviceId) => ({
            id: randomUUID(),
            type: "device.assessment.changed",
            tenantId,
            aggregateId: deviceId,
            version: 1,
            occurredAt: new Date().toISOString(),
            payload: { deviceId, platform: "IOS", previousLevel: null, level: "MEDIUM", dataStatus: "REPORTED", blockOnMissing: false, partner: "LOOKOUT", unresponsiveSince: null } satisfies AssessmentChangedPayload,
          })),
        );
      }
      const analyst = await graph.token({ tenantId, role: "analyst" });
      await waitFor(async () => (await graph.query(analyst, `query($id: ID!) { device(id: $id) { id } }`, { id: ids.at(-1)! })) !== null, 1000);
      // Wait until the evaluator has every device (all compliant under HIGH: no changes yet).
      await waitFor(async () => {
        const result = await graph.query(admin, `{ _service { sdl } }`, undefined, graph.subgraphs.policies!.url);
        return result.errors === undefined;
      });
      const policiesUrl = graph.subgraphs.policies!.url;
      await waitFor(
        async () => {
          const last = await graph.query(admin, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Device { access { allowed } } } }`, { r: [{ __typename: "Device", id: ids.at(-1) }] }, policiesUrl);
          return last.data?._entities?.[0]?.access?.length === 2;
        },
        120_000,
        "every device evaluated",
      );
      expect(await changes(admin)).toHaveLength(0);

      await graph.query(admin, SET_COMPLIANCE, { input: { platform: "IOS", name: "iOS strict", maxThreatLevel: "LOW" } });
      const all = await (async () => {
        await waitFor(async () => (await graph.query(admin, `{ accessChanges(first: 1) { totalCount } }`)).data!.accessChanges.totalCount >= devices * 2, 120_000, "2,000 revocations");
        return changes(admin);
      })();
      expect(all).toHaveLength(devices * 2);
      expect(all.map((c) => c.sequence)).toEqual(Array.from({ length: devices * 2 }, (_, i) => i + 1));
      expect(all.every((c) => !c.allowed && /risk MEDIUM from LOOKOUT exceeds IOS policy maximum LOW/.test(c.reason))).toBe(true);
      expect(new Set(all.map((c) => `${c.device.id}/${c.resource}`)).size).toBe(devices * 2);
      expect((await changes(admin, "exchange")).length).toBe(devices);
    }, 300_000);

    describe("accessChanged subscription on the subgraph", () => {
      const clients: Client[] = [];
      afterAll(async () => {
        for (const client of clients) await client.dispose();
      });

      function client(token: string | null): Client {
        const c = createClient({
          url: graph.subgraphs.policies!.url.replace("http", "ws"),
          webSocketImpl: WebSocket,
          connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
          retryAttempts: 0,
          lazy: true,
        });
        clients.push(c);
        return c;
      }

      function subscribe(c: Client, variables: Record<string, unknown>, received: Change[], errors: unknown[] = []) {
        return c.subscribe<{ accessChanged: Change }>(
          { query: `subscription($after: String, $resources: [String!]) { accessChanged(after: $after, resources: $resources) { cursor sequence resource allowed reason device { id } } }`, variables },
          { next: (result) => (result.data ? received.push(result.data.accessChanged) : errors.push(result.errors)), error: (error) => errors.push(error), complete: () => undefined },
        );
      }

      it("resumes after a disconnect with exactly the missed changes, then live ones", async () => {
        const { tenantId, admin } = await tenant("LOW");
        const enforcement = await graph.token({ tenantId, role: "enforcement" });
        await enroll(admin, "sub-1");
        let high = false;
        let flips = 0;
        const flip = () => {
          high = !high;
          flips += 1;
          return assess(tenantId, "sub-1", high ? "HIGH" : "SECURED");
        };
        const first: Change[] = [];
        const c1 = client(enforcement);
        // From the beginning of the tenant's history, so the first change cannot slip past a subscription not yet live.
        const stop = subscribe(c1, { after: Buffer.from("[0]").toString("base64url") }, first);
        await flip();
        await waitFor(() => first.length === 2, 10_000, "the first two changes");
        stop();
        await c1.dispose();
        const last = first.at(-1)!;

        // 50 changes while disconnected: 25 flips × 2 resources (every flip changes both).
        for (let i = 0; i < 25; i++) await flip();
        const stored = await untilChanges(admin, flips * 2);
        expect(stored).toHaveLength(flips * 2);
        // Exactly what the client did not see: the 50, and any change of the warm-up flips it had not received yet.
        const missed = stored.filter((c) => c.sequence > last.sequence);
        expect(missed.length).toBeGreaterThanOrEqual(50);

        const resumed: Change[] = [];
        subscribe(client(enforcement), { after: last.cursor }, resumed);
        await waitFor(() => resumed.length === missed.length, 10_000, "replayed changes");
        expect(resumed).toEqual(missed.map(({ cursor, sequence, resource, allowed, reason, device }) => ({ cursor, sequence, resource, allowed, reason, device })));

        await flip();
        await waitFor(() => resumed.length === missed.length + 2, 10_000, "live changes after the replay");
        expect(resumed.map((c) => c.sequence)).toEqual(Array.from({ length: missed.length + 2 }, (_, i) => i + last.sequence + 1));
      });

      it("filters by resource and keeps tenants apart", async () => {
        const a = await tenant("LOW");
        const b = await tenant("LOW");
        const exchangeOnly: Change[] = [];
        const otherTenant: Change[] = [];
        subscribe(client(await graph.token({ tenantId: a.tenantId, role: "analyst" })), { after: null, resources: ["exchange"] }, exchangeOnly);
        subscribe(client(await graph.token({ tenantId: b.tenantId, role: "enforcement" })), { after: null }, otherTenant);
        await enroll(a.admin, "iso-1");
        // Replay from the beginning makes the test independent of when the subscriptions went live.
        await assess(a.tenantId, "iso-1", "HIGH");
        await untilChanges(a.admin, 2);
        const replay: Change[] = [];
        subscribe(client(await graph.token({ tenantId: a.tenantId, role: "analyst" })), { after: Buffer.from("[0]").toString("base64url"), resources: ["exchange"] }, replay);
        await waitFor(() => replay.length === 1, 10_000);
        expect(replay[0]!.resource).toBe("exchange");
        expect(otherTenant).toEqual([]);
        expect((await changes(b.admin)).length).toBe(0);
        expect(exchangeOnly.every((c) => c.resource === "exchange")).toBe(true);
      });

      it("rejects partners and unauthenticated connections", async () => {
        const { tenantId } = await tenant("LOW");
        const errors: unknown[] = [];
        subscribe(client(await graph.token({ tenantId, role: "partner", partner: "LOOKOUT" })), {}, [], errors);
        await waitFor(() => errors.length > 0);
        expect(JSON.stringify(errors[0])).toMatch(/FORBIDDEN|may not/);

        const closed: unknown[] = [];
        subscribe(client(null), {}, [], closed);
        await waitFor(() => closed.length > 0);
        expect((closed[0] as { code?: number }).code).toBe(4403);
      });
    });

    describe("policy administration", () => {
      it("only admins change policies; bad input is BAD_USER_INPUT naming the field, and nothing is stored", async () => {
        const { tenantId, admin } = await tenant("LOW");
        const analyst = await graph.token({ tenantId, role: "analyst" });
        expect((await graph.query(analyst, SET_COMPLIANCE, { input: { platform: "IOS", name: "x", maxThreatLevel: "HIGH" } })).errors![0]!.extensions!.code).toBe("FORBIDDEN");
        for (const [input, field] of [
          [{ name: "n", resources: [], platforms: ["IOS"], enabled: true }, "input.resources"],
          [{ name: "n", resources: ["exchange", "exchange"], platforms: ["IOS"], enabled: true }, "input.resources[1]"],
          [{ name: "n", resources: ["bad resource"], platforms: ["IOS"], enabled: true }, "input.resources[0]"],
          [{ name: "n", resources: ["exchange"], platforms: [], enabled: true }, "input.platforms"],
          [{ name: "", resources: ["exchange"], platforms: ["IOS"], enabled: true }, "input.name"],
        ] as const) {
          const result = await graph.query(admin, SET_CA, { input });
          expect(result.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
          expect(result.errors![0]!.message.startsWith(`${field}:`)).toBe(true);
        }
        const unknownPlatform = await graph.query(admin, SET_CA, { input: { name: "n", resources: ["x"], platforms: ["SYMBIAN"], enabled: true } });
        expect(unknownPlatform.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
        const policies = await graph.query(admin, `{ conditionalAccessPolicies { name } compliancePolicies { platform maxThreatLevel } }`);
        expect(policies.data).toEqual({ conditionalAccessPolicies: [{ name: "Mail and files" }], compliancePolicies: [{ platform: "IOS", maxThreatLevel: "LOW" }] });

        const missing = await graph.query(admin, SET_CA, { input: { id: "no-such-policy", name: "n", resources: ["x"], platforms: ["IOS"], enabled: true } });
        expect(missing.errors![0]!.extensions!.code).toBe("NOT_FOUND");
      });

      it("one compliance policy per platform: setting it again replaces it", async () => {
        const { admin } = await tenant("LOW");
        const again = await graph.query(admin, SET_COMPLIANCE, { input: { platform: "IOS", name: "stricter", maxThreatLevel: "SECURED" } });
        const list = await graph.query(admin, `{ compliancePolicies { id name maxThreatLevel } }`);
        expect(list.data!.compliancePolicies).toEqual([{ id: again.data!.setCompliancePolicy.id, name: "stricter", maxThreatLevel: "SECURED" }]);
      });

      it("keeps tenants apart on queries, through the gateway and on the subgraph", async () => {
        const a = await tenant("LOW");
        await enroll(a.admin, "iso-q");
        await assess(a.tenantId, "iso-q", "HIGH");
        await untilChanges(a.admin, 2);
        const other = await graph.token({ tenantId: "someone-else", role: "admin" });
        for (const url of [graph.gatewayUrl, graph.subgraphs.policies!.url]) {
          const result = await graph.query(other, `{ accessChanges { totalCount } compliancePolicies { id } conditionalAccessPolicies { id } }`, undefined, url);
          expect(result.data).toEqual({ accessChanges: { totalCount: 0 }, compliancePolicies: [], conditionalAccessPolicies: [] });
        }
        const entities = await graph.query(other, `{ _entities(representations: [{ __typename: "Device", id: "iso-q" }]) { ... on Device { complianceState access { resource } } } }`, undefined, graph.subgraphs.policies!.url);
        expect(entities.data!._entities).toEqual([{ complianceState: "COMPLIANT", access: [] }]);
        const partner = await graph.token({ tenantId: a.tenantId, role: "partner", partner: "LOOKOUT" });
        expect((await graph.query(partner, `{ accessChanges { totalCount } }`)).errors![0]!.extensions!.code).toBe("FORBIDDEN");
      });
    });
  });
}
