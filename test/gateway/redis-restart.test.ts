/**
 * Restarting Redis during a burst, with the scale-out stack (every subgraph
 * and two gateways as their own processes on MariaDB) on a Redis of its own:
 * the shared one serves every other suite and never goes down.
 *
 * Redis holds the event log, so it runs as production would run it: with an
 * append-only file fsynced on every write. "Restart" is kill -9 and a start on
 * the same port from that file: streams and consumer groups survive; what is
 * lost is every connection, blocked reads and commands in flight.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisServer } from "../support/redis-server.js";
import { requireService } from "../support/services.js";
import { waitFor } from "../support/wait.js";
import { burst, expectExactlyOnce, ScaleOutStack } from "./scale-out-helpers.js";
import { Tenant, type Query } from "./subscriptions-helpers.js";

const enabled = requireService("mysql");

describe.skipIf(!enabled)("restart Redis during a burst: 2 gateways, every subgraph its own process, a private Redis", () => {
  const redis = new RedisServer();
  let stack: ScaleOutStack;

  beforeAll(async () => {
    await redis.start();
    stack = new ScaleOutStack({ url: redis.url, prefix: "mtd-redis-restart" });
    await stack.start();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await redis.stop();
  }, 60_000);

  it("kill -9 Redis mid-burst and start it again from its AOF: subscribers on both gateways get every change once, in order", async () => {
    // A partner delivers at least once: a report that fails (or whose answer is lost) is sent again, same reportId.
    const atLeastOnce: Query = async (token, document, variables) => {
      for (let attempt = 1; ; attempt++) {
        const result = await stack.query(token, document, variables).catch((error: unknown) => ({ errors: [{ message: String(error), extensions: { code: "NETWORK" } }] }));
        const code = result.errors?.[0]?.extensions?.code;
        if (result.errors === undefined || code === "NOT_FOUND" || attempt === 50) return result as never;
        await sleep(100);
      }
    };
    const tenant = await Tenant.create("redis-restart", atLeastOnce, stack.token);
    await tenant.baseline("r-0");
    const devices = ["r-1", "r-2", "r-3", "r-4"];
    for (const id of devices) await tenant.enroll(id);
    const before = await tenant.changes();
    const head = before.at(-1)!.cursor;
    const group = stack.subscribe(tenant.enforcement, head, [0, 1, 2, 3].map((i) => `redis-restart/${i}`), (i) => () => [stack.gateways[i % 2]!.url]);

    let down = false;
    let reportsWhileDown = 0;
    let restarted: Promise<void> = Promise.resolve();
    // 24 reports, 6 per device: every device ends compliant, as the next burst expects.
    await burst(tenant, devices, 24, async (i) => {
      if (down) reportsWhileDown++;
      if (i === 6) {
        await redis.kill();
        down = true;
        restarted = sleep(1500).then(async () => {
          await redis.start();
          down = false;
        });
      }
    });
    await restarted;
    await waitFor(() => stack.ready(), 10_000, "every service ready again");
    await burst(tenant, devices, 4);

    // Nothing is lost: each of the 28 reports flips both resources of its device.
    await expectExactlyOnce(tenant, before.length, 2 * 28, group);
    expect((await tenant.changes()).length - before.length).toBe(2 * 28);
    expect(group.flatMap((subscriber) => subscriber.errors)).toEqual([]);
    expect(reportsWhileDown, "reports made while Redis was down").toBeGreaterThan(0);
  }, 90_000);
});
