/**
 * The production shape on a Redis Cluster (`REDIS_CLUSTER_NODES`): every
 * subgraph and two gateways as processes on MariaDB and a private 3-master
 * cluster. Reports flow through the event log's streams on the cluster's
 * masters; subscribers on both gateways get every change once, in order, and
 * the gateways share their rate limits through the cluster.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisCluster } from "../support/redis-cluster.js";
import { redisServerInstalled } from "../support/redis-server.js";
import { requireService } from "../support/services.js";
import { burst, expectExactlyOnce, ScaleOutStack } from "./scale-out-helpers.js";
import { Tenant } from "./subscriptions-helpers.js";

const enabled = requireService("mysql") && redisServerInstalled;

describe.skipIf(!enabled)("scale-out on a 3-master Redis Cluster: 2 gateways, every subgraph its own process, MariaDB", () => {
  let cluster: RedisCluster;
  let stack: ScaleOutStack;

  beforeAll(async () => {
    cluster = await RedisCluster.start();
    stack = new ScaleOutStack({ clusterNodes: cluster.nodes, prefix: "mtd" });
    await stack.start();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await cluster?.stop();
  }, 60_000);

  it("every change reaches subscribers on both gateways exactly once, in order", async () => {
    const tenant = await Tenant.create("cluster", stack.query, stack.token);
    await tenant.baseline("c-0");
    const devices = ["c-1", "c-2", "c-3"];
    for (const id of devices) await tenant.enroll(id);
    const before = await tenant.changes();
    const group = stack.subscribe(tenant.enforcement, before.at(-1)!.cursor, ["a", "b", "c", "d"], (i) => () => [stack.gateways[i % 2]!.url]);
    await burst(tenant, devices, 9);
    await expectExactlyOnce(tenant, before.length, 2 * 9, group);
    expect(group.flatMap((subscriber) => subscriber.errors)).toEqual([]);
    // The streams live on the cluster, spread over its masters by key slot.
    const byNode = await Promise.all(
      cluster.nodes.map(async (node) => {
        const redis = new Redis(`redis://${node}`);
        try {
          return await redis.keys("mtd:events:*");
        } finally {
          redis.disconnect();
        }
      }),
    );
    expect(byNode.flat()).toEqual(expect.arrayContaining(["mtd:events:devices", "mtd:events:threats", "mtd:events:policies"]));
    expect(byNode.filter((keys) => keys.length > 0).length).toBeGreaterThan(1);
  }, 90_000);
});
