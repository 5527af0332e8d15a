/**
 * `npx tsx test/bench/profile.ts [workload index] [seconds] [ours|ours-traced|ours-sampled]`:
 * our gateway under `--cpu-prof` with the queries scenario's load (one of its workloads),
 * so the profile shows where a request's time goes; `ours-traced` and
 * `ours-sampled` profile it with tracing on (always-on, or 1 % sampled; OTLP/HTTP
 * to a sink in this process, as the queries scenario runs them). Writes `test/bench/results/profile/*.cpuprofile`
 * and prints the top self-time functions.
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SubgraphName } from "../../lib/config.js";
import { startGraph } from "../support/graph.js";
import { summarise, type CpuProfile } from "./cpu-profile.js";
import { autocannon, BENCH_DIR, cpuMsOf, startPeer, type PeerName } from "./peers.js";
import { bodyOf, prepare, WORKLOADS } from "./queries.bench.js";
import { startTraceSink, traced } from "./trace-sink.js";

const [index = "0", seconds = "10", peerName = "ours"] = process.argv.slice(2);
if (!["ours", "ours-traced", "ours-sampled"].includes(peerName)) throw new Error(`peer: ours, ours-traced or ours-sampled, not ${peerName}`);
const dir = join(BENCH_DIR, "results/profile");
mkdirSync(dir, { recursive: true });
const graph = await startGraph({ env: { MTD_RATE_LIMIT_TENANT_PER_SECOND: "0", MTD_RATE_LIMIT_PARTNER_PER_SECOND: "0" } });
const tokens = await prepare(graph);
const subgraphUrls = Object.fromEntries(Object.entries(graph.subgraphs).map(([name, subgraph]) => [name, subgraph.url])) as Record<SubgraphName, string>;
const sink = traced(peerName as PeerName) ? await startTraceSink(peerName as PeerName) : undefined;
const before = new Set(readdirSync(dir));
const peer = await startPeer(peerName as PeerName, { subgraphUrls, secret: graph.config.auth.secret!, env: sink?.env, nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`] });
const workload = WORKLOADS[Number(index)]!;
const body = bodyOf(workload);
const cpuBefore = cpuMsOf(peer.pid);
const loadStart = process.hrtime.bigint() / 1000n; // µs on the monotonic clock, as the profile's timestamps
const result = await autocannon({ url: peer.url, body, headers: { "content-type": "application/json", authorization: `Bearer ${tokens[workload.role]}` }, connections: 16, seconds: Number(seconds), newIds: body.includes("[<id>]") });
const loadEnd = process.hrtime.bigint() / 1000n;
console.log(`${result.requests.total / result.duration} req/s, p99 ${result.latency.p99} ms, gateway CPU ${((cpuMsOf(peer.pid) - cpuBefore) / result.requests.total).toFixed(3)} ms/request (under the profiler)`);
await peer.stop();
await sink?.close();
await graph.stop();
const file = readdirSync(dir).find((name) => !before.has(name) && name.endsWith(".cpuprofile"));
if (file === undefined) throw new Error("no profile written");
console.log(`profile ${join(dir, file)}`);
summarise(JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile, { from: Number(loadStart), to: Number(loadEnd), per: result.requests.total, unit: "µs/req" });
process.exit(0);
