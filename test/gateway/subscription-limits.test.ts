/**
 * Admission of subscriptions at the gateway: the per-tenant count, in process
 * and shared by replicas through Redis (a lease per replica: a replica killed
 * with -9 stops counting once its lease ends), and the per-tenant subscribe
 * rate limit on graphql-ws, SSE and multipart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalTenantSubscriptions, RedisTenantSubscriptions, type TenantSubscriptions } from "../../gateway/subscriptions/tenant-limit/index.js";
import { SUBGRAPH_NAMES } from "../../lib/config.js";
import { createLogger } from "../../lib/logger.js";
import { metrics } from "../../lib/metrics.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { RedisCluster } from "../support/redis-cluster.js";
import { RedisServer, redisServerInstalled } from "../support/redis-server.js";
import { Service } from "../support/service-process.js";
import { redisPrefix, REDIS_TEST_URL, requireService } from "../support/services.js";
import { waitFor } from "../support/wait.js";
import { Subscriber, type Received } from "./subscriptions-helpers.js";

const LIVE = /* GraphQL */ `subscription { accessChanged { cursor resource allowed } }`;
const logger = createLogger("silent", "test");
const redisEnabled = requireService("redis");

/** A private cluster (REDIS_CLUSTER_NODES) for the counting scripts' hash tags, wherever redis-server can run. */
const cluster = redisServerInstalled ? await RedisCluster.start() : undefined;
afterAll(() => cluster?.stop());

/** Two replicas sharing one prefix. */
function replicas(target: { url?: string; clusterNodes?: string[] }, leaseMs = 10_000): [RedisTenantSubscriptions, RedisTenantSubscriptions] {
  const { prefix } = redisPrefix();
  const replica = () => new RedisTenantSubscriptions({ ...target, prefix, leaseMs, logger });
  return [replica(), replica()];
}

describe("tenant subscription counts", () => {
  // Two replicas' views of one count (in process there is one count: the same object twice).
  const implementations: [string, () => [TenantSubscriptions, TenantSubscriptions], boolean][] = [
    ["LocalTenantSubscriptions", () => {
      const local = new LocalTenantSubscriptions();
      return [local, local];
    }, true],
    ["RedisTenantSubscriptions", () => replicas({ url: REDIS_TEST_URL }), redisEnabled],
    ["RedisTenantSubscriptions on a 3-master Redis Cluster", () => replicas({ clusterNodes: cluster!.nodes }), cluster !== undefined],
  ];
  for (const [name, create, enabled] of implementations) {
    describe.skipIf(!enabled)(name, () => {
      let a: TenantSubscriptions;
      let b: TenantSubscriptions;
      beforeAll(() => {
        [a, b] = create();
      });
      afterAll(async () => {
        await a?.close();
        await b?.close();
      });

      it("admits exactly `max` of many concurrent subscribes over both replicas; a release frees a place for either", async () => {
        const admitted = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).acquire("concurrent", 5)));
        expect(admitted.filter(Boolean)).toHaveLength(5);
        expect(await a.acquire("concurrent", 5)).toBe(false);
        expect(await b.acquire("concurrent", 5)).toBe(false);
        // Another tenant has its own count.
        expect(await a.acquire("other", 5)).toBe(true);
        // A replica that holds one releases it; the other takes the place.
        const [holder, taker] = admitted.findIndex(Boolean) % 2 ? [a, b] : [b, a];
        holder.release("concurrent");
        await waitFor(() => taker.acquire("concurrent", 5), 5000, "the released place");
        expect(await holder.acquire("concurrent", 5)).toBe(false);
      });
    });
  }

  describe.skipIf(!redisEnabled)("shares in Redis", () => {
    it("a replica that closes withdraws its share at once", async () => {
      const [a, b] = replicas({ url: REDIS_TEST_URL }, 60_000);
      try {
        expect([await a.acquire("t", 2), await a.acquire("t", 2)]).toEqual([true, true]);
        expect(await b.acquire("t", 2)).toBe(false);
        await a.close();
        expect([await b.acquire("t", 2), await b.acquire("t", 2), await b.acquire("t", 2)]).toEqual([true, true, false]);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });

  // A Redis of its own: the shared one never goes down.
  describe.skipIf(!redisServerInstalled)("while Redis is away", () => {
    it("falls back to the limit per replica, and counts what it admitted meanwhile once Redis is back", async () => {
      const redis = new RedisServer();
      await redis.start();
      const [a, b] = replicas({ url: redis.url }, 1500);
      try {
        expect(await a.acquire("t", 3)).toBe(true);
        await redis.kill();
        // Each replica admits up to `max` on its own, none beyond.
        expect([await a.acquire("t", 3), await a.acquire("t", 3), await a.acquire("t", 3)]).toEqual([true, true, false]);
        expect(await b.acquire("t", 3)).toBe(true);
        b.release("t");
        await redis.start();
        // Back: A's heartbeat writes its three; the shared count is full for B.
        await waitFor(
          async () => {
            const admitted = await b.acquire("t", 3);
            if (admitted) b.release("t"); // before A's heartbeat: give the place back
            return !admitted;
          },
          10_000,
          "A's share counted again",
        );
        a.release("t");
        await waitFor(() => b.acquire("t", 3), 10_000, "a place after A's release");
      } finally {
        await a.close();
        await b.close();
        await redis.stop();
      }
    });
  });
});

describe.skipIf(!redisEnabled)("per-tenant limit across two gateway processes sharing Redis", () => {
  const LEASE_MS = 1500;
  const redis = redisPrefix();
  let graph: TestGraph;
  let gateways: Service[];
  const clients: Subscriber[] = [];
  const subscribe = (gateway: Service, token: string): Received => {
    const client = new Subscriber(gateway.url, token);
    clients.push(client);
    return client.subscribe(LIVE);
  };

  beforeAll(async () => {
    graph = await startGraph();
    const env = {
      NODE_ENV: "test",
      MTD_HOST: "127.0.0.1",
      MTD_DATA_DIR: graph.config.dataDir,
      MTD_JWT_SECRET: graph.config.auth.secret!,
      REDIS_URL: REDIS_TEST_URL,
      MTD_REDIS_PREFIX: redis.prefix,
      MTD_WS_MAX_SUBSCRIPTIONS_PER_TENANT: "3",
      MTD_WS_SUBSCRIPTION_LEASE_MS: String(LEASE_MS),
      ...Object.fromEntries(SUBGRAPH_NAMES.map((name) => [`MTD_SUBGRAPH_${name.toUpperCase()}_URL`, graph.subgraphs[name]!.url])),
    };
    gateways = ["gateway-a", "gateway-b"].map((name) => new Service(name, ["gateway"], env));
    await Promise.all(gateways.map((gateway) => gateway.start()));
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await Promise.all((gateways ?? []).map((gateway) => gateway.stop()));
    await graph?.stop();
    await redis.cleanup();
  }, 60_000);

  it("holds the limit over both gateways; the subscriptions of a gateway killed with -9 stop counting after its lease", async () => {
    const [a, b] = gateways as [Service, Service];
    const token = await graph.token({ tenantId: "limited", role: "enforcement" });

    subscribe(a, token);
    subscribe(a, token);
    subscribe(b, token);
    await waitFor(async () => (await activeOn(a)) === 2 && (await activeOn(b)) === 1, 10_000, "three admitted");
    expect(await attempt(b, token)).toBe("TOO_MANY_SUBSCRIPTIONS");
    expect(await attempt(a, token)).toBe("TOO_MANY_SUBSCRIPTIONS");
    // Another tenant is not limited by this one.
    expect(await attempt(b, await graph.token({ tenantId: "unlimited", role: "enforcement" }))).toBe("admitted");

    const killedAt = Date.now();
    await a.kill();
    // A's two stop counting once its lease ends, not before (renewed every third of the lease, it had at least two thirds left).
    await waitFor(async () => (await attempt(b, token)) === "admitted", LEASE_MS * 10, "a place freed by A's death");
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(LEASE_MS / 2);
    expect(await attempt(b, token)).toBe("admitted");
    expect(await attempt(b, token)).toBe("TOO_MANY_SUBSCRIPTIONS");
    expect(await activeOn(b)).toBe(4); // the tenant's three and the other tenant's one
  }, 120_000);

  /** Subscribes on `gateway`: "admitted" once its active count grows, else the code of the error it answered. */
  async function attempt(gateway: Service, token: string): Promise<string> {
    const before = await activeOn(gateway);
    const received = subscribe(gateway, token);
    let admitted = false;
    await waitFor(async () => received.error !== undefined || (admitted = (await activeOn(gateway)) > before), 10_000, "admitted or refused");
    if (admitted) return "admitted";
    return String((received.error as { extensions?: { code?: string } }[])[0]?.extensions?.code);
  }
});

/** Active subscriptions of this process's gateway over `transport`. */
async function activeHere(transport: string): Promise<number> {
  const { values } = await metrics.subscriptions.get();
  return values.filter((value) => value.labels.service === "gateway" && value.labels.transport === transport).reduce((sum, value) => sum + value.value, 0);
}

/** Active subscriptions a gateway process reports in its metrics (its own engine's count). */
async function activeOn(gateway: Service): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${gateway.port}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith("mtd_subscriptions_active{") && line.includes('service="gateway"'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

describe("subscribe rate limit per tenant", () => {
  const BURST = 2;
  let graph: TestGraph;
  const clients: Subscriber[] = [];
  const aborts: AbortController[] = [];

  beforeAll(async () => {
    graph = await startGraph({ env: { MTD_RATE_LIMIT_SUBSCRIBE_PER_SECOND: "1", MTD_RATE_LIMIT_SUBSCRIBE_BURST: String(BURST) } });
  });
  afterAll(async () => {
    for (const abort of aborts) abort.abort();
    for (const client of clients) await client.dispose();
    await graph?.stop();
  });

  /** `n` subscribes at once over one transport; resolves with the errors of those refused (the others stay open). */
  async function burst(transport: "graphql-ws" | "sse" | "multipart", token: string, n: number): Promise<{ message: string; extensions: Record<string, unknown> }[][]> {
    if (transport === "graphql-ws") {
      const client = new Subscriber(graph.gatewayUrl, token);
      clients.push(client);
      const streams = Array.from({ length: n }, () => client.subscribe(LIVE));
      // Admitted ones stay open: wait for the refusals the bucket must give (n - burst, less what refilled meanwhile).
      await waitFor(() => streams.filter((stream) => stream.error !== undefined).length >= n - BURST - 1, 10_000, "refusals");
      return streams.flatMap((stream) => (stream.error === undefined ? [] : [stream.error as never]));
    }
    const accept = transport === "sse" ? "text/event-stream" : 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"';
    const ended: string[] = [];
    await Promise.all(
      Array.from({ length: n }, async () => {
        const abort = new AbortController();
        aborts.push(abort);
        const response = await fetch(graph.gatewayUrl, {
          method: "POST",
          headers: { accept, "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: LIVE }),
          signal: abort.signal,
        });
        expect(response.status).toBe(200);
        // A refused subscription is a stream with one result carrying the error, then its end; an admitted one stays open.
        void response.text().then((body) => ended.push(body), () => {});
      }),
    );
    await waitFor(() => ended.length >= n - BURST - 1, 10_000, "refusals");
    return ended.map((body) => {
      const json = body.match(/\{"(?:payload"|errors").*\}/)![0];
      const result = JSON.parse(json) as { payload?: { errors: never[] }; errors?: never[] };
      return result.payload?.errors ?? result.errors!;
    });
  }

  for (const transport of ["graphql-ws", "sse", "multipart"] as const) {
    it(`refuses a tenant's subscribes past its bucket with RATE_LIMITED and retryAfterSeconds over ${transport}; other tenants go on`, async () => {
      const tenant = `rate-${transport}`;
      const token = await graph.token({ tenantId: tenant, role: "enforcement" });
      const refusals = await burst(transport, token, 6);
      expect(refusals.length).toBeGreaterThanOrEqual(3);
      for (const errors of refusals) {
        expect(errors).toHaveLength(1);
        expect(errors[0]!.extensions).toEqual({ code: "RATE_LIMITED", scope: "subscribe", retryAfterSeconds: 1 });
        expect(errors[0]!.message).toContain("retry in 1 s");
      }
      // Another tenant's bucket is full: its subscription is admitted.
      const before = await activeHere(transport);
      expect(await burst(transport, await graph.token({ tenantId: `${tenant}-other`, role: "enforcement" }), 1)).toEqual([]);
      await waitFor(async () => (await activeHere(transport)) === before + 1, 10_000, "the other tenant's subscription admitted");
    });
  }
});
