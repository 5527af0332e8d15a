/**
 * `npx tsx test/bench/profile.ts [query index] [seconds] [ours|ours-traced|ours-sampled]`:
 * our gateway under `--cpu-prof` with the queries scenario's load (one query),
 * so the profile shows where a request's time goes; `ours-traced` and
 * `ours-sampled` profile it with tracing on (always-on, or 1 % sampled; OTLP/HTTP
 * to a sink in this process, as the queries scenario runs them). Writes `test/bench/results/profile/*.cpuprofile`
 * and prints the top self-time functions.
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SubgraphName } from "../../lib/config.js";
import { startGraph } from "../support/graph.js";
import { autocannon, BENCH_DIR, cpuMsOf, startPeer, startTraceSink, traced, type PeerName } from "./peers.js";
import { QUERIES, prepare } from "./queries.bench.js";

const [index = "0", seconds = "10", peerName = "ours"] = process.argv.slice(2);
if (!["ours", "ours-traced", "ours-sampled"].includes(peerName)) throw new Error(`peer: ours, ours-traced or ours-sampled, not ${peerName}`);
const dir = join(BENCH_DIR, "results/profile");
mkdirSync(dir, { recursive: true });
const graph = await startGraph({ env: { MTD_RATE_LIMIT_TENANT_PER_SECOND: "0", MTD_RATE_LIMIT_PARTNER_PER_SECOND: "0" } });
const analyst = await prepare(graph);
const subgraphUrls = Object.fromEntries(Object.entries(graph.subgraphs).map(([name, subgraph]) => [name, subgraph.url])) as Record<SubgraphName, string>;
const sink = traced(peerName as PeerName) ? await startTraceSink(peerName as PeerName) : undefined;
const before = new Set(readdirSync(dir));
const peer = await startPeer(peerName as PeerName, { subgraphUrls, secret: graph.config.auth.secret!, env: sink?.env, nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`] });
const { query } = QUERIES[Number(index)]!;
const cpuBefore = cpuMsOf(peer.pid);
const loadStart = process.hrtime.bigint() / 1000n; // µs on the monotonic clock, as the profile's timestamps
const result = await autocannon({ url: peer.url, body: JSON.stringify({ query }), headers: { "content-type": "application/json", authorization: `Bearer ${analyst}` }, connections: 16, seconds: Number(seconds) });
const loadEnd = process.hrtime.bigint() / 1000n;
console.log(`${result.requests.total / result.duration} req/s, p99 ${result.latency.p99} ms, gateway CPU ${((cpuMsOf(peer.pid) - cpuBefore) / result.requests.total).toFixed(3)} ms/request (under the profiler)`);
await peer.stop();
await sink?.close();
await graph.stop();
const file = readdirSync(dir).find((name) => !before.has(name) && name.endsWith(".cpuprofile"));
if (file === undefined) throw new Error("no profile written");
console.log(`profile ${join(dir, file)}`);
summarise(JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile, [Number(loadStart), Number(loadEnd)], result.requests.total);
process.exit(0);

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Prints, for the samples taken while the load ran (not the start-up): the
 * top self-time functions and self time by package (the async hooks that
 * AsyncLocalStorage turns on for every promise apart from the rest of `node:`),
 * each in µs per request.
 */
function summarise(profile: CpuProfile, [from, to]: [number, number], requests: number): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const where = (url: string) => url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(wt-[^/]+|main)\//, "");
  const packageOf = (url: string) =>
    url.includes("node_modules/")
      ? /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)![1]!
      : url === "node:internal/async_hooks" || url === "node:async_hooks"
        ? "node: async hooks"
        : url.startsWith("node:")
          ? "node:"
          : url === ""
            ? "(native)"
            : "ours";
  const self = new Map<string, number>();
  const packages = new Map<string, number>();
  // Each sample stands for the time since the one before it (µs).
  let at = profile.startTime;
  let busy = 0;
  for (const [index, id] of profile.samples.entries()) {
    const delta = profile.timeDeltas[index]!;
    at += delta;
    if (at < from || at > to) continue;
    const node = byId.get(id)!;
    if (node.callFrame.functionName === "(idle)") continue;
    busy += delta;
    const key = `${node.callFrame.functionName || "(anonymous)"} ${where(node.callFrame.url)}:${node.callFrame.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + delta);
    packages.set(packageOf(node.callFrame.url), (packages.get(packageOf(node.callFrame.url)) ?? 0) + delta);
  }
  const perRequest = (micros: number) => `${(micros / requests).toFixed(1).padStart(7)} µs/req`;
  console.log(`busy while loaded: ${perRequest(busy)}`);
  for (const [key, micros] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${perRequest(micros)}  ${key}`);
  console.log("\nself time by package:");
  for (const [key, micros] of [...packages].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${perRequest(micros)}  ${key}`);
}
