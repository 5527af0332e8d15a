/** The unit of work on real databases (SQLite and MariaDB): events out after the commit only, row locks, processed events, retries. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { EntitySchema, Table, type MigrationInterface, type QueryRunner } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, integerColumn, type Database } from "../../lib/db.js";
import { MemoryEventLog } from "../../lib/events/memory.js";
import { Outbox, outboxEntity, outboxMigration } from "../../lib/events/outbox.js";
import type { CatalogNewEvent, CatalogTopic } from "../../lib/events/catalog.js";
import type { LoggedEvent, NewEvent } from "../../lib/events/types.js";
import { processedEventsEntity, processedEventsMigration, UnitOfWork } from "../../lib/unit-of-work.js";
import { createMysqlDatabase, requireService } from "../support/services.js";
import { waitFor } from "../support/wait.js";

const SERVICE = "uow";

interface CounterRecord {
  name: string;
  value: number;
}
const CounterEntity = new EntitySchema<CounterRecord>({
  name: "UowCounter",
  tableName: "uow_counters",
  columns: { name: { type: "varchar", length: 64, primary: true }, value: integerColumn({ name: "value" }) },
});
class Counters0001 implements MigrationInterface {
  name = "Counters0001_1767225600000";
  async up(queryRunner: QueryRunner) {
    await queryRunner.createTable(new Table({ name: "uow_counters", columns: [{ name: "name", type: "varchar", length: "64", isPrimary: true }, { name: "value", type: "integer" }] }));
  }
  async down(queryRunner: QueryRunner) {
    await queryRunner.dropTable("uow_counters");
  }
}

/** The unit of work carries any event; these use topics and a type of their own, outside the catalog (hence the casts). */
const event = (type = "counter.changed") => ({ id: randomUUID(), type, tenantId: "t1", aggregateId: "c", occurredAt: new Date().toISOString(), payload: {} }) as NewEvent as CatalogNewEvent;
const OTHER = "other" as CatalogTopic;

const engines: [name: string, available: boolean, url: () => Promise<{ url?: string; drop(): Promise<void> }>][] = [
  ["SQLite", true, async () => ({ url: undefined, drop: async () => {} })],
  ["MariaDB", requireService("mysql"), createMysqlDatabase],
];

for (const [engine, available, target] of engines) {
  describe.skipIf(!available)(`unit of work on ${engine}`, () => {
    let database: Database;
    let outbox: Outbox;
    let work: UnitOfWork;
    let drop: () => Promise<void>;
    const dataDir = mkdtempSync(join(tmpdir(), "mtd-uow-"));
    const log = new MemoryEventLog();
    const published: LoggedEvent[] = [];

    beforeAll(async () => {
      const created = await target();
      drop = created.drop;
      const processedEvents = processedEventsEntity(SERVICE);
      database = await openDatabase({
        name: SERVICE,
        databaseUrl: created.url,
        dataDir,
        entities: [CounterEntity, outboxEntity(SERVICE), processedEvents],
        migrations: [Counters0001, outboxMigration(SERVICE), processedEventsMigration(SERVICE)],
      });
      outbox = new Outbox({ dataSource: database.dataSource, log, service: SERVICE });
      work = new UnitOfWork({ dataSource: database.dataSource, outbox, topic: SERVICE, processedEvents });
      log.consume(SERVICE, { group: "test", consumer: "test" }, async (e) => void published.push(e));
      log.consume("other", { group: "test", consumer: "test" }, async (e) => void published.push(e));
    });

    afterAll(async () => {
      await outbox.dispose();
      await log.close();
      await database.close();
      await drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("publishes what a transaction emitted once it commits, on its topics, without a sweep", async () => {
      const own = event();
      const other = event("other.thing");
      await work.transaction(async (tx) => {
        await tx.lock(CounterEntity, { name: "a" }, { name: "a", value: 0 });
        tx.emit(own);
        tx.emitTo(OTHER, other);
      });
      await waitFor(() => published.some((e) => e.id === own.id) && published.some((e) => e.id === other.id));
      expect(published.find((e) => e.id === own.id)?.topic).toBe(SERVICE);
      expect(published.find((e) => e.id === other.id)?.topic).toBe("other");
    });

    it("writes and publishes nothing of a transaction that throws", async () => {
      const lost = event();
      await expect(
        work.transaction(async (tx) => {
          await tx.manager.getRepository(CounterEntity).insert({ name: "rolled-back", value: 1 });
          tx.emit(lost);
          throw new Error("refused");
        }),
      ).rejects.toThrow("refused");
      const marker = event();
      await work.transaction(async (tx) => void tx.emit(marker));
      await waitFor(() => published.some((e) => e.id === marker.id));
      expect(published.some((e) => e.id === lost.id)).toBe(false);
      expect(await database.dataSource.getRepository(CounterEntity).findOneBy({ name: "rolled-back" })).toBeNull();
    });

    it("lock creates a missing row once and serialises concurrent writers of it", async () => {
      const increments = 20;
      await Promise.all(
        Array.from({ length: increments }, () =>
          work.transaction(async (tx) => {
            const row = await tx.lock(CounterEntity, { name: "shared" }, { name: "shared", value: 0 });
            await tx.manager.update(CounterEntity, { name: "shared" }, { value: row.value + 1 });
          }),
        ),
      );
      expect((await database.dataSource.getRepository(CounterEntity).findOneByOrFail({ name: "shared" })).value).toBe(increments);
    });

    it("markProcessed returns the ids new to the group, each once, in order; a redelivery is not among them", async () => {
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      const mark = (group: string, ids: string[]) => work.transaction((tx) => tx.markProcessed(group, ids));
      expect(await mark("g1", [a])).toEqual([a]);
      expect(await mark("g1", [b, a, c, b])).toEqual([b, c]);
      expect(await mark("g1", [a, b, c])).toEqual([]);
      expect(await mark("g2", [c, a])).toEqual([c, a]);
      const many = Array.from({ length: 1_200 }, () => randomUUID());
      expect(await mark("g3", many)).toEqual(many);
      expect(await mark("g3", [...many, a])).toEqual([a]);
    });

    it("runs the work again after an error retryOn accepts, at most three times", async () => {
      let attempts = 0;
      const lostRace = new Error("lost race");
      const result = await work.transaction(
        async () => {
          attempts += 1;
          if (attempts < 3) throw lostRace;
          return "won";
        },
        { retryOn: (error) => error === lostRace },
      );
      expect({ result, attempts }).toEqual({ result: "won", attempts: 3 });
      attempts = 0;
      await expect(
        work.transaction(async () => {
          attempts += 1;
          throw lostRace;
        }, { retryOn: (error) => error === lostRace }),
      ).rejects.toBe(lostRace);
      expect(attempts).toBe(3);
    });
  });
}
