/** `prune` on real databases: only rows past the cutoff go, oldest first, in batches, and only once when two replicas prune. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../lib/db.js";
import { outboxEntity, outboxMigration } from "../../lib/events/outbox.js";
import { parseDuration } from "../../lib/duration.js";
import { olderThan, prune } from "../../lib/retention.js";
import { createMysqlDatabase, requireService } from "../support/services.js";

describe("parseDuration", () => {
  it("reads 90s, 15m, 12h, 30d and refuses anything else", () => {
    expect([parseDuration("90s"), parseDuration("15m"), parseDuration("12h"), parseDuration("30d")]).toEqual([90_000, 900_000, 43_200_000, 2_592_000_000]);
    for (const bad of ["", "30", "1.5h", "-1d", "1w", " 1d", "1d ", "9999999999d"]) expect(parseDuration(bad)).toBeUndefined();
  });
});

const engines = [
  { name: "SQLite", enabled: true, url: async () => ({ url: undefined as string | undefined, drop: async () => {} }) },
  { name: "MariaDB", enabled: requireService("mysql"), url: createMysqlDatabase },
];

for (const engine of engines) {
  describe.skipIf(!engine.enabled)(`prune on ${engine.name}`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mtd-retention-"));
    let database: Database;
    let drop: () => Promise<void>;
    const entity = outboxEntity("retention");

    beforeAll(async () => {
      const created = await engine.url();
      drop = created.drop;
      database = await openDatabase({ name: "retention", databaseUrl: created.url, dataDir, entities: [entity], migrations: [outboxMigration("retention")] });
    });
    afterAll(async () => {
      await database?.close();
      await drop?.();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("deletes published rows older than the bound, in batches, and keeps recent and unpublished ones", async () => {
      const now = Date.now();
      const row = (i: number, publishedAt: number | null) => ({ topic: "t", eventId: `e-${i}`, event: "{}", createdAt: now, publishedAt });
      const rows = [
        ...Array.from({ length: 1_200 }, (_, i) => row(i, now - 3_600_000 - i)), // old, published
        ...Array.from({ length: 10 }, (_, i) => row(2_000 + i, now)), // recent, published
        ...Array.from({ length: 5 }, (_, i) => row(3_000 + i, null)), // not published yet
      ];
      const repository = database.dataSource.getRepository(entity);
      for (let i = 0; i < rows.length; i += 400) await repository.insert(rows.slice(i, i + 400));

      const target = olderThan(entity, "publishedAt", 60_000, "epochMs");
      // Two replicas pruning at once delete each row once between them.
      const [a, b] = await Promise.all([prune(database.dataSource, target), prune(database.dataSource, target)]);
      expect(a + b).toBe(1_200);
      const left = await repository.find({ order: { eventId: "ASC" } });
      expect(left.map((r) => r.eventId).sort()).toEqual([...rows.slice(1_200).map((r) => r.eventId)].sort());
      expect(await prune(database.dataSource, target)).toBe(0);
    });
  });
}
