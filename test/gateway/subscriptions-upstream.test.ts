import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";
import { startProxy, startSubscriptionEngine, Subscriber, Tenant } from "./subscriptions-helpers.js";

const CHANGES = /* GraphQL */ `
  subscription($after: String, $resources: [String!]) { accessChanged(after: $after, resources: $resources) { cursor resource allowed device { id name } } }
`;

// A unit test of upstream.ts through the engine's counters, on the embedded engine (the integration suites run on both).
{
  describe("upstream sharing", () => {
    let graph: TestGraph;
    let gateway: Awaited<ReturnType<typeof startSubscriptionEngine>>;
    const clients: Subscriber[] = [];
    const subscriber = (token: string) => {
      const client = new Subscriber(gateway.url, token);
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      graph = await startGraph();
      gateway = await startSubscriptionEngine(graph.config, { limits: { upstreamRetryMaxMs: 200 } });
    });
    afterAll(async () => {
      for (const client of clients) await client.dispose();
      await gateway?.stop();
      await graph?.stop();
    });

    it("shares one upstream subscription between identical operations of one identity, and one connection per identity", async () => {
      const tenant = await Tenant.create("sharing", graph.query, graph.token);
      const head = await tenant.baseline("s-1");
      const stats = () => gateway.engine.stats();
      expect(stats()).toMatchObject({ connections: 0, subscriptions: 0 });

      const a = subscriber(tenant.enforcement).subscribe(CHANGES, { after: head });
      const b = subscriber(tenant.enforcement).subscribe(CHANGES, { after: head });
      await waitFor(() => stats().listeners === 2, 5000, "two listeners");
      expect(stats()).toMatchObject({ connections: 1, subscriptions: 1, listeners: 2, subscribes: 1 });

      // Another token of the same tenant and role is another identity: its own connection and subscription.
      const otherToken = await graph.token({ tenantId: "sharing", role: "enforcement", subject: "second-service" });
      const c = subscriber(otherToken).subscribe(CHANGES, { after: head });
      // Other variables, same token: another subscription on the same (multiplexed) connection.
      const d = subscriber(tenant.enforcement).subscribe(CHANGES, { after: head, resources: ["exchange"] });
      await waitFor(() => stats().listeners === 4, 5000, "four listeners");
      expect(stats()).toMatchObject({ connections: 2, subscriptions: 3, listeners: 4, subscribes: 3 });

      await tenant.restore("s-1");
      const stored = (await tenant.stored(4)).slice(2);
      for (const stream of [a, b, c]) {
        await stream.count(2);
        expect(stream.data.map((data) => data!.accessChanged.cursor)).toEqual(stored.map((change) => change.cursor));
      }
      await d.count(1);
      expect(d.data.map((data) => data!.accessChanged.resource)).toEqual(["exchange"]);

      // A client asking for events after an older cursor than the shared subscription stands at gets its own (replaying) one.
      const e = subscriber(tenant.enforcement).subscribe(CHANGES, { after: head });
      await e.count(2);
      expect(stats().subscriptions).toBe(4);

      // When its last client leaves, an upstream subscription completes; an idle connection closes.
      for (const stream of [a, b, c, d, e]) stream.dispose();
      await waitFor(() => stats().subscriptions === 0 && stats().connections === 0, 5000, "upstream released");
      expect(stats().listeners).toBe(0);
    });

    it("a client disconnecting releases its share; the others keep receiving", async () => {
      const tenant = await Tenant.create("leaving", graph.query, graph.token);
      const head = await tenant.baseline("l-1");
      const stay = subscriber(tenant.enforcement);
      const leave = subscriber(tenant.enforcement);
      const staying = stay.subscribe(CHANGES, { after: head });
      leave.subscribe(CHANGES, { after: head });
      await waitFor(() => gateway.engine.stats().listeners === 2, 5000, "two listeners");
      await leave.dispose();
      await waitFor(() => gateway.engine.stats().listeners === 1, 5000, "one listener left");
      expect(gateway.engine.stats().subscriptions).toBe(1);
      await tenant.restore("l-1");
      await staying.count(2);
      staying.dispose();
      await waitFor(() => gateway.engine.stats().connections === 0, 5000, "idle connection closed");
    });

    it("resubscribes after the last cursor when upstream sockets drop, without gap or duplicate", async () => {
      const tenant = await Tenant.create("dropping", graph.query, graph.token);
      const head = await tenant.baseline("d-1");
      const stream = subscriber(tenant.enforcement).subscribe(CHANGES, { after: head });
      await waitFor(() => gateway.engine.stats().listeners === 1, 5000, "listener");
      const resumesBefore = gateway.engine.stats().resumes;
      for (let round = 0; round < 3; round++) {
        await tenant.restore("d-1");
        await stream.count(4 * round + 2, 10_000);
        // The revocation is committed while the gateway reconnects: it must come from the replay after the last cursor.
        gateway.engine.dropUpstreamConnections();
        await tenant.revoke("d-1");
        await stream.count(4 * round + 4, 10_000);
      }
      const stored = (await tenant.stored(14)).slice(2);
      await stream.count(12, 15_000);
      expect(stream.data.map((data) => data!.accessChanged.cursor)).toEqual(stored.map((change) => change.cursor));
      expect(gateway.engine.stats().resumes - resumesBefore).toBeGreaterThanOrEqual(3);
      stream.dispose();
    });
  });

  describe("a live subscription pinned at the head", () => {
    let graph: TestGraph;
    let proxy: Awaited<ReturnType<typeof startProxy>>;
    let gateway: Awaited<ReturnType<typeof startSubscriptionEngine>>;
    let client: Subscriber;

    beforeAll(async () => {
      graph = await startGraph();
      proxy = await startProxy(graph.subgraphs.policies!.url);
      gateway = await startSubscriptionEngine(graph.config, { limits: { upstreamRetryMaxMs: 200 }, subgraphUrls: { policies: proxy.url } });
    });
    afterAll(async () => {
      await client?.dispose();
      await gateway?.stop();
      await proxy?.close();
      await graph?.stop();
    });

    it("loses nothing when the upstream drops between subscribe and the first event", async () => {
      const tenant = await Tenant.create("pinned", graph.query, graph.token);
      await tenant.baseline("p-1");
      const before = (await tenant.changes()).length;
      client = new Subscriber(gateway.url, tenant.enforcement);
      const live = client.subscribe(CHANGES); // no `after`: live from the stream's head
      // The subgraph told the gateway where the live stream starts: the gateway has a cursor before any event.
      await waitFor(() => gateway.engine.stats().pins === 1, 5000, "the head pinned");

      proxy.cut();
      // Committed while the gateway cannot reach the policies subgraph, before the client's first event.
      await tenant.restore("p-1");
      await tenant.stored(before + 2);
      proxy.restore();
      await tenant.revoke("p-1");

      const stored = (await tenant.stored(before + 4)).slice(before);
      await live.count(4, 15_000);
      expect(live.data.map((data) => data!.accessChanged.cursor)).toEqual(stored.map((change) => change.cursor));
      expect(live.results.every((result) => result.errors === undefined)).toBe(true);
      expect(gateway.engine.stats().resumes).toBeGreaterThanOrEqual(1);
      live.dispose();
    });
  });
}
