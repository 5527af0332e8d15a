/**
 * Token buckets per tenant (every operation) and per partner (ingest), in
 * process and in Redis, where two gateway processes share one bucket.
 */
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rateLimitedFields, takeToken } from "../../gateway/rate-limit.js";
import { start as startGateway } from "../../gateway/server.js";
import { loadSupergraph } from "../../gateway/supergraph.js";
import { createLogger } from "../../lib/logger.js";
import { MemoryTokenBuckets, RedisTokenBuckets, type TokenBuckets } from "../../lib/rate-limit/index.js";
import type { Served } from "../../lib/server.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { enablePartner } from "../support/partners.js";
import { RedisCluster } from "../support/redis-cluster.js";
import { RedisServer, redisServerInstalled } from "../support/redis-server.js";
import { redisPrefix, REDIS_TEST_URL, requireService } from "../support/services.js";
import { waitFor } from "../support/wait.js";

const COUNT = /* GraphQL */ `query Count { devices(first: 1) { totalCount } }`;
const HEARTBEAT = /* GraphQL */ `mutation Beat { partnerHeartbeat { state } }`;
const DISABLE = /* GraphQL */ `mutation Disable { disableMtdConnector { state } }`;
const BATCH = /* GraphQL */ `
  mutation Batch($inputs: [ReportThreatsInput!]!) { reportThreatsBatch(inputs: $inputs) { __typename } }
`;

const codeOf = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => result.errors?.[0]?.extensions?.code;

const redisEnabled = requireService("redis");

/** A private cluster (REDIS_CLUSTER_NODES) for the buckets' script, wherever redis-server can run. */
const cluster = redisServerInstalled ? await RedisCluster.start() : undefined;
afterAll(() => cluster?.stop());

describe("token buckets", () => {
  const implementations: [string, () => TokenBuckets, boolean][] = [
    ["MemoryTokenBuckets", () => new MemoryTokenBuckets(), true],
    ["RedisTokenBuckets", () => new RedisTokenBuckets({ url: REDIS_TEST_URL, prefix: redisPrefix().prefix }), redisEnabled],
    ["RedisTokenBuckets on a 3-master Redis Cluster", () => new RedisTokenBuckets({ clusterNodes: cluster!.nodes, prefix: "buckets" }), cluster !== undefined],
  ];
  for (const [name, create, enabled] of implementations) {
    describe.skipIf(!enabled)(name, () => {
      let buckets: TokenBuckets;
      beforeAll(() => {
        buckets = create();
      });
      afterAll(() => buckets?.close());

      it("grants exactly `burst` of many concurrent takes, then says when to retry", async () => {
        const limit = { perSecond: 2, burst: 20 };
        const decisions = await Promise.all(Array.from({ length: 50 }, () => buckets.take("concurrent", limit)));
        expect(decisions.filter((d) => d.allowed)).toHaveLength(20);
        const refused = decisions.find((d) => !d.allowed)!;
        expect(refused.retryAfterSeconds).toBe(1);
      });

      it("charges a cost, capped at a full bucket, and refills over time", async () => {
        const limit = { perSecond: 20, burst: 10 };
        expect(await buckets.take("cost", limit, 500)).toMatchObject({ allowed: true, remaining: 0 });
        const refused = await buckets.take("cost", limit, 4);
        expect(refused).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
        await waitFor(async () => (await buckets.take("cost", limit, 4)).allowed, 2000, "refill");
      });
    });
  }
});

// A Redis of its own: the shared one never goes down.
describe.skipIf(!redisServerInstalled)("RedisTokenBuckets while Redis restarts", () => {
  it("fails takes at once while Redis is away (the gateway lets them through, logged with the operation's trace id), and takes again once it is back", async () => {
    const redis = new RedisServer();
    await redis.start();
    const buckets = new RedisTokenBuckets({ url: redis.url, prefix: "restart" });
    const limit = { perSecond: 100, burst: 100 };
    const fails = () => buckets.take("t", limit).then(() => false, () => true);
    try {
      expect((await buckets.take("t", limit)).allowed).toBe(true);
      await redis.kill();
      await waitFor(fails, 5000, "a take to fail");
      // Not each waiting for a reconnect, up to the command timeout (500 ms): every operation would wait that long, twice for a partner.
      const started = performance.now();
      for (let i = 0; i < 10; i++) expect(await fails()).toBe(true);
      expect(performance.now() - started).toBeLessThan(500);
      // The gateway's take lets the operation through and logs why, with the trace id of the span its request carries.
      const lines: string[] = [];
      const logger = createLogger("warn", "test", new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
      const traceId = randomBytes(16).toString("hex");
      const span = trace.wrapSpanContext({ traceId, spanId: randomBytes(8).toString("hex"), traceFlags: 1 });
      expect(await takeToken(buckets, logger, "tenant", "t", limit, 1, span)).toBeUndefined();
      expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([expect.objectContaining({ msg: "rate limit store unavailable; operation let through", scope: "tenant", traceId })]);
      await redis.start();
      await waitFor(async () => !(await fails()), 5000, "takes once Redis is back");
    } finally {
      await buckets.close();
      await redis.stop();
    }
  });
});

describe("rate limits at the gateway (in process)", () => {
  let graph: TestGraph;

  beforeAll(async () => {
    graph = await startGraph({
      env: {
        MTD_RATE_LIMIT_TENANT_PER_SECOND: "1",
        MTD_RATE_LIMIT_TENANT_BURST: "10",
        MTD_RATE_LIMIT_PARTNER_PER_SECOND: "1",
        MTD_RATE_LIMIT_PARTNER_BURST: "4",
      },
    });
  });
  afterAll(() => graph?.stop());

  it("refuses a tenant's operations past its bucket with RATE_LIMITED, 429 and Retry-After; other tenants go on", async () => {
    const admin = await graph.token({ tenantId: "busy", role: "admin" });
    const analyst = await graph.token({ tenantId: "busy", role: "analyst" });
    for (let i = 0; i < 10; i++) expect((await graph.query(i % 2 ? admin : analyst, COUNT)).errors).toBeUndefined();

    // The burst is spent; the bucket refills one token a second, so on a slow
    // machine a request or two more may pass before the refusal.
    const send = () =>
      fetch(graph.gatewayUrl, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
        body: JSON.stringify({ query: COUNT }),
      });
    let response = await send();
    for (let extra = 0; response.status === 200 && extra < 20; extra++) response = await send();
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const body = (await response.json()) as { data?: unknown; errors: { extensions: Record<string, unknown> }[] };
    expect(body.data ?? null).toBeNull();
    expect(body.errors[0]!.extensions).toMatchObject({ code: "RATE_LIMITED", scope: "tenant", retryAfterSeconds: 1 });

    const other = await graph.token({ tenantId: "quiet", role: "admin" });
    expect((await graph.query(other, COUNT)).errors).toBeUndefined();
    // The bucket refills: one token a second.
    await waitFor(async () => codeOf(await graph.query(admin, COUNT)) === undefined, 3000, "tenant bucket refill");
  });

  it("counts each report of a batch against the partner's bucket, not the tenant's other callers", async () => {
    const partner = await graph.token({ tenantId: "ingest", role: "partner", partner: "LOOKOUT" });
    const admin = await graph.token({ tenantId: "ingest", role: "admin" });
    await enablePartner(graph, admin, partner);
    const report = (id: string) => ({ reportId: id, deviceId: "d-1", observedAt: new Date().toISOString(), threats: [] });

    expect(codeOf(await graph.query(partner, BATCH, { inputs: [report("r-1"), report("r-2"), report("r-3")] }))).not.toBe("RATE_LIMITED");
    expect(codeOf(await graph.query(partner, HEARTBEAT))).not.toBe("RATE_LIMITED");
    const refused = await graph.query(partner, HEARTBEAT);
    expect(refused.status).toBe(429);
    expect(refused.errors![0]!.extensions).toMatchObject({ code: "RATE_LIMITED", scope: "partner" });
    // Reads are not ingest: the partner still reads, and the tenant's admin is not slowed down.
    expect(codeOf(await graph.query(partner, COUNT))).toBeUndefined();
    expect(codeOf(await graph.query(admin, COUNT))).toBeUndefined();
  });

  it("charges the partner's bucket for the mutations the supergraph marks @rateLimited, and for no other", async () => {
    const marked = 'partnerHeartbeat: MtdConnector! @join__field(graph: THREATS) @rateLimited(bucket: "partner")';
    const unmarked = "disableMtdConnector(partner: MtdPartner): MtdConnector @join__field(graph: THREATS)";
    const committed = loadSupergraph();
    expect(committed).toContain(marked);
    expect(committed).toContain(unmarked);
    // The same graph with the directive moved from partnerHeartbeat to disableMtdConnector.
    const moved = committed.replace(marked, "partnerHeartbeat: MtdConnector! @join__field(graph: THREATS)").replace(unmarked, `${unmarked} @rateLimited(bucket: "partner")`);
    const gateway = await startGateway({ config: { ...graph.config, port: 0 }, logger: createLogger("silent", "test"), supergraphSdl: moved });
    try {
      const rateLimitedOf = async (tenantId: string, operation: string) => {
        const partner = await graph.token({ tenantId, role: "partner", partner: "LOOKOUT" });
        // Six at once against a burst of 4: two refused when charged.
        const codes = await Promise.all(Array.from({ length: 6 }, () => graph.query(partner, operation, undefined, gateway.url).then(codeOf)));
        return codes.filter((code) => code === "RATE_LIMITED").length;
      };
      expect(await rateLimitedOf("moved-heartbeat", HEARTBEAT)).toBe(0);
      expect(await rateLimitedOf("moved-disable", DISABLE)).toBe(2);
    } finally {
      await gateway.dispose();
    }
  });

  it("gives each gateway process its own buckets without Redis", async () => {
    const second = await startGateway({ config: { ...graph.config, port: 0 }, logger: createLogger("silent", "test") });
    try {
      const admin = await graph.token({ tenantId: "split", role: "admin" });
      for (let i = 0; i < 10; i++) await graph.query(admin, COUNT);
      expect(codeOf(await graph.query(admin, COUNT))).toBe("RATE_LIMITED");
      expect(codeOf(await graph.query(admin, COUNT, undefined, second.url))).toBeUndefined();
    } finally {
      await second.dispose();
    }
  });
});

describe("@rateLimited in the supergraph", () => {
  it("marks the partners' ingest mutations, a batch charged per report", () => {
    expect(Object.fromEntries(rateLimitedFields(loadSupergraph()))).toEqual({
      reportThreats: { bucket: "partner" },
      reportThreatsBatch: { bucket: "partner", costArgument: "inputs" },
      partnerHeartbeat: { bucket: "partner" },
    });
  });

  it("refuses a bucket the gateway does not know, and a cost argument that is not a list", () => {
    const heartbeat = 'partnerHeartbeat: MtdConnector! @join__field(graph: THREATS) @rateLimited(bucket: "partner")';
    const batch = '@rateLimited(bucket: "partner", costArgument: "inputs")';
    expect(() => rateLimitedFields(loadSupergraph().replace(heartbeat, heartbeat.replace('"partner"', '"device"')))).toThrow(/partnerHeartbeat: expected bucket partner; got "device"/);
    expect(() => rateLimitedFields(loadSupergraph().replace(batch, '@rateLimited(bucket: "partner", costArgument: "reports")'))).toThrow(/reportThreatsBatch: expected costArgument to name a list argument; got "reports"/);
  });
});

describe.skipIf(!redisEnabled)("rate limits shared by two gateways through Redis", () => {
  let graph: TestGraph;
  let second: Served;

  beforeAll(async () => {
    graph = await startGraph({ eventLog: "redis", env: { MTD_RATE_LIMIT_TENANT_PER_SECOND: "1", MTD_RATE_LIMIT_TENANT_BURST: "6" } });
    // A second gateway process on the same Redis prefix: same buckets.
    second = await startGateway({ config: { ...graph.config, port: 0 }, logger: createLogger("silent", "test") });
  });
  afterAll(async () => {
    await second?.dispose();
    await graph?.stop();
  });

  it("lets the tenant's burst through once across both gateways, then both refuse", async () => {
    const admin = await graph.token({ tenantId: "shared", role: "admin" });
    const urls = [graph.gatewayUrl, second.url];
    const codes: unknown[] = [];
    for (let i = 0; i < 8; i++) codes.push(codeOf(await graph.query(admin, COUNT, undefined, urls[i % 2])));
    expect(codes.slice(0, 6)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(codes.slice(6)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
  });

  it("reports Redis in readiness", async () => {
    const ready = await fetch(new URL("/health/ready", second.url));
    expect(ready.status).toBe(200);
  });
});
