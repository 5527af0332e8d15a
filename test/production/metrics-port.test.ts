/**
 * MTD_METRICS_PORT: `/metrics` on a port of its own, one per process (the
 * process's registry, every service of it by its `service` label), and no
 * longer on the public ports of the gateway and the subgraphs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../lib/config.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { sample } from "../support/metrics.js";

describe("metrics on their own port", () => {
  let graph: TestGraph;

  beforeAll(async () => {
    graph = await startGraph({ env: { MTD_METRICS_PORT: "0" } });
  });
  afterAll(() => graph?.stop());

  it("answers 404 for /metrics on the gateway's and every subgraph's port", async () => {
    for (const url of [graph.gatewayUrl, ...Object.values(graph.subgraphs).map((subgraph) => subgraph.url)]) {
      const response = await fetch(new URL("/metrics", url));
      expect(response.status, url).toBe(404);
      expect(await response.text()).not.toMatch(/mtd_/);
    }
  });

  it("serves the process's metric families, of the gateway and the subgraphs, on the metrics port", async () => {
    const admin = await graph.token({ tenantId: "scraped", role: "admin" });
    expect((await graph.query(admin, `query Scraped { devices(first: 1) { totalCount edges { node { riskLevel } } } }`)).errors).toBeUndefined();
    expect(graph.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(graph.metricsUrl!).port).not.toBe(new URL(graph.gatewayUrl).port);
    const response = await fetch(graph.metricsUrl!);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/text\/plain/);
    const text = await response.text();
    for (const family of ["mtd_graphql_request_duration_seconds", "mtd_graphql_errors_total", "mtd_outbox_backlog_events", "process_cpu_user_seconds_total"]) {
      expect(text, family).toContain(`# TYPE ${family} `);
    }
    for (const service of ["gateway", "devices"]) {
      expect(sample(text, "mtd_graphql_request_duration_seconds_count", { service }), service).toBeGreaterThan(0);
    }
    expect((await fetch(new URL("/graphql", graph.metricsUrl!))).status).toBe(404);
  });

  it("is checked: a port, not one of the services'", () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ MTD_METRICS_PORT: "9464" }).metricsPort).toBe(9464);
    expect(() => loadConfig({ MTD_METRICS_PORT: "4002" })).toThrow(/MTD_METRICS_PORT must differ from the services' ports/);
    expect(() => loadConfig({ PORT: "9464", MTD_METRICS_PORT: "9464" })).toThrow(/MTD_METRICS_PORT must differ/);
    expect(loadConfig({ PORT: "4001", MTD_METRICS_PORT: "4002" }).metricsPort).toBe(4002);
    expect(() => loadConfig({ MTD_METRICS_PORT: "70000" })).toThrow(/MTD_METRICS_PORT must be an integer/);
  });
});
