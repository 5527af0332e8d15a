/**
 * Bounded history: each service prunes its own tables, in small batches, on a
 * timer (`MTD_RETENTION_INTERVAL`, at most a minute). Any replica may prune;
 * two pruning at once delete the same rows at most once (a delete by primary
 * key of rows already gone deletes nothing). Each batch is one short statement
 * outside any business transaction, so pruning never holds a lock that ingest
 * waits on for long, and a service stopped mid-prune resumes where it was.
 */
import { LessThan, type DataSource, type EntitySchema, type ObjectLiteral } from "typeorm";
import { Counter } from "prom-client";
import type { Logger } from "./logger.js";
import { registry } from "./metrics.js";

export interface PruneTarget {
  entity: EntitySchema<ObjectLiteral>;
  /** The property rows age by (a `Date` or epoch-ms number, as the entity maps it). */
  timeProperty: string;
  /** Rows whose time is below this are pruned (evaluated at each run). */
  cutoff: () => Date | number;
  /** Only rows that also match this are pruned (e.g. a status); an index on it and `timeProperty` keeps the batches cheap. */
  where?: Record<string, unknown>;
}

export interface OlderThanOptions<T> {
  /** Only rows with these values are pruned. */
  where?: Partial<T>;
  /** The clock the age is measured on, epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** Rows of `entity` whose `timeProperty` lies more than `keepMs` in the past (as a `Date` or epoch ms, like the column). */
export function olderThan<T extends ObjectLiteral>(entity: EntitySchema<T>, timeProperty: keyof T & string, keepMs: number, as: "date" | "epochMs", options: OlderThanOptions<T> = {}): PruneTarget {
  const now = options.now ?? Date.now;
  const cutoff = as === "date" ? () => new Date(now() - keepMs) : () => now() - keepMs;
  return { entity: entity as unknown as EntitySchema<ObjectLiteral>, timeProperty, cutoff, where: options.where };
}

/** Rows deleted per statement. */
const BATCH = 500;
/** Batches per target and run: a run never takes long; the next run goes on. */
const MAX_BATCHES = 20;

const pruned = new Counter({
  name: "mtd_retention_pruned_rows_total",
  help: "Rows deleted by retention, by table.",
  labelNames: ["table"],
  registers: [registry],
});

/** Deletes the target's rows older than its cutoff, oldest first, in batches; returns how many this call deleted. */
export async function prune(dataSource: DataSource, target: PruneTarget): Promise<number> {
  const repository = dataSource.getRepository(target.entity);
  const primary = repository.metadata.primaryColumns.map((column) => column.propertyName);
  const cutoff = target.cutoff();
  let total = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const rows = await repository.find({
      select: Object.fromEntries(primary.map((name) => [name, true])) as never,
      where: { ...target.where, [target.timeProperty]: LessThan(cutoff) } as never,
      order: { [target.timeProperty]: "ASC" } as never,
      take: BATCH,
    });
    if (rows.length === 0) break;
    const deleted = await repository.createQueryBuilder().delete().from(target.entity).whereInIds(rows).execute();
    total += deleted.affected ?? rows.length; // what another replica deleted first is not counted twice
    if (rows.length < BATCH) break;
    await new Promise((resolve) => setImmediate(resolve)); // let requests in between batches
  }
  if (total > 0) pruned.inc({ table: repository.metadata.tableName }, total);
  return total;
}

/** Prunes every target now and then every `intervalMs` (with jitter, so replicas spread out); returns its disposer. */
export function startPruning(dataSource: DataSource, targets: readonly PruneTarget[], intervalMs: number, logger: Logger): { dispose(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const run = async () => {
    for (const target of targets) {
      if (stopped) return;
      try {
        const count = await prune(dataSource, target);
        if (count > 0) logger.debug({ table: target.entity.options.tableName, count }, "retention: pruned");
      } catch (error) {
        logger.warn({ err: error, table: target.entity.options.tableName }, "retention: prune failed; retrying next run");
      }
    }
  };
  const schedule = (delay: number) => {
    timer = setTimeout(() => {
      running = run().finally(() => {
        if (!stopped) schedule(intervalMs * (0.5 + Math.random() * 0.5));
      });
    }, delay);
    timer.unref();
  };
  schedule(Math.random() * Math.min(intervalMs, 5000));
  return {
    dispose: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
