/**
 * The partner rule in every subgraph (lib/partner-rule.ts): a partner token is
 * valid only for a partner whose connector in the tenant is ENABLED or
 * UNRESPONSIVE; any other is FORBIDDEN on every field, through the gateway,
 * on each subgraph directly and over graphql-ws. Disabling the connector
 * closes the door within the event latency, enabling opens it; a replica
 * knows what the others knew, and a new view learns the connectors from the
 * threats subgraph's announcement.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { createLogger } from "../../lib/logger.js";
import type { RunningSubgraph } from "../../subgraphs/runtime.js";
import { start as startInventory } from "../../subgraphs/inventory/server.js";
import { start as startThreats } from "../../subgraphs/threats/server.js";
import { engines } from "../support/engines.js";
import { startGraph, type GraphQLResponse, type TestGraph } from "../support/graph.js";
import { partnerAdmission, waitForPartnerRule } from "../support/partners.js";
import { createMysqlDatabase } from "../support/services.js";
import { deferred, waitFor } from "../support/wait.js";

const TENANT = "zim";
const RULE = /not one of the tenant's enabled MTD connectors|no MTD connector is enabled/;
const REPORT_INPUT = { reportId: "r-1", deviceId: "z-1", observedAt: new Date(Date.now() - 60_000).toISOString(), threats: [{ externalId: "x", category: "APP", severity: "HIGH", title: "x", status: "ACTIVE" }] };

/** Every field a partner may use, through the gateway. */
const PARTNER_OPERATIONS: [string, string, Record<string, unknown>?][] = [
  ["apps", `query { apps { totalCount edges { node { appId } } } }`],
  ["appVersionCounts", `query { appVersionCounts(appId: "com.app") { version devices } }`],
  ["appInventorySettings", `query { appInventorySettings { iosAppSyncEnabled } }`],
  ["device.riskLevel", `query { device(id: "z-1") { riskLevel } }`],
  ["device.threats", `query { device(id: "z-1") { threats { id } } }`],
  ["device.apps", `query { device(id: "z-1") { apps { totalCount } } }`],
  ["device.complianceState", `query { device(id: "z-1") { complianceState } }`],
  ["devices", `query { devices { totalCount } }`],
  ["mtdConnector", `query { mtdConnector { partner } }`],
  ["mtdConnectors", `query { mtdConnectors { partner } }`],
  ["reportThreats", `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { duplicate } }`, { input: REPORT_INPUT }],
  ["reportThreatsBatch", `mutation($input: ReportThreatsInput!) { reportThreatsBatch(inputs: [$input]) { reportId } }`, { input: REPORT_INPUT }],
  ["partnerHeartbeat", `mutation { partnerHeartbeat { state } }`],
];

/** On each subgraph directly: a field of its own, or a Device field it resolves. */
const ON_SUBGRAPHS: Record<string, string> = {
  devices: `query { device(id: "z-1") { name } }`,
  threats: `query { _entities(representations: [{ __typename: "Device", id: "z-1" }]) { ... on Device { riskLevel } } }`,
  policies: `query { _entities(representations: [{ __typename: "Device", id: "z-1" }]) { ... on Device { complianceState } } }`,
  inventory: `query { apps { totalCount } }`,
  signals: `query { __typename }`,
};

function expectRefused(result: GraphQLResponse, what: string) {
  expect(result.errors?.[0]?.extensions?.code, `${what}: ${JSON.stringify(result)}`).toBe("FORBIDDEN");
  expect(result.errors![0]!.message, what).toMatch(RULE);
  expect(JSON.stringify(result.data ?? null), what).not.toMatch(/com\.app|HIGH|z-1|ZIMPERIUM/);
}

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`the partner rule on ${engine.name}`, () => {
    let graph: TestGraph;
    let admin: string;
    let lookout: string;
    let zimperium: string;
    const cleanup: (() => Promise<void>)[] = [];

    async function ok(token: string, query: string, variables?: Record<string, unknown>) {
      const result = await graph.query(token, query, variables);
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      return result.data!;
    }
    /** A subscription over graphql-ws; resolves with its first error or its first event. */
    function subscribeOnce(url: string, token: string, query: string): Promise<unknown> {
      const client = createClient({ url: url.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
      cleanup.push(() => client.dispose() as Promise<void>);
      const first = deferred<unknown>();
      client.subscribe({ query }, { next: (result) => first.resolve(result.errors ?? result.data), error: (error) => first.resolve(error), complete: () => first.resolve("complete") });
      return first.promise;
    }

    beforeAll(async () => {
      // Acknowledged events leave the log at once: a new view cannot learn connectors from old transitions.
      graph = await startGraph({ ...engine, env: { MTD_EVENT_LOG_RETENTION_SECONDS: "0" } });
      admin = await graph.token({ tenantId: TENANT, role: "admin" });
      lookout = await graph.token({ tenantId: TENANT, role: "partner", partner: "LOOKOUT" });
      zimperium = await graph.token({ tenantId: TENANT, role: "partner", partner: "ZIMPERIUM" });
      await ok(admin, `mutation { enableMtdConnector(input: { partner: ZIMPERIUM, enabledPlatforms: [IOS] }) { state } }`);
      await ok(admin, `mutation { enrollDevice(input: { id: "z-1", name: "z", platform: IOS, osVersion: "17", ownership: CORPORATE }) { id } }`);
      await ok(admin, `mutation { setAppInventorySettings(input: { iosAppSyncEnabled: true, includePersonalDevices: false }) { iosAppSyncEnabled } }`);
      await waitFor(async () => (await graph.query(admin, `mutation { syncAppInventory(deviceId: "z-1", capturedAt: "${new Date().toISOString()}", apps: [{ appId: "com.app", name: "App", version: "1", validated: true, managed: true }]) { appCount } }`)).errors === undefined, 10_000, "z-1 known to inventory");
      await waitForPartnerRule(graph, zimperium);
    });
    afterAll(async () => {
      for (const step of cleanup.reverse()) await step().catch(() => {});
      await graph?.stop();
    });

    it("a LOOKOUT token on a ZIMPERIUM tenant is FORBIDDEN on every partner field, through the gateway and on each subgraph", async () => {
      for (const [name, query, variables] of PARTNER_OPERATIONS) expectRefused(await graph.query(lookout, query, variables), name);
      for (const [name, query] of Object.entries(ON_SUBGRAPHS)) expectRefused(await graph.query(lookout, query, undefined, graph.subgraphs[name]!.url), name);
      expect(await graph.query(admin, `query { device(id: "z-1") { threats { id } } }`)).toMatchObject({ data: { device: { threats: [] } } });
    });

    it("over graphql-ws: FORBIDDEN for each operation, on the subgraph and through the gateway", async () => {
      const onThreats = (await subscribeOnce(graph.subgraphs.threats!.url, lookout, `subscription { deviceRiskChanged { level } }`)) as { message: string; extensions: { code: string } }[];
      expect(onThreats[0]!.extensions.code).toBe("FORBIDDEN");
      expect(onThreats[0]!.message).toMatch(RULE);
      const viaGateway = (await subscribeOnce(graph.gatewayUrl, lookout, `subscription { accessChanged { sequence } }`)) as { message: string; extensions: { code: string } }[];
      expect(viaGateway[0]!.extensions.code).toBe("FORBIDDEN");
      expect(viaGateway[0]!.message).toMatch(RULE);
    });

    it("the enabled partner works", async () => {
      expect((await ok(zimperium, `query { apps { edges { node { appId } } } }`)).apps.edges).toEqual([{ node: { appId: "com.app" } }]);
      expect(await ok(zimperium, `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { duplicate device { name riskLevel } } }`, { input: REPORT_INPUT })).toEqual({
        reportThreats: { duplicate: false, device: { name: "z", riskLevel: "HIGH" } },
      });
      expect(await partnerAdmission(graph, zimperium)).toEqual({ devices: true, threats: true, policies: true, inventory: true, signals: true });
    });

    it("after disableMtdConnector the same token is FORBIDDEN everywhere within the event latency; re-enabling restores it", async () => {
      await ok(admin, `mutation { disableMtdConnector(partner: ZIMPERIUM) { state } }`);
      const disabled = Date.now();
      // The owner of the connectors refuses at once.
      expectRefused(await graph.query(zimperium, `mutation { partnerHeartbeat { state } }`), "heartbeat");
      await waitForPartnerRule(graph, zimperium, false);
      console.info(`partner rule: every subgraph refused ${Date.now() - disabled} ms after disableMtdConnector (${engine.name})`);
      for (const [name, query, variables] of PARTNER_OPERATIONS) expectRefused(await graph.query(zimperium, query, variables), name);

      await ok(admin, `mutation { enableMtdConnector(input: { partner: ZIMPERIUM, enabledPlatforms: [IOS] }) { state } }`);
      const enabled = Date.now();
      await waitForPartnerRule(graph, zimperium, true);
      console.info(`partner rule: every subgraph admitted ${Date.now() - enabled} ms after enableMtdConnector (${engine.name})`);
      expect((await ok(zimperium, `query { apps { totalCount } }`)).apps.totalCount).toBe(1);
    });

    it("a new replica knows what the others knew; a new view learns the connectors when threats announces them", async () => {
      const deps = (config: TestGraph["config"]) => ({ config: { ...config, port: 0 }, logger: createLogger("silent", "test"), events: graph.events });
      // Another inventory replica on the same database: the door is as the others left it, from its first request.
      const replica = await startInventory(deps(graph.config));
      cleanup.push(() => replica.dispose());
      expect((await graph.query(zimperium, `query { apps { totalCount } }`, undefined, replica.url)).data).toEqual({ apps: { totalCount: 1 } });
      expectRefused(await graph.query(lookout, `query { apps { totalCount } }`, undefined, replica.url), "replica");

      // An inventory on a database of its own (its consumer group's only member), after the connector events
      // left the log: it knows no connector (fail closed) ...
      await replica.dispose();
      await graph.subgraphs.inventory!.dispose();
      await graph.events.trim();
      const fresh = await freshInventory(graph, deps, cleanup);
      expectRefused(await graph.query(zimperium, `query { apps { totalCount } }`, undefined, fresh.url), "new view");
      // ... until a threats replica starts and announces every tenant's connectors.
      const threats = await startThreats(deps(graph.config));
      cleanup.push(() => threats.dispose());
      await waitFor(async () => (await graph.query(zimperium, `query { apps { totalCount } }`, undefined, fresh.url)).errors === undefined, 10_000, "the new view admits ZIMPERIUM");
      expectRefused(await graph.query(lookout, `query { apps { totalCount } }`, undefined, fresh.url), "new view, other partner");
    });
  });
}

/** An inventory subgraph on a new database (SQLite directory or MariaDB database of its own), on the graph's event log. */
async function freshInventory(graph: TestGraph, deps: (config: TestGraph["config"]) => Parameters<typeof startInventory>[0], cleanup: (() => Promise<void>)[]): Promise<RunningSubgraph> {
  const dataDir = mkdtempSync(join(tmpdir(), "mtd-partner-rule-"));
  cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const mysql = graph.config.databaseUrl === undefined ? undefined : await createMysqlDatabase();
  if (mysql !== undefined) cleanup.push(() => mysql.drop());
  const inventory = await startInventory(deps({ ...graph.config, dataDir, databaseUrl: mysql?.url }));
  cleanup.push(() => inventory.dispose());
  return inventory;
}
