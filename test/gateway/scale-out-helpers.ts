/**
 * The scale-out stack for fault tests: every subgraph and two gateways as
 * their own `bin/start.ts` processes on MariaDB and Redis Streams, enforcement
 * clients that resume after their last cursor, and the check every fault test
 * ends with: every stored access change delivered to every subscriber exactly
 * once, in sequence order.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { signToken } from "../../lib/auth.js";
import { SUBGRAPH_NAMES, type SubgraphName } from "../../lib/config.js";
import { createMysqlDatabase } from "../support/services.js";
import { Service } from "../support/service-process.js";
import { waitFor } from "../support/wait.js";
import { wsUrl, type Query, type StoredChange, type Tenant } from "./subscriptions-helpers.js";

const SUBSCRIPTION = /* GraphQL */ `
  subscription($after: String) { accessChanged(after: $after) { cursor resource allowed device { id name platform riskLevel } } }
`;

export interface Delivered {
  cursor: string;
  resource: string;
  allowed: boolean;
  device: { id: string; name: string; platform: string; riskLevel: string | null };
}

/**
 * An enforcement client as it should be written: it remembers the last cursor
 * it received, and when its connection is lost it reconnects (to the next
 * gateway in its list) and resubscribes after that cursor.
 */
export class ResumingSubscriber {
  readonly received: Delivered[] = [];
  readonly errors: unknown[] = [];
  reconnects = 0;
  private client: Client | undefined;
  private gateway = 0;
  private stopped = false;

  constructor(
    private readonly gateways: () => string[],
    private readonly token: string,
    private after: string,
    readonly label: string,
  ) {}

  start() {
    const url = this.gateways()[this.gateway % this.gateways().length]!;
    const client = createClient({
      url: wsUrl(url),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${this.token}` },
      retryAttempts: 0,
    });
    this.client = client;
    client.subscribe<{ accessChanged: Delivered }>(
      { query: SUBSCRIPTION, variables: { after: this.after } },
      {
        next: (result) => {
          if (result.errors !== undefined) this.errors.push(result.errors);
          const change = result.data?.accessChanged;
          if (change == null) return;
          this.received.push(change);
          this.after = change.cursor;
        },
        error: (error) => this.reconnect(client, error),
        complete: () => this.reconnect(client, "completed"),
      },
    );
  }

  private reconnect(client: Client, reason: unknown) {
    if (this.stopped || client !== this.client) return;
    this.reconnects++;
    if (Array.isArray(reason)) this.errors.push(reason);
    void client.dispose();
    this.gateway++;
    setTimeout(() => this.start(), 100 * Math.min(this.reconnects, 10));
  }

  async stop() {
    this.stopped = true;
    await this.client?.dispose();
  }
}

/** Every subgraph and two gateways, each its own process, on a fresh MariaDB database and a Redis or Redis Cluster under a key prefix. */
export class ScaleOutStack {
  readonly secret = randomBytes(32).toString("base64url");
  readonly subgraphs = {} as Record<SubgraphName, Service>;
  gateways: Service[] = [];
  readonly subscribers: ResumingSubscriber[] = [];
  /** The environment every process of the stack runs with (set by `start`): for more replicas of a service. */
  env: Record<string, string> = {};
  private readonly dataDir = mkdtempSync(join(tmpdir(), "mtd-scale-out-"));
  private drop: (() => Promise<void>) | undefined;
  private turn = 0;

  constructor(
    /** One Redis (`url`) or a Redis Cluster (`clusterNodes`), and the key prefix. */
    private readonly redis: { url?: string; clusterNodes?: string[]; prefix: string },
    /** More environment for every process (e.g. `OTEL_*`). */
    private readonly extraEnv: Record<string, string> = {},
  ) {}

  async start(): Promise<void> {
    const database = await createMysqlDatabase();
    this.drop = database.drop;
    const env = {
      NODE_ENV: "test",
      LOG_LEVEL: "warn",
      MTD_HOST: "127.0.0.1",
      MTD_DATA_DIR: this.dataDir,
      DATABASE_URL: database.url,
      ...(this.redis.clusterNodes === undefined ? { REDIS_URL: this.redis.url! } : { REDIS_CLUSTER_NODES: this.redis.clusterNodes.join(",") }),
      MTD_REDIS_PREFIX: this.redis.prefix,
      MTD_JWT_SECRET: this.secret,
      MTD_WS_UPSTREAM_RETRY_MAX_MS: "500",
      ...this.extraEnv,
    };
    this.env = env;
    for (const name of SUBGRAPH_NAMES) this.subgraphs[name] = new Service(name, ["subgraph", name], env);
    // All at once: each subgraph migrates its own tables.
    await Promise.all(SUBGRAPH_NAMES.map((name) => this.subgraphs[name].start()));
    const subgraphEnv = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [`MTD_SUBGRAPH_${name.toUpperCase()}_URL`, this.subgraphs[name].url]));
    this.gateways = ["gateway-a", "gateway-b"].map((name) => new Service(name, ["gateway"], { ...env, ...subgraphEnv }));
    await Promise.all(this.gateways.map((gateway) => gateway.start()));
  }

  async stop(): Promise<void> {
    for (const subscriber of this.subscribers) await subscriber.stop();
    await Promise.all([...this.gateways, ...Object.values(this.subgraphs)].map((service) => service.stop()));
    await this.drop?.();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Queries one live gateway (alternating), as a load balancer would. */
  readonly query: Query = async (token, document, variables) => {
    const live = this.gateways.filter((gateway) => gateway.child?.exitCode === null && gateway.child.signalCode === null);
    const gateway = live[this.turn++ % live.length]!;
    const response = await fetch(gateway.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ query: document, variables }),
    });
    return (await response.json()) as never;
  };

  /** Whether every service answers its readiness probe with 200. */
  async ready(): Promise<boolean> {
    const services = [...this.gateways, ...Object.values(this.subgraphs)];
    const probes = services.map((service) => fetch(`http://127.0.0.1:${service.port}/health/ready`, { signal: AbortSignal.timeout(2000) }).then((response) => response.ok, () => false));
    return (await Promise.all(probes)).every(Boolean);
  }

  readonly token = (claims: Parameters<typeof signToken>[1]) => signToken(this.secret, claims);

  /** Starts subscribers after `head`, registered for `stop()`. */
  subscribe(token: string, head: string, labels: string[], gatewaysOf: (i: number) => () => string[]): ResumingSubscriber[] {
    const group = labels.map((label, i) => new ResumingSubscriber(gatewaysOf(i), token, head, label));
    this.subscribers.push(...group);
    for (const subscriber of group) subscriber.start();
    return group;
  }
}

/** Waits until every subscriber has every stored change after `baseline`, then checks: exactly once, in sequence order, fields resolved. */
export async function expectExactlyOnce(tenant: Tenant, baseline: number, expectedAtLeast: number, group: ResumingSubscriber[]) {
  let stored: StoredChange[] = [];
  await waitFor(
    async () => {
      stored = (await tenant.changes()).slice(baseline);
      return stored.length >= expectedAtLeast && group.every((subscriber) => subscriber.received.length >= stored.length);
    },
    45_000,
    "every subscriber to catch up with the stored changes",
  ).catch((error: Error) => {
    throw new Error(`${error.message}: stored ${stored.length}, received ${group.map((s) => `${s.label}=${s.received.length}`).join(" ")}`);
  });
  const sequences = stored.map((change) => change.sequence);
  expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
  for (const subscriber of group) {
    expect(subscriber.received.map((change) => change.cursor), subscriber.label).toEqual(stored.map((change) => change.cursor));
    expect(subscriber.received.map((change) => [change.resource, change.allowed, change.device.id])).toEqual(stored.map((change) => [change.resource, change.allowed, change.deviceId]));
    for (const change of subscriber.received) {
      expect(change.device).toMatchObject({ name: `iPhone ${change.device.id}`, platform: "IOS" });
      expect(["HIGH", "SECURED"]).toContain(change.device.riskLevel);
    }
  }
}

/** Reports flipping `devices` in turn; `during(i)` runs before report i. */
export async function burst(tenant: Tenant, devices: string[], reports: number, during: (i: number) => Promise<void> = async () => {}) {
  const state = new Map(devices.map((id) => [id, false]));
  for (let i = 0; i < reports; i++) {
    await during(i);
    const id = devices[i % devices.length]!;
    const revoked = state.get(id)!;
    await (revoked ? tenant.restore(id) : tenant.revoke(id));
    state.set(id, !revoked);
  }
}
