/**
 * Subscriptions over Server-Sent Events and multipart HTTP, with real clients
 * (graphql-sse's client, Apollo Client's HttpLink, a raw SSE reader) on real
 * sockets; plain HTTP subscriptions refused as client errors; CORS. The
 * transports sit above the event log and the database, so one deployment
 * (SQLite + in-process log) is enough here; the engine under them runs on
 * both in subscriptions.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGraph, type TestGraph } from "../support/graph.js";
import { sample } from "../support/metrics.js";
import { waitFor } from "../support/wait.js";
import { startProxy, Subscriber, Tenant } from "./subscriptions-helpers.js";
import { multipartSubscribe, SseReader, sseSubscribe } from "./transports-helpers.js";

const ACCESS = /* GraphQL */ `
  subscription Access($after: String) {
    accessChanged(after: $after) { cursor resource allowed device { id name riskLevel complianceState } }
  }
`;
const BARE = /* GraphQL */ `subscription($after: String) { accessChanged(after: $after) { resource allowed device { name } } }`;

describe("subscriptions over SSE and multipart HTTP", () => {
  let graph: TestGraph;
  let contoso: Tenant;
  const open: { stop(): void }[] = [];
  const keep = <T extends { stop(): void }>(client: T) => (open.push(client), client);

  beforeAll(async () => {
    graph = await startGraph({ env: { MTD_WS_KEEPALIVE_MS: "300", MTD_CORS_ORIGINS: "https://admin.example.com" } });
    contoso = await Tenant.create("contoso", graph.query, graph.token);
  });
  afterAll(async () => {
    for (const client of open) client.stop();
    await graph?.stop();
  });

  const expectRevocation = (results: any[], device: string, name: string) =>
    // Apollo Client adds __typename to what it asks for: compare what both were asked.
    expect(results.map((r) => r.accessChanged)).toMatchObject([
      { cursor: expect.any(String), resource: "exchange", allowed: false, device: { id: device, name, riskLevel: "HIGH", complianceState: "NONCOMPLIANT" } },
      { cursor: expect.any(String), resource: "sharepoint", allowed: false, device: { id: device, name, riskLevel: "HIGH", complianceState: "NONCOMPLIANT" } },
    ]);

  it("graphql-sse's client and Apollo Client's HttpLink receive revocations with fields from every subgraph", async () => {
    await contoso.baseline("sse-1", "Ada's iPhone");
    await contoso.restore("sse-1");
    const after = (await contoso.stored(4)).at(-1)!.cursor;
    const sse = keep(sseSubscribe(graph.gatewayUrl, contoso.enforcement, ACCESS, { after }));
    const multipart = keep(multipartSubscribe(graph.gatewayUrl, contoso.enforcement, ACCESS, { after }));
    await contoso.revoke("sse-1");
    expectRevocation(await sse.count(2), "sse-1", "Ada's iPhone");
    expectRevocation(await multipart.count(2), "sse-1", "Ada's iPhone");
    const stored = (await contoso.changes()).slice(4);
    expect(sse.results.map((r) => r.accessChanged.cursor)).toEqual(stored.map((c) => c.cursor));
    expect(multipart.results.map((r) => r.accessChanged.cursor)).toEqual(stored.map((c) => c.cursor));

    const metrics = await (await fetch(new URL("/metrics", graph.gatewayUrl))).text();
    expect(sample(metrics, "mtd_subscriptions_active", { service: "gateway", field: "accessChanged", transport: "sse" })).toBe(1);
    expect(sample(metrics, "mtd_subscriptions_active", { service: "gateway", field: "accessChanged", transport: "multipart" })).toBe(1);
    expect(sample(metrics, "mtd_subscription_events_delivered_total", { service: "gateway", field: "accessChanged", transport: "multipart" })).toBeGreaterThanOrEqual(2);
  });

  it("names each SSE event by its cursor and resumes after Last-Event-ID with exactly the missed changes", async () => {
    const after = await contoso.baseline("sse-2");
    const base = (await contoso.changes()).length;
    const first = new SseReader(graph.gatewayUrl, { token: contoso.enforcement, query: BARE, variables: { after } });
    keep(first);
    await contoso.restore("sse-2");
    await first.count(2);
    expect(first.status).toBe(200);
    expect(first.headers["content-type"]).toMatch(/^text\/event-stream/);
    const stored = await contoso.stored(base + 2);
    // The cursor is the id even though the operation did not select it (and it is stripped from the data).
    expect(first.events.filter((e) => e.event === "next").map((e) => e.id)).toEqual(stored.slice(base).map((c) => c.cursor));
    expect(first.results[0]).toEqual({ data: { accessChanged: { resource: "exchange", allowed: true, device: { name: "iPhone sse-2" } } } });
    // Keep-alive comments while idle (MTD_WS_KEEPALIVE_MS=300 here).
    const comments = first.comments;
    await waitFor(() => first.comments > comments, 5000, "a keep-alive comment");
    const lastId = first.events.at(-1)!.id!;
    first.stop();

    // Missed while disconnected: a revocation and a restoration (4 changes).
    await contoso.revoke("sse-2");
    await contoso.restore("sse-2");
    const missed = (await contoso.stored(base + 6)).slice(base + 2);
    // The reconnect repeats the original request (its `after` is older): Last-Event-ID wins, as EventSource expects.
    const again = keep(new SseReader(graph.gatewayUrl, { token: contoso.enforcement, query: BARE, variables: { after }, lastEventId: lastId, method: "GET" }));
    await again.count(4);
    await contoso.revoke("sse-2");
    await again.count(6);
    const all = (await contoso.changes()).slice(base + 2);
    expect(again.events.filter((e) => e.event === "next").map((e) => e.id)).toEqual(all.map((c) => c.cursor));
    expect(again.events.slice(0, 4).map((e) => e.id)).toEqual(missed.map((c) => c.cursor));
  });

  it("resumes after another tenant's cursor (Last-Event-ID) within the caller's own tenant only: its own changes after that position, none of the other's", async () => {
    const fabrikam = await Tenant.create("fabrikam-sse", graph.query, graph.token);
    await fabrikam.baseline("fab-1");
    const theirs = (await contoso.changes())[0]!.cursor;
    const reader = keep(new SseReader(graph.gatewayUrl, { token: fabrikam.enforcement, query: ACCESS, lastEventId: theirs }));
    await reader.count(1);
    // Changes of both tenants while it runs: only fabrikam's arrive.
    await contoso.baseline("sse-other");
    await fabrikam.restore("fab-1");
    await reader.count(3);
    const own = await fabrikam.stored(4);
    expect(reader.events.filter((e) => e.event === "next").map((e) => e.id)).toEqual(own.slice(1).map((c) => c.cursor));
    expect(new Set(reader.results.map((r) => r.data.accessChanged.device.id))).toEqual(new Set(["fab-1"]));
  });

  it("resumes graphql-sse's own client after its connection is cut, with Last-Event-ID = the last cursor it received: every change once, in order", async () => {
    const after = await contoso.baseline("sse-3");
    const base = (await contoso.changes()).length;
    const link = await startProxy(graph.gatewayUrl);
    try {
      // The client repeats its original request (the same, older `after`) on every reconnect; only the header moves on.
      let last: string | undefined;
      const client = keep(sseSubscribe(link.url, contoso.enforcement, ACCESS, { after }, { lastEventId: () => last }));
      client.onResult = (result) => void (last = result.accessChanged.cursor);
      await contoso.restore("sse-3");
      await client.count(2);
      link.cut();
      await contoso.revoke("sse-3");
      await contoso.restore("sse-3");
      await contoso.stored(base + 6);
      link.restore();
      await client.count(6, 20_000);
      await contoso.revoke("sse-3");
      await client.count(8);
      expect(client.reconnects).toBeGreaterThanOrEqual(1);
      expect(client.errors).toBeUndefined();
      const stored = (await contoso.changes()).slice(base);
      expect(client.results.map((r) => r.accessChanged.cursor)).toEqual(stored.map((c) => c.cursor));
    } finally {
      await link.close();
    }
  });

  it("sends multipart heartbeats while idle (empty parts that Apollo Client skips)", async () => {
    const controller = new AbortController();
    const response = await fetch(graph.gatewayUrl, {
      method: "POST",
      headers: { accept: 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"', "content-type": "application/json", authorization: `Bearer ${contoso.enforcement}` },
      body: JSON.stringify({ query: BARE }),
      signal: controller.signal,
    });
    expect(response.headers.get("content-type")).toBe('multipart/mixed;boundary="graphql";subscriptionSpec="1.0"');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let body = "";
    const heartbeat = "\r\ncontent-type: application/json; charset=utf-8\r\n\r\n{}\r\n--graphql";
    while (body.split(heartbeat).length < 3) body += (await reader.read()).value ?? "";
    expect(body.startsWith(`\r\n--graphql${heartbeat}`)).toBe(true);
    controller.abort();
  });

  it("passes the upstream subscription's GraphQL errors, extensions intact, to both transports", async () => {
    const bad = { after: "not-a-cursor" };
    const sse = keep(new SseReader(graph.gatewayUrl, { token: contoso.enforcement, query: BARE, variables: bad }));
    await sse.ended.promise;
    expect(sse.events.map((e) => e.event)).toEqual(["next", "complete"]);
    const [error] = sse.results[0].errors;
    expect(error.extensions.code).toBe("BAD_USER_INPUT");
    const multipart = keep(multipartSubscribe(graph.gatewayUrl, contoso.enforcement, BARE, bad));
    await waitFor(() => multipart.errors !== undefined, 10_000, "the multipart error");
    expect(multipart.errors![0].extensions).toEqual(error.extensions);
  });

  it("answers pre-execution errors in the stream and refuses a missing token with 401", async () => {
    const invalid = keep(new SseReader(graph.gatewayUrl, { token: contoso.enforcement, query: "subscription { accessChanged { nope } }" }));
    await invalid.ended.promise;
    expect(invalid.results[0].errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const query = keep(new SseReader(graph.gatewayUrl, { token: contoso.enforcement, query: "{ compliancePolicies { id } }" }));
    await query.ended.promise;
    expect(query.results[0].errors[0].extensions.code).toBe("OPERATION_NOT_SUPPORTED");
    // urql's default Accept lists SSE and multipart after JSON for every operation: a query gets JSON.
    const urql = await fetch(graph.gatewayUrl, {
      method: "POST",
      headers: { accept: "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed", "content-type": "application/json", authorization: `Bearer ${contoso.admin}` },
      body: JSON.stringify({ query: "{ compliancePolicies { name } }" }),
    });
    expect(urql.status).toBe(200);
    expect((await urql.json()).data.compliancePolicies).toEqual([{ name: "iOS" }]);
    const anonymous = await fetch(graph.gatewayUrl, { method: "POST", headers: { accept: "text/event-stream", "content-type": "application/json" }, body: JSON.stringify({ query: BARE }) });
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).errors[0].extensions.code).toBe("UNAUTHENTICATED");
  });

  it("refuses a subscription sent as a plain HTTP request with 400 naming the transports, counted as a client error", async () => {
    const before = await (await fetch(new URL("/metrics", graph.gatewayUrl))).text();
    const internal = sample(before, "mtd_graphql_errors_total", { service: "gateway", code: "INTERNAL_SERVER_ERROR" }) ?? 0;
    const response = await fetch(graph.gatewayUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${contoso.enforcement}` },
      body: JSON.stringify({ query: BARE }),
    });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.errors[0].extensions.code).toBe("OPERATION_NOT_SUPPORTED");
    expect(body.errors[0].message).toMatch(/WebSocket.*Server-Sent Events.*text\/event-stream.*multipart\/mixed;subscriptionSpec/);
    const after = await (await fetch(new URL("/metrics", graph.gatewayUrl))).text();
    expect(sample(after, "mtd_graphql_errors_total", { service: "gateway", code: "OPERATION_NOT_SUPPORTED" })).toBeGreaterThanOrEqual(1);
    expect(sample(after, "mtd_graphql_errors_total", { service: "gateway", code: "INTERNAL_SERVER_ERROR" }) ?? 0).toBe(internal);
    // A subgraph, which serves subscriptions over WebSocket only, says so too.
    const atSubgraph = await graph.query(contoso.enforcement, "subscription { accessChanged { resource allowed } }", undefined, graph.subgraphs.policies!.url);
    expect(atSubgraph.status).toBe(400);
    expect(atSubgraph.errors![0]!.extensions!.code).toBe("OPERATION_NOT_SUPPORTED");
    expect(atSubgraph.errors![0]!.message).toMatch(/over WebSocket \(graphql-transport-ws\)/);
  });

  it("answers CORS preflights for a listed origin only, and works with CSRF prevention", async () => {
    const preflight = (origin: string) =>
      fetch(graph.gatewayUrl, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, last-event-id" },
      });
    const listed = await preflight("https://admin.example.com");
    expect(listed.status).toBe(204);
    expect(listed.headers.get("access-control-allow-origin")).toBe("https://admin.example.com");
    expect(listed.headers.get("access-control-allow-headers")).toBe("authorization, content-type, apollo-require-preflight, x-request-id, last-event-id");
    const unlisted = await preflight("https://evil.example.net");
    expect(unlisted.status).toBe(403);
    expect(unlisted.headers.get("access-control-allow-origin")).toBeNull();

    const query = (origin: string, headers: Record<string, string> = { "content-type": "application/json" }) =>
      fetch(`${graph.gatewayUrl}?query=${encodeURIComponent("{ compliancePolicies { name } }")}`, { headers: { origin, authorization: `Bearer ${contoso.admin}`, ...headers } });
    const allowed = await query("https://admin.example.com");
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://admin.example.com");
    expect((await allowed.json()).data.compliancePolicies).toEqual([{ name: "iOS" }]);
    expect((await query("https://evil.example.net")).headers.get("access-control-allow-origin")).toBeNull();
    // A GET without a preflight-forcing header is still refused by Apollo's CSRF prevention.
    const simple = await fetch(`${graph.gatewayUrl}?query=${encodeURIComponent("{ compliancePolicies { name } }")}`, { headers: { origin: "https://admin.example.com" } });
    expect(simple.status).toBe(400);
  });
});

describe("the engine's limits on the HTTP transports", () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startGraph({ env: { MTD_WS_MAX_QUEUED_EVENTS: "5", MTD_WS_MAX_SUBSCRIPTIONS_PER_TENANT: "3" } });
  });
  afterAll(async () => {
    await graph?.stop();
  });

  it("counts graphql-ws, SSE and multipart subscriptions against one per-tenant limit", async () => {
    const capped = await Tenant.create("capped", graph.query, graph.token);
    const after = await capped.baseline("c-1");
    const ws = new Subscriber(graph.gatewayUrl, capped.enforcement);
    const sse = new SseReader(graph.gatewayUrl, { token: capped.enforcement, query: BARE, variables: { after } });
    const multipart = multipartSubscribe(graph.gatewayUrl, capped.enforcement, BARE, { after });
    try {
      const wsStream = ws.subscribe(BARE, { after });
      await capped.restore("c-1");
      await Promise.all([wsStream.count(2), sse.count(2), multipart.count(2)]);
      // The tenant holds 3, one per transport: a fourth is refused on either HTTP transport, in its stream.
      const refused = new SseReader(graph.gatewayUrl, { token: capped.enforcement, query: BARE, variables: { after } });
      await refused.ended.promise;
      expect(refused.results[0].errors[0].extensions.code).toBe("TOO_MANY_SUBSCRIPTIONS");
      const refusedMultipart = multipartSubscribe(graph.gatewayUrl, capped.enforcement, BARE, { after });
      await refusedMultipart.ended.promise;
      expect(refusedMultipart.errors![0].extensions.code).toBe("TOO_MANY_SUBSCRIPTIONS");
      // An SSE client that goes away gives its place back.
      sse.stop();
      await waitFor(async () => {
        const again = new SseReader(graph.gatewayUrl, { token: capped.enforcement, query: BARE, variables: { after } });
        const admitted = await again.count(1).then((results) => results[0].errors === undefined, () => false);
        again.stop();
        return admitted;
      }, 10_000, "the SSE subscription's place to be freed");
    } finally {
      sse.stop();
      multipart.stop();
      await ws.dispose();
    }
  });

  it("ends SSE and multipart subscriptions with UNAUTHENTICATED when the token expires", async () => {
    const expiring = await Tenant.create("expiring", graph.query, graph.token);
    const after = await expiring.baseline("e-1");
    const shortLived = await graph.token({ tenantId: "expiring", role: "enforcement", expiresIn: 2 });
    const sse = new SseReader(graph.gatewayUrl, { token: shortLived, query: BARE, variables: { after } });
    const multipart = multipartSubscribe(graph.gatewayUrl, shortLived, BARE, { after });
    await Promise.all([sse.ended.promise, multipart.ended.promise]);
    expect(sse.events.at(-1)!.event).toBe("complete");
    for (const error of [sse.results.at(-1).errors[0], multipart.errors![0]]) {
      expect(error.extensions.code).toBe("UNAUTHENTICATED");
      expect(error.message).toMatch(/token expired/);
    }
  });

  it("closes a slow SSE client with SLOW_CONSUMER and its last cursor as the resume hint, never skipped", async () => {
    const { tenant: slow, head, baseline } = await Tenant.wide("slow", graph.query, graph.token);
    const reader = new SseReader(graph.gatewayUrl, {
      token: slow.enforcement,
      query: `subscription($after: String) { accessChanged(after: $after) { cursor device { access { resource allowed reason decidedAt } } } }`,
      variables: { after: head },
    });
    await waitFor(() => reader.response !== undefined, 10_000, "the stream to open");
    reader.response!.pause();
    await slow.restore("s-1");
    await slow.revoke("s-1");
    await slow.stored(baseline + 300, 20_000);
    await waitFor(async () => (sample(await (await fetch(new URL("/metrics", graph.gatewayUrl))).text(), "mtd_subscription_slow_consumers_closed_total", { transport: "sse" }) ?? 0) >= 1, 20_000, "the slow consumer to be closed");
    reader.response!.resume();
    await reader.ended.promise;
    const events = reader.events.filter((e) => e.event === "next");
    const last = events.at(-1)!.data;
    expect(last.errors[0].extensions).toEqual({ code: "SLOW_CONSUMER", resumeAfter: events.at(-2)!.id });
    expect(last.errors[0].message).toMatch(/nothing was skipped: resubscribe with after = /);
    expect(reader.events.at(-1)!.event).toBe("complete");
    const delivered = events.slice(0, -1);
    expect(delivered.length).toBeLessThan(300);
    const stored = (await slow.changes()).slice(baseline);
    expect(delivered.map((e) => e.id)).toEqual(stored.slice(0, delivered.length).map((c) => c.cursor));
  });
});
