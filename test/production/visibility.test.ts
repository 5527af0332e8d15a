/**
 * Visibility: Prometheus metrics on every service that move with traffic,
 * structured logs carrying one request id from the gateway into the
 * subgraphs and never a token, and readiness.
 */
import { Writable } from "node:stream";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startGraph, type TestGraph } from "../support/graph.js";
import { sample } from "../support/metrics.js";
import { waitFor } from "../support/wait.js";

const ENROLL = /* GraphQL */ `mutation Enroll($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`;
const DEVICES = /* GraphQL */ `query Devices { devices(first: 10) { totalCount edges { node { id name riskLevel } } } }`;

function iphone(id: string) {
  return { id, name: `iPhone ${id}`, platform: "IOS", osVersion: "17.4.1", ownership: "CORPORATE" };
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(new URL("/metrics", url));
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/text\/plain/);
  return response.text();
}

describe("metrics", () => {
  let graph: TestGraph;
  let admin: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    graph = await startGraph();
    admin = await graph.token({ tenantId: "observed", role: "admin" });
  });
  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await graph?.stop();
  });

  it("serves /metrics on the gateway and every subgraph", async () => {
    for (const url of [graph.gatewayUrl, ...Object.values(graph.subgraphs).map((s) => s.url)]) {
      const text = await scrape(url);
      expect(text).toContain("# TYPE mtd_graphql_request_duration_seconds histogram");
      expect(text).toContain("# TYPE mtd_consumer_group_lag gauge");
      expect(text).toContain("process_cpu_user_seconds_total");
    }
  });

  it("moves request, subgraph-fetch, error, outbox and consumer-group metrics with traffic", async () => {
    const before = await scrape(graph.gatewayUrl);
    const requests = (text: string, service: string, operation: string) => sample(text, "mtd_graphql_request_duration_seconds_count", { service, operation }) ?? 0;

    for (let i = 0; i < 3; i++) expect((await graph.query(admin, ENROLL, { input: iphone(`m-${i}`) })).errors).toBeUndefined();
    for (let i = 0; i < 2; i++) expect((await graph.query(admin, DEVICES)).errors).toBeUndefined();
    expect((await graph.query(null, DEVICES)).errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
    expect((await graph.query(admin, `{ device(id: "nope") { id name } }`)).data).toEqual({ device: null });

    const after = await scrape(graph.gatewayUrl);
    expect(requests(after, "gateway", "Enroll") - requests(before, "gateway", "Enroll")).toBe(3);
    expect(requests(after, "gateway", "Devices") - requests(before, "gateway", "Devices")).toBe(2);
    expect(sample(after, "mtd_graphql_request_duration_seconds_count", { service: "gateway", operation: "Enroll", type: "mutation" })).toBeGreaterThanOrEqual(3);
    // The subgraphs counted their part (operation names as the gateway's planner made them).
    expect(requests(after, "devices", "Enroll__devices__0")).toBeGreaterThanOrEqual(3);
    const fetches = (text: string, subgraph: string) => sample(text, "mtd_gateway_subgraph_fetch_duration_seconds_count", { subgraph, operation: "Devices" }) ?? 0;
    expect(fetches(after, "devices") - fetches(before, "devices")).toBe(2);
    expect(fetches(after, "threats") - fetches(before, "threats")).toBe(2);
    const unauthenticated = (text: string) => sample(text, "mtd_graphql_errors_total", { service: "gateway", code: "UNAUTHENTICATED" }) ?? 0;
    expect(unauthenticated(after) - unauthenticated(before)).toBe(1);

    // Outbox: every service reports its backlog; the enrolments were published right after commit.
    await waitFor(async () => sample(await scrape(graph.gatewayUrl), "mtd_outbox_backlog_events", { service: "devices" }) === 0, 5000, "devices outbox drained");
    expect(sample(after, "mtd_outbox_oldest_age_seconds", { service: "devices" })).toBeDefined();
    // Consumer groups of the devices topic catch up to lag 0.
    for (const group of ["threats.devices", "policies.devices"]) {
      await waitFor(async () => sample(await scrape(graph.gatewayUrl), "mtd_consumer_group_lag", { topic: "devices", group }) === 0, 5000, `${group} caught up`);
    }
  });

  it("counts a refused operation by its limit and code", async () => {
    const before = await scrape(graph.gatewayUrl);
    const result = await graph.query(admin, `query Big($n: Int) { devices(first: $n) { totalCount } }`, { n: 501 });
    expect(result.errors![0]!.extensions).toMatchObject({ code: "OPERATION_LIMIT", limit: "maxPageSize" });
    const after = await scrape(graph.gatewayUrl);
    const limited = (text: string) => sample(text, "mtd_operation_limit_rejections_total", { service: "gateway", limit: "maxPageSize" }) ?? 0;
    const errors = (text: string) => sample(text, "mtd_graphql_errors_total", { service: "gateway", code: "OPERATION_LIMIT" }) ?? 0;
    expect(limited(after) - limited(before)).toBe(1);
    expect(errors(after) - errors(before)).toBe(1);
  });

  it("counts open WebSocket connections, active subscriptions and delivered events of a subgraph", async () => {
    const enforcement = await graph.token({ tenantId: "observed", role: "enforcement" });
    const url = graph.subgraphs.threats!.url;
    const gauge = async (name: string, labels: Record<string, string>) => sample(await scrape(url), name, labels) ?? 0;
    const connections = await gauge("mtd_websocket_connections", { service: "threats" });
    const subscriptions = await gauge("mtd_subscriptions_active", { service: "threats", field: "deviceRiskChanged" });

    const client = createClient({ url: url.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${enforcement}` }, retryAttempts: 0 });
    clients.push(client);
    const stop = client.subscribe({ query: `subscription { deviceRiskChanged { level at } }` }, { next: () => {}, error: () => {}, complete: () => {} });
    await waitFor(async () => (await gauge("mtd_subscriptions_active", { service: "threats", field: "deviceRiskChanged" })) === subscriptions + 1, 5000, "subscription counted");
    expect(await gauge("mtd_websocket_connections", { service: "threats" })).toBe(connections + 1);

    // A risk change is delivered: counted, and its time since `at` observed.
    const partner = await graph.token({ tenantId: "observed", role: "partner", partner: "LOOKOUT" });
    expect((await graph.query(admin, `mutation { enableMtdConnector(input: { partner: LOOKOUT, enabledPlatforms: [IOS] }) { state } }`)).errors).toBeUndefined();
    expect((await graph.query(admin, ENROLL, { input: iphone("risky") })).errors).toBeUndefined();
    const delivered = await gauge("mtd_subscription_events_delivered_total", { service: "threats", field: "deviceRiskChanged" });
    const observed = await gauge("mtd_report_to_delivery_seconds_count", { service: "threats", field: "deviceRiskChanged" });
    const threat = { externalId: "t-1", category: "NETWORK", severity: "HIGH", title: "Rogue Wi-Fi", status: "ACTIVE" };
    const reported = await graph.query(partner, `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { duplicate } }`, {
      input: { reportId: "rep-1", deviceId: "risky", observedAt: new Date().toISOString(), threats: [threat] },
    });
    expect(reported.errors).toBeUndefined();
    await waitFor(async () => (await gauge("mtd_report_to_delivery_seconds_count", { service: "threats", field: "deviceRiskChanged" })) > observed, 5000, "delivery observed");
    expect(await gauge("mtd_subscription_events_delivered_total", { service: "threats", field: "deviceRiskChanged" })).toBeGreaterThan(delivered);

    stop();
    await waitFor(async () => (await gauge("mtd_subscriptions_active", { service: "threats", field: "deviceRiskChanged" })) === subscriptions, 5000, "subscription ended");
    await client.dispose();
    await waitFor(async () => (await gauge("mtd_websocket_connections", { service: "threats" })) === connections, 5000, "connection closed");
  });

  it("answers readiness from the database and the event log", async () => {
    for (const url of [graph.gatewayUrl, graph.subgraphs.devices!.url]) {
      const ready = await fetch(new URL("/health/ready", url));
      expect(await ready.json()).toEqual({ status: "ready" });
      expect((await fetch(new URL("/health/live", url))).status).toBe(200);
    }
  });
});

describe("structured logs", () => {
  let graph: TestGraph;
  const lines: string[] = [];

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString("utf8").split("\n").filter((line) => line !== ""));
        done();
      },
    });
    graph = await startGraph({ env: { LOG_LEVEL: "debug" }, logDestination: destination });
  });
  afterAll(() => graph?.stop());

  it("carries the gateway's request id into the subgraphs and never logs a token", async () => {
    const admin = await graph.token({ tenantId: "logged", role: "admin" });
    const enforcement = await graph.token({ tenantId: "logged", role: "enforcement" });

    // One request with a request id of the client's, one with the gateway's own.
    const response = await fetch(graph.gatewayUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin}`, "x-request-id": "trace-4711" },
      body: JSON.stringify({ query: ENROLL, variables: { input: iphone("l-1") } }),
    });
    expect(response.headers.get("x-request-id")).toBe("trace-4711");
    const listed = await fetch(graph.gatewayUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: DEVICES }),
    });
    const generated = listed.headers.get("x-request-id")!;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    // Failures log too: a forbidden mutation, a refused token, a WebSocket with a token.
    await graph.query(enforcement, ENROLL, { input: iphone("l-2") });
    await graph.query(`${admin.slice(0, -4)}AAAA`, DEVICES);
    const client = createClient({
      url: graph.subgraphs.threats!.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${enforcement}` },
      retryAttempts: 0,
    });
    // Until the subgraph has taken the token (connection acknowledged), or refused it.
    await new Promise<void>((resolve) => {
      client.on("connected", () => resolve());
      client.subscribe({ query: `subscription { deviceRiskChanged { level } }` }, { next: () => {}, error: () => resolve(), complete: () => resolve() });
    });
    await client.dispose();

    await waitFor(() => lines.some((line) => line.includes(generated) && line.includes('"subgraph":"threats"')), 5000, "threats subgraph logged the request");
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const withId = (id: string) => entries.filter((entry) => entry.requestId === id);
    expect(withId("trace-4711").map((e) => e.subgraph ?? e.component)).toEqual(expect.arrayContaining(["gateway", "devices"]));
    expect(withId(generated).map((e) => e.subgraph ?? e.component)).toEqual(expect.arrayContaining(["gateway", "devices", "threats"]));
    const gatewayLine = withId("trace-4711").find((e) => e.component === "gateway")!;
    expect(gatewayLine).toMatchObject({ msg: "request", operation: "Enroll", type: "mutation", tenantId: "logged", subject: "admin@logged", status: 200 });
    expect(entries.some((e) => e.msg === "request failed" && Array.isArray(e.errors) && (e.errors as string[]).includes("FORBIDDEN"))).toBe(true);

    const output = lines.join("\n");
    for (const token of [admin, enforcement]) {
      expect(output).not.toContain(token);
      expect(output).not.toContain(token.split(".")[2]!); // not even the signature
    }
  });
});
