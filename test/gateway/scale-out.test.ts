/**
 * Scale-out and faults with real processes: every subgraph and two gateways
 * as their own `bin/start.ts` processes on MariaDB and Redis Streams. Each
 * fault test ends with: every access change stored was delivered to every
 * subscriber exactly once, in sequence order.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { signToken } from "../../lib/auth.js";
import { SUBGRAPH_NAMES, type SubgraphName } from "../../lib/config.js";
import { createMysqlDatabase, redisPrefix, REDIS_TEST_URL, requireService } from "../support/services.js";
import { waitFor } from "../support/wait.js";
import { Service } from "../support/service-process.js";
import { Tenant, wsUrl, type Query, type StoredChange } from "./subscriptions-helpers.js";

const enabled = requireService("mysql") && requireService("redis");

const SUBSCRIPTION = /* GraphQL */ `
  subscription($after: String) { accessChanged(after: $after) { cursor resource allowed device { id name platform riskLevel } } }
`;

interface Delivered {
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
class ResumingSubscriber {
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

describe.skipIf(!enabled)("scale-out: 2 gateways, every subgraph its own process, MariaDB + Redis Streams", () => {
  const secret = randomBytes(32).toString("base64url");
  const dataDir = mkdtempSync(join(tmpdir(), "mtd-scale-out-"));
  const redis = redisPrefix();
  let drop: (() => Promise<void>) | undefined;
  const subgraphs = {} as Record<SubgraphName, Service>;
  let gateways: Service[] = [];
  const subscribers: ResumingSubscriber[] = [];

  /** Queries one gateway (alternating), as a load balancer would. */
  let turn = 0;
  const query: Query = async (token, document, variables) => {
    const live = gateways.filter((gateway) => gateway.child?.exitCode === null && gateway.child.signalCode === null);
    const gateway = live[turn++ % live.length]!;
    const response = await fetch(gateway.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ query: document, variables }),
    });
    return (await response.json()) as never;
  };
  const token = (claims: Parameters<typeof signToken>[1]) => signToken(secret, claims);

  beforeAll(async () => {
    const database = await createMysqlDatabase();
    drop = database.drop;
    const env = {
      NODE_ENV: "test",
      LOG_LEVEL: "warn",
      MTD_HOST: "127.0.0.1",
      MTD_DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      REDIS_URL: REDIS_TEST_URL,
      MTD_REDIS_PREFIX: redis.prefix,
      MTD_JWT_SECRET: secret,
      MTD_WS_UPSTREAM_RETRY_MAX_MS: "500",
    };
    for (const name of SUBGRAPH_NAMES) subgraphs[name] = new Service(name, ["subgraph", name], env);
    // All at once: each subgraph migrates its own tables.
    await Promise.all(SUBGRAPH_NAMES.map((name) => subgraphs[name].start()));
    const subgraphEnv = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [`MTD_SUBGRAPH_${name.toUpperCase()}_URL`, subgraphs[name].url]));
    gateways = ["gateway-a", "gateway-b"].map((name) => new Service(name, ["gateway"], { ...env, ...subgraphEnv }));
    await Promise.all(gateways.map((gateway) => gateway.start()));
  }, 120_000);

  afterAll(async () => {
    for (const subscriber of subscribers) await subscriber.stop();
    await Promise.all([...gateways, ...Object.values(subgraphs)].map((service) => service.stop()));
    await drop?.();
    await redis.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  /** Waits until every subscriber has every stored change after `baseline`, then checks: exactly once, in sequence order, fields resolved. */
  async function expectExactlyOnce(tenant: Tenant, baseline: number, expectedAtLeast: number, group: ResumingSubscriber[]) {
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
  async function burst(tenant: Tenant, devices: string[], reports: number, during: (i: number) => Promise<void> = async () => {}) {
    const state = new Map(devices.map((id) => [id, false]));
    for (let i = 0; i < reports; i++) {
      await during(i);
      const id = devices[i % devices.length]!;
      const revoked = state.get(id)!;
      await (revoked ? tenant.restore(id) : tenant.revoke(id));
      state.set(id, !revoked);
    }
  }

  it("kill -9 the policies subgraph during a burst and start it again: subscribers on both gateways get every change once, in order", async () => {
    const tenant = await Tenant.create("scale-policies", query, token);
    await tenant.baseline("p-0");
    const devices = ["p-1", "p-2", "p-3", "p-4"];
    for (const id of devices) await tenant.enroll(id);
    const before = await tenant.changes();
    const head = before.at(-1)!.cursor;
    const group = [0, 1, 2, 3].map((i) => new ResumingSubscriber(() => [gateways[i % 2]!.url], tenant.enforcement, head, `policies-kill/${i}`));
    subscribers.push(...group);
    for (const subscriber of group) subscriber.start();

    let restarted: Promise<void> = Promise.resolve();
    await burst(tenant, devices, 16, async (i) => {
      if (i === 6) {
        await subgraphs.policies.kill();
        restarted = subgraphs.policies.start();
      }
    });
    await restarted;
    await burst(tenant, devices, 4);
    // 20 reports, each flipping two resources; reports the killed process had read but not acknowledged are
    // reclaimed later by the consumer group, so at least the changes of the other reports must be there.
    await expectExactlyOnce(tenant, before.length, 2 * 12, group);
    expect(group.flatMap((subscriber) => subscriber.errors)).toEqual([]);
  }, 90_000);

  it("kill -9 one gateway: its clients reconnect to the other with their last cursor and miss nothing", async () => {
    const tenant = await Tenant.create("scale-gateway", query, token);
    await tenant.baseline("g-0");
    const devices = ["g-1", "g-2", "g-3"];
    for (const id of devices) await tenant.enroll(id);
    const before = await tenant.changes();
    const head = before.at(-1)!.cursor;
    const [a, b] = gateways as [Service, Service];
    // Two clients start on gateway B (and fail over to A), two stay on A.
    const group = [
      new ResumingSubscriber(() => [b.url, a.url], tenant.enforcement, head, "on-b/0"),
      new ResumingSubscriber(() => [b.url, a.url], tenant.enforcement, head, "on-b/1"),
      new ResumingSubscriber(() => [a.url], tenant.enforcement, head, "on-a/0"),
      new ResumingSubscriber(() => [a.url], tenant.enforcement, head, "on-a/1"),
    ];
    subscribers.push(...group);
    for (const subscriber of group) subscriber.start();

    await burst(tenant, devices, 12, async (i) => {
      if (i === 5) await b.kill();
    });
    await expectExactlyOnce(tenant, before.length, 24, group);
    expect(group[0]!.reconnects + group[1]!.reconnects).toBeGreaterThanOrEqual(2);
    expect(group.flatMap((subscriber) => subscriber.errors)).toEqual([]);
  }, 90_000);
});
