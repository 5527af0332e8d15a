/**
 * `npm run bench -- evaluation`: the policies evaluator alone, on MariaDB +
 * Redis, one process (the graph in-process, idle apart from policies). A
 * tenant of BENCH_DEVICES iOS devices (default 2,000) known to policies, then:
 * - N MEDIUM assessments published straight into `threats` (as the threats
 *   subgraph would after a re-sync): until the 2 × N revocations are stored;
 * - the policy loosened to MEDIUM: until the 2 × N restorations are stored;
 * and during each, an urgent HIGH assessment (`urgent: true`, as a single
 * report's) on another device every 250 ms: published → its `access.changed`
 * in the log, p50/p99 (the evaluator's share of an urgent report's latency);
 * against the multi-row INSERT floor of the same row count in the same run.
 * What `burst` measures end to end, without the partner, the gateway and the
 * subscriber sharing the CPU: the evaluator's own ceiling. Under
 * `node --cpu-prof --import tsx test/bench/run.ts evaluation` it is the
 * evaluator's profile.
 */
import { performance } from "node:perf_hooks";
import { randomUUID } from "node:crypto";
import { mysqlAvailable, redisAvailable } from "../support/services.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { assessmentEvent, IOS_BASELINE } from "../support/policy-events.js";
import { multiRowInsertFloor } from "./floors.js";
import { machine, percentile, writeResults } from "./peers.js";
import { printTable } from "./table.js";

const SIZES = (process.env.BENCH_DEVICES ?? "2000").split(",").map(Number);
/** Events per publish into the log. */
const PUBLISH = 1000;
const URGENT_EVERY_MS = 250;
const URGENT_DEVICES = 200;

export async function run(): Promise<void> {
  if (!mysqlAvailable || !redisAvailable) {
    console.log("skipping evaluation: it runs on MariaDB and Redis, and one of them is not reachable (see test/support/services.ts)");
    return;
  }
  console.log(`sizes ${SIZES.join(", ")}; load before: ${machine().loadavg}`);
  const graph = await startGraph({ database: "mysql", eventLog: "redis" });
  const rows: (string | number)[][] = [];
  const results = [];
  try {
    for (const size of SIZES) {
      const result = await measure(graph, size);
      results.push(result);
      const x = (value: number) => `${(value / result.floor).toFixed(3)}×`;
      const statements = (count: number) => `${count} (${((1000 * count) / (2 * size)).toFixed(1)} per 1,000 changes)`;
      rows.push(
        [`${size}: multi-row INSERT floor (${2 * size} rows)`, Math.round(result.floor), "1×", "", ""],
        [`${size}: assessments → ${2 * size} revocations stored`, Math.round(result.revocationsPerSecond), x(result.revocationsPerSecond), (result.revocationsMs / 1000).toFixed(1), statements(result.revocationStatements), urgent(result.urgentDuringRevocations)],
        [`${size}: policy change → ${2 * size} restorations stored`, Math.round(result.restorationsPerSecond), x(result.restorationsPerSecond), (result.restorationsMs / 1000).toFixed(1), statements(result.restorationStatements), urgent(result.urgentDuringRestorations)],
      );
    }
  } finally {
    await graph.stop();
  }
  console.log(`\nthe graph in one process on MariaDB + Redis; load after: ${machine().loadavg}\n`);
  printTable(["path", "changes/s", "÷ floor", "s", "SQL statements (policies)", "urgent: samples, p50 / p99 ms"], rows);
  console.log(`\nwritten ${writeResults("evaluation", { sizes: SIZES, results })}`);
}

const urgent = ({ samples, p50, p99 }: { samples: number; p50: number; p99: number }) => `${samples}, ${Math.round(p50)} / ${Math.round(p99)}`;

/**
 * Urgent assessments on `devices`, one every URGENT_EVERY_MS while `during()`:
 * published → the device's first `access.changed` in the `policies` topic.
 */
function urgentProbe(graph: TestGraph, tenantId: string, devices: string[], during: () => boolean) {
  const sentAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  const stop = new AbortController();
  const tail = (async () => {
    for await (const event of graph.events.tail("policies", { signal: stop.signal })) {
      const deviceId = (event.payload as { deviceId?: string }).deviceId;
      if (event.type === "access.changed" && event.tenantId === tenantId && deviceId !== undefined && sentAt.has(deviceId) && !seenAt.has(deviceId)) seenAt.set(deviceId, performance.now());
    }
  })().catch(() => undefined);
  const loop = (async () => {
    while (during() && devices.length > 0) {
      const id = devices.shift()!;
      sentAt.set(id, performance.now());
      await graph.events.publish("threats", [{ ...assessmentEvent(tenantId, id, 2, "HIGH"), payload: { ...assessmentEvent(tenantId, id, 2, "HIGH").payload, urgent: true } }]);
      await new Promise((resolve) => setTimeout(resolve, URGENT_EVERY_MS));
    }
  })();
  const done = async () => {
    await loop;
    while ([...sentAt.keys()].some((id) => !seenAt.has(id))) await new Promise((resolve) => setTimeout(resolve, 50));
    stop.abort();
    await tail;
    const sorted = [...sentAt].map(([id, at]) => seenAt.get(id)! - at).sort((a, b) => a - b);
    return { samples: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  };
  return { sent: () => sentAt.size, done };
}

async function measure(graph: TestGraph, size: number) {
  const tenantId = `eval-${size}-${randomUUID().slice(0, 8)}`;
  const admin = await graph.token({ tenantId, role: "admin" });
  for (const { query, variables } of IOS_BASELINE) await ok(graph, admin, query, variables);
  const ids = Array.from({ length: size }, (_, i) => `e-${String(i).padStart(6, "0")}`);
  const probes = Array.from({ length: URGENT_DEVICES }, (_, i) => `u-${String(i).padStart(4, "0")}`);
  const publish = async (version: number, level: "SECURED" | "MEDIUM", devices = ids) => {
    for (let from = 0; from < devices.length; from += PUBLISH) await graph.events.publish("threats", devices.slice(from, from + PUBLISH).map((id) => assessmentEvent(tenantId, id, version, level)));
  };
  const stored = async () => (await ok(graph, admin, `{ accessChanges(first: 1) { totalCount } }`)).accessChanges.totalCount as number;
  const until = async (count: () => number) => {
    while ((await stored()) < count()) await new Promise((resolve) => setTimeout(resolve, 100));
    return performance.now();
  };
  // The fleet, known to policies and compliant: no access change.
  await publish(1, "SECURED", probes);
  await publish(1, "SECURED");
  const known = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Device { access { allowed } } } }`;
  while (((await ok(graph, admin, known, { r: [{ __typename: "Device", id: ids.at(-1) }] }, graph.subgraphs.policies!.url))._entities[0]?.access.length ?? 0) < 2) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const statements = graph.statements.policies!;

  // Each urgent revocation is 2 changes more to wait for; they stay revoked (HIGH) after the policy change.
  let mark = statements.count;
  let start = performance.now();
  let running = true;
  let probe = urgentProbe(graph, tenantId, probes, () => running);
  await publish(2, "MEDIUM");
  const revocationsMs = (await until(() => 2 * size + 2 * probe.sent())) - start;
  running = false;
  const revocationStatements = statements.count - mark;
  const urgentDuringRevocations = await probe.done();
  const storedBefore = await stored();

  mark = statements.count;
  start = performance.now();
  running = true;
  await ok(graph, admin, `mutation { setCompliancePolicy(input: { platform: IOS, name: "iOS", maxThreatLevel: MEDIUM }) { id } }`);
  probe = urgentProbe(graph, tenantId, probes, () => running);
  const restorationsMs = (await until(() => storedBefore + 2 * size + 2 * probe.sent())) - start;
  running = false;
  const restorationStatements = statements.count - mark;
  const urgentDuringRestorations = await probe.done();

  const floor = await multiRowInsertFloor(2 * size);
  return {
    devices: size,
    floor,
    revocationsMs,
    revocationsPerSecond: (2 * size) / (revocationsMs / 1000),
    revocationStatements,
    restorationsMs,
    restorationsPerSecond: (2 * size) / (restorationsMs / 1000),
    restorationStatements,
    urgentDuringRevocations,
    urgentDuringRestorations,
  };
}

async function ok(graph: TestGraph, token: string, query: string, variables?: Record<string, unknown>, url?: string) {
  const result = await graph.query(token, query, variables, url);
  if (result.errors !== undefined) throw new Error(JSON.stringify(result.errors));
  return result.data!;
}
