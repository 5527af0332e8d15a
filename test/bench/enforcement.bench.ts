/**
 * `npm run bench -- enforcement`: 1,000 enforcement subscribers on one
 * gateway (`accessChanged` with the device's name and risk from two other
 * subgraphs), while a partner's reports flip devices between compliant and
 * not at a steady rate. Measures report accepted (the partner's mutation
 * answered) → event received by each subscriber: p50/p99 and deliveries per
 * second; next to the floor measured in the same run: a bare `ws` server
 * broadcasting the same payloads, on the same schedule, to the same number of
 * clients.
 *
 * Production topology, on MariaDB and Redis Streams: every subgraph and the
 * gateway in its own `bin/start.ts` process. The subscribers run in a worker
 * thread (their own event loop); the reporter and the floor server in the
 * main thread.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { WebSocketServer } from "ws";
import { mysqlAvailable, redisAvailable } from "../support/services.js";
import { waitFor } from "../support/wait.js";
import { Tenant } from "../gateway/subscriptions-helpers.js";
import { startProcesses } from "./stack.js";
import { printTable } from "./table.js";

const SUBSCRIBERS = 1_000;
const DEVICES = 20;
/** Partner reports per second, each flipping one device (one `exchange` change for every subscriber). */
const RATE = Number(process.env.BENCH_RATE ?? 10);
const REPORTS = 20 * RATE;
const WARMUP_REPORTS = 10;

const UNLIMITED: Record<string, string> = {
  MTD_RATE_LIMIT_TENANT_PER_SECOND: "1000000",
  MTD_RATE_LIMIT_TENANT_BURST: "1000000",
  MTD_RATE_LIMIT_PARTNER_PER_SECOND: "1000000",
  MTD_RATE_LIMIT_PARTNER_BURST: "1000000",
  MTD_WS_MAX_SUBSCRIPTIONS_PER_TENANT: String(SUBSCRIBERS * 2),
};

const SUBSCRIPTION = /* GraphQL */ `
  subscription Enforce($after: String) {
    accessChanged(resources: ["exchange"], after: $after) { cursor resource allowed reason device { id name riskLevel } }
  }
`;

const now = () => performance.timeOrigin + performance.now();

/**
 * The subscribers: plain `ws` sockets speaking graphql-transport-ws (or, for
 * the floor, just reading JSON). Each event is keyed by device and the
 * device's event count, so it can be matched to the report that caused it.
 */
const WORKER = /* JavaScript */ `
const { parentPort, workerData } = require("node:worker_threads");
const { performance } = require("node:perf_hooks");
const WebSocket = require("ws");
const now = () => performance.timeOrigin + performance.now();
const { mode, url, count, token, query, variables } = workerData;
const clients = [];
let opened = 0;
for (let i = 0; i < count; i++) {
  const client = { counts: new Map(), received: [] };
  clients.push(client);
  const socket = new WebSocket(url, mode === "gateway" ? "graphql-transport-ws" : undefined);
  socket.on("open", () => {
    if (mode === "gateway") socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: "Bearer " + token } }));
    else if (++opened === count) parentPort.postMessage({ type: "ready" });
  });
  socket.on("message", (data) => {
    const at = now();
    const message = JSON.parse(String(data));
    if (message.type === "connection_ack") {
      socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables } }));
      if (++opened === count) parentPort.postMessage({ type: "ready" });
      return;
    }
    if (message.type === "ping") return socket.send(JSON.stringify({ type: "pong" }));
    if (message.type !== "next") return;
    const change = message.payload.data && message.payload.data.accessChanged;
    if (!change) { client.errors = (client.errors || 0) + 1; return; }
    const n = (client.counts.get(change.device.id) || 0) + 1;
    client.counts.set(change.device.id, n);
    client.received.push(change.device.id + "#" + n, at);
  });
  socket.on("error", (error) => parentPort.postMessage({ type: "error", message: String(error) }));
  socket.on("close", (code, reason) => { if (!client.closing) parentPort.postMessage({ type: "error", message: "closed " + code + " " + reason }); });
  client.close = () => { client.closing = true; socket.close(); };
}
parentPort.on("message", (message) => {
  if (message.type === "count") {
    parentPort.postMessage({ type: "count", events: clients.reduce((sum, c) => sum + c.received.length / 2, 0) });
  } else if (message.type === "collect") {
    // Latency of every event whose report is in accepted (measured ones only).
    const accepted = new Map(message.accepted);
    const latencies = [];
    let first = Infinity, last = 0, errors = 0;
    for (const client of clients) {
      errors += client.errors || 0;
      for (let i = 0; i < client.received.length; i += 2) {
        const at = accepted.get(client.received[i]);
        if (at === undefined) continue;
        latencies.push(client.received[i + 1] - at);
        first = Math.min(first, at);
        last = Math.max(last, client.received[i + 1]);
      }
    }
    for (const client of clients) client.close();
    parentPort.postMessage({ type: "results", latencies, first, last, errors });
  }
});
`;

interface Results {
  latencies: number[];
  first: number;
  last: number;
  errors: number;
}

/** The subscribers' worker, with helpers to wait for them. */
function subscribers(workerData: Record<string, unknown>) {
  const worker = new Worker(WORKER, { eval: true, workerData: { count: SUBSCRIBERS, ...workerData } });
  const waiting = new Map<string, (message: any) => void>();
  let errorsShown = 0;
  worker.on("message", (message) => {
    if (message.type === "error" && errorsShown++ < 5) console.error("subscriber error:", message.message);
    waiting.get(message.type)?.(message);
  });
  const next = (type: string) => new Promise<any>((resolve) => waiting.set(type, resolve));
  return {
    ready: next("ready"),
    async received(): Promise<number> {
      const answer = next("count");
      worker.postMessage({ type: "count" });
      return (await answer).events;
    },
    async collect(accepted: Map<string, number>): Promise<Results> {
      const answer = next("results");
      worker.postMessage({ type: "collect", accepted: [...accepted] });
      const results = (await answer) as Results;
      await worker.terminate();
      return results;
    },
  };
}

/** Runs `act(i)` for i in [from, to) at RATE per second, not waiting for one to finish before starting the next. */
async function steady(from: number, to: number, act: (i: number) => Promise<void>) {
  const start = now();
  const running: Promise<void>[] = [];
  for (let i = from; i < to; i++) {
    const due = start + ((i - from) * 1000) / RATE;
    const wait = due - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    running.push(act(i));
  }
  await Promise.all(running);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summarize(results: Results) {
  const sorted = [...results.latencies].sort((a, b) => a - b);
  return {
    deliveries: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    perSecond: sorted.length / ((results.last - results.first) / 1000),
    errors: results.errors,
  };
}

async function gatewayRun() {
  const graph = await startProcesses(UNLIMITED);
  try {
    const tenant = await Tenant.create("bench", graph.query, graph.token);
    const devices = Array.from({ length: DEVICES }, (_, i) => `bench-${i}`);
    await tenant.baseline(devices[0]!);
    for (const id of devices.slice(1)) await tenant.enroll(id);
    // The first device was revoked by the baseline: start it on a restore so that every report flips it.
    const revoked = new Set([devices[0]!]);
    const head = (await tenant.changes()).at(-1)!.cursor;

    const workers = subscribers({ mode: "gateway", url: graph.gatewayUrl.replace(/^http/, "ws"), token: tenant.enforcement, query: SUBSCRIPTION, variables: { after: head } });
    await workers.ready;

    const accepted = new Map<string, number>();
    const reports = new Map<string, number>();
    const report = async (i: number) => {
      const id = devices[i % DEVICES]!;
      const n = (reports.get(id) ?? 0) + 1;
      reports.set(id, n);
      const flip = revoked.has(id) ? tenant.restore(id) : tenant.revoke(id);
      if (revoked.has(id)) revoked.delete(id);
      else revoked.add(id);
      await flip;
      if (i >= WARMUP_REPORTS) accepted.set(`${id}#${n}`, now());
    };
    await steady(0, WARMUP_REPORTS, report);
    await waitFor(async () => (await workers.received()) >= WARMUP_REPORTS * SUBSCRIBERS, 60_000, "warm-up events delivered");
    await steady(WARMUP_REPORTS, WARMUP_REPORTS + REPORTS, report);
    await waitFor(async () => (await workers.received()) >= (WARMUP_REPORTS + REPORTS) * SUBSCRIBERS, 120_000, "every event delivered").catch(async (error) => {
      const stored = (await tenant.changes()).filter((change) => change.resource === "exchange");
      const byDevice = new Map<string, boolean[]>();
      for (const change of stored) byDevice.set(change.deviceId, [...(byDevice.get(change.deviceId) ?? []), change.allowed]);
      for (const [id, flips] of byDevice) console.error(id, reports.get(id), flips.map((a) => (a ? "+" : "-")).join(""));
      console.error(`delivered ${await workers.received()} of ${(WARMUP_REPORTS + REPORTS) * SUBSCRIBERS}; exchange changes stored: ${stored.length} (${REPORTS + WARMUP_REPORTS} reports + 1 baseline)`);
      throw error;
    });
    return summarize(await workers.collect(accepted));
  } finally {
    await graph.stop();
  }
}

/** The floor: a bare `ws` server broadcasting the same payload shape on the same schedule. */
async function floorRun() {
  const server = createServer();
  const wss = new WebSocketServer({ server });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const workers = subscribers({ mode: "floor", url: `ws://127.0.0.1:${port}` });
    await workers.ready;
    const counts = new Map<string, number>();
    const accepted = new Map<string, number>();
    const broadcast = async (i: number) => {
      const id = `bench-${i % DEVICES}`;
      const n = (counts.get(id) ?? 0) + 1;
      counts.set(id, n);
      const at = now();
      const payload = JSON.stringify({
        id: "1",
        type: "next",
        payload: {
          data: {
            accessChanged: {
              cursor: Buffer.from(JSON.stringify([i])).toString("base64url"),
              resource: "exchange",
              allowed: n % 2 === 0,
              reason: "noncompliant: risk HIGH exceeds IOS policy maximum LOW (required by conditional-access policy \"needs compliance\")",
              device: { id, name: `iPhone ${id}`, riskLevel: n % 2 === 0 ? "SECURED" : "HIGH" },
            },
          },
        },
      });
      for (const client of wss.clients) client.send(payload);
      if (i >= WARMUP_REPORTS) accepted.set(`${id}#${n}`, at);
    };
    await steady(0, WARMUP_REPORTS + REPORTS, broadcast);
    await waitFor(async () => (await workers.received()) >= (WARMUP_REPORTS + REPORTS) * SUBSCRIBERS, 60_000, "every floor event delivered");
    return summarize(await workers.collect(accepted));
  } finally {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export async function run(): Promise<void> {
  if (!mysqlAvailable || !redisAvailable) {
    console.log("skipping enforcement: it runs one process per service on MariaDB and Redis, and one of them is not reachable (see test/support/services.ts)");
    return;
  }
  console.log(`${SUBSCRIBERS} subscribers, ${RATE} reports/s for ${REPORTS / RATE} s (${DEVICES} devices flipping), after ${WARMUP_REPORTS} warm-up reports\n`);
  const floor = await floorRun();
  const gateway = await gatewayRun();
  console.log("gateway and each subgraph in its own process on MariaDB + Redis Streams; latency = partner's reportThreats answered → subscriber received the access change\n");
  const ms = (value: number) => Number(value.toFixed(2));
  printTable(
    ["path", "deliveries", "p50 ms", "p99 ms", "deliveries/s", "p50 × floor", "p99 × floor", "deliveries/s vs floor", "errors"],
    [
      ["bare ws broadcast (floor)", floor.deliveries, ms(floor.p50), ms(floor.p99), Math.round(floor.perSecond), 1, 1, "1.00", floor.errors],
      [
        "gateway → policies + devices + threats",
        gateway.deliveries,
        ms(gateway.p50),
        ms(gateway.p99),
        Math.round(gateway.perSecond),
        ms(gateway.p50 / floor.p50),
        ms(gateway.p99 / floor.p99),
        (gateway.perSecond / floor.perSecond).toFixed(2),
        gateway.errors,
      ],
    ],
  );
}
