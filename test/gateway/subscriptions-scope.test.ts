// Subscribers with different tokens of one authorization scope (tenant, role) share each event's execution.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metrics } from "../../lib/metrics.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";
import { Subscriber, Tenant } from "./subscriptions-helpers.js";

const SUBSCRIPTION = /* GraphQL */ `subscription($after: String) { accessChanged(resources: ["exchange"], after: $after) { cursor allowed device { id name } } }`;

describe("gateway subscriptions: one execution per event and authorization scope", () => {
  let graph: TestGraph;
  const open: Subscriber[] = [];

  beforeAll(async () => {
    graph = await startGraph();
  });
  afterAll(async () => {
    for (const client of open) await client.dispose();
    await graph?.stop();
  });

  it("fetches an event's entities once for every token of the same tenant and role, again for another role", async () => {
    const tenant = await Tenant.create("scope", graph.query, graph.token);
    const head = await tenant.baseline("phone-1", "Grace's phone");
    const tokens = [
      await graph.token({ tenantId: "scope", role: "enforcement", subject: "edge-a" }),
      await graph.token({ tenantId: "scope", role: "enforcement", subject: "edge-b" }),
      await graph.token({ tenantId: "scope", role: "admin", subject: "console" }),
    ];
    const upstreams = async () => (await metrics.subscriptions.get()).values.find(({ labels }) => labels.service === "policies" && labels.field === "accessChanged")?.value ?? 0;
    const before = await upstreams();
    const streams = tokens.map((token) => {
      const client = new Subscriber(graph.gatewayUrl, token);
      open.push(client);
      return client.subscribe(SUBSCRIPTION, { after: head });
    });
    await Promise.all(open.map((client) => client.connected.promise));
    // Every upstream subscription (one per token) established at the policies subgraph before the change happens.
    await waitFor(async () => (await upstreams()) >= before + tokens.length, 10_000, "an upstream subscription per token");

    const statements = graph.statements.devices!;
    const mark = statements.mark();
    await tenant.restore("phone-1");
    await Promise.all(streams.map((stream) => stream.count(1)));

    for (const stream of streams) expect(stream.data[0]!.accessChanged).toMatchObject({ allowed: true, device: { id: "phone-1", name: "Grace's phone" } });
    // Two enforcement tokens: one entity fetch; the admin: another.
    const deviceReads = statements.since(mark).filter((query) => /FROM [`"]?devices[`"]?/i.test(query));
    expect(deviceReads, deviceReads.join("\n")).toHaveLength(2);
  });
});
