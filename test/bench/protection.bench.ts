/**
 * What operation limits and rate limits cost per request.
 *
 * 1. The checks alone, in a loop: the operation checker (graphql-armor's
 *    depth/aliases/directives/cost rules plus list sizes) on a typical
 *    federated query, and one token-bucket take in memory and in Redis.
 * 2. End to end through the gateway (devices query over SQLite): rate limits
 *    off (`MTD_RATE_LIMIT_TENANT_PER_SECOND=0`) versus on in memory and in
 *    Redis, requests alternating between the three graphs, medians. The
 *    operation limits are always on (cached verdicts for a repeated query).
 */
import { parse } from "graphql";
import { loadConfig } from "../../lib/config.js";
import { operationChecker } from "../../lib/protection.js";
import { MemoryTokenBuckets, RedisTokenBuckets, type TokenBuckets } from "../../lib/rate-limit/index.js";
import { loadSupergraph } from "../../gateway/supergraph.js";
import { Supergraph } from "@apollo/federation-internals";
import { startGraph } from "../support/graph.js";
import { redisAvailable, redisPrefix, REDIS_TEST_URL } from "../support/services.js";
import { printTable } from "./table.js";

const QUERY = /* GraphQL */ `
  query Devices($first: Int) {
    devices(first: $first) { totalCount pageInfo { endCursor hasNextPage } edges { node { id name platform riskLevel complianceState access { resource allowed } } } }
  }
`;

async function timeLoop(iterations: number, work: () => unknown | Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(200, iterations); i++) await work(); // warm up
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await work();
  return Number(process.hrtime.bigint() - started) / 1e3 / iterations; // µs per call
}

export async function run(): Promise<void> {
  const config = loadConfig({});
  const schema = Supergraph.build(loadSupergraph()).apiSchema().toGraphQLJSSchema();
  const check = operationChecker(config.limits);
  const document = parse(QUERY);
  const rows: (string | number)[][] = [];
  const documents = Array.from({ length: 2000 }, () => parse(QUERY));
  let next = 0;
  rows.push(["operation checker, first time a document is seen", await timeLoop(1800, () => check(schema, documents[next++]!, { first: 50 }, "Devices"))]);
  rows.push(["operation checker, repeated document (cached verdict)", await timeLoop(20_000, () => check(schema, document, { first: 50 }, "Devices"))]);
  const buckets: [string, TokenBuckets][] = [["token bucket, memory", new MemoryTokenBuckets()]];
  if (redisAvailable) buckets.push(["token bucket, Redis (Lua)", new RedisTokenBuckets({ url: REDIS_TEST_URL, prefix: redisPrefix().prefix })]);
  for (const [name, bucket] of buckets) {
    let i = 0;
    rows.push([name, await timeLoop(5_000, () => bucket.take(`bench:${i++ % 100}`, { perSecond: 1e6, burst: 1e6 }))]);
    await bucket.close();
  }
  printTable(["check", "µs per call"], rows);

  console.log("");
  const e2e: (string | number)[][] = [];
  const variants: [string, Record<string, string>, "memory" | "redis"][] = [
    ["rate limits off", { MTD_RATE_LIMIT_TENANT_PER_SECOND: "0", MTD_RATE_LIMIT_PARTNER_PER_SECOND: "0" }, "memory"],
    ["rate limits in memory", { MTD_RATE_LIMIT_TENANT_PER_SECOND: "1000000", MTD_RATE_LIMIT_TENANT_BURST: "1000000" }, "memory"],
  ];
  if (redisAvailable) variants.push(["rate limits in Redis", { MTD_RATE_LIMIT_TENANT_PER_SECOND: "1000000", MTD_RATE_LIMIT_TENANT_BURST: "1000000" }, "redis"]);
  // Every variant runs at once; requests alternate between them so they share the machine's state.
  const graphs = await Promise.all(variants.map(([, env, eventLog]) => startGraph({ env, eventLog })));
  try {
    const admins = await Promise.all(graphs.map((graph) => graph.token({ tenantId: "bench", role: "admin" })));
    for (const [index, graph] of graphs.entries()) {
      for (let i = 0; i < 20; i++) {
        await graph.query(admins[index]!, `mutation($i: EnrollDeviceInput!) { enrollDevice(input: $i) { id } }`, {
          i: { id: `b-${i}`, name: `b-${i}`, platform: "IOS", osVersion: "17", ownership: "CORPORATE" },
        });
      }
    }
    const samples: number[][] = graphs.map(() => []);
    for (let round = 0; round < 1200; round++) {
      for (const [index, graph] of graphs.entries()) {
        const started = process.hrtime.bigint();
        await graph.query(admins[index]!, QUERY, { first: 20 });
        if (round >= 200) samples[index]!.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const baseline = median(samples[0]!);
    for (const [index, [name]] of variants.entries()) {
      const value = median(samples[index]!);
      e2e.push([name, value, `${value - baseline >= 0 ? "+" : ""}${(value - baseline).toFixed(3)}`]);
    }
  } finally {
    for (const graph of graphs) await graph.stop();
  }
  printTable(["gateway, devices query (20 rows, 3 subgraphs), median of 1000", "ms per request", "Δ ms vs off"], e2e);
}
