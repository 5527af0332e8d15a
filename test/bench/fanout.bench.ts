/**
 * `npm run bench -- fanout`: subscription fan-out at 100, 1,000 and 5,000
 * subscribers on `accessChanged` (one tenant, one enforcement token, the same
 * operation), through our gateway (over graphql-ws, Server-Sent Events and
 * multipart HTTP: `BENCH_TRANSPORTS`) and Hive Gateway (each its own process,
 * subscriptions to the policies subgraph over graphql-ws), next to the floor:
 * a bare `ws` server sending the same frames, pre-serialised, to as many
 * clients. Subgraphs: startGraph in this process (SQLite, in-process event
 * log); events are `access.changed` published straight into the event log, so
 * what is measured is the gateway's delivery, not the pipeline (see latency).
 *
 * Per measurement: BURST events at once; deliveries/s = subscribers × BURST ÷
 * (last arrival − publish); latency = arrival − the event's `at`. Peers
 * interleaved per subscriber count, ROUNDS rounds, median and range.
 */
import type { SubgraphName } from "../../lib/config.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";
import { cpuMsOf, interleaved, PEER_LABELS, percentile, ratio, showSpread, spread, startPeer, writeResults, type PeerName, type RunningPeer } from "./peers.js";
import { accessChanges, eventLogPublisher, FANOUT_SUBSCRIPTION, frameOf, startSubscribers, warmUp } from "./subscribers.js";
import { printTable } from "./table.js";

const PEERS = (process.env.BENCH_PEERS ?? "ours,hive,floor").split(",") as PeerName[];
const COUNTS = (process.env.BENCH_SUBSCRIBERS ?? "100,1000,5000").split(",").map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Our gateway's transports, each measured as a row of its own. */
const TRANSPORTS = (process.env.BENCH_TRANSPORTS ?? "graphql-ws,sse,multipart").split(",") as Transport[];
type Transport = "graphql-ws" | "sse" | "multipart";
const TRANSPORT_LABELS: Record<Transport, string> = { "graphql-ws": "graphql-ws", sse: "SSE", multipart: "multipart HTTP" };

/** One row of the table: a server and the transport its subscribers speak. */
interface Variant {
  key: string;
  label: string;
  peer: RunningPeer;
  mode: "graphql" | "raw" | "sse" | "multipart";
}

function variantsOf(peers: readonly RunningPeer[]): Variant[] {
  return peers.flatMap((peer): Variant[] => {
    if (peer.name === "floor") return [{ key: "floor", label: PEER_LABELS.floor, peer, mode: "raw" }];
    if (peer.name !== "ours") return [{ key: peer.name, label: PEER_LABELS[peer.name], peer, mode: "graphql" }];
    return TRANSPORTS.map((transport) => ({
      key: transport === "graphql-ws" ? "ours" : `ours-${transport}`,
      label: `${PEER_LABELS.ours}, ${TRANSPORT_LABELS[transport]}`,
      peer,
      mode: transport === "graphql-ws" ? "graphql" : transport,
    }));
  });
}
/** Events per burst: about 50,000 deliveries per measurement, at least 10 events. */
const burstFor = (subscribers: number) => Math.max(10, Math.round(50_000 / subscribers));

interface Measured {
  deliveries: number;
  expected: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** CPU the server process used per delivery, µs (robust to the machine's other load). */
  serverCpuUs: number;
  /** CPU the subscribers' process used per delivery, µs. */
  clientsCpuUs: number;
}

/** Runs Hive Gateway / autocannon from the bench package: run.ts installs it first. */
export const needsPeers = true;

export async function run(): Promise<void> {
  const graph = await startGraph({ env: { MTD_WS_MAX_SUBSCRIPTIONS_PER_TENANT: "100000" } });
  const peers: RunningPeer[] = [];
  try {
    const subgraphUrls = Object.fromEntries(Object.entries(graph.subgraphs).map(([name, subgraph]) => [name, subgraph.url])) as Record<SubgraphName, string>;
    for (const name of PEERS) peers.push(await startPeer(name, { subgraphUrls, secret: graph.config.auth.secret! }));
    console.log(`bursts of ~50,000 deliveries, ${ROUNDS} rounds interleaved; subgraphs in one process (SQLite), events published into the event log\n`);

    const results: Record<number, Record<string, Record<keyof Measured, ReturnType<typeof spread>>>> = {};
    const rows: (string | number)[][] = [];
    for (const count of COUNTS) {
      const burst = burstFor(count);
      const variants = variantsOf(peers);
      const samples = await interleaved(variants, ROUNDS, (variant, round) => measure(graph, variant, count, burst, `fan-${count}-${round}-${variant.key}`));
      results[count] = {};
      for (const variant of variants) {
        const runs = samples.get(variant)!;
        results[count]![variant.key] = Object.fromEntries((["deliveries", "expected", "perSecond", "p50", "p99", "serverCpuUs", "clientsCpuUs"] as const).map((key) => [key, spread(runs.map((r) => r[key]))])) as Record<keyof Measured, ReturnType<typeof spread>>;
      }
      const floor = results[count]!.floor;
      const ours = results[count]!.ours;
      for (const variant of variants) {
        const measured = results[count]![variant.key]!;
        const ourTransport = variant.peer.name === "ours";
        rows.push([
          count,
          variant.label,
          burst,
          showSpread(measured.perSecond),
          showSpread(measured.p50, 1),
          showSpread(measured.p99, 1),
          showSpread(measured.serverCpuUs, 1),
          showSpread(measured.clientsCpuUs, 1),
          floor === undefined ? "" : ratio(measured.perSecond.median, floor.perSecond.median),
          ourTransport || ours === undefined ? "" : ratio(ours.perSecond.median, measured.perSecond.median),
          !ourTransport || variant.key === "ours" || ours === undefined ? "" : ratio(measured.perSecond.median, ours.perSecond.median),
          measured.deliveries.median === measured.expected.median ? "all" : `${measured.deliveries.median} of ${measured.expected.median}`,
        ]);
      }
    }
    printTable(["subscribers", "server", "events", "deliveries/s median (range)", "p50 ms", "p99 ms", "server CPU µs/delivery", "clients CPU µs/delivery", "÷ floor", "ours ÷ peer", "÷ ours graphql-ws", "delivered"], rows);
    const file = writeResults("fanout", { rounds: ROUNDS, subscription: FANOUT_SUBSCRIPTION, results });
    console.log(`\nwritten ${file}`);
  } finally {
    for (const peer of peers) await peer.stop();
    await graph.stop();
  }
}

async function measure(graph: TestGraph, { peer, mode }: Variant, count: number, burst: number, tenantId: string): Promise<Measured> {
  const graphql = mode !== "raw";
  const authorization = `Bearer ${await graph.token({ tenantId, role: "enforcement" })}`;
  const subscribers = await startSubscribers({ url: peer.url, count, mode, authorization, query: FANOUT_SUBSCRIPTION });
  try {
    const publish = graphql
      ? eventLogPublisher(graph.events, tenantId)
      : async (from: number, n: number) => {
          const frames = accessChanges(tenantId, from, n).map(frameOf);
          const response = await fetch(peer.url.replace(/\/graphql$/, "/broadcast"), { method: "POST", body: JSON.stringify({ frames }) });
          if (!response.ok) throw new Error(`floor: ${response.status}`);
        };
    const next = await warmUp(subscribers, count, publish);
    const before = (await subscribers.stats()).received;
    const expected = count * burst;
    const cpuBefore = { server: cpuMsOf(peer.pid), clients: cpuMsOf(subscribers.pid) };
    const publishedAt = Date.now();
    await publish(next, burst);
    await waitFor(
      async () => {
        const stats = await subscribers.stats();
        if (stats.errors > 0) throw new Error(`${peer.name}: ${stats.problems.join("; ")}`);
        return stats.received - before >= expected;
      },
      180_000,
      `${peer.name}: ${expected} deliveries to ${count} subscribers`,
    ).catch((error: unknown) => console.error(String(error)));
    const cpu = { server: cpuMsOf(peer.pid) - cpuBefore.server, clients: cpuMsOf(subscribers.pid) - cpuBefore.clients };
    const collected = await subscribers.collect(next - 1);
    const sorted = [...collected.latencies].sort((a, b) => a - b);
    return {
      deliveries: sorted.length,
      expected,
      perSecond: sorted.length / ((collected.last - publishedAt) / 1000),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      serverCpuUs: (cpu.server * 1000) / sorted.length,
      clientsCpuUs: (cpu.clients * 1000) / sorted.length,
    };
  } finally {
    await subscribers.close();
  }
}
