/** The transactional outbox on real databases: SQLite with the in-process log, MariaDB with Redis. */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { IsNull, Not, type DataSource } from "typeorm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MemoryEventLog } from "../../lib/events/memory.js";
import { Outbox, outboxEntity } from "../../lib/events/outbox.js";
import { RedisEventLog } from "../../lib/events/redis.js";
import type { EventLog, LoggedEvent } from "../../lib/events/types.js";
import { createMysqlDatabase, REDIS_TEST_URL, redisPrefix, requireService } from "../support/services.js";
import { deferred, waitFor } from "../support/wait.js";
import { openOutboxDatabase, outboxEvent, SERVICE } from "./fixtures/outbox-db.js";

const CRASH_FIXTURE = fileURLToPath(new URL("./fixtures/outbox-crash.ts", import.meta.url));
const TOPIC = "devices";

interface Backend {
  /** Where the outbox table lives: a SQLite file or a mysql:// URL. */
  target: string;
  log: EventLog;
  cleanup(): Promise<void>;
}

const backends: [name: string, available: boolean, setup: () => Promise<Backend>][] = [
  [
    "SQLite + MemoryEventLog",
    true,
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "mtd-outbox-"));
      return { target: join(dir, "devices.sqlite"), log: new MemoryEventLog(), cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  ],
  [
    "MariaDB + RedisEventLog",
    // Both checked, so a missing service is reported even when the other is missing too.
    [requireService("mysql"), requireService("redis")].every(Boolean),
    async () => {
      const database = await createMysqlDatabase();
      const redis = redisPrefix();
      return {
        target: database.url,
        log: new RedisEventLog({ url: REDIS_TEST_URL, prefix: redis.prefix }),
        cleanup: async () => {
          await database.drop();
          await redis.cleanup();
        },
      };
    },
  ],
];

/** Reads the topic from the beginning up to a sentinel published now: everything published before it. */
async function publishedIds(log: EventLog): Promise<string[]> {
  await log.publish(TOPIC, [outboxEvent("sentinel")]);
  const ids: string[] = [];
  for await (const event of log.tail(TOPIC, { after: "0" })) {
    if (event.id === "sentinel") return ids;
    ids.push(event.id);
  }
  return ids;
}

/** Runs the crash fixture in a child process; resolves with its exit code. */
function runCrashingService(target: string, count: number): Promise<number | null> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", CRASH_FIXTURE, target, String(count)], (error) => {
      resolve(error === null ? 0 : typeof error.code === "number" ? error.code : null);
    });
  });
}

for (const [name, available, setup] of backends) {
  describe.skipIf(!available)(name, () => {
    let backend: Backend;
    let dataSources: DataSource[];
    let outboxes: Outbox[];

    const open = async () => {
      const dataSource = await openOutboxDatabase(backend.target);
      dataSources.push(dataSource);
      return dataSource;
    };
    const newOutbox = (dataSource: DataSource, sweepIntervalMs?: number) => {
      const outbox = new Outbox({ dataSource, log: backend.log, service: SERVICE, sweepIntervalMs });
      outboxes.push(outbox);
      return outbox;
    };

    beforeEach(async () => {
      backend = await setup();
      dataSources = [];
      outboxes = [];
    });
    afterEach(async () => {
      await Promise.all(outboxes.map((outbox) => outbox.dispose()));
      await backend.log.close();
      await Promise.all(dataSources.map((dataSource) => dataSource.destroy()));
      await backend.cleanup();
    });

    it("publishes nothing from a transaction that rolls back", async () => {
      const dataSource = await open();
      const outbox = newOutbox(dataSource);
      const rollback = dataSource.transaction(async (manager) => {
        await outbox.enqueue(manager, TOPIC, [outboxEvent("e1")]);
        throw new Error("rollback");
      });
      await expect(rollback).rejects.toThrow("rollback");
      await outbox.flush();
      expect(await outbox.backlog()).toEqual({ count: 0, oldestAgeMs: null });
      expect(await publishedIds(backend.log)).toEqual([]);
    });

    it("publishes committed events once, in order, and marks them", async () => {
      const dataSource = await open();
      const outbox = newOutbox(dataSource);
      await dataSource.transaction((manager) => outbox.enqueue(manager, TOPIC, [outboxEvent("e1"), outboxEvent("e2")]));
      await dataSource.transaction((manager) => outbox.enqueue(manager, "threats", [outboxEvent("t1")]));
      await dataSource.transaction((manager) => outbox.enqueue(manager, TOPIC, [outboxEvent("e3")]));

      const backlog = await outbox.backlog();
      expect(backlog.count).toBe(4);
      expect(backlog.oldestAgeMs).toBeGreaterThanOrEqual(0);

      // Concurrent flushes coalesce: nothing goes out twice from one process.
      await Promise.all([outbox.flush(), outbox.flush(), outbox.flush()]);
      await outbox.flush();
      expect(await publishedIds(backend.log)).toEqual(["e1", "e2", "e3"]);
      const rows = await dataSource.getRepository(outboxEntity(SERVICE)).find({ order: { sequence: "ASC" } });
      expect(rows.map((row) => row.eventId)).toEqual(["e1", "e2", "t1", "e3"]);
      expect(rows.every((row) => typeof row.publishedAt === "number" && typeof row.sequence === "number")).toBe(true);
      expect(await outbox.backlog()).toEqual({ count: 0, oldestAgeMs: null });
    });

    it("publishes after a crash between commit and publish, each event applied once", async () => {
      await open(); // creates the table before the child starts
      const count = 20;
      expect(await runCrashingService(backend.target, count)).toBe(1);

      // A consumer that dedupes by event id, as every subgraph does.
      const applied: string[] = [];
      const seen = new Set<string>();
      let deliveries = 0;
      const sentinel = deferred();
      backend.log.consume(TOPIC, { group: "projection", consumer: "c1" }, async (event: LoggedEvent) => {
        deliveries += 1;
        if (event.id === "sentinel") sentinel.resolve();
        if (seen.has(event.id)) return;
        seen.add(event.id);
        applied.push(event.id);
      });

      // Two replicas recover at once: their sweeps may both publish a row.
      const replicas = [newOutbox(await open(), 10), newOutbox(await open(), 10)];
      expect((await replicas[0].backlog()).count).toBe(count);
      for (const outbox of replicas) outbox.start();
      await waitFor(async () => (await replicas[0].backlog()).count === 0, 10_000, "the sweeps publishing the backlog");

      // A replica that crashed after publishing, before marking: everything goes out again.
      const repository = dataSources[0].getRepository(outboxEntity(SERVICE));
      await repository.update({ publishedAt: Not(IsNull()) }, { publishedAt: null });
      await Promise.all(replicas.map((outbox) => outbox.dispose()));
      await replicas[0].flush();

      await backend.log.publish(TOPIC, [outboxEvent("sentinel")]);
      await sentinel.promise;
      expect(applied).toEqual([...Array.from({ length: count }, (_, i) => `crash-${i + 1}`), "sentinel"]);
      expect(deliveries).toBeGreaterThanOrEqual(2 * count + 1);
    });
  });
}
