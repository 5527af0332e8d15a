/**
 * `npx tsx test/bench/profile.ts [query index] [seconds]`: our gateway under
 * `--cpu-prof` with the queries scenario's load (one query), so the profile
 * shows where a request's time goes. Writes `test/bench/results/profile/*.cpuprofile`
 * and prints the top self-time functions.
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SubgraphName } from "../../lib/config.js";
import { startGraph } from "../support/graph.js";
import { autocannon, BENCH_DIR, startPeer } from "./peers.js";
import { QUERIES, prepare } from "./queries.bench.js";

const [index = "0", seconds = "10"] = process.argv.slice(2);
const dir = join(BENCH_DIR, "results/profile");
mkdirSync(dir, { recursive: true });
const graph = await startGraph({ env: { MTD_RATE_LIMIT_TENANT_PER_SECOND: "0", MTD_RATE_LIMIT_PARTNER_PER_SECOND: "0" } });
const analyst = await prepare(graph);
const subgraphUrls = Object.fromEntries(Object.entries(graph.subgraphs).map(([name, subgraph]) => [name, subgraph.url])) as Record<SubgraphName, string>;
const before = new Set(readdirSync(dir));
const peer = await startPeer("ours", { subgraphUrls, secret: graph.config.auth.secret!, nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`] });
const { query } = QUERIES[Number(index)]!;
const result = await autocannon({ url: peer.url, body: JSON.stringify({ query }), headers: { "content-type": "application/json", authorization: `Bearer ${analyst}` }, connections: 16, seconds: Number(seconds) });
console.log(`${result.requests.total / result.duration} req/s, p99 ${result.latency.p99} ms`);
await peer.stop();
await graph.stop();
const file = readdirSync(dir).find((name) => !before.has(name) && name.endsWith(".cpuprofile"));
if (file === undefined) throw new Error("no profile written");
const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number }[] };
const total = profile.nodes.reduce((sum, node) => sum + node.hitCount, 0);
const self = new Map<string, number>();
for (const node of profile.nodes) {
  const key = `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/main\//, "")}:${node.callFrame.lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + node.hitCount);
}
console.log(`profile ${join(dir, file)}`);
for (const [key, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${((hits / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
process.exit(0);
