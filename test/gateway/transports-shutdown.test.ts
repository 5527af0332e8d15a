/**
 * A gateway that stops cuts its SSE and multipart streams without their end
 * marker (no `complete` event, no closing boundary), so clients take it for a
 * lost connection and reconnect (to another replica), SSE with Last-Event-ID;
 * an end marker would tell them the subscription is over.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { start as startGateway } from "../../gateway/server.js";
import { createLogger } from "../../lib/logger.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { Tenant } from "./subscriptions-helpers.js";
import { SseReader } from "./transports-helpers.js";

const ACCESS = /* GraphQL */ `subscription($after: String) { accessChanged(after: $after) { cursor resource } }`;

describe("HTTP subscription streams of a gateway that stops", () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startGraph();
  });
  afterAll(async () => {
    await graph?.stop();
  });

  it("are cut without an end marker", async () => {
    const gateway = await startGateway({ config: { ...graph.config, port: 0 }, logger: createLogger("silent", "test") });
    const tenant = await Tenant.create("stopping", (token, query, variables) => graph.query(token, query, variables, gateway.url), graph.token);
    const after = await tenant.baseline("st-1");
    const sse = new SseReader(gateway.url, { token: tenant.enforcement, query: ACCESS, variables: { after } });
    const multipart = await fetch(gateway.url, {
      method: "POST",
      headers: { accept: 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"', "content-type": "application/json", authorization: `Bearer ${tenant.enforcement}` },
      body: JSON.stringify({ query: ACCESS, variables: { after } }),
    });
    const body = (async () => {
      let text = "";
      try {
        for await (const chunk of multipart.body!.pipeThrough(new TextDecoderStream())) text += chunk;
        return { text, cut: false };
      } catch {
        return { text, cut: true };
      }
    })();
    await tenant.restore("st-1");
    await sse.count(2);

    await gateway.dispose();
    await sse.ended.promise;
    expect(sse.results).toHaveLength(2);
    expect(sse.events.some((event) => event.event === "complete")).toBe(false);
    const { text, cut } = await body;
    expect(cut).toBe(true);
    expect(text).toContain('"resource":"sharepoint"');
    expect(text).not.toContain("--graphql--");
  });
});
