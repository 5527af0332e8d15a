/**
 * `npm run bench -- ingest`: partner reports accepted per second through the
 * gateway into MariaDB (each report one transaction: idempotency record,
 * device lock, threat upserts, reassessment, outbox row; Redis Streams as the
 * event log), at a fixed concurrency for a fixed time, against the floor of
 * raw mysql2 single-row INSERTs (autocommit) into a scratch table at the same
 * concurrency and duration, in the same run: the three paths interleaved
 * (gateway, subgraph directly, floor, …) for ROUNDS rounds, median and range.
 */
import { performance } from "node:perf_hooks";
import { createPool } from "mysql2/promise";
import { IsNull } from "typeorm";
import { mysqlAvailable, redisAvailable } from "../support/services.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";
import { DeviceStateEntity } from "../../subgraphs/threats/data/entities.js";
import { interleaved, percentile, ratio, showSpread, spread, writeResults } from "./peers.js";
import { printTable } from "./table.js";

const DEVICES = 200;
const CONCURRENCY = 16;
const WARMUP_MS = 1_000;
const MEASURE_MS = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TENANT = "bench";
/** Threats per device the reports draw from: reports open and resolve them over and over. */
const THREATS_PER_DEVICE = 6;
const SEVERITIES = ["LOW", "MEDIUM", "HIGH"] as const;

/** The gateway's rate limits stay on (their cost is part of ingest) but far above what one machine sends. */
const UNLIMITED = {
  MTD_RATE_LIMIT_TENANT_PER_SECOND: "1000000",
  MTD_RATE_LIMIT_TENANT_BURST: "1000000",
  MTD_RATE_LIMIT_PARTNER_PER_SECOND: "1000000",
  MTD_RATE_LIMIT_PARTNER_BURST: "1000000",
};

const REPORT = /* GraphQL */ `mutation Report($input: ReportThreatsInput!) { reportThreats(input: $input) { duplicate } }`;

interface Measured {
  operations: number;
  seconds: number;
  latencies: number[];
}

export async function run(): Promise<void> {
  if (!mysqlAvailable) {
    console.log("skipping ingest: MariaDB is not reachable (see test/support/services.ts for the URL)");
    return;
  }
  if (!redisAvailable) console.log("Redis is not reachable: the graph runs with the in-process event log");
  const graph = await startGraph({ database: "mysql", eventLog: redisAvailable ? "redis" : "memory", env: UNLIMITED });
  try {
    const { partner, ids } = await prepare(graph);
    let counter = 0;
    const report = (url?: string) => async () => {
      const n = ++counter;
      const deviceId = ids[n % ids.length]!;
      const threats = Array.from({ length: 1 + (n % 3) }, (_, i) => ({
        externalId: `t-${(n + i) % THREATS_PER_DEVICE}`,
        category: "APP",
        severity: SEVERITIES[(n + i) % SEVERITIES.length],
        title: `threat ${(n + i) % THREATS_PER_DEVICE}`,
        status: (n + i) % 2 === 0 ? "ACTIVE" : "RESOLVED",
      }));
      const result = await graph.query(partner, REPORT, { input: { reportId: `bench-${n}`, deviceId, observedAt: new Date().toISOString(), threats } }, url);
      if (result.errors !== undefined || result.data?.reportThreats.duplicate !== false) throw new Error(`report rejected: ${JSON.stringify(result.errors ?? result.data)}`);
    };
    const floor = await rawInserts(graph.config.databaseUrl!);
    try {
      await measure(report(), WARMUP_MS);
      await measure(floor.insert, WARMUP_MS);
      // Interleaved rounds (A B C A B C …): every path sees the same machine.
      // Every SQL statement the services send (transaction control, outbox relay and consumers included) counts.
      const statementCount = () => Object.values(graph.statements).reduce((sum, counter) => sum + counter.count, 0);
      const statementsPerOperation = new Map<string, number[]>();
      const samples = await interleaved(["gateway", "direct", "floor"] as const, ROUNDS, async (path) => {
        const before = statementCount();
        const measured = await (path === "gateway" ? measure(report(), MEASURE_MS) : path === "direct" ? measure(report(graph.subgraphs.threats!.url), MEASURE_MS) : measure(floor.insert, MEASURE_MS));
        // What the pipeline still does for these reports (policies, outbox) lands in the next window: close enough over rounds.
        statementsPerOperation.set(path, [...(statementsPerOperation.get(path) ?? []), path === "floor" ? 1 : (statementCount() - before) / measured.operations]);
        return measured;
      });

      const outbox = graph.subgraphs.threats!.database.dataSource.getRepository("threats_outbox");
      const drainStart = performance.now();
      await waitFor(async () => (await outbox.count({ where: { publishedAt: IsNull() } })) === 0, 60_000, "outbox drained");
      const drainMs = performance.now() - drainStart;

      const perSecond = (path: "gateway" | "direct" | "floor") => spread(samples.get(path)!.map((m) => m.operations / m.seconds));
      const p99 = (path: "gateway" | "direct" | "floor") => spread(samples.get(path)!.map((m) => summary(m).p99));
      const p50 = (path: "gateway" | "direct" | "floor") => spread(samples.get(path)!.map((m) => summary(m).p50));
      const floorRate = perSecond("floor").median;
      const labels = { gateway: "reportThreats via gateway (1-3 threats, outbox)", direct: "reportThreats on the subgraph directly", floor: "raw mysql2 single-row INSERT (floor)" };
      console.log();
      printTable(
        ["path", "concurrency", "per second median (range)", "p50 ms", "p99 ms", "SQL statements per operation", "÷ floor"],
        (["gateway", "direct", "floor"] as const).map((path) => [
          labels[path],
          CONCURRENCY,
          showSpread(perSecond(path)),
          showSpread(p50(path), 1),
          showSpread(p99(path), 1),
          spread(statementsPerOperation.get(path)!).median.toFixed(1),
          ratio(perSecond(path).median, floorRate),
        ]),
      );
      console.log(`\noutbox backlog drained ${drainMs.toFixed(0)} ms after the run`);
      const file = writeResults("ingest", {
        concurrency: CONCURRENCY,
        seconds: MEASURE_MS / 1000,
        rounds: ROUNDS,
        results: Object.fromEntries((["gateway", "direct", "floor"] as const).map((path) => [path, { perSecond: perSecond(path), p50: p50(path), p99: p99(path), statementsPerOperation: spread(statementsPerOperation.get(path)!) }])),
        drainMs,
      });
      console.log(`written ${file}`);
    } finally {
      await floor.close();
    }
  } finally {
    await graph.stop();
  }
}

/** Enables the connector and enrolls the devices; resolves once the threats subgraph knows all of them. */
async function prepare(graph: TestGraph): Promise<{ partner: string; ids: string[] }> {
  const admin = await graph.token({ tenantId: TENANT, role: "admin" });
  const partner = await graph.token({ tenantId: TENANT, role: "partner", partner: "LOOKOUT" });
  const enabled = await graph.query(admin, `mutation { enableMtdConnector(input: { partner: LOOKOUT, enabledPlatforms: [IOS, ANDROID], blockOnMissingPartnerData: [IOS] }) { state } }`);
  if (enabled.errors !== undefined) throw new Error(JSON.stringify(enabled.errors));
  const ids = Array.from({ length: DEVICES }, (_, i) => `bench-${String(i).padStart(4, "0")}`);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < ids.length; i = next++) {
        const input = { id: ids[i], name: `phone ${i}`, platform: i % 2 === 0 ? "IOS" : "ANDROID", osVersion: "17.4", ownership: "CORPORATE" };
        const result = await graph.query(admin, `mutation Enroll($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`, { input });
        if (result.errors !== undefined) throw new Error(JSON.stringify(result.errors));
      }
    }),
  );
  const known = graph.subgraphs.threats!.database.dataSource.getRepository(DeviceStateEntity);
  await waitFor(async () => (await known.count({ where: { tenantId: TENANT } })) === DEVICES, 60_000, "devices known to threats");
  return { partner, ids };
}

/** Runs `operation` on CONCURRENCY workers for `durationMs`; counts completions and their latencies. */
async function measure(operation: () => Promise<void>, durationMs: number): Promise<Measured> {
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = start + durationMs;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const began = performance.now();
        await operation();
        latencies.push(performance.now() - began);
      }
    }),
  );
  return { operations: latencies.length, seconds: (performance.now() - start) / 1000, latencies };
}

/** The floor: single-row INSERTs, autocommit, on a pool of CONCURRENCY connections to the same database. */
async function rawInserts(databaseUrl: string): Promise<{ insert: () => Promise<void>; close(): Promise<void> }> {
  const url = new URL(databaseUrl);
  url.protocol = "mysql:";
  const pool = createPool({ uri: url.toString(), connectionLimit: CONCURRENCY });
  await pool.query("CREATE TABLE bench_floor (id BIGINT AUTO_INCREMENT PRIMARY KEY, device_id VARCHAR(128) NOT NULL, title VARCHAR(512) NOT NULL, created_at BIGINT NOT NULL)");
  let n = 0;
  return {
    insert: async () => {
      n += 1;
      await pool.execute("INSERT INTO bench_floor (device_id, title, created_at) VALUES (?, ?, ?)", [`bench-${n % DEVICES}`, `threat ${n}`, Date.now()]);
    },
    close: async () => {
      await pool.query("DROP TABLE IF EXISTS bench_floor");
      await pool.end();
    },
  };
}

function summary(measured: Measured): { p50: number; p99: number } {
  const sorted = [...measured.latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}
