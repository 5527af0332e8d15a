import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildGraphQLWSExecutor } from "@graphql-tools/executor-graphql-ws";
import { parse } from "graphql";
import { createLogger } from "../../lib/logger.js";
import { start as startGateway } from "../../gateway/server.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";
import { GatewayCloseCode } from "../../gateway/subscriptions/protocol.js";
import { startProxy, startSubscriptionEngine, Subscriber, Tenant, untilLive, wsUrl, type Received } from "./subscriptions-helpers.js";

const ACCESS = /* GraphQL */ `
  subscription Access($resources: [String!], $after: String) {
    change: accessChanged(resources: $resources, after: $after) {
      position: cursor
      resource
      ...Verdict
      device { ...DeviceFacts }
    }
  }
  fragment Verdict on AccessChange { allowed reason }
  fragment DeviceFacts on Device { id name platform riskLevel complianceState }
`;
/** Without the cursor: the gateway asks the subgraph for it anyway and strips it. */
const ACCESS_NO_CURSOR = /* GraphQL */ `subscription($after: String) { accessChanged(after: $after) { resource allowed device { id name } } }`;
const CURSORS = /* GraphQL */ `subscription($after: String) { accessChanged(after: $after) { cursor resource allowed device { id } } }`;

type Change = { cursor: string; resource: string; allowed: boolean; device: { id: string } };
const changesOf = (received: Received, key = "accessChanged") => received.data.map((data) => data![key] as Change);

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`gateway subscriptions on ${engine.name}`, () => {
    let graph: TestGraph;
    let contoso: Tenant;
    const open: { dispose(): Promise<unknown> | unknown }[] = [];
    const subscriber = (token: string | null | undefined, url = graph.gatewayUrl) => {
      const client = new Subscriber(url, token);
      open.push(client);
      return client;
    };
    const tenant = (id: string) => Tenant.create(id, graph.query, graph.token);

    beforeAll(async () => {
      graph = await startGraph({ ...engine, env: { MTD_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: "4", MTD_WS_MAX_SUBSCRIPTIONS_PER_TENANT: "5" } });
      contoso = await tenant("contoso");
      await contoso.enroll("ipad-1", "Ada's iPad");
    });
    afterAll(async () => {
      for (const client of open) await client.dispose();
      await graph?.stop();
    });

    it("delivers access changes with fields from every subgraph, through aliases and fragments, in sequence order", async () => {
      const after = await contoso.baseline("ipad-1", "Ada's iPad");
      await contoso.restore("ipad-1");
      const head = (await contoso.stored(4)).at(-1)!.cursor;
      const client = subscriber(contoso.enforcement);
      const access = client.subscribe(ACCESS, { resources: null, after: head });
      const bare = client.subscribe(ACCESS_NO_CURSOR, { after: head });
      await contoso.revoke("ipad-1");
      const revoked = await access.count(2);
      expect(revoked.map((r) => r.errors)).toEqual([undefined, undefined]);
      expect(revoked.map((r) => r.data!.change)).toEqual([
        {
          position: expect.any(String),
          resource: "exchange",
          allowed: false,
          reason: expect.stringMatching(/^noncompliant: risk HIGH from LOOKOUT exceeds IOS policy maximum LOW/),
          device: { id: "ipad-1", name: "Ada's iPad", platform: "IOS", riskLevel: "HIGH", complianceState: "NONCOMPLIANT" },
        },
        expect.objectContaining({ resource: "sharepoint", allowed: false, device: expect.objectContaining({ riskLevel: "HIGH" }) }),
      ]);

      await contoso.restore("ipad-1");
      const all = await access.count(4);
      expect(all.slice(2).map((r) => [r.data!.change.resource, r.data!.change.allowed, r.data!.change.device.riskLevel, r.data!.change.device.complianceState])).toEqual([
        ["exchange", true, "SECURED", "COMPLIANT"],
        ["sharepoint", true, "SECURED", "COMPLIANT"],
      ]);
      const stored = (await contoso.changes()).slice(4);
      expect(all.map((r) => r.data!.change.position)).toEqual(stored.map((change) => change.cursor));
      expect(after).not.toBe(head);

      // The cursor was requested upstream for resumption but is not delivered to a client that did not select it.
      const bareResults = await bare.count(4);
      expect(bareResults.map((r) => r.data)).toEqual(
        stored.map((change) => ({ accessChanged: { resource: change.resource, allowed: change.allowed, device: { id: "ipad-1", name: "Ada's iPad" } } })),
      );
    });

    it("deviceRiskChanged with fields from devices and policies", async () => {
      const fabrikam = await tenant("risk-tenant");
      await fabrikam.enroll("pixel-1", "Pixel");
      const client = subscriber(fabrikam.enforcement);
      const risk = client.subscribe(/* GraphQL */ `
        subscription { r: deviceRiskChanged { level previousLevel at device { ... on Device { id name platform } complianceState } } }
      `);
      await untilLive(risk, (attempt) => (attempt % 2 === 0 ? fabrikam.revoke("pixel-1") : fabrikam.restore("pixel-1")));
      const [first] = await risk.count(1);
      expect(first!.errors).toBeUndefined();
      expect(first!.data!.r).toMatchObject({ device: { id: "pixel-1", name: "Pixel", platform: "IOS" } });
      expect(["HIGH", "SECURED"]).toContain(first!.data!.r.level);
      expect(["COMPLIANT", "NONCOMPLIANT"]).toContain(first!.data!.r.device.complianceState);
      expect(Date.parse(first!.data!.r.at)).toBeGreaterThan(Date.now() - 120_000);
    });

    it("replays everything after `after`, then continues live, without gap or duplicate", async () => {
      const tenantR = await tenant("replay");
      await tenantR.enroll("r-1");
      await tenantR.revoke("r-1");
      await tenantR.restore("r-1");
      await waitFor(async () => (await tenantR.changes()).length === 4, 10_000, "4 stored changes");
      const stored = await tenantR.changes();

      const client = subscriber(tenantR.enforcement);
      const resumed = client.subscribe(CURSORS, { after: stored[1]!.cursor });
      await resumed.count(2);
      await tenantR.revoke("r-1");
      await resumed.count(4);
      const now = await tenantR.changes();
      expect(changesOf(resumed).map((c) => c.cursor)).toEqual(now.slice(2).map((c) => c.cursor));

      // A literal `after` in the document works the same.
      const literal = client.subscribe(`subscription { accessChanged(after: "${stored[2]!.cursor}") { cursor } }`);
      await literal.count(3);
      expect(literal.data.map((d) => d!.accessChanged.cursor)).toEqual(now.slice(3).map((c) => c.cursor));
    });

    it("resumes from the last cursor it received when the upstream connection drops: no gap, no duplicate", async () => {
      const tenantU = await tenant("upstream-drop");
      await tenantU.enroll("u-1");
      await tenantU.enroll("u-2");
      const proxy = await startProxy(graph.subgraphs.policies!.url);
      const gateway = await startGateway({
        config: { ...graph.config, port: 0, subgraphUrls: { ...graph.config.subgraphUrls, policies: proxy.url }, subscriptions: { ...graph.config.subscriptions, upstreamRetryMaxMs: 300 } },
        logger: createLogger("silent", "test"),
      });
      open.push(gateway, { dispose: proxy.close });
      const client = subscriber(tenantU.enforcement, gateway.url);
      const live = client.subscribe(CURSORS); // no `after`: resumed from the gateway's own last cursor
      await untilLive(live, (attempt) => (attempt % 2 === 0 ? tenantU.revoke("u-1") : tenantU.restore("u-1")));
      const before = (await tenantU.changes()).length;
      await live.count(before - (await firstIndex(tenantU, live)));

      proxy.cut();
      // Changes committed while the gateway cannot reach the policies subgraph.
      await tenantU.revoke("u-2");
      await tenantU.restore("u-2");
      await tenantU.stored(before + 4);
      proxy.restore();
      await tenantU.revoke("u-2");

      const stored = await tenantU.stored(before + 6);
      const from = await firstIndex(tenantU, live);
      await live.count(stored.length - from, 15_000);
      expect(changesOf(live).map((c) => c.cursor)).toEqual(stored.slice(from).map((c) => c.cursor));
      expect(live.results.every((r) => r.errors === undefined)).toBe(true);
    });

    it("an entity fetch that fails puts an error on that event and the stream goes on", async () => {
      const tenantE = await tenant("entity-failure");
      const devices = await startProxy(graph.subgraphs.devices!.url);
      const gateway = await startGateway({
        config: { ...graph.config, port: 0, subgraphUrls: { ...graph.config.subgraphUrls, devices: devices.url } },
        logger: createLogger("silent", "test"),
      });
      open.push(gateway, { dispose: devices.close });
      const client = subscriber(tenantE.enforcement, gateway.url);
      const head = await tenantE.baseline("e-1", "Phone e-1");
      await tenantE.restore("e-1");
      const stream = client.subscribe(`subscription($after: String) { accessChanged(after: $after) { cursor resource device { name complianceState } } }`, { after: head });
      await stream.count(2);

      devices.cut();
      await tenantE.revoke("e-1");
      const failed = (await stream.count(4)).slice(2);
      for (const result of failed) {
        expect(result.errors!.length).toBeGreaterThan(0);
        expect(typeof result.errors![0]!.message).toBe("string");
        expect(result.errors![0]!.message).not.toContain("[object Object]");
        expect(result.errors![0]!.extensions?.code).toEqual(expect.any(String));
      }
      devices.restore();
      await tenantE.restore("e-1");
      const all = await stream.count(6);
      expect(all.slice(4).map((r) => [r.errors, r.data!.accessChanged.device])).toEqual([
        [undefined, { name: "Phone e-1", complianceState: "COMPLIANT" }],
        [undefined, { name: "Phone e-1", complianceState: "COMPLIANT" }],
      ]);
    });

    describe("security", () => {
      it("closes with 4403 on a missing, malformed, forged or expired token", async () => {
        const expired = await graph.token({ tenantId: "contoso", role: "enforcement", expiresIn: -3600 });
        const forged = contoso.enforcement.slice(0, contoso.enforcement.lastIndexOf(".") + 1) + "A".repeat(43);
        for (const token of [null, undefined, "not-a-jwt", forged, expired]) {
          const client = subscriber(token);
          const closed = await client.closed.promise;
          expect(closed.code, String(token)).toBe(4403);
          expect(closed.reason).toMatch(/^Forbidden/);
        }
        const expiredClient = subscriber(expired);
        expect((await expiredClient.closed.promise).reason).toContain("token expired");
      });

      it("ends subscriptions with a clear error and closes 4403 when the token expires", async () => {
        const shortLived = await graph.token({ tenantId: "contoso", role: "enforcement", expiresIn: 1 });
        const client = subscriber(shortLived);
        const stream = client.subscribe(ACCESS_NO_CURSOR, { after: null });
        await client.connected.promise;
        const closed = await client.closed.promise;
        expect(closed).toEqual({ code: 4403, reason: "token expired" });
        await stream.ended.promise;
        const errors = stream.error as { message: string; extensions?: { code?: string } }[];
        expect(errors[0]!.extensions?.code).toBe("UNAUTHENTICATED");
        expect(errors[0]!.message).toMatch(/token expired/);
      });

      it("isolates tenants: a subscriber of another tenant sees none of contoso's changes", async () => {
        const other = await tenant("isolated");
        const otherHead = await other.baseline("i-1");
        const contosoHead = (await contoso.changes()).at(-1)!.cursor;
        const client = subscriber(other.enforcement);
        const stream = client.subscribe(CURSORS, { after: otherHead });
        const contosoClient = subscriber(contoso.enforcement);
        const contosoStream = contosoClient.subscribe(CURSORS, { after: contosoHead });
        await contoso.revoke("ipad-1");
        await contosoStream.count(2);
        await other.restore("i-1");
        await stream.count(2);
        await contoso.restore("ipad-1");
        await contosoStream.count(4);
        await other.revoke("i-1");
        await stream.count(4);
        expect(changesOf(stream).map((c) => [c.device.id, c.allowed])).toEqual([["i-1", true], ["i-1", true], ["i-1", false], ["i-1", false]]);
        expect(changesOf(contosoStream).map((c) => c.device.id)).toEqual(["ipad-1", "ipad-1", "ipad-1", "ipad-1"]);
      });

      it("rejects partners with FORBIDDEN from the subgraph", async () => {
        const client = subscriber(contoso.partner);
        const stream = client.subscribe(CURSORS);
        await stream.ended.promise;
        const errors = stream.error as { message: string; extensions?: { code?: string } }[];
        expect(Array.isArray(errors)).toBe(true);
        expect(errors[0]!.extensions?.code).toBe("FORBIDDEN");
        expect(errors[0]!.message).toMatch(/role partner/);
      });
    });

    describe("protocol", () => {
      it("rejects queries and mutations over the WebSocket with OPERATION_NOT_SUPPORTED", async () => {
        const client = subscriber(contoso.enforcement);
        for (const query of [`{ devices { totalCount } }`, `mutation { partnerHeartbeat { state } }`]) {
          const stream = client.subscribe(query);
          await stream.ended.promise;
          expect((stream.error as { extensions: { code: string } }[])[0]!.extensions.code).toBe("OPERATION_NOT_SUPPORTED");
          expect((stream.error as { message: string }[])[0]!.message).toContain("HTTP POST");
        }
      });

      it("reports invalid documents and variables as GraphQL errors", async () => {
        const client = subscriber(contoso.enforcement);
        const cases: [string, Record<string, unknown> | undefined, string, RegExp][] = [
          ["subscription { accessChanged { nope } }", undefined, "GRAPHQL_VALIDATION_FAILED", /Cannot query field "nope"/],
          ["subscription {", undefined, "GRAPHQL_PARSE_FAILED", /Syntax Error/],
          ["subscription($r: [String!]) { accessChanged(resources: $r) { cursor } }", { r: 5 }, "BAD_USER_INPUT", /\$r/],
          ["subscription { accessChanged(after: \"garbage\") { cursor } }", undefined, "BAD_USER_INPUT", /after/],
          ["subscription { accessChanged { _resumeCursor: resource } }", undefined, "BAD_USER_INPUT", /reserved/],
          [`subscription { accessChanged { ${Array.from({ length: 20 }, (_, i) => `a${i}: resource`).join(" ")} } }`, undefined, "OPERATION_LIMIT", /maxAliases/],
        ];
        for (const [query, variables, code, message] of cases) {
          const stream = client.subscribe(query, variables);
          await stream.ended.promise;
          const errors = stream.error as { message: string; extensions: { code: string } }[];
          expect(errors[0]!.extensions.code, query).toBe(code);
          expect(errors[0]!.message).toMatch(message);
        }
      });

      it("limits subscriptions per connection and per tenant with TOO_MANY_SUBSCRIPTIONS", async () => {
        const limited = await tenant("limited");
        await limited.baseline("l-1");
        const [{ cursor: first }] = await limited.changes();
        // Each accepted subscription replays the second change at once: that is how the test knows it is active.
        const replaying = (client: Subscriber) => client.subscribe(CURSORS, { after: first });
        const one = subscriber(limited.enforcement);
        const streams = [0, 1, 2, 3].map(() => replaying(one));
        await Promise.all(streams.map((stream) => stream.count(1)));
        const fifth = replaying(one);
        await fifth.ended.promise;
        expect((fifth.error as { extensions: { code: string } }[])[0]!.extensions.code).toBe("TOO_MANY_SUBSCRIPTIONS");
        expect((fifth.error as { message: string }[])[0]!.message).toMatch(/at most 4 .* per connection/);

        const two = subscriber(limited.enforcement);
        const fifthOfTenant = replaying(two);
        await fifthOfTenant.count(1);
        const sixthOfTenant = replaying(two);
        await sixthOfTenant.ended.promise;
        expect((sixthOfTenant.error as { extensions: { code: string } }[])[0]!.extensions.code).toBe("TOO_MANY_SUBSCRIPTIONS");
        expect((sixthOfTenant.error as { message: string }[])[0]!.message).toMatch(/at most 5 .* per tenant/);

        // Completing one frees its place; so does closing a connection.
        streams[0]!.dispose();
        await waitFor(async () => {
          const again = replaying(two);
          await Promise.race([again.ended.promise, again.count(1).catch(() => undefined)]);
          return again.error === undefined;
        }, 5000, "a free place after complete");
        await one.dispose();
        const three = subscriber(limited.enforcement);
        await waitFor(async () => {
          const again = replaying(three);
          await Promise.race([again.ended.promise, again.count(1).catch(() => undefined)]);
          return again.error === undefined;
        }, 5000, "a free place after disconnect");
      });

      it("works unchanged with a third-party graphql-ws client (@graphql-tools/executor-graphql-ws)", async () => {
        const tenantT = await tenant("third-party");
        const head = await tenantT.baseline("t-1", "Third");
        const executor = buildGraphQLWSExecutor({ url: wsUrl(graph.gatewayUrl), connectionParams: { authorization: `Bearer ${tenantT.enforcement}` } });
        open.push({ dispose: () => executor[Symbol.asyncDispose]() });
        const iterable = (await executor({
          document: parse(`subscription($after: String) { accessChanged(after: $after) { cursor resource allowed device { name riskLevel } } }`),
          variables: { after: head },
        })) as AsyncIterable<{ data: any }>;
        const results: any[] = [];
        const reading = (async () => {
          for await (const result of iterable) {
            results.push(result.data.accessChanged);
            if (results.length === 2) break;
          }
        })();
        await tenantT.restore("t-1");
        await reading;
        const stored = (await tenantT.changes()).slice(2);
        expect(results).toEqual(stored.map((c) => ({ cursor: c.cursor, resource: c.resource, allowed: true, device: { name: "Third", riskLevel: "SECURED" } })));
      });

      it("closes a client that cannot keep up with 4290 (ours: slow consumer) and a message to resume from its last cursor", async () => {
        const { tenant: slow, head, baseline } = await Tenant.wide("slow", graph.query, graph.token);
        const gateway = await startSubscriptionEngine(graph.config, { limits: { maxQueuedEvents: 5 } });
        open.push({ dispose: gateway.stop });
        const client = subscriber(slow.enforcement, gateway.url);
        await client.connected.promise;
        // The client stops reading: once the socket buffers between gateway and client are full, its queue grows.
        client.socket!.pause();
        const stream = client.subscribe(`subscription($after: String) { accessChanged(after: $after) { cursor resource device { access { resource allowed reason decidedAt } } } }`, { after: head });
        // 300 events of ~25 kB: more than the socket buffers between gateway and a client that does not read hold.
        await slow.restore("s-1");
        await slow.revoke("s-1");
        await slow.stored(baseline + 300, 20_000);
        await waitFor(() => gateway.engine.stats().slowConsumersClosed === 1, 20_000, "the gateway to close the slow client");
        client.socket!.resume();
        const closed = await client.closed.promise;
        expect(closed.code).toBe(GatewayCloseCode.SlowConsumer);
        expect(closed.code).toBe(4290);
        expect(closed.reason).toMatch(/Slow consumer.*after = the last cursor/);
        expect(stream.results.length).toBeLessThan(300);
        // What did arrive is a gap-free prefix: resuming from its last cursor loses nothing.
        const stored = (await slow.changes()).slice(baseline);
        expect(stream.data.map((d) => d!.accessChanged.cursor)).toEqual(stored.slice(0, stream.results.length).map((c) => c.cursor));
        expect(stream.results.every((r) => r.data!.accessChanged.device.access.length === 150)).toBe(true);
      });
    });
  });
}

/** Index, in the tenant's stored changes, of the first change `stream` received. */
async function firstIndex(tenant: Tenant, stream: Received): Promise<number> {
  const first = (stream.results[0]!.data!.accessChanged as Change).cursor;
  return (await tenant.changes()).findIndex((change) => change.cursor === first);
}
