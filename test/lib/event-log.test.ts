/** One conformance suite for every EventLog implementation. */
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { MemoryEventLog } from "../../lib/events/memory.js";
import { RedisEventLog } from "../../lib/events/redis.js";
import type { EventLog, LoggedEvent, NewEvent, RetentionOptions } from "../../lib/events/types.js";
import { RedisCluster } from "../support/redis-cluster.js";
import { redisServerInstalled } from "../support/redis-server.js";
import { REDIS_TEST_URL, redisPrefix, requireService } from "../support/services.js";
import { deferred, waitFor, type Deferred } from "../support/wait.js";

interface Backend {
  log(retention?: RetentionOptions): EventLog;
  cleanup(): Promise<void>;
}

/** A private cluster (REDIS_CLUSTER_NODES), started once for its suite, wherever redis-server can run. */
const cluster = redisServerInstalled ? await RedisCluster.start() : undefined;

const implementations: [name: string, available: boolean, backend: () => Backend][] = [
  ["MemoryEventLog", true, () => ({ log: (retention) => new MemoryEventLog(retention), cleanup: async () => {} })],
  [
    "RedisEventLog",
    requireService("redis"),
    () => {
      const { prefix, cleanup } = redisPrefix();
      return { log: (retention) => new RedisEventLog({ url: REDIS_TEST_URL, prefix, ...retention }), cleanup };
    },
  ],
  [
    "RedisEventLog on a 3-master Redis Cluster",
    cluster !== undefined,
    () => ({ log: (retention) => new RedisEventLog({ clusterNodes: cluster!.nodes, prefix: "conformance", ...retention }), cleanup: () => cluster!.stop() }),
  ],
];

function newEvent(id: string): NewEvent {
  return { id, type: "device.enrolled", tenantId: "t1", aggregateId: "d1", occurredAt: new Date().toISOString(), payload: { id } };
}

function range(prefix: string, from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);
}

/** Reads `count` events from a tail, then stops it. */
async function take(events: AsyncIterable<LoggedEvent>, count: number): Promise<LoggedEvent[]> {
  const taken: LoggedEvent[] = [];
  if (count === 0) return taken;
  for await (const event of events) {
    taken.push(event);
    if (taken.length === count) break;
  }
  return taken;
}

/** The ids (or positions) of the first `count` events a tail from the beginning reads. */
async function tailIds(log: EventLog, topic: string, count: number, positions = false): Promise<string[]> {
  return (await take(log.tail(topic, { after: "0" }), count)).map((event) => (positions ? event.position : event.id));
}

/** Records what handlers see; `reached(n)` resolves once n events are recorded. */
function recorder() {
  const ids: string[] = [];
  const waiting: { count: number; done: Deferred<void> }[] = [];
  return {
    ids,
    record(id: string) {
      ids.push(id);
      for (const wait of waiting) if (ids.length >= wait.count) wait.done.resolve();
    },
    reached(count: number): Promise<void> {
      const done = deferred();
      waiting.push({ count, done });
      if (ids.length >= count) done.resolve();
      return done.promise;
    },
  };
}

for (const [name, available, makeBackend] of implementations) {
  describe.skipIf(!available)(name, () => {
    const backend = available ? makeBackend() : undefined;
    const logs: EventLog[] = [];
    let topicCount = 0;
    /** A fresh log and topic for each test. */
    const setup = (retention?: RetentionOptions) => {
      const log = backend!.log(retention);
      logs.push(log);
      topicCount += 1;
      return { log, topic: `topic${topicCount}` };
    };

    afterEach(async () => {
      await Promise.all(logs.splice(0).map((log) => log.close()));
    });
    afterAll(async () => {
      await backend?.cleanup();
    });

    it("tails from the beginning, from a position, and from now", async () => {
      const { log, topic } = setup();
      await log.publish(topic, [newEvent("a1"), newEvent("a2")]);

      const all = await take(log.tail(topic, { after: "0" }), 2);
      expect(all.map((event) => event.id)).toEqual(["a1", "a2"]);
      expect(all[0]).toMatchObject({ topic, type: "device.enrolled", tenantId: "t1", payload: { id: "a1" } });
      expect(all[0].position).not.toEqual(all[1].position);

      const fromNow = log.tail(topic); // "$"
      const afterFirst = log.tail(topic, { after: all[0].position });
      await log.publish(topic, [newEvent("a3")]);
      expect((await take(fromNow, 1)).map((event) => event.id)).toEqual(["a3"]);
      expect((await take(afterFirst, 2)).map((event) => event.id)).toEqual(["a2", "a3"]);
    });

    it("reports the position of the last event", async () => {
      const { log, topic } = setup();
      expect(await log.position(topic)).toBe("0");
      await log.publish(topic, [newEvent("p1"), newEvent("p2")]);
      const position = await log.position(topic);
      const [, last] = await take(log.tail(topic, { after: "0" }), 2);
      expect(position).toBe(last.position);
      const next = log.tail(topic, { after: position });
      await log.publish(topic, [newEvent("p3")]);
      expect((await take(next, 1)).map((event) => event.id)).toEqual(["p3"]);
    });

    it("rejects a malformed position", () => {
      const { log, topic } = setup();
      expect(() => log.tail(topic, { after: "not-a-position" })).toThrow(/got "not-a-position"/);
    });

    it("tails after a position with no gap and no duplicate while events are published", async () => {
      const { log, topic } = setup();
      await log.publish(topic, range("e", 1, 50).map(newEvent));
      const stored = await take(log.tail(topic, { after: "0" }), 50);

      const reading = take(log.tail(topic, { after: stored[19].position }), 80);
      for (let batch = 0; batch < 10; batch += 1) {
        await log.publish(topic, range("e", 51 + batch * 5, 55 + batch * 5).map(newEvent));
      }
      expect((await reading).map((event) => event.id)).toEqual(range("e", 21, 100));
    });

    it("ends a waiting tail when its signal aborts", async () => {
      const { log, topic } = setup();
      const controller = new AbortController();
      const reading = take(log.tail(topic, { signal: controller.signal }), 1);
      controller.abort();
      expect(await reading).toEqual([]);
    });

    it("delivers every event to each consumer group, in order", async () => {
      const { log, topic } = setup();
      const groups = [recorder(), recorder()];
      groups.forEach((seen, i) =>
        log.consume(topic, { group: `g${i}`, consumer: "c1" }, async (event) => {
          seen.record(event.id);
        }),
      );
      await log.publish(topic, range("e", 1, 10).map(newEvent));
      await Promise.all(groups.map((seen) => seen.reached(10)));
      for (const seen of groups) expect(seen.ids).toEqual(range("e", 1, 10));
    });

    it("hands each event to exactly one consumer of a group", async () => {
      const { log, topic } = setup();
      const seen = recorder();
      for (const consumer of ["c1", "c2"]) {
        log.consume(topic, { group: "g", consumer, batchSize: 5 }, async (event) => {
          seen.record(event.id);
        });
      }
      for (let batch = 0; batch < 8; batch += 1) await log.publish(topic, range("e", 1 + batch * 5, 5 + batch * 5).map(newEvent));
      await seen.reached(40);
      // Published after the rest: once it is handled, every earlier event has been.
      await log.publish(topic, [newEvent("last")]);
      await seen.reached(41);
      expect([...seen.ids].sort()).toEqual([...range("e", 1, 40), "last"].sort());
    });

    it("retries an event whose handler throws, before any later event", async () => {
      const { log, topic } = setup();
      const attempts = recorder();
      let failed = false;
      log.consume(topic, { group: "g", consumer: "c1" }, async (event) => {
        attempts.record(event.id);
        if (event.id === "e1" && !failed) {
          failed = true;
          throw new Error("transient");
        }
      });
      await log.publish(topic, range("e", 1, 3).map(newEvent));
      await attempts.reached(4);
      expect(attempts.ids).toEqual(["e1", "e1", "e2", "e3"]);
    });

    it("lets another consumer reclaim the events of one that died mid-handling", async () => {
      const { log, topic } = setup();
      const reclaimAfterMs = 200;
      const stuck = deferred();
      const claimed = deferred<number>();
      const dead = log.consume(topic, { group: "g", consumer: "dead", reclaimAfterMs }, async () => {
        claimed.resolve(Date.now());
        await stuck.promise; // never settles while it matters
      });
      await log.publish(topic, range("e", 1, 2).map(newEvent));
      const claimedAt = await claimed.promise;
      await dead.dispose();

      const seen = recorder();
      log.consume(topic, { group: "g", consumer: "heir", reclaimAfterMs }, async (event) => {
        seen.record(event.id);
      });
      await seen.reached(2);
      expect(seen.ids).toEqual(["e1", "e2"]);
      expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(reclaimAfterMs - 10);
      stuck.resolve();
    });

    it("hands batches over in order, up to batchSize each, without waiting to fill one", async () => {
      const { log, topic } = setup();
      await log.publish(topic, range("e", 1, 10).map(newEvent));
      const batches: string[][] = [];
      const seen = recorder();
      log.consumeBatches(topic, { group: "g", consumer: "c1", batchSize: 4 }, async (events) => {
        batches.push(events.map((event) => event.id));
        for (const event of events) seen.record(event.id);
      });
      await seen.reached(10);
      expect(batches).toEqual([range("e", 1, 4), range("e", 5, 8), range("e", 9, 10)]);
      // A trickle: one event is a batch of one, handed over at once.
      await log.publish(topic, [newEvent("e11")]);
      await seen.reached(11);
      expect(batches.at(-1)).toEqual(["e11"]);
      // Acknowledged together: nothing pending, nothing left.
      await waitFor(async () => (await log.consumerGroups()).some((group) => group.topic === topic && group.pending === 0 && group.lag === 0), 10_000, "acknowledged");
    });

    it("hands over only the events whose JSON mentions the screen's text, and acknowledges the rest unseen", async () => {
      const { log, topic } = setup();
      const marked = (id: string): NewEvent => ({ ...newEvent(id), payload: { id, urgent: true } });
      await log.publish(topic, [newEvent("e1"), marked("e2"), newEvent("e3"), { ...newEvent("e4"), payload: { id: "e4", urgent: false } }, marked("e5")]);
      const batches: string[][] = [];
      const singles: string[] = [];
      const seen = recorder();
      log.consumeBatches(topic, { group: "batches", consumer: "c1", mentions: '"urgent":true' }, async (events) => {
        batches.push(events.map((event) => event.id));
        for (const event of events) seen.record(event.id);
      });
      log.consume(topic, { group: "singles", consumer: "c1", mentions: '"urgent":true' }, async (event) => {
        singles.push(event.id);
        seen.record(event.id);
      });
      await seen.reached(4);
      await log.publish(topic, [newEvent("e6")]);
      await waitFor(async () => (await log.consumerGroups()).filter((group) => group.topic === topic && group.pending === 0 && group.lag === 0).length === 2, 10_000, "acknowledged");
      expect(batches).toEqual([["e2", "e5"]]);
      expect(singles).toEqual(["e2", "e5"]);
    });

    it("hands a batch whose handler throws over again, whole, before any later event", async () => {
      const { log, topic } = setup();
      await log.publish(topic, range("e", 1, 3).map(newEvent));
      const batches: string[][] = [];
      const seen = recorder();
      const retried = deferred();
      log.consumeBatches(topic, { group: "g", consumer: "c1" }, async (events) => {
        batches.push(events.map((event) => event.id));
        if (batches.length === 1) throw new Error("transient");
        retried.resolve();
        for (const event of events) seen.record(event.id);
      });
      await retried.promise;
      await log.publish(topic, [newEvent("e4")]);
      await seen.reached(4);
      expect(batches.slice(0, 2)).toEqual([range("e", 1, 3), range("e", 1, 3)]);
      expect(seen.ids).toEqual(range("e", 1, 4));
    });

    it("hands each event to exactly one batch consumer of a group, and lets an heir reclaim a dead one's batch", async () => {
      const { log, topic } = setup();
      const reclaimAfterMs = 200;
      const stuck = deferred();
      const claimed = deferred<string[]>();
      const dead = log.consumeBatches(topic, { group: "g", consumer: "dead", reclaimAfterMs }, async (events) => {
        claimed.resolve(events.map((event) => event.id));
        await stuck.promise; // never settles while it matters
      });
      await log.publish(topic, range("e", 1, 3).map(newEvent));
      const held = await claimed.promise;
      expect(held).toEqual(range("e", 1, 3));
      await dead.dispose();

      const seen = recorder();
      for (const consumer of ["heir1", "heir2"]) {
        log.consumeBatches(topic, { group: "g", consumer, reclaimAfterMs, batchSize: 5 }, async (events) => {
          for (const event of events) seen.record(event.id);
        });
      }
      for (let batch = 0; batch < 4; batch += 1) await log.publish(topic, range("f", 1 + batch * 5, 5 + batch * 5).map(newEvent));
      await seen.reached(23);
      await log.publish(topic, [newEvent("last")]);
      await seen.reached(24);
      expect([...seen.ids].sort()).toEqual([...range("e", 1, 3), ...range("f", 1, 20), "last"].sort());
      stuck.resolve();
    });

    /** The ids a tail from the beginning reads now (what the log still holds), through a fresh tail. */
    const held = async (log: EventLog, topic: string) => {
      const marker = `marker-${Math.random()}`;
      await log.publish(topic, [newEvent(marker)]);
      const ids: string[] = [];
      for await (const event of log.tail(topic, { after: "0" })) {
        if (event.id === marker) break;
        ids.push(event.id);
      }
      return ids;
    };

    it("trims what every group has acknowledged, keeping what a lagging group still needs", async () => {
      // No retention window: only acknowledgements keep events.
      const { log, topic } = setup({ retentionMs: 0, trimEveryMs: 3_600_000 });
      await log.publish(topic, range("e", 1, 10).map(newEvent));
      const fast = recorder();
      log.consume(topic, { group: "fast", consumer: "f1" }, async (event) => fast.record(event.id));
      const slow = recorder();
      const gate = deferred();
      log.consume(topic, { group: "slow", consumer: "s1" }, async (event) => {
        if (event.id === "e5") await gate.promise;
        slow.record(event.id);
      });
      await fast.reached(10);
      await slow.reached(4);
      // Once "slow" has acknowledged e4: e1-e4 go, e5 on stay for it (acknowledged by "fast" or not).
      const stillHeld = async () => {
        await log.trim();
        const ids = await tailIds(log, topic, 6);
        return ids[0] === "e5";
      };
      await waitFor(stillHeld, 10_000, "e1-e4 trimmed");
      expect(await tailIds(log, topic, 6)).toEqual(range("e", 5, 10));
      gate.resolve();
      await slow.reached(10);
      expect(slow.ids).toEqual(range("e", 1, 10));
      expect(fast.ids).toEqual(range("e", 1, 10));
      // Acknowledged by both now: all of it goes.
      await waitFor(async () => (await log.trim(), (await held(log, topic)).length === 0), 10_000, "everything trimmed");
    });

    it("keeps acknowledged events younger than the retention", async () => {
      const { log, topic } = setup({ retentionMs: 60_000, trimEveryMs: 3_600_000 });
      await log.publish(topic, range("r", 1, 3).map(newEvent));
      const seen = recorder();
      log.consume(topic, { group: "g", consumer: "c1" }, async (event) => seen.record(event.id));
      await seen.reached(3);
      await waitFor(async () => (await log.consumerGroups()).some((group) => group.topic === topic && group.pending === 0 && group.lag === 0), 10_000, "acknowledged");
      expect(await log.trim()).toBe(0);
      expect(await tailIds(log, topic, 3)).toEqual(range("r", 1, 3));
    });

    it("keeps only the retention window of a topic without groups; a tail from before it starts at the oldest kept event", async () => {
      const { log, topic } = setup({ retentionMs: 0, trimEveryMs: 3_600_000 });
      await log.publish(topic, range("n", 1, 3).map(newEvent));
      const [first] = await tailIds(log, topic, 1, true);
      expect(await log.trim()).toBe(3);
      await log.publish(topic, [newEvent("n4")]);
      expect(await take(log.tail(topic, { after: first }), 1)).toMatchObject([{ id: "n4" }]);
      const fromNow = log.tail(topic, { after: await log.position(topic) });
      await log.publish(topic, [newEvent("n5")]);
      expect(await take(fromNow, 1)).toMatchObject([{ id: "n5" }]);
    });

    it("caps a topic at maxEntries, even past a group that is stuck", async () => {
      const { log, topic } = setup({ maxEntries: 5, trimEveryMs: 3_600_000 });
      const stuck = deferred();
      log.consume(topic, { group: "stuck", consumer: "c1" }, () => stuck.promise);
      for (const id of range("m", 1, 12)) await log.publish(topic, [newEvent(id)]);
      expect(await tailIds(log, topic, 5)).toEqual(range("m", 8, 12));
      stuck.resolve();
    });

    it("closes idempotently, ending tails and consumers", async () => {
      const { log, topic } = setup();
      const reading = take(log.tail(topic, { after: "0" }), 1);
      const consumer = log.consume(topic, { group: "g", consumer: "c1" }, async () => {});
      await Promise.all([log.close(), log.close()]);
      await log.close();
      expect(await reading).toEqual([]);
      await consumer.dispose();
      await expect(log.publish(topic, [newEvent("late")])).rejects.toThrow(/closed/);
    });
  });
}

describe.skipIf(!requireService("redis"))("RedisEventLog connections", () => {
  it("keeps consuming and tailing after its connections are killed", async () => {
    const { prefix, cleanup } = redisPrefix();
    const log = new RedisEventLog({ url: REDIS_TEST_URL, prefix });
    const admin = new Redis(REDIS_TEST_URL);
    try {
      const seen = recorder();
      log.consume("t", { group: "g", consumer: "c1" }, async (event) => {
        seen.record(event.id);
      });
      const tail = log.tail("t", { after: "0" })[Symbol.asyncIterator]();
      await log.publish("t", [newEvent("before")]);
      await seen.reached(1);
      expect((await tail.next()).value).toMatchObject({ id: "before" });

      const clients = (await admin.client("LIST")) as string;
      const ours = clients.split("\n").filter((line) => line.includes(` name=${prefix}:events `));
      expect(ours.length).toBe(3); // commands, the consumer, the tail
      for (const line of ours) await admin.client("KILL", "ID", /id=(\d+)/.exec(line)![1]);

      await log.publish("t", [newEvent("after")]);
      await seen.reached(2);
      expect(seen.ids).toEqual(["before", "after"]);
      expect((await tail.next()).value).toMatchObject({ id: "after" });
      await tail.return?.();
    } finally {
      await log.close();
      admin.disconnect();
      await cleanup();
    }
  });
});

/**
 * A TCP proxy to Redis that can lose a reply: the first reply containing
 * `marker` is dropped and the connection reset, as when Redis dies (or the
 * network fails) after executing a command and before its reply arrives.
 */
async function lossyProxy(targetUrl: string) {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let marker: string | undefined;
  const lost = deferred();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
    }
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      if (marker !== undefined && chunk.includes(marker)) {
        marker = undefined;
        client.resetAndDestroy();
        upstream.destroy();
        lost.resolve();
      } else client.write(chunk);
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(targetUrl);
  url.port = String((server.address() as AddressInfo).port);
  url.hostname = "127.0.0.1";
  return {
    url: url.toString(),
    loseReplyWith(text: string) {
      marker = text;
      return lost.promise;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.skipIf(!requireService("redis"))("RedisEventLog across a lost reply", () => {
  it("handles the events of a read whose reply was lost before any later event", async () => {
    const { prefix, cleanup } = redisPrefix();
    const proxy = await lossyProxy(REDIS_TEST_URL);
    const log = new RedisEventLog({ url: proxy.url, prefix });
    const publisher = new RedisEventLog({ url: REDIS_TEST_URL, prefix });
    try {
      const seen = recorder();
      log.consume("t", { group: "g", consumer: "c1" }, async (event) => {
        seen.record(event.id);
      });
      await publisher.publish("t", [newEvent("first")]);
      await seen.reached(1);
      // Redis hands this event to the blocked read (it is pending on c1 now); the reply never arrives.
      const lost = proxy.loseReplyWith("lost-with-its-reply");
      await publisher.publish("t", [newEvent("lost-with-its-reply")]);
      await lost;
      await publisher.publish("t", [newEvent("third")]);
      await seen.reached(3);
      expect(seen.ids).toEqual(["first", "lost-with-its-reply", "third"]);
    } finally {
      await log.close();
      await publisher.close();
      await proxy.close();
      await cleanup();
    }
  });
});
