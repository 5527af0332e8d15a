/**
 * Resume hints (`extensions.resumeAfter` of SUPERGRAPH_CHANGED and
 * SLOW_CONSUMER, one code path in the engine): a subscription that ends
 * before its first event says where it stood, its own `after` or, started
 * live, the head the gateway pinned, so a client resuming from the hint
 * misses nothing committed meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGraph, type TestGraph } from "../support/graph.js";
import { composeSupergraph, withoutSubscriptions } from "../support/supergraph.js";
import { waitFor } from "../support/wait.js";
import { startSubscriptionEngine, Subscriber, Tenant } from "./subscriptions-helpers.js";

const CHANGES = /* GraphQL */ `subscription($after: String) { accessChanged(after: $after) { cursor resource allowed device { id } } }`;

describe("resume hints of a subscription ended before its first event", () => {
  let graph: TestGraph;
  let gateway: Awaited<ReturnType<typeof startSubscriptionEngine>>;
  let client: Subscriber;

  beforeAll(async () => {
    graph = await startGraph();
    gateway = await startSubscriptionEngine(graph.config, { supergraphSdl: composeSupergraph(graph) });
  });
  afterAll(async () => {
    await client?.dispose();
    await gateway?.stop();
    await graph?.stop();
  });

  it("carry the pinned head of a live subscription and the after of a resuming one; resuming from them misses nothing", async () => {
    const tenant = await Tenant.create("hints", graph.query, graph.token);
    const after = await tenant.baseline("h-1");
    const before = (await tenant.changes()).length;
    client = new Subscriber(gateway.url, tenant.enforcement);
    const live = client.subscribe(CHANGES);
    const resuming = client.subscribe(CHANGES, { after });
    await waitFor(() => gateway.engine.stats().pins === 1 && gateway.engine.stats().listeners === 2, 5000, "both subscriptions started, the live one pinned");

    // accessChanged leaves the supergraph: both end, having delivered nothing.
    gateway.engine.updateSupergraph(composeSupergraph(graph, withoutSubscriptions("policies")));
    await waitFor(() => live.error !== undefined && resuming.error !== undefined, 5000, "both subscriptions to end");
    expect(live.results).toEqual([]);
    expect(resuming.results).toEqual([]);
    const [liveError] = live.error as { extensions: Record<string, unknown> }[];
    const [resumingError] = resuming.error as { extensions: Record<string, unknown> }[];
    // Nothing was committed since `after`: the head the live one started at is that change's cursor.
    expect(liveError!.extensions).toEqual({ code: "SUPERGRAPH_CHANGED", resumeAfter: after });
    expect(resumingError!.extensions).toEqual({ code: "SUPERGRAPH_CHANGED", resumeAfter: after });

    // Committed while the field is gone; the client comes back with the hint once it is there again.
    await tenant.restore("h-1");
    const missed = (await tenant.stored(before + 2)).slice(before);
    gateway.engine.updateSupergraph(composeSupergraph(graph));
    const again = client.subscribe(CHANGES, { after: liveError!.extensions.resumeAfter as string });
    await again.count(2);
    expect(again.data.map((data) => data!.accessChanged.cursor)).toEqual(missed.map((change) => change.cursor));
  });
});
