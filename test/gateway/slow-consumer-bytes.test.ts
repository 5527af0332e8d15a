/**
 * A slow WebSocket consumer is bounded by bytes as well as events: many
 * subscriptions on one socket that stopped reading are closed with 4290 once
 * what the gateway holds for the connection (results waiting plus the
 * socket's unsent bytes) passes MTD_WS_MAX_QUEUED_BYTES, long before any
 * subscription's event bound; a client that reads is unaffected.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metrics } from "../../lib/metrics.js";
import { loadConfig } from "../../lib/config.js";
import { GatewayCloseCode } from "../../gateway/subscriptions/protocol.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";
import { startSubscriptionEngine, Subscriber, Tenant } from "./subscriptions-helpers.js";

const WIDE = /* GraphQL */ `subscription($after: String) { accessChanged(after: $after) { cursor resource device { access { resource allowed reason decidedAt } } } }`;
const MAX_BYTES = 2 * 1024 * 1024;
const EVENTS = 300;

/** The slow-consumer byte histogram of graphql-ws: observations and their largest possible value (the bucket bound). */
async function heldAtClose(): Promise<{ count: number; sum: number }> {
  const { values } = await metrics.slowConsumerBytes.get();
  const of = (name: string) => values.find((v) => v.metricName === name && v.labels.transport === "graphql-ws")?.value ?? 0;
  return { count: of("mtd_subscription_slow_consumer_bytes_count"), sum: of("mtd_subscription_slow_consumer_bytes_sum") };
}

describe("slow consumer byte bound", () => {
  let graph: TestGraph;
  const open: { dispose(): Promise<unknown> | unknown }[] = [];

  beforeAll(async () => {
    graph = await startGraph();
  });
  afterAll(async () => {
    for (const each of open) await each.dispose();
    await graph?.stop();
  });

  it("defaults to 16 MiB, configurable with MTD_WS_MAX_QUEUED_BYTES", () => {
    expect(loadConfig({}).subscriptions.maxQueuedBytes).toBe(16 * 1024 * 1024);
    expect(loadConfig({ MTD_WS_MAX_QUEUED_BYTES: "1048576" }).subscriptions.maxQueuedBytes).toBe(1024 * 1024);
    expect(() => loadConfig({ MTD_WS_MAX_QUEUED_BYTES: "1000" })).toThrow(/MTD_WS_MAX_QUEUED_BYTES must be an integer from 65536/);
  });

  it("closes a paused socket with 40 subscriptions at about the byte bound, and a reading client gets everything", async () => {
    const { tenant, head, baseline } = await Tenant.wide("bytes", graph.query, graph.token);
    // Events of ~25 kB each (150 decisions): 40 subscriptions replaying 300 of them owe the client ~300 MB.
    await tenant.restore("s-1");
    await tenant.revoke("s-1");
    await tenant.stored(baseline + EVENTS, 20_000);
    // The event bound out of the way: only bytes can close it.
    const gateway = await startSubscriptionEngine(graph.config, { limits: { maxQueuedEvents: 1_000_000, maxQueuedBytes: MAX_BYTES } });
    open.push({ dispose: gateway.stop });
    const before = await heldAtClose();

    const reader = new Subscriber(gateway.url, tenant.enforcement);
    open.push(reader);
    const reading = [0, 1, 2].map(() => reader.subscribe(WIDE, { after: head }));

    const slow = new Subscriber(gateway.url, tenant.enforcement);
    open.push(slow);
    await slow.connected.promise;
    slow.socket!.pause();
    const streams = Array.from({ length: 40 }, () => slow.subscribe(WIDE, { after: head }));

    await waitFor(() => gateway.engine.stats().slowConsumersClosed >= 1, 30_000, "the gateway to close the slow client");
    const held = await heldAtClose();
    expect(held.count - before.count).toBe(1);
    // What it held when closed: at most the bound plus the one result that crossed it.
    const bytes = held.sum - before.sum;
    expect(bytes).toBeGreaterThan(MAX_BYTES);
    expect(bytes).toBeLessThan(MAX_BYTES + 64 * 1024);

    slow.socket!.resume();
    const closed = await slow.closed.promise;
    expect(closed.code).toBe(GatewayCloseCode.SlowConsumer);
    expect(closed.reason).toMatch(/Slow consumer.*after = the last cursor/);
    const received = streams.reduce((sum, stream) => sum + stream.results.length, 0);
    expect(received).toBeLessThan(40 * EVENTS);

    // The reader, on the same gateway and tenant, got every event of each subscription, in order.
    for (const stream of reading) await stream.count(EVENTS, 30_000);
    const stored = (await tenant.changes()).slice(baseline, baseline + EVENTS).map((change) => change.cursor);
    for (const stream of reading) expect(stream.data.slice(0, EVENTS).map((d) => d!.accessChanged.cursor)).toEqual(stored);
    expect(await Promise.race([reader.closed.promise, "open"])).toBe("open");
  });
});
