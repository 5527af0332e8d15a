/**
 * The parent side of peers/subscribers.ts: a process of `count` WebSocket
 * subscribers, and synthetic `access.changed` events published straight into
 * the running graph's event log (the policies subgraph streams them to its
 * subscribers as live changes: no database on the measured path), for the
 * scenarios that measure the gateway's fan-out rather than the pipeline.
 */
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { AccessChangedPayload } from "../../lib/events/contracts.js";
import type { EventLog, NewEvent } from "../../lib/events/types.js";
import { encodeCursor } from "../../lib/paging.js";
import { waitFor } from "../support/wait.js";
import { BENCH_DIR, ROOT } from "./peers.js";

/** What every scenario subscribes to: primary fields of the policies subgraph only (the fan-out, not entity fetches). */
export const FANOUT_SUBSCRIPTION = /* GraphQL */ `subscription Fanout { accessChanged(resources: ["exchange"]) { sequence cursor resource allowed reason at device { id } } }`;

export interface SubscriberStats {
  received: number;
  errors: number;
  ready: number;
  problems: string[];
}

export interface Collected {
  latencies: number[];
  first: number;
  last: number;
  errors: number;
  problems: string[];
}

export interface Subscribers {
  pid: number;
  stats(): Promise<SubscriberStats>;
  /** Latencies and first/last arrival of the frames with a sequence above `since`. */
  collect(since: number): Promise<Collected>;
  /** Every frame received: its sequence and arrival (epoch ms). */
  frames(): Promise<{ sequence: number; arrival: number }[]>;
  close(): Promise<void>;
}

export async function startSubscribers(options: { url: string; count: number; mode: "graphql" | "raw" | "sse" | "multipart"; authorization?: string; query?: string; variables?: Record<string, unknown> }): Promise<Subscribers> {
  const wsUrl = options.url.replace(/^http/, "ws");
  const child = fork(join(BENCH_DIR, "peers/subscribers.ts"), [], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    env: { ...process.env, BENCH_SUBSCRIBERS: JSON.stringify({ ...options, url: wsUrl }) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const waiting = new Map<string, (message: any) => void>();
  child.on("message", (message: { type: string }) => {
    const resolve = waiting.get(message.type);
    waiting.delete(message.type);
    resolve?.(message);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const next = (type: string) => Promise.race([new Promise<any>((resolve) => waiting.set(type, resolve)), exited.then(() => Promise.reject(new Error("subscribers exited")))]);
  const ready = (await next("ready")) as SubscriberStats;
  if (ready.ready < options.count) throw new Error(`only ${ready.ready} of ${options.count} subscribers connected: ${ready.problems.join("; ")}`);
  return {
    pid: child.pid!,
    stats: async () => {
      const answer = next("stats");
      child.send({ type: "stats" });
      return (await answer) as SubscriberStats;
    },
    collect: async (since) => {
      const answer = next("collected");
      child.send({ type: "collect", since });
      return (await answer) as Collected;
    },
    frames: async () => {
      const answer = next("frames");
      child.send({ type: "frames" });
      const { pairs } = (await answer) as { pairs: number[] };
      const frames: { sequence: number; arrival: number }[] = [];
      for (let i = 0; i < pairs.length; i += 2) frames.push({ sequence: pairs[i]!, arrival: pairs[i + 1]! });
      return frames;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      child.send({ type: "close" });
      await exited;
    },
  };
}

/** `access.changed` events of `tenantId` with consecutive sequences from `from`, stamped `at` now. */
export function accessChanges(tenantId: string, from: number, count: number): NewEvent<AccessChangedPayload>[] {
  const at = new Date().toISOString();
  return Array.from({ length: count }, (_, i) => {
    const sequence = from + i;
    return {
      id: randomUUID(),
      type: "access.changed",
      tenantId,
      aggregateId: `device-${sequence % 20}`,
      version: sequence,
      occurredAt: at,
      payload: {
        sequence,
        cursor: encodeCursor([sequence]),
        deviceId: `device-${sequence % 20}`,
        resource: "exchange",
        allowed: sequence % 2 === 0,
        reason: "noncompliant: risk HIGH exceeds IOS policy maximum LOW (required by conditional-access policy \"needs compliance\")",
        at,
      },
    };
  });
}

/** The frame a GraphQL peer delivers for `event` (what the floor broadcasts): same shape and size. */
export function frameOf(event: NewEvent<AccessChangedPayload>): string {
  const { sequence, cursor, resource, allowed, reason, at, deviceId } = event.payload;
  return JSON.stringify({ id: "1", type: "next", payload: { data: { accessChanged: { sequence, cursor, resource, allowed, reason, at, device: { id: deviceId } } } } });
}

/**
 * Publishes one event at a time (next sequence each) until every subscriber
 * received at least one: then every upstream subscription is live. Returns the
 * next free sequence.
 */
export async function warmUp(subscribers: Subscribers, count: number, publish: (from: number, n: number) => Promise<void>, timeoutMs = 120_000): Promise<number> {
  let sequence = 1;
  let lastPublish = 0;
  await waitFor(
    async () => {
      const stats = await subscribers.stats();
      if (stats.errors > 0) throw new Error(`subscribers failed: ${stats.problems.join("; ")}`);
      if (stats.received >= count) return true;
      if (Date.now() - lastPublish > 250) {
        lastPublish = Date.now();
        await publish(sequence++, 1);
      }
      return false;
    },
    timeoutMs,
    `${count} subscribers live`,
  );
  // Whatever is still in flight from the warm-up arrives before the measurement starts.
  let before = -1;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { received } = await subscribers.stats();
    if (received === before) break;
    before = received;
  }
  return sequence;
}

export function eventLogPublisher(events: EventLog, tenantId: string) {
  return (from: number, count: number) => events.publish("policies", accessChanges(tenantId, from, count));
}
