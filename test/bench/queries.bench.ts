/**
 * `npm run bench -- queries`: throughput and p99 through several gateways on
 * the same running subgraphs (startGraph: every subgraph in this process,
 * SQLite, a small tenant), each gateway its own process: ours, the stock
 * `@apollo/gateway` + `@apollo/server`, Hive Gateway (`--jit`), and ours again
 * with OpenTelemetry tracing on, twice: always-on sampler, and
 * `parentbased_traceidratio` 0.01 (OTLP/HTTP protobuf, each to its own sink in
 * this process, which counts the spans it receives; the subgraphs are not
 * traced in any run). With `BENCH_PEERS` naming them: `ours-untraced`, ours
 * built without the tracing hooks (lib/tracing.ts stubbed: what tracing off
 * costs), and `ours-async-context`, tracing off with an AsyncLocalStorage
 * enabled (what context propagation alone costs on this Node.js).
 *
 * Workloads (`BENCH_WORKLOADS`, indices into WORKLOADS; all by default): three
 * queries over 1, 2 and 4 subgraphs (analyst token) and a partner's report
 * mutation (a new `reportId` each, autocannon's `[<id>]`). Load: autocannon in
 * its own process, CONNECTIONS connections for SECONDS s per measurement after
 * a warm-up; peers interleaved (A B C, C B A, …) for ROUNDS rounds. The table
 * shows the median and range of requests/s, p99 and CPU per request, and each
 * peer against ours as the median and range of the per-round ratios (the two
 * measured moments apart), with the load average before and after.
 *
 * Tracing's overhead alone: `BENCH_PEERS=ours,ours-traced,ours-untraced`.
 * `BENCH_SUBGRAPHS_TRACED=1` traces the subgraphs too (this process, the SDK's
 * parentbased_always_on sampler, AsyncLocalStorage as in production; to a sink
 * of their own) for every peer: their CPU per request against a run without.
 */
import type { SubgraphName } from "../../lib/config.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";
import { DeviceStateEntity } from "../../subgraphs/threats/data/entities.js";
import { autocannon, cpuMsOf, interleaved, loadAverage, pairedRatio, PEER_LABELS, showSpread, spread, startPeer, writeResults, type PeerName, type RunningPeer, type Spread } from "./peers.js";
import { startSink, startTraceSink, traced, type TraceSink } from "./trace-sink.js";
import { createLogger } from "../../lib/logger.js";
import { startTracing } from "../../lib/tracing.js";
import { printTable } from "./table.js";

const PEERS = (process.env.BENCH_PEERS ?? "ours,ours-traced,ours-sampled,apollo,hive").split(",") as PeerName[];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const SUBGRAPHS_TRACED = process.env.BENCH_SUBGRAPHS_TRACED === "1";
const WARMUP_SECONDS = 2;
const TENANT = "bench";
const DEVICES = 40;
const APPS_PER_DEVICE = 5;

export interface Workload {
  name: string;
  subgraphs: number;
  query: string;
  variables?: Record<string, unknown>;
  /** Whose token sends it. */
  role: "analyst" | "partner";
}

/** autocannon replaces `[<id>]` in the body with a new id for every request. */
const NEW_ID = "[<id>]";

export const WORKLOADS: Workload[] = [
  { name: "devices(first: 10)", subgraphs: 1, role: "analyst", query: `{ devices(first: 10) { edges { node { id name platform } } } }` },
  { name: "devices { riskLevel }", subgraphs: 2, role: "analyst", query: `{ devices(first: 10) { edges { node { id name riskLevel } } } }` },
  {
    name: "apps → device { name riskLevel complianceState }",
    subgraphs: 4,
    role: "analyst",
    query: `{ apps(first: 20) { edges { node { appId device { name riskLevel complianceState } } } } }`,
  },
  {
    name: "reportThreats (a report of a threat the device has: stored, nothing changes)",
    subgraphs: 1,
    role: "partner",
    query: `mutation Report($input: ReportThreatsInput!) { reportThreats(input: $input) { duplicate } }`,
    variables: {
      input: { reportId: `bench-${NEW_ID}`, deviceId: "bench-000", observedAt: "2026-12-01T00:00:00.000Z", threats: [{ externalId: "x", category: "APP", severity: "HIGH", title: "bad app", status: "ACTIVE" }] },
    },
  },
];
const CHOSEN = process.env.BENCH_WORKLOADS === undefined ? WORKLOADS : process.env.BENCH_WORKLOADS.split(",").map((index) => WORKLOADS[Number(index)]!);

/** The JSON body of `workload`'s request; `id` instead of autocannon's new id, when given. */
export function bodyOf(workload: Workload, id?: string): string {
  const body = JSON.stringify({ query: workload.query, variables: workload.variables });
  return id === undefined ? body : body.replaceAll(NEW_ID, id);
}

/** Runs Hive Gateway / autocannon from the bench package: run.ts installs it first. */
export const needsPeers = true;

interface Measured {
  rps: Spread;
  p99: Spread;
  cpu: Spread;
  subgraphsCpu: Spread;
  /** Per round: ours ÷ this peer, requests/s; this peer ÷ ours, gateway CPU per request. */
  rpsRatio?: Spread;
  cpuRatio?: Spread;
}

export async function run(): Promise<void> {
  const subgraphSink = SUBGRAPHS_TRACED ? await startSink({}) : undefined;
  const subgraphTracing = await startTracing(
    { tracesUrl: subgraphSink && `${subgraphSink.env.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`, protocol: "http/protobuf" },
    "subgraphs",
    createLogger("warn", "bench"),
  );
  const graph = await startGraph({ env: { MTD_RATE_LIMIT_TENANT_PER_SECOND: "0", MTD_RATE_LIMIT_PARTNER_PER_SECOND: "0" } });
  const peers: RunningPeer[] = [];
  const sinks = new Map<PeerName, TraceSink>();
  // Requests each peer answered (warm-ups included), to show the traced peers' spans per request.
  const answered = new Map<PeerName, number>(PEERS.map((name) => [name, CHOSEN.length]));
  try {
    const tokens = await prepare(graph);
    const subgraphUrls = Object.fromEntries(Object.entries(graph.subgraphs).map(([name, subgraph]) => [name, subgraph.url])) as Record<SubgraphName, string>;
    for (const name of PEERS) {
      if (traced(name)) sinks.set(name, await startTraceSink(name));
      peers.push(await startPeer(name, { subgraphUrls, secret: graph.config.auth.secret!, env: sinks.get(name)?.env }));
    }

    // Every peer answers every workload with the same data before anything is measured.
    for (const workload of CHOSEN) {
      const answers = await Promise.all(
        peers.map(async (peer) => {
          const response = await fetch(peer.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${tokens[workload.role]}` }, body: bodyOf(workload, `check-${peer.name}`) });
          return (await response.json()) as { data?: unknown; errors?: unknown };
        }),
      );
      for (const [index, answer] of answers.entries()) {
        if (answer.errors !== undefined || answer.data == null) throw new Error(`${peers[index]!.name} failed ${workload.name}: ${JSON.stringify(answer.errors)}`);
        if (JSON.stringify(answer.data) !== JSON.stringify(answers[0]!.data)) throw new Error(`${peers[index]!.name} answered ${workload.name} differently`);
      }
    }

    const loadBefore = loadAverage();
    console.log(`${CONNECTIONS} connections, ${SECONDS} s per measurement after ${WARMUP_SECONDS} s warm-up, ${ROUNDS} rounds interleaved; subgraphs in one process on SQLite (${DEVICES} devices, ${DEVICES * APPS_PER_DEVICE} apps)${SUBGRAPHS_TRACED ? ", traced" : ""}; load average ${loadBefore}\n`);
    const results: Record<string, Record<string, Measured> & { loadAverage?: unknown }> = {};
    const rows: (string | number)[][] = [];
    for (const workload of CHOSEN) {
      const { name, subgraphs } = workload;
      const body = bodyOf(workload);
      const load = async (peer: RunningPeer, seconds: number) => {
        const result = await autocannon({ url: peer.url, body, headers: { "content-type": "application/json", authorization: `Bearer ${tokens[workload.role]}` }, connections: CONNECTIONS, seconds, newIds: body.includes(NEW_ID) });
        answered.set(peer.name, answered.get(peer.name)! + result.requests.total);
        return result;
      };
      for (const peer of peers) await load(peer, WARMUP_SECONDS);
      const before = loadAverage();
      const samples = await interleaved(peers, ROUNDS, async (peer) => {
        const cpuBefore = cpuMsOf(peer.pid);
        const subgraphsBefore = cpuMsOf(process.pid);
        const result = await load(peer, SECONDS);
        const subgraphsCpu = cpuMsOf(process.pid) - subgraphsBefore;
        if (result.non2xx > 0 || result.errors > 0) throw new Error(`${peer.name} on ${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        return { rps: result.requests.total / result.duration, p99: result.latency.p99, cpu: (cpuMsOf(peer.pid) - cpuBefore) / result.requests.total, subgraphsCpu: subgraphsCpu / result.requests.total };
      });
      const after = loadAverage();
      const of = (peer: RunningPeer, key: "rps" | "p99" | "cpu" | "subgraphsCpu") => samples.get(peer)!.map((sample) => sample[key]);
      const ours = peers.find((peer) => peer.name === "ours") ?? peers[0]!;
      results[name] = {};
      for (const peer of peers) {
        const measured: Measured = { rps: spread(of(peer, "rps")), p99: spread(of(peer, "p99")), cpu: spread(of(peer, "cpu")), subgraphsCpu: spread(of(peer, "subgraphsCpu")) };
        if (peer !== ours) {
          measured.rpsRatio = pairedRatio(of(ours, "rps"), of(peer, "rps"));
          measured.cpuRatio = pairedRatio(of(peer, "cpu"), of(ours, "cpu"));
        }
        results[name]![peer.name] = measured;
        rows.push([
          `${name} (${subgraphs} subgraph${subgraphs > 1 ? "s" : ""})`,
          PEER_LABELS[peer.name],
          showSpread(measured.rps),
          showSpread(measured.p99, 1),
          showSpread(measured.cpu, 2),
          showSpread(measured.subgraphsCpu, 2),
          measured.rpsRatio === undefined ? "" : showSpread(measured.rpsRatio, 2),
          measured.cpuRatio === undefined ? "" : showSpread(measured.cpuRatio, 2),
          peer === ours ? `${before} → ${after}` : "",
        ]);
      }
      results[name]!.loadAverage = { before, after };
    }
    printTable(
      ["workload", "gateway", "requests/s median (range)", "p99 ms median (range)", "gateway CPU ms/request", "subgraphs CPU ms/request", "ours ÷ peer, req/s, per round", "peer ÷ ours, CPU/request, per round", "load average"],
      rows,
    );
    // A traced gateway flushes its spans when it stops: count them after.
    for (const peer of peers) await peer.stop();
    const exported = Object.fromEntries([...sinks].map(([name, sink]) => [name, { spans: sink.spans(), requests: answered.get(name)!, spansPerRequest: sink.spans() / answered.get(name)! }]));
    for (const [name, { spans, requests, spansPerRequest }] of Object.entries(exported)) console.log(`${name}: ${spans} spans received for ${requests} requests (${spansPerRequest.toFixed(2)} per request)`);
    if (subgraphSink !== undefined) {
      await subgraphTracing.dispose();
      const requests = [...answered.values()].reduce((sum, count) => sum + count, 0);
      console.log(`subgraphs (traced): ${subgraphSink.spans()} spans received for ${requests} requests of all peers (${(subgraphSink.spans() / requests).toFixed(2)} per request)`);
    }
    const file = writeResults("queries", { subgraphsTraced: SUBGRAPHS_TRACED, connections: CONNECTIONS, seconds: SECONDS, rounds: ROUNDS, peers: PEERS, loadAverage: { before: loadBefore, after: loadAverage() }, results, exported });
    console.log(`\nwritten ${file}`);
  } finally {
    for (const peer of peers) await peer.stop();
    for (const sink of sinks.values()) await sink.close();
    await graph.stop();
    await subgraphTracing.dispose();
    await subgraphSink?.close();
  }
}

/** A tenant with devices (half with an active threat), a compliance policy and app inventories; returns an analyst's and a partner's token. */
export async function prepare(graph: TestGraph): Promise<Record<Workload["role"], string>> {
  const admin = await graph.token({ tenantId: TENANT, role: "admin" });
  const partner = await graph.token({ tenantId: TENANT, role: "partner", partner: "LOOKOUT" });
  const ok = async (token: string, query: string, variables?: Record<string, unknown>) => {
    const result = await graph.query(token, query, variables);
    if (result.errors !== undefined) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(result.errors)}`);
    return result.data;
  };
  await ok(admin, `mutation { enableMtdConnector(input: { partner: LOOKOUT, enabledPlatforms: [IOS, ANDROID] }) { state } }`);
  await ok(admin, `mutation { setCompliancePolicy(input: { platform: IOS, name: "iOS", maxThreatLevel: LOW }) { id } }`);
  const ids = Array.from({ length: DEVICES }, (_, i) => `bench-${String(i).padStart(3, "0")}`);
  for (const [i, id] of ids.entries()) {
    await ok(admin, `mutation($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`, {
      input: { id, name: `phone ${i}`, platform: i % 2 === 0 ? "IOS" : "ANDROID", osVersion: "17.4", ownership: "CORPORATE" },
    });
  }
  const known = graph.subgraphs.threats!.database.dataSource.getRepository(DeviceStateEntity);
  await waitFor(async () => (await known.count({ where: { tenantId: TENANT } })) === DEVICES, 30_000, "devices known to threats");
  for (const [i, id] of ids.entries()) {
    if (i % 2 === 0) {
      await ok(partner, `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { reportId } }`, {
        input: { reportId: `r-${id}`, deviceId: id, observedAt: new Date().toISOString(), threats: [{ externalId: "x", category: "APP", severity: "HIGH", title: "bad app", status: "ACTIVE" }] },
      });
    }
    await ok(admin, `mutation($id: ID!, $at: DateTime!, $apps: [AppInput!]!) { syncAppInventory(deviceId: $id, capturedAt: $at, apps: $apps) { appCount } }`, {
      id,
      at: new Date().toISOString(),
      apps: Array.from({ length: APPS_PER_DEVICE }, (_, a) => ({ appId: `com.example.app${a}`, name: `App ${a}`, version: `1.${a}`, validated: true, managed: a % 2 === 0 })),
    });
  }
  const analyst = await graph.token({ tenantId: TENANT, role: "analyst" });
  // Compliance follows the reports through the event log: wait until every iOS device with a HIGH threat is noncompliant.
  await waitFor(
    async () => {
      const data = (await ok(analyst, `{ devices(first: 100) { edges { node { complianceState } } } }`)) as { devices: { edges: { node: { complianceState: string } }[] } };
      return data.devices.edges.filter((edge) => edge.node.complianceState === "NONCOMPLIANT").length === DEVICES / 2;
    },
    30_000,
    "compliance evaluated",
  );
  return { analyst, partner };
}
