/**
 * Scale-out and faults with real processes: every subgraph and two gateways
 * as their own `bin/start.ts` processes on MariaDB and Redis Streams. Each
 * fault test ends with: every access change stored was delivered to every
 * subscriber exactly once, in sequence order. Restarting Redis is in
 * redis-restart.test.ts, on a Redis of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisPrefix, REDIS_TEST_URL, requireService } from "../support/services.js";
import type { Service } from "../support/service-process.js";
import { burst, expectExactlyOnce, ScaleOutStack } from "./scale-out-helpers.js";
import { Tenant } from "./subscriptions-helpers.js";

const enabled = requireService("mysql") && requireService("redis");

describe.skipIf(!enabled)("scale-out: 2 gateways, every subgraph its own process, MariaDB + Redis Streams", () => {
  const redis = redisPrefix();
  const stack = new ScaleOutStack({ url: REDIS_TEST_URL, prefix: redis.prefix });
  const { query, token } = stack;

  beforeAll(() => stack.start(), 120_000);

  afterAll(async () => {
    await stack.stop();
    await redis.cleanup();
  }, 60_000);

  it("kill -9 the policies subgraph during a burst and start it again: subscribers on both gateways get every change once, in order", async () => {
    const tenant = await Tenant.create("scale-policies", query, token);
    await tenant.baseline("p-0");
    const devices = ["p-1", "p-2", "p-3", "p-4"];
    for (const id of devices) await tenant.enroll(id);
    const before = await tenant.changes();
    const head = before.at(-1)!.cursor;
    const group = stack.subscribe(tenant.enforcement, head, [0, 1, 2, 3].map((i) => `policies-kill/${i}`), (i) => () => [stack.gateways[i % 2]!.url]);

    let restarted: Promise<void> = Promise.resolve();
    await burst(tenant, devices, 16, async (i) => {
      if (i === 6) {
        await stack.subgraphs.policies.kill();
        restarted = stack.subgraphs.policies.start();
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
    const [a, b] = stack.gateways as [Service, Service];
    // Two clients start on gateway B (and fail over to A), two stay on A.
    const group = stack.subscribe(tenant.enforcement, head, ["on-b/0", "on-b/1", "on-a/0", "on-a/1"], (i) => (i < 2 ? () => [b.url, a.url] : () => [a.url]));

    await burst(tenant, devices, 12, async (i) => {
      if (i === 5) await b.kill();
    });
    await expectExactlyOnce(tenant, before.length, 24, group);
    expect(group[0]!.reconnects + group[1]!.reconnects).toBeGreaterThanOrEqual(2);
    expect(group.flatMap((subscriber) => subscriber.errors)).toEqual([]);
  }, 90_000);
});
