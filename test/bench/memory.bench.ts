/**
 * `npm run bench -- memory`, two parts (`BENCH_MEMORY=subscriptions,documents`, both by default):
 *
 * Distinct documents (memory-documents.ts): BENCH_DOCUMENTS (100,000)
 * operations with every value inline against the same count with one document
 * per operation and variables, every service its own process; RSS per process
 * at start, every tenth and after a forced GC. Target: the inline run grows at
 * most 64 MiB more than the variables run in every process, and is flat over
 * its second half (heap in use after a forced GC at each tenth). BENCH_STYLES
 * picks the runs and their order (`variables,inline` by default); every
 * tenth prints each process's RSS and live heap as it goes.
 *
 * Idle subscriptions: resident memory per 1,000 idle subscriptions.
 * Each measurement starts the server fresh (its own process), reads its RSS,
 * opens SUBSCRIBERS subscriptions on `accessChanged` (one event delivered to
 * each, so every upstream subscription exists), waits for things to settle and
 * reads its RSS again. Ours and Hive Gateway on the same subgraphs (startGraph,
 * SQLite), and the bare `ws` server holding as many sockets; interleaved
 * rounds, median and range.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { SubgraphName } from "../../lib/config.js";
import { startGraph } from "../support/graph.js";
import { interleaved, PEER_LABELS, ratio, showSpread, spread, startPeer, writeResults, type PeerName } from "./peers.js";
import { accessChanges, eventLogPublisher, FANOUT_SUBSCRIPTION, frameOf, startSubscribers, warmUp } from "./subscribers.js";
import { printTable } from "./table.js";
import { runDocuments, type DocumentsRun, type Style } from "./memory-documents.js";

const PEERS = (process.env.BENCH_PEERS ?? "ours,hive,floor").split(",") as PeerName[];
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SETTLE_MS = 3000;
const PARTS = (process.env.BENCH_MEMORY ?? "documents,subscriptions").split(",");
const DOCUMENTS = Number(process.env.BENCH_DOCUMENTS ?? 100_000);
/** Which runs of the documents part, in this order (`inline,variables` measures the inline run first, while the machine is quiet). */
const STYLES = (process.env.BENCH_STYLES ?? "variables,inline").split(",") as Style[];
/** Most a process may grow with distinct documents beyond what it grows with variables, MiB. */
const DISTINCT_BUDGET_MIB = 64;

/** The idle-subscription part runs Hive Gateway from the bench package: run.ts installs it first. */
export const needsPeers = PARTS.includes("subscriptions");

export async function run(): Promise<void> {
  if (PARTS.includes("documents")) await distinctDocuments();
  if (PARTS.includes("subscriptions")) await idleSubscriptions();
}

async function distinctDocuments(): Promise<void> {
  console.log(`${DOCUMENTS.toLocaleString("en-US")} operations (half queries, half reportThreats), 8 in flight, every service its own process (MariaDB, Redis), runs: ${STYLES.join(" then ")} (variables: one document per kind; inline: every value in the document)\n`);
  const runs: DocumentsRun[] = [];
  for (const style of STYLES) runs.push(await runDocuments(style, DOCUMENTS));
  const at = (tenth: number) => `RSS at ${Math.round((DOCUMENTS * tenth) / 10).toLocaleString("en-US")}`;
  const failed = (r: DocumentsRun) => (Object.keys(r.errors).length === 0 ? "no errors" : `errors ${JSON.stringify(r.errors)}`);
  console.log(`\n${runs.map((r) => `${r.style}: ${r.rate.toFixed(0)} operations/s, ${failed(r)}`).join("; ")}\n`);
  printTable(
    ["process", "run", "RSS at start", at(5), at(10), "RSS after GC", "heap at start", `heap at ${Math.round(DOCUMENTS / 2).toLocaleString("en-US")}`, "heap at end"],
    Object.keys(runs[0]!.processes).flatMap((name) =>
      runs.map((r) => {
        const p = r.processes[name]!;
        return [name, r.style, p.rss[0]!, p.rss[5]!, p.rss[10]!, p.rssAfterGc, p.heap[0]!, p.heap[5]!, p.heapAfterGc];
      }),
    ),
  );
  const file = writeResults("memory-documents", { operations: DOCUMENTS, runs });
  const variables = runs.find((r) => r.style === "variables");
  const inline = runs.find((r) => r.style === "inline");
  if (variables !== undefined && inline !== undefined) compareStyles(variables, inline);
  console.log(`\nwritten ${file}\n`);
}

/** Each process's growth inline against its growth with variables: the target. */
function compareStyles(variables: DocumentsRun, inline: DocumentsRun): void {
  console.log("");
  // After a GC at both ends: the RSS before it at start holds the start-up's garbage, which varied by 30 MiB between fresh processes.
  const growth = (p: DocumentsRun["processes"][string]) => p.rssAfterGc - p.rssGc[0]!;
  printTable(
    ["process", "RSS growth with variables (after GC), MiB", "RSS growth inline (after GC), MiB", `inline − variables (≤ ${DISTINCT_BUDGET_MIB})`, "heap growth, second half: variables / inline, MiB", "heap inline ÷ variables"],
    Object.keys(variables.processes).map((name) => {
      const v = variables.processes[name]!;
      const i = inline.processes[name]!;
      const excess = growth(i) - growth(v);
      const secondHalf = (p: typeof v) => (p.heap[10]! - p.heap[5]!).toFixed(1);
      return [name, growth(v), growth(i), `${excess.toFixed(1)} ${excess <= DISTINCT_BUDGET_MIB ? "ok" : "OVER"}`, `${secondHalf(v)} / ${secondHalf(i)}`, ratio(i.heapAfterGc, v.heapAfterGc)];
    }),
  );
}

async function idleSubscriptions(): Promise<void> {
  const graph = await startGraph({ env: { MTD_WS_MAX_SUBSCRIPTIONS_PER_TENANT: "100000" } });
  try {
    const subgraphUrls = Object.fromEntries(Object.entries(graph.subgraphs).map(([name, subgraph]) => [name, subgraph.url])) as Record<SubgraphName, string>;
    console.log(`${SUBSCRIBERS} idle subscriptions (one tenant, one token, one operation), ${ROUNDS} rounds interleaved, a fresh server process each\n`);
    const samples = await interleaved(PEERS, ROUNDS, async (name, round) => {
      const peer = await startPeer(name, { subgraphUrls, secret: graph.config.auth.secret! });
      try {
        await sleep(SETTLE_MS);
        const before = peer.rss();
        const tenantId = `mem-${round}-${name}`;
        const authorization = `Bearer ${await graph.token({ tenantId, role: "enforcement" })}`;
        const subscribers = await startSubscribers({ url: peer.url, count: SUBSCRIBERS, mode: name === "floor" ? "raw" : "graphql", authorization, query: FANOUT_SUBSCRIPTION });
        try {
          const publish =
            name === "floor"
              ? async (from: number, n: number) => void (await fetch(peer.url.replace(/\/graphql$/, "/broadcast"), { method: "POST", body: JSON.stringify({ frames: accessChanges(tenantId, from, n).map(frameOf) }) }))
              : eventLogPublisher(graph.events, tenantId);
          await warmUp(subscribers, SUBSCRIBERS, publish);
          await sleep(SETTLE_MS);
          return { before, after: peer.rss(), perThousand: ((peer.rss() - before) / SUBSCRIBERS) * 1000 };
        } finally {
          await subscribers.close();
        }
      } finally {
        await peer.stop();
      }
    });
    const mib = (bytes: number) => bytes / 2 ** 20;
    const results: Record<string, { before: ReturnType<typeof spread>; after: ReturnType<typeof spread>; perThousand: ReturnType<typeof spread> }> = {};
    for (const name of PEERS) {
      const runs = samples.get(name)!;
      results[name] = { before: spread(runs.map((r) => mib(r.before))), after: spread(runs.map((r) => mib(r.after))), perThousand: spread(runs.map((r) => mib(r.perThousand))) };
    }
    printTable(
      ["server", "RSS before, MiB", `RSS with ${SUBSCRIBERS.toLocaleString("en-US")} subscriptions, MiB`, "MiB per 1,000 subscriptions", "÷ floor", "peer ÷ ours"],
      PEERS.map((name) => [
        PEER_LABELS[name],
        showSpread(results[name]!.before, 1),
        showSpread(results[name]!.after, 1),
        showSpread(results[name]!.perThousand, 1),
        results.floor === undefined ? "" : ratio(results[name]!.perThousand.median, results.floor.perThousand.median),
        name === "ours" || results.ours === undefined ? "" : ratio(results[name]!.perThousand.median, results.ours.perThousand.median),
      ]),
    );
    const file = writeResults("memory", { subscribers: SUBSCRIBERS, rounds: ROUNDS, results });
    console.log(`\nwritten ${file}`);
  } finally {
    await graph.stop();
  }
}
