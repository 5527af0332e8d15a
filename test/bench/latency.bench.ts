/**
 * `npm run bench -- latency`: end to end, a partner's report accepted (its
 * `reportThreats` answered by the gateway) → the access change it causes
 * received by every subscriber, p50/p99, with 1 and 1,000 subscribers, on
 * SQLite (in-process event log) and on MariaDB + Redis Streams. The whole
 * pipeline: threats transaction and outbox, event log, policies evaluation and
 * outbox, the policies subscription, our gateway (its own process) with entity
 * fetches for every event (device name from devices, risk from threats).
 * Subgraphs: startGraph in this process. Reports flip DEVICES devices between
 * compliant and not at RATE per second; ROUNDS rounds per configuration,
 * configurations interleaved.
 */
import type { SubgraphName } from "../../lib/config.js";
import { mysqlAvailable, redisAvailable } from "../support/services.js";
import { startGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";
import { Tenant } from "../gateway/subscriptions-helpers.js";
import { interleaved, percentile, showSpread, spread, startPeer, UNLIMITED, writeResults } from "./peers.js";
import { ChangeMap, deviceFlips, steady } from "./pace.js";
import { startSubscribers } from "./subscribers.js";
import { printTable } from "./table.js";

const RATE = Number(process.env.BENCH_RATE ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_REPORTS = 10;
const DEVICES = 20;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const COUNTS = (process.env.BENCH_SUBSCRIBERS ?? "1,1000").split(",").map(Number);

const SUBSCRIPTION = /* GraphQL */ `
  subscription Enforce($after: String) {
    accessChanged(resources: ["exchange"], after: $after) { sequence at cursor resource allowed reason device { id name riskLevel } }
  }
`;

type Storage = "sqlite" | "mariadb+redis";

interface Measured {
  p50: number;
  p99: number;
  deliveries: number;
  expected: number;
}

export async function run(): Promise<void> {
  const storages: Storage[] = ["sqlite"];
  if (mysqlAvailable && redisAvailable) storages.push("mariadb+redis");
  else console.log("MariaDB or Redis not reachable: SQLite only");
  const configurations = storages.flatMap((storage) => COUNTS.map((count) => ({ storage, count })));
  console.log(`${RATE} reports/s for ${SECONDS} s after ${WARMUP_REPORTS} warm-up reports, ${DEVICES} devices flipping, ${ROUNDS} rounds per configuration (interleaved)\n`);
  const samples = await interleaved(configurations, ROUNDS, ({ storage, count }, round) => measure(storage, count, round));
  const results: Record<string, { p50: ReturnType<typeof spread>; p99: ReturnType<typeof spread>; delivered: string }> = {};
  const rows = configurations.map((configuration) => {
    const runs = samples.get(configuration)!;
    const key = `${configuration.storage}/${configuration.count}`;
    const delivered = `${runs.reduce((sum, r) => sum + r.deliveries, 0)} of ${runs.reduce((sum, r) => sum + r.expected, 0)}`;
    results[key] = { p50: spread(runs.map((r) => r.p50)), p99: spread(runs.map((r) => r.p99)), delivered };
    const r = results[key]!;
    return [configuration.storage, configuration.count, showSpread(r.p50, 1), showSpread(r.p99, 1), delivered];
  });
  printTable(["storage", "subscribers", "p50 ms median (range)", "p99 ms median (range)", "delivered"], rows);
  const file = writeResults("latency", { rate: RATE, seconds: SECONDS, rounds: ROUNDS, results });
  console.log(`\nwritten ${file}`);
}

async function measure(storage: Storage, count: number, round: number): Promise<Measured> {
  const graph = await startGraph({
    database: storage === "sqlite" ? "sqlite" : "mysql",
    eventLog: storage === "sqlite" ? "memory" : "redis",
    env: UNLIMITED,
  });
  try {
    const subgraphUrls = Object.fromEntries(Object.entries(graph.subgraphs).map(([name, subgraph]) => [name, subgraph.url])) as Record<SubgraphName, string>;
    const gateway = await startPeer("ours", { subgraphUrls, secret: graph.config.auth.secret! });
    try {
      const query = (token: string | null, document: string, variables?: Record<string, unknown>) => graph.query(token, document, variables, gateway.url);
      const tenant = await Tenant.create(`lat-${round}`, query as Parameters<typeof Tenant.create>[1], graph.token);
      const devices = Array.from({ length: DEVICES }, (_, i) => `lat-${i}`);
      const head = await tenant.baseline(devices[0]!);
      for (const id of devices.slice(1)) await tenant.enroll(id);
      const subscribers = await startSubscribers({ url: gateway.url, count, mode: "graphql", authorization: `Bearer ${tenant.enforcement}`, query: SUBSCRIPTION, variables: { after: head } });
      try {
        /** Accepted time of each report, by its key. */
        const accepted = new Map<string, number>();
        const flip = deviceFlips(tenant, devices, [devices[0]!]);
        const report = async (i: number) => {
          const key = await flip(i);
          if (i >= WARMUP_REPORTS) accepted.set(key, Date.now());
        };
        const total = WARMUP_REPORTS + RATE * SECONDS;
        await steady(total, RATE, report);
        await waitFor(async () => (await subscribers.stats()).received >= total * count, 60_000, "every change delivered").catch((error: unknown) => console.error(String(error)));

        // Which report caused which sequence: the tenant's stored changes after the head, in order.
        const changes = new ChangeMap(tenant, head);
        await changes.read();
        const latencies: number[] = [];
        for (const frame of await subscribers.frames()) {
          const at = accepted.get(changes.keyOf.get(frame.sequence) ?? "");
          if (at !== undefined) latencies.push(frame.arrival - at);
        }
        latencies.sort((a, b) => a - b);
        return {
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          deliveries: latencies.length,
          expected: RATE * SECONDS * count,
        };
      } finally {
        await subscribers.close();
      }
    } finally {
      await gateway.stop();
    }
  } finally {
    await graph.stop();
  }
}
