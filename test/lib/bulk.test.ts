/**
 * Set-based statements (lib/bulk.ts) on real databases (SQLite and MariaDB):
 * multi-row writes (values through the columns' transformers, each conflict
 * mode, errors that stay errors) and reads (the records `find` returns, lists,
 * alternatives, NULL, order, the rows locked until the commit).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EntitySchema, In, Table, type MigrationInterface, type QueryRunner } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertRows, selectRows } from "../../lib/bulk.js";
import { integerColumn, isUniqueViolation, openDatabase, timestampColumn, type Database } from "../../lib/db.js";
import { createMysqlDatabase, requireService } from "../support/services.js";
import { StatementCounter } from "../support/statements.js";

interface ItemRecord {
  id: string;
  /** Unique, apart from the key. */
  code: string;
  name: string | null;
  count: number;
  at: Date;
}
const ItemEntity = new EntitySchema<ItemRecord>({
  name: "BulkItem",
  tableName: "bulk_items",
  columns: {
    id: { type: "varchar", length: 16, primary: true },
    code: { type: "varchar", length: 16, unique: true },
    name: { type: "varchar", length: 8, nullable: true },
    count: integerColumn({ name: "item_count" }),
    at: timestampColumn({ name: "at" }),
  },
});
class Items0001 implements MigrationInterface {
  name = "Items0001_1767225600000";
  async up(queryRunner: QueryRunner) {
    await queryRunner.createTable(
      new Table({
        name: "bulk_items",
        columns: [
          { name: "id", type: "varchar", length: "16", isPrimary: true },
          { name: "code", type: "varchar", length: "16", isUnique: true },
          { name: "name", type: "varchar", length: "8", isNullable: true },
          { name: "item_count", type: "integer" },
          { name: "at", type: "bigint" },
        ],
      }),
    );
  }
  async down(queryRunner: QueryRunner) {
    await queryRunner.dropTable("bulk_items");
  }
}

const engines: [name: string, available: boolean, url: () => Promise<{ url?: string; drop(): Promise<void> }>][] = [
  ["SQLite", true, async () => ({ url: undefined, drop: async () => {} })],
  ["MariaDB", requireService("mysql"), createMysqlDatabase],
];

for (const [engine, available, target] of engines) {
  describe.skipIf(!available)(`multi-row writes on ${engine}`, () => {
    let database: Database;
    let drop: () => Promise<void>;
    const statements = new StatementCounter();
    const dataDir = mkdtempSync(join(tmpdir(), "mtd-bulk-"));
    const item = (id: string, count: number, code = `c-${id}`): ItemRecord => ({ id, code, name: `n-${id}`, count, at: new Date(1_700_000_000_000 + count) });
    const stored = async () => (await database.dataSource.getRepository(ItemEntity).find({ order: { id: "ASC" } })).map(({ id, code, name, count, at }) => ({ id, code, name, count, at }));

    beforeAll(async () => {
      const created = await target();
      drop = created.drop;
      database = await openDatabase({ name: "bulk", databaseUrl: created.url, dataDir, entities: [ItemEntity], migrations: [Items0001], sqlLogger: statements });
    });
    afterAll(async () => {
      await database?.close();
      await drop?.();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("inserts 1,201 rows in slices, read back as TypeORM wrote them (transformers both ways), and a duplicate key fails the statement", async () => {
      const rows = Array.from({ length: 1201 }, (_, i) => item(`a-${String(i).padStart(4, "0")}`, i));
      await insertRows(database.dataSource.manager, ItemEntity, rows);
      const back = await stored();
      expect(back).toHaveLength(1201);
      expect(back[7]).toEqual({ ...rows[7], name: "n-a-0007" });
      expect(back[7]!.at).toBeInstanceOf(Date);
      await expect(insertRows(database.dataSource.manager, ItemEntity, [item("a-0001", 5)])).rejects.toSatisfy(isUniqueViolation);
      await database.dataSource.getRepository(ItemEntity).clear();
    });

    it("ignore: keeps the stored row on a duplicate of the key or of another unique column, inserts the rest", async () => {
      await insertRows(database.dataSource.manager, ItemEntity, [item("i-1", 1), item("i-2", 2)]);
      await insertRows(database.dataSource.manager, ItemEntity, [item("i-1", 10), item("i-3", 30, "c-i-2"), item("i-4", 4)], { onConflict: "ignore" });
      expect((await stored()).map(({ id, count }) => [id, count])).toEqual([["i-1", 1], ["i-2", 2], ["i-4", 4]]);
      await database.dataSource.getRepository(ItemEntity).clear();
    });

    // MySQL's INSERT IGNORE would store it cut to 8 characters with a warning (SQLite does not check lengths at all).
    it.skipIf(engine === "SQLite")("ignore does not swallow other errors: a value too long for its column still fails", async () => {
      const tooLong = { ...item("t-1", 1), name: "far too long for eight" };
      await expect(insertRows(database.dataSource.manager, ItemEntity, [tooLong], { onConflict: "ignore" })).rejects.toThrow(/too long/i);
      expect(await stored()).toEqual([]);
    });

    it("update: a row whose key (or the conflict paths given) exists takes the new values; null is written as NULL", async () => {
      await insertRows(database.dataSource.manager, ItemEntity, [item("u-1", 1), item("u-2", 2)]);
      await insertRows(database.dataSource.manager, ItemEntity, [{ ...item("u-1", 11), name: null }, item("u-3", 3)], { onConflict: "update" });
      await insertRows(database.dataSource.manager, ItemEntity, [item("u-2", 22, "c-u-2")], { onConflict: "update", conflictPaths: ["code"] });
      expect(await stored()).toEqual([{ ...item("u-1", 11), name: null }, item("u-2", 22), item("u-3", 3)]);
      await database.dataSource.getRepository(ItemEntity).clear();
    });

    it("writes in the caller's transaction: rolled back with it", async () => {
      await expect(
        database.dataSource.transaction(async (manager) => {
          await insertRows(manager, ItemEntity, [item("r-1", 1)]);
          throw new Error("roll back");
        }),
      ).rejects.toThrow("roll back");
      expect(await stored()).toEqual([]);
    });

    it("selectRows reads the records find reads (transformers, NULL), by a list of any length, a value or NULL, in order", async () => {
      const rows = Array.from({ length: 1201 }, (_, i) => ({ ...item(`s-${String(i).padStart(4, "0")}`, i), name: i % 3 === 0 ? null : `n-${i}` }));
      await insertRows(database.dataSource.manager, ItemEntity, rows);
      const ids = rows.filter((_, i) => i % 2 === 1).map((row) => row.id);
      const found = await selectRows(database.dataSource.manager, ItemEntity, { id: ids }, { orderBy: ["id"] });
      expect(found).toEqual(await database.dataSource.getRepository(ItemEntity).find({ where: { id: In(ids) }, order: { id: "ASC" } }));
      expect(found).toHaveLength(600);
      expect(found[1]).toEqual({ ...rows[3], name: null });
      expect(found[0]!.at).toBeInstanceOf(Date);
      expect(typeof found[0]!.count).toBe("number");
      // A value goes through its column's transformer too (a Date stored as epoch ms).
      expect(await selectRows(database.dataSource.manager, ItemEntity, { at: rows[7]!.at })).toEqual([{ ...rows[7] }]);
      const unnamed = await selectRows(database.dataSource.manager, ItemEntity, { name: null, count: [0, 1, 2, 3, 4, 5, 6] }, { orderBy: ["count"] });
      expect(unnamed.map((row) => row.id)).toEqual(["s-0000", "s-0003", "s-0006"]);
      await database.dataSource.getRepository(ItemEntity).clear();
    });

    it("selectRows: a list of filters is any of them; an empty list matches nothing and sends no statement; an unknown property throws", async () => {
      await insertRows(database.dataSource.manager, ItemEntity, [item("o-1", 1), item("o-2", 2), item("o-3", 3)]);
      const either = await selectRows(database.dataSource.manager, ItemEntity, [{ id: "o-1", count: 1 }, { count: 2, code: [] }, { code: ["c-o-3", "c-none"] }], { orderBy: ["id"] });
      expect(either.map((row) => row.id)).toEqual(["o-1", "o-3"]);
      expect(await selectRows(database.dataSource.manager, ItemEntity, [{ id: "o-1", count: 2 }])).toEqual([]);
      const mark = statements.mark();
      expect(await selectRows(database.dataSource.manager, ItemEntity, [{ id: [] }, { code: [], count: 1 }])).toEqual([]);
      expect(statements.mark()).toBe(mark);
      await expect(selectRows(database.dataSource.manager, ItemEntity, { nope: 1 } as never)).rejects.toThrow(/no column nope/);
      await database.dataSource.getRepository(ItemEntity).clear();
    });

    // SQLite runs one transaction at a time (lib/db.ts): there is nothing to lock.
    it.skipIf(engine === "SQLite")("selectRows forUpdate: a second locking read waits for the first transaction's commit and sees what it wrote", async () => {
      await insertRows(database.dataSource.manager, ItemEntity, [item("l-1", 1)]);
      let locked!: () => void;
      const holding = new Promise<void>((resolve) => (locked = resolve));
      const first = database.dataSource.transaction("READ COMMITTED", async (manager) => {
        const [row] = await selectRows(manager, ItemEntity, { id: ["l-1"] }, { forUpdate: true });
        locked();
        await new Promise((resolve) => setTimeout(resolve, 300));
        await manager.getRepository(ItemEntity).update({ id: "l-1" }, { count: row!.count + 1 });
      });
      await holding;
      const second = database.dataSource.transaction("READ COMMITTED", async (manager) => (await selectRows(manager, ItemEntity, { id: ["l-1"] }, { forUpdate: true }))[0]!.count);
      const [, count] = await Promise.all([first, second]);
      expect(count).toBe(2);
      await database.dataSource.getRepository(ItemEntity).clear();
    });
  });
}
