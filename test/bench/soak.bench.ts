/**
 * `npm run bench -- soak`: does the graph stay flat when it runs for long?
 * Every subgraph and two gateways as their own processes (MariaDB + Redis),
 * retention at 2 minutes (`MTD_RETENTION_ACCESS_CHANGES`, `MTD_RETENTION_AUDIT`),
 * BENCH_SUBSCRIBERS (1,000) subscribers split over both gateways, partner
 * reports at BENCH_RATE (10) per second for BENCH_SOAK_MINUTES (10), each
 * flipping one of 20 devices (one access change per report on `exchange`),
 * with the report's values inline (every report a new document, issue 19's
 * shape; BENCH_INLINE=0 sends them as variables).
 *
 * Every 10 s while the reports run: the RSS (/proc), the V8 heap's size
 * (`nodejs_heap_size_total_bytes`, and by space: V8 grows and shrinks it by
 * tens of MiB with the allocation rate, and the RSS with it, which a slope
 * over five minutes cannot tell from a leak) and the event-loop delay (p99
 * since the last sample: prom-client's `nodejs_eventloop_lag_p99_seconds`,
 * reset at each scrape) and the count of major GCs (mark-compacts: between
 * two, V8's old space holds garbage and grows) of every process. The live heap after a forced GC
 * (through the inspector, as the memory scenario does), what a leak would
 * grow: at the start of the second half, every 5 minutes (to show whether it
 * levels off) and once the last report is answered. BENCH_HEAPSNAPSHOT
 * (service names) has those processes write a heap snapshot after the half
 * and end readings (`test/bench/results/heap/<service>/`; diff two with
 * `heap-diff.ts`). At start and end: the rows of every table, and the load
 * average. Every 10 s also Redis: its `used_memory` (the whole instance) and
 * each of the stack's streams' length and size, with the event log's
 * retention at 2 minutes too (`MTD_EVENT_LOG_RETENTION_SECONDS`): trimmed,
 * they level off after it.
 *
 * The slopes (least squares, MiB/min) are over the second half's samples
 * and only those: sampling stops when the last report is answered, before
 * the final forced GC and the drain (a forced GC shrinks the heap and the RSS
 * with it: samples after it would pull the slope down). A forced GC inside
 * the window (the halfway one at its start, the 5-minute ones in runs longer
 * than 10 minutes) is taken out of it: a sample taken while one runs is left
 * out, and each stretch between two forced GCs gets its own intercept, so the
 * drop a GC causes is not read as a fall. V8 growing its heap back after a
 * forced GC stays in, as growth: it can make a slope look larger, never smaller.
 * Beside it, the plain least-squares RSS slope over the same samples (one
 * intercept: the drop counts as a fall, the regrowth as growth).
 * Results: each process's RSS slope over the second half (target < 1) beside
 * its heap size's (in all and by space) and its live heap's, the tables
 * bounded, p99 report accepted → change delivered to a subscriber, for each
 * minute's reports (target: the last minute's ≤ 1.2× the first's).
 */
import { loadavg } from "node:os";
import { createConnection } from "mysql2/promise";
import type { Service } from "../support/service-process.js";
import { Tenant } from "../gateway/subscriptions-helpers.js";
import { percentile, rssOf, UNLIMITED, writeResults } from "./peers.js";
import { collectGarbage, GC_NODE_OPTIONS } from "./collect-garbage.js";
import { ChangeMap, deviceFlips, steady } from "./pace.js";
import { heapSnapshot, snapshotted, startProcesses } from "./stack.js";
import { startSubscribers, type Subscribers } from "./subscribers.js";
import { printTable } from "./table.js";
import { redisSampler, type RedisSample } from "./redis-sample.js";

const MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 10);
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const SAMPLE_MS = 10_000;
const DEVICES = 20;
const MIB = 2 ** 20;
const RETENTION = "2m";
const RETENTION_SECONDS = 120;
const INLINE = process.env.BENCH_INLINE !== "0";

const SUBSCRIPTION = /* GraphQL */ `
  subscription Enforce($after: String) {
    accessChanged(resources: ["exchange"], after: $after) { sequence at cursor resource allowed reason device { id name riskLevel } }
  }
`;

interface Sample {
  /** Seconds since the reports started, when the sample began and when its last scrape answered. */
  t: number;
  done: number;
  rssMib: Record<string, number>;
  heapTotalMib: Record<string, number>;
  /** The V8 heap's size by space (`old`, `new`, `code`, `large_object`, …), by process. */
  heapSpaceMib: Record<string, Record<string, number>>;
  loopP99Ms: Record<string, number>;
  /** Mark-compacts (major GCs) the process ran so far (prom-client's `nodejs_gc_duration_seconds_count`), by process. */
  majorGcs: Record<string, number>;
  redis: RedisSample;
}

export async function run(): Promise<void> {
  const env = { ...UNLIMITED, MTD_RETENTION_ACCESS_CHANGES: RETENTION, MTD_RETENTION_AUDIT: RETENTION, MTD_RETENTION_REPORTS: RETENTION, MTD_EVENT_LOG_RETENTION_SECONDS: String(RETENTION_SECONDS), NODE_OPTIONS: GC_NODE_OPTIONS };
  const loadAtStart = loadavg();
  const stack = await startProcesses(env, 2);
  const redis = redisSampler(stack.redisPrefix);
  const sample = (services: Service[], started: number) => sampleAll(services, started, redis);
  const groups: Subscribers[] = [];
  try {
    const tenant = await Tenant.create("soak", stack.query, stack.token);
    tenant.inlineReports = INLINE;
    const devices = Array.from({ length: DEVICES }, (_, i) => `soak-${i}`);
    const head = await tenant.baseline(devices[0]!);
    for (const id of devices.slice(1)) await tenant.enroll(id);
    const perGateway = Math.ceil(SUBSCRIBERS / stack.gateways.length);
    for (const gateway of stack.gateways) {
      groups.push(await startSubscribers({ url: gateway.url, count: perGateway, mode: "graphql", authorization: `Bearer ${tenant.enforcement}`, query: SUBSCRIPTION, variables: { after: head } }));
    }
    console.log(`${MINUTES} min, ${RATE} reports/s (values ${INLINE ? "inline" : "as variables"}), ${perGateway * groups.length} subscribers on ${stack.gateways.length} gateways, retention ${RETENTION}, every service its own process (MariaDB, Redis); load average ${loadAtStart.map((l) => l.toFixed(1)).join(" ")}\n`);

    const tablesAtStart = await tableRows(stack.databaseUrl);
    const changes = new ChangeMap(tenant, head);
    const samples: Sample[] = [];
    const started = Date.now();
    let sampling: Promise<unknown> = Promise.resolve();
    const sampler = setInterval(() => (sampling = sample(stack.services, started).then((s) => samples.push(s))), SAMPLE_MS);
    const mapper = setInterval(() => void changes.read().catch((error: unknown) => console.error(`reading changes: ${String(error)}`)), SAMPLE_MS);
    samples.push(await sample(stack.services, started));
    /** The live heap of every process (after a forced GC) at the start of the second half and when the last report is answered; and every 5 minutes, by minute. */
    const live: { half?: Record<string, number>; end?: Record<string, number>; byMinute: Record<number, Record<string, number>> } = { byMinute: {} };
    /** When each forced GC ran (seconds since the start): the slopes leave them out. */
    const forcedGcs: { start: number; end: number }[] = [];
    const forceGc = async () => {
      const gc = { start: (Date.now() - started) / 1000, end: Infinity };
      forcedGcs.push(gc);
      const heaps = await liveHeaps(stack.services);
      gc.end = (Date.now() - started) / 1000;
      return heaps;
    };
    const snapshots: string[] = [];
    const snapshot = async () => {
      for (const service of stack.services.filter(snapshotted)) snapshots.push(await heapSnapshot(service));
    };
    const halfway = setTimeout(() => void forceGc().then(async (heaps) => ((live.half = live.byMinute[MINUTES / 2] = heaps), await snapshot())), (MINUTES * 60_000) / 2);
    let fifth = 0;
    const everyFive = setInterval(() => {
      const minute = 5 * ++fifth;
      if (minute !== MINUTES / 2 && minute < MINUTES) void forceGc().then((heaps) => (live.byMinute[minute] = heaps));
    }, 5 * 60_000);

    /** When each report was accepted (ms since the start), by its key. */
    const accepted = new Map<string, number>();
    const report = deviceFlips(tenant, devices, [devices[0]!]);
    const total = Math.round(MINUTES * 60 * RATE);
    let failed = 0;
    await steady(total, RATE, async (i) => {
      try {
        accepted.set(await report(i), Date.now() - started);
      } catch (error) {
        if (failed++ === 0) console.error(`report failed: ${String(error)}`);
      }
      if ((i + 1) % (RATE * 60) === 0) console.log(`  ${(i + 1) / (RATE * 60)} min: ${i + 1} reports sent`);
    });
    clearTimeout(halfway);
    clearInterval(everyFive);
    clearInterval(sampler);
    await sampling;
    samples.push(await sample(stack.services, started));
    live.end = await forceGc();
    live.byMinute[MINUTES] = live.end;
    await snapshot();
    const expected = (total - failed) * perGateway * groups.length;
    const delivered = async () => (await Promise.all(groups.map((group) => group.stats()))).reduce((sum, stats) => sum + stats.received, 0);
    const deadline = Date.now() + 120_000;
    while ((await delivered()) < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
    clearInterval(mapper);
    await changes.read();
    const tablesAtEnd = await tableRows(stack.databaseUrl);

    // Latency of each delivery: the report that caused its sequence was accepted at `accepted`.
    const seconds = MINUTES * 60;
    /** Latencies of the deliveries of each minute's reports (by when the report was accepted). */
    const byMinute: number[][] = Array.from({ length: Math.ceil(MINUTES) }, () => []);
    let matched = 0;
    for (const group of groups) {
      for (const frame of await group.frames()) {
        const at = accepted.get(changes.keyOf.get(frame.sequence) ?? "");
        if (at === undefined) continue;
        matched++;
        byMinute[Math.min(Math.floor(at / 60_000), byMinute.length - 1)]!.push(frame.arrival - started - at);
      }
    }
    for (const minute of byMinute) minute.sort((a, b) => a - b);
    const [first, last] = [byMinute[0]!, byMinute.at(-1)!];

    const window = slopeWindow(samples, seconds / 2, forcedGcs);
    const processes = stack.services.map((service) => service.name);
    printTable(
      ["process", "RSS start, MiB", "RSS end, MiB", "RSS slope, second half, MiB/min (< 1)", "RSS slope, plain, MiB/min", "heap size end, MiB", "heap size slope, MiB/min", "live heap after GC, half → end, MiB", "live heap, MiB/min", "major GCs, second half", "event-loop p99, median of samples, ms", "event-loop p99, max, ms"],
      processes.map((name) => {
        const loops = samples.map((s) => s.loopP99Ms[name]!).filter(Number.isFinite).sort((a, b) => a - b);
        const slope = window.slope((s) => s.rssMib[name]!);
        const [atHalf, atEnd] = [live.half?.[name] ?? NaN, live.end![name]!];
        const liveSlope = (atEnd - atHalf) / (MINUTES / 2);
        const majorGcs = samples.at(-1)!.majorGcs[name]! - (window.samples[0]?.majorGcs[name] ?? NaN);
        return [name, samples[0]!.rssMib[name]!, samples.at(-1)!.rssMib[name]!, `${slope.toFixed(2)} ${Math.abs(slope) < 1 ? "ok" : "OVER"}`, window.plainSlope((s) => s.rssMib[name]!).toFixed(2), samples.at(-1)!.heapTotalMib[name]!, window.slope((s) => s.heapTotalMib[name]!).toFixed(2), `${atHalf.toFixed(1)} → ${atEnd.toFixed(1)}`, liveSlope.toFixed(2), majorGcs, percentile(loops, 50), loops.at(-1) ?? NaN];
      }),
    );
    console.log("");
    const spaces = [...new Set(samples.flatMap((s) => Object.values(s.heapSpaceMib).flatMap(Object.keys)))];
    printTable(
      ["V8 heap size by space, end MiB (second-half slope, MiB/min)", ...spaces],
      processes.map((name) => [name, ...spaces.map((space) => `${(samples.at(-1)!.heapSpaceMib[name]?.[space] ?? NaN).toFixed(1)} (${window.slope((s) => s.heapSpaceMib[name]?.[space] ?? NaN).toFixed(2)})`)]),
    );
    console.log("");
    const minutes = Object.keys(live.byMinute).map(Number).sort((a, b) => a - b);
    printTable(
      ["live heap after GC, MiB, at minute", ...minutes.map(String)],
      processes.map((name) => [name, ...minutes.map((minute) => live.byMinute[minute]![name]!.toFixed(1))]),
    );
    if (snapshots.length > 0) console.log(`heap snapshots (half, end): ${snapshots.join(" ")}`);
    console.log("");
    printTable(
      ["table", "rows at start", "rows at end"],
      Object.keys(tablesAtEnd).map((table) => [table, tablesAtStart[table] ?? 0, tablesAtEnd[table]!]),
    );
    console.log("");
    printRedis(samples, window);
    const p99First = percentile(first, 99);
    const p99Last = percentile(last, 99);
    console.log("");
    printTable(
      ["minute", ...byMinute.map((_, i) => String(i + 1))],
      [
        ["deliveries", ...byMinute.map((minute) => minute.length)],
        ["p50 ms", ...byMinute.map((minute) => percentile(minute, 50))],
        ["p99 ms", ...byMinute.map((minute) => percentile(minute, 99))],
      ],
    );
    console.log("");
    printTable(
      ["reports of", "deliveries", "p50 ms", "p99 ms"],
      [
        ["the first minute", first.length, percentile(first, 50), p99First],
        ["the last minute", last.length, percentile(last, 50), p99Last],
      ],
    );
    const stats = await Promise.all(groups.map((group) => group.stats()));
    const problems = stats.flatMap((group) => group.problems);
    console.log(`subscriber errors: ${stats.reduce((sum, group) => sum + group.errors, 0)}${problems.length === 0 ? "" : ` (first: ${problems[0]})`}`);
    const ratio = p99Last / p99First;
    const loadAtEnd = loadavg();
    console.log(`\np99 last ÷ first: ${ratio.toFixed(2)} (${ratio <= 1.2 ? "ok" : "OVER"} 1.2); delivered ${await delivered()} of ${expected} expected (${matched} matched to their report), ${failed} reports failed; load average at the end ${loadAtEnd.map((l) => l.toFixed(1)).join(" ")}`);
    const file = writeResults("soak", { minutes: MINUTES, rate: RATE, inline: INLINE, subscribers: perGateway * groups.length, retention: RETENTION, loadAtStart, loadAtEnd, samples, forcedGcs, live, tablesAtStart, tablesAtEnd, latency: { first: { p50: percentile(first, 50), p99: p99First }, last: { p50: percentile(last, 50), p99: p99Last }, byMinute: byMinute.map((minute) => ({ deliveries: minute.length, p50: percentile(minute, 50), p99: percentile(minute, 99) })) } });
    console.log(`written ${file}`);
  } finally {
    for (const group of groups) await group.close();
    redis.close();
    await stack.stop();
  }
}

async function liveHeaps(services: Service[]): Promise<Record<string, number>> {
  const heaps: Record<string, number> = {};
  for (const service of services) heaps[service.name] = (await collectGarbage(service)) / MIB;
  return heaps;
}

async function sampleAll(services: Service[], started: number, redis: ReturnType<typeof redisSampler>): Promise<Sample> {
  const s: Sample = { t: (Date.now() - started) / 1000, done: NaN, rssMib: {}, heapTotalMib: {}, heapSpaceMib: {}, loopP99Ms: {}, majorGcs: {}, redis: await redis.sample() };
  await Promise.all(
    services.map(async (service) => {
      s.rssMib[service.name] = rssOf(service.child!.pid!) / MIB;
      const text = await fetch(`http://127.0.0.1:${service.port}/metrics`).then((response) => response.text(), () => "");
      const gauge = (metric: string) => {
        const line = text.split("\n").find((l) => l.startsWith(`${metric} `));
        return line === undefined ? NaN : Number(line.split(" ")[1]);
      };
      s.heapTotalMib[service.name] = gauge("nodejs_heap_size_total_bytes") / MIB;
      s.loopP99Ms[service.name] = gauge("nodejs_eventloop_lag_p99_seconds") * 1000;
      s.majorGcs[service.name] = gauge('nodejs_gc_duration_seconds_count{kind="major"}');
      s.heapSpaceMib[service.name] = Object.fromEntries(
        [...text.matchAll(/^nodejs_heap_space_size_total_bytes\{space="(\w+)"\} (\S+)$/gm)].map(([, space, bytes]) => [space!, Number(bytes) / MIB]),
      );
    }),
  );
  s.done = (Date.now() - started) / 1000;
  return s;
}

/** Rows of every table of the stack's database. */
async function tableRows(databaseUrl: string): Promise<Record<string, number>> {
  const connection = await createConnection({ uri: databaseUrl });
  try {
    const [tables] = await connection.query("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name");
    const rows: Record<string, number> = {};
    for (const { name } of tables as { name: string }[]) {
      const [[count]] = (await connection.query("SELECT COUNT(*) AS n FROM ??", [name])) as unknown as [[{ n: number }]];
      rows[name] = Number(count.n);
    }
    return rows;
  } finally {
    await connection.end();
  }
}

/** Each stream's length and size at start, halfway and at the end, with the second half's slope, and Redis's used_memory. */
function printRedis(samples: Sample[], window: SlopeWindow): void {
  const half = window.samples[0] ?? samples.at(-1)!;
  const topics = [...new Set(samples.flatMap((s) => Object.keys(s.redis.streams)))].sort();
  const at = (s: Sample, topic: string) => s.redis.streams[topic] ?? { length: 0, mib: 0 };
  printTable(
    ["Redis", "at start", "halfway", "at end", "second half, per minute"],
    [
      ...topics.flatMap((topic) => [
        [`stream ${topic}: entries`, at(samples[0]!, topic).length, at(half, topic).length, at(samples.at(-1)!, topic).length, window.slope((s) => at(s, topic).length).toFixed(1)],
        [`stream ${topic}: MiB`, at(samples[0]!, topic).mib, at(half, topic).mib, at(samples.at(-1)!, topic).mib, window.slope((s) => at(s, topic).mib).toFixed(3)],
      ]),
      ["used_memory (whole instance), MiB", samples[0]!.redis.usedMemoryMib, half.redis.usedMemoryMib, samples.at(-1)!.redis.usedMemoryMib, window.slope((s) => s.redis.usedMemoryMib).toFixed(3)],
    ],
  );
}

interface SlopeWindow {
  /** The samples of the window, in order (none taken during a forced GC). */
  samples: Sample[];
  /** Least-squares slope of `of` over the window, per minute, each stretch between forced GCs with its own intercept. */
  slope(of: (s: Sample) => number): number;
  /** Least-squares slope of `of` over the window with one intercept: a forced GC's drop counts as a fall (the stretch-wise `slope` counts the regrowth after it, never the drop). */
  plainSlope(of: (s: Sample) => number): number;
}

/** The samples from `from` (seconds) on that no forced GC overlaps, each in the stretch after the last GC that ended before it. */
function slopeWindow(samples: Sample[], from: number, forcedGcs: { start: number; end: number }[]): SlopeWindow {
  const kept = samples.filter((s) => s.t >= from && !forcedGcs.some((gc) => s.t <= gc.end && s.done >= gc.start));
  const stretch = (s: Sample) => forcedGcs.filter((gc) => gc.end < s.t).length;
  return {
    samples: kept,
    plainSlope(of) {
      return leastSquares([kept.map((s): [number, number] => [s.t, of(s)])]);
    },
    slope(of) {
      const groups = new Map<number, [number, number][]>();
      for (const s of kept) groups.set(stretch(s), [...(groups.get(stretch(s)) ?? []), [s.t, of(s)]]);
      return leastSquares([...groups.values()]);
    },
  };
}

/** The least-squares slope per minute of points (seconds, value), each group with its own intercept. */
function leastSquares(groups: [number, number][][]): number {
  let [sxy, sxx] = [0, 0];
  for (const points of groups) {
    const mx = points.reduce((sum, [x]) => sum + x, 0) / points.length;
    const my = points.reduce((sum, [, y]) => sum + y, 0) / points.length;
    sxy += points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0);
    sxx += points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  }
  return sxx === 0 ? NaN : (sxy / sxx) * 60;
}
