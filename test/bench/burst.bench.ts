/**
 * `npm run bench -- burst`: a tenant of BENCH_DEVICES iOS devices (default
 * 2,000; a list such as `2000,20000` runs each size) on the production shape —
 * every subgraph and the gateway its own process, MariaDB + Redis, rate limits
 * raised — as an operator meets it:
 * - enrolment: `enrollDevice` one at a time (16 in flight) on a sample of
 *   BENCH_SINGLE devices, then the tenant's devices through
 *   `enrollDevicesBatch` (500 per call, 2 in flight); and how long after the
 *   last acknowledgement the threats subgraph accepts a report on that device;
 * - a partner re-syncing every device as MEDIUM through `reportThreatsBatch`
 *   (100 per call, 4 in flight): acceptance, and the 2 × N revocations
 *   received by an enforcement subscriber on the gateway (changes/s);
 * - the admin loosening the policy to MEDIUM: the 2 × N restorations received;
 * - during each burst, an urgent HIGH report on another device every 250 ms:
 *   report sent → its revocation received, p50/p99;
 * and the floors measured in the same run: multi-row INSERTs of the same row
 * count (2 × N) into a scratch table, and a bare POST → Redis → ws event.
 * Ratios to the floors are the result.
 */
import { performance } from "node:perf_hooks";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { mysqlAvailable, redisAvailable } from "../support/services.js";
import { waitFor } from "../support/wait.js";
import { Tenant } from "../gateway/subscriptions-helpers.js";
import { multiRowInsertFloor, postRedisWsFloor } from "./floors.js";
import { machine, percentile, writeResults } from "./peers.js";
import { startProcesses, type ProcessStack } from "./stack.js";
import { printTable } from "./table.js";

const SIZES = (process.env.BENCH_DEVICES ?? "2000").split(",").map(Number);
const SINGLE = Number(process.env.BENCH_SINGLE ?? 500);
const URGENT_EVERY_MS = 250;
const URGENT_PER_BURST = 40;

const SUBSCRIPTION = /* GraphQL */ `subscription Burst($after: String) { accessChanged(after: $after) { sequence resource allowed device { id } } }`;
const ENROLL_BATCH = /* GraphQL */ `mutation Enroll($inputs: [EnrollDeviceInput!]!) { enrollDevicesBatch(inputs: $inputs) { id error { code message } } }`;
const REPORT_BATCH = /* GraphQL */ `mutation Resync($inputs: [ReportThreatsInput!]!) { reportThreatsBatch(inputs: $inputs) { reportId error { code message } } }`;
const REPORT = /* GraphQL */ `mutation Report($input: ReportThreatsInput!) { reportThreats(input: $input) { reportId } }`;

const now = () => performance.now();
/** µs on the monotonic clock, as a `--cpu-prof` profile's timestamps. */
const monotonic = () => Number(process.hrtime.bigint() / 1000n);
/** Under BENCH_PROFILE (see stack.ts): the window of each phase, for `cpu-profile.ts <file> --from --to`. */
const phase = (label: string, from: number) => {
  if (process.env.BENCH_PROFILE) console.log(`phase ${label}: --from ${from} --to ${monotonic()}`);
};
const perSecond = (count: number, ms: number) => count / (ms / 1000);

/** Runs `work(i)` for i in [0, count) with `inFlight` at a time. */
async function pool(count: number, inFlight: number, work: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < count) await work(next++);
  }));
}

/** What the enforcement subscriber has received: counts by kind, and when each device's first revocation came. */
class Received {
  revoked = 0;
  restored = 0;
  readonly revokedAt = new Map<string, number>();
  lastRevokedAt = 0;
  lastRestoredAt = 0;

  add(change: { resource: string; allowed: boolean; device: { id: string } }) {
    const at = now();
    if (change.allowed) {
      this.restored++;
      this.lastRestoredAt = at;
    } else {
      this.revoked++;
      this.lastRevokedAt = at;
      if (change.resource === "exchange" && !this.revokedAt.has(change.device.id)) this.revokedAt.set(change.device.id, at);
    }
  }
}

interface SizeResult {
  devices: number;
  singlePerSecond: number;
  batchPerSecond: number;
  reportableAfterMs: number;
  acceptedPerSecond: number;
  revocationsPerSecond: number;
  revocationsMs: number;
  /** Until the evaluator had stored them (before the subscriber received them). */
  revocationsStoredMs: number;
  restorationsPerSecond: number;
  restorationsMs: number;
  restorationsStoredMs: number;
  /** Report sent → revocation received, and (acceptedP50) report sent → `reportThreats` answered. */
  urgentDuringResync: { p50: number; p99: number; samples: number; acceptedP50: number };
  urgentDuringPolicy: { p50: number; p99: number; samples: number; acceptedP50: number };
  insertFloorRowsPerSecond: number;
}

export async function run(): Promise<void> {
  if (!mysqlAvailable || !redisAvailable) {
    console.log("skipping burst: it runs one process per service on MariaDB and Redis, and one of them is not reachable (see test/support/services.ts)");
    return;
  }
  console.log(`sizes ${SIZES.join(", ")}; single enrolment sampled on ${SINGLE} devices; load before: ${machine().loadavg}\n`);
  const wsFloor = await postRedisWsFloor(200, 20);
  const stack = await startProcesses({ MTD_MAX_BODY_BYTES: String(8 * 1024 * 1024) });
  const results: SizeResult[] = [];
  try {
    for (const size of SIZES) results.push(await measure(stack, size));
  } finally {
    await stack.stop();
  }
  const load = machine().loadavg;
  const ms = (value: number) => Math.round(value);
  const rows: (string | number)[][] = [["bare POST → Redis → ws (floor)", "", "", "", "", "", ms(wsFloor.p50), ms(wsFloor.p99), "1.00× / 1.00×"]];
  for (const r of results) {
    const floor = r.insertFloorRowsPerSecond;
    const x = (value: number) => `${(value / floor).toFixed(3)}×`;
    rows.push(
      [`${r.devices}: multi-row INSERT floor (${2 * r.devices} rows)`, Math.round(floor), "1×", "", "", "", "", "", ""],
      [`${r.devices}: enrollDevice, 16 in flight (${Math.min(SINGLE, r.devices)})`, Math.round(r.singlePerSecond), x(r.singlePerSecond), "", "", "", "", "", ""],
      [`${r.devices}: enrollDevicesBatch`, Math.round(r.batchPerSecond), x(r.batchPerSecond), `last device reportable ${ms(r.reportableAfterMs)} ms after its ack`, "", "", "", "", ""],
      [`${r.devices}: reportThreatsBatch accepted`, Math.round(r.acceptedPerSecond), x(r.acceptedPerSecond), "", "", "", "", "", ""],
      [`${r.devices}: re-sync → ${2 * r.devices} revocations delivered`, Math.round(r.revocationsPerSecond), x(r.revocationsPerSecond), `${(r.revocationsMs / 1000).toFixed(1)} s (stored after ${(r.revocationsStoredMs / 1000).toFixed(1)} s)`, `urgent during re-sync (answered p50 ${ms(r.urgentDuringResync.acceptedP50)} ms)`, r.urgentDuringResync.samples, ms(r.urgentDuringResync.p50), ms(r.urgentDuringResync.p99), `${(r.urgentDuringResync.p50 / wsFloor.p50).toFixed(1)}× / ${(r.urgentDuringResync.p99 / wsFloor.p99).toFixed(1)}×`],
      [`${r.devices}: policy change → ${2 * r.devices} restorations delivered`, Math.round(r.restorationsPerSecond), x(r.restorationsPerSecond), `${(r.restorationsMs / 1000).toFixed(1)} s (stored after ${(r.restorationsStoredMs / 1000).toFixed(1)} s)`, `urgent during policy change (answered p50 ${ms(r.urgentDuringPolicy.acceptedP50)} ms)`, r.urgentDuringPolicy.samples, ms(r.urgentDuringPolicy.p50), ms(r.urgentDuringPolicy.p99), `${(r.urgentDuringPolicy.p50 / wsFloor.p50).toFixed(1)}× / ${(r.urgentDuringPolicy.p99 / wsFloor.p99).toFixed(1)}×`],
    );
  }
  console.log(`\nevery service its own process on MariaDB + Redis; load after: ${load}\n`);
  printTable(["path", "per second", "÷ floor", "total", "urgent report", "reports", "p50 ms", "p99 ms", "p50 / p99 ÷ floor"], rows);
  console.log(`\nwritten ${writeResults("burst", { sizes: SIZES, single: SINGLE, wsFloor, results })}`);
}

async function measure(stack: ProcessStack, size: number): Promise<SizeResult> {
  const tenant = await Tenant.create(`burst-${size}-${Date.now()}`, stack.query, stack.token);
  const head = await tenant.baseline("u-base");
  const policies = stack.services.find((service) => service.name === "policies")!;

  // Enrolment, one at a time: the urgent devices are among these.
  const singles = Array.from({ length: Math.min(SINGLE, size) }, (_, i) => `u-${String(i).padStart(5, "0")}`);
  let start = now();
  await pool(singles.length, 16, (i) => tenant.enroll(singles[i]!));
  const singlePerSecond = perSecond(singles.length, now() - start);

  // Enrolment in batches: the tenant's fleet.
  const fleet = Array.from({ length: size }, (_, i) => `b-${String(i).padStart(6, "0")}`);
  start = now();
  let phaseStart = monotonic();
  await pool(Math.ceil(size / 500), 2, async (i) => {
    const inputs = fleet.slice(i * 500, i * 500 + 500).map((id) => ({ id, name: `iPhone ${id}`, platform: "IOS", osVersion: "17.4.1", ownership: "CORPORATE" }));
    const items = (await tenant.ok(ENROLL_BATCH, { inputs })).enrollDevicesBatch as { error: unknown }[];
    if (items.some((item) => item.error !== null)) throw new Error(`enrollDevicesBatch: ${JSON.stringify(items.find((item) => item.error !== null))}`);
  });
  const acknowledged = now();
  phase(`${size} enrollDevicesBatch`, phaseStart);
  phaseStart = monotonic();
  const batchPerSecond = perSecond(size, acknowledged - start);
  // The last device becomes reportable once the threats subgraph has its enrolment event.
  await waitFor(async () => {
    const result = await stack.query(tenant.partner, REPORT, { input: { reportId: `probe-${size}`, deviceId: fleet.at(-1), observedAt: new Date(0).toISOString(), threats: [] } });
    return result.errors?.[0]?.extensions?.code !== "NOT_FOUND";
  }, 600_000, "threats to know the last enrolled device");
  const reportableAfterMs = now() - acknowledged;
  phase(`${size} until reportable`, phaseStart);
  // Policies has evaluated the fleet (every device allowed on both resources) before the re-sync starts.
  await waitFor(async () => {
    const response = await fetch(policies.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${tenant.admin}` }, body: JSON.stringify({ query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Device { access { allowed } } } }`, variables: { r: [{ __typename: "Device", id: fleet.at(-1) }] } }) });
    const body = (await response.json()) as { data?: { _entities?: { access: unknown[] }[] } };
    return body.data?._entities?.[0]?.access.length === 2;
  }, 600_000, "policies to have evaluated the fleet");

  const received = new Received();
  const client = createClient({ url: stack.gatewayUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${tenant.enforcement}` }, retryAttempts: 0 });
  const errors: unknown[] = [];
  client.subscribe<{ accessChanged: { resource: string; allowed: boolean; device: { id: string } } }>(
    { query: SUBSCRIPTION, variables: { after: head } },
    { next: (result) => (result.data ? received.add(result.data.accessChanged) : errors.push(result.errors)), error: (error) => errors.push(error), complete: () => undefined },
  );
  try {
    // The re-sync, with urgent reports alongside.
    let urgentNext = 0;
    const urgent = (during: () => boolean) => {
      const sentAt = new Map<string, number>();
      const acceptedAfter: number[] = [];
      const loop = (async () => {
        while (during() && sentAt.size < URGENT_PER_BURST && urgentNext < singles.length) {
          const id = singles[urgentNext++]!;
          const sent = now();
          sentAt.set(id, sent);
          tenant.revoke(id).then(
            () => acceptedAfter.push(now() - sent),
            (error: unknown) => console.error(`urgent report on ${id}:`, error),
          );
          await new Promise((resolve) => setTimeout(resolve, URGENT_EVERY_MS));
        }
      })();
      return { sentAt, acceptedAfter, loop };
    };
    const latencies = async ({ sentAt, acceptedAfter, loop }: ReturnType<typeof urgent>) => {
      await loop;
      await waitFor(() => [...sentAt.keys()].every((id) => received.revokedAt.has(id)), 600_000, "every urgent revocation");
      const sorted = [...sentAt].map(([id, at]) => received.revokedAt.get(id)! - at).sort((a, b) => a - b);
      const accepted = [...acceptedAfter].sort((a, b) => a - b);
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), samples: sorted.length, acceptedP50: percentile(accepted, 50) };
    };

    /** When the tenant has `target()` access changes stored (the evaluator's side, apart from delivery). */
    const storedBy = async (target: () => number) => {
      for (;;) {
        const { accessChanges } = await tenant.ok(`{ accessChanges(first: 1) { totalCount } }`);
        if (accessChanges.totalCount >= target()) return now();
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    const storedBefore = (await tenant.ok(`{ accessChanges(first: 1) { totalCount } }`)).accessChanges.totalCount as number;
    const observedAt = new Date().toISOString();
    const revocationsBefore = received.revoked;
    start = now();
    phaseStart = monotonic();
    let resyncing = true;
    const duringResync = urgent(() => resyncing);
    const revocationsStored = storedBy(() => storedBefore + 2 * size + 2 * duringResync.sentAt.size);
    await pool(Math.ceil(size / 100), 4, async (i) => {
      const inputs = fleet.slice(i * 100, i * 100 + 100).map((deviceId) => ({
        reportId: `resync-${deviceId}`,
        deviceId,
        observedAt,
        threats: [{ externalId: "outdated-os", category: "OS", severity: "MEDIUM", title: "Outdated iOS", status: "ACTIVE" }],
      }));
      const items = (await tenant.ok(REPORT_BATCH, { inputs }, tenant.partner)).reportThreatsBatch as { error: unknown }[];
      if (items.some((item) => item.error !== null)) throw new Error(`reportThreatsBatch: ${JSON.stringify(items.find((item) => item.error !== null))}`);
    });
    const acceptedPerSecond = perSecond(size, now() - start);
    phase(`${size} reportThreatsBatch accepted`, phaseStart);
    await waitFor(() => received.revoked - revocationsBefore >= 2 * size + 2 * duringResync.sentAt.size && !urgentPending(duringResync.sentAt), 900_000, "every revocation delivered");
    resyncing = false;
    phase(`${size} re-sync delivered`, phaseStart);
    const revocationsMs = received.lastRevokedAt - start;
    const revocationsStoredMs = (await revocationsStored) - start;
    const storedAfterResync = (await tenant.ok(`{ accessChanges(first: 1) { totalCount } }`)).accessChanges.totalCount as number;
    const urgentDuringResync = await latencies(duringResync);

    // The policy loosened to MEDIUM: the fleet is restored; the urgent (HIGH) devices stay revoked.
    const restoredBefore = received.restored;
    start = now();
    phaseStart = monotonic();
    let restoring = true;
    await tenant.ok(`mutation { setCompliancePolicy(input: { platform: IOS, name: "iOS", maxThreatLevel: MEDIUM }) { id } }`);
    const duringPolicy = urgent(() => restoring);
    const restorationsStored = storedBy(() => storedAfterResync + 2 * size + 2 * duringPolicy.sentAt.size);
    await waitFor(() => received.restored - restoredBefore >= 2 * size, 900_000, "every restoration delivered");
    restoring = false;
    phase(`${size} policy change delivered`, phaseStart);
    const restorationsMs = received.lastRestoredAt - start;
    const restorationsStoredMs = (await restorationsStored) - start;
    const urgentDuringPolicy = await latencies(duringPolicy);
    if (errors.length > 0) console.error("subscriber errors:", JSON.stringify(errors.slice(0, 3)));

    const insertFloorRowsPerSecond = await multiRowInsertFloor(2 * size);
    return {
      devices: size,
      singlePerSecond,
      batchPerSecond,
      reportableAfterMs,
      acceptedPerSecond,
      revocationsPerSecond: perSecond(2 * size, revocationsMs),
      revocationsMs,
      revocationsStoredMs,
      restorationsPerSecond: perSecond(2 * size, restorationsMs),
      restorationsMs,
      restorationsStoredMs,
      urgentDuringResync,
      urgentDuringPolicy,
      insertFloorRowsPerSecond,
    };
  } finally {
    await client.dispose();
  }

  function urgentPending(sentAt: Map<string, number>) {
    return [...sentAt.keys()].some((id) => !received.revokedAt.has(id));
  }
}
