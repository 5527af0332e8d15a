/**
 * `audit_log`: every service's audit entries (`lib/audit.ts`), consumed from
 * topic `audit` a batch at a time (up to 500 per read, one multi-row insert)
 * into this one table so `Query.auditLog` reads one place. An entry delivered
 * twice is stored once (its id is the key).
 */
import { randomUUID } from "node:crypto";
import type { DataSource } from "typeorm";
import { auditEntity, type AuditRecord } from "../../../lib/audit.js";
import { insertRows } from "../../../lib/bulk.js";
import { AUDIT_RECORDED, AUDIT_TOPIC } from "../../../lib/events/catalog.js";
import { consumeEventBatches } from "../../../lib/events/consumer.js";
import type { Disposable, EventLog } from "../../../lib/events/types.js";
import type { Logger } from "../../../lib/logger.js";

/** The table of every service's entries. */
export const AUDIT_LOG_TABLE = "audit_log";
export const AuditLogEntity = auditEntity(AUDIT_LOG_TABLE);

export class AuditLogRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores the entries, each unless it is there already. */
  async store(entries: readonly AuditRecord[]): Promise<void> {
    await insertRows(this.dataSource.manager, AuditLogEntity, entries, { onConflict: "ignore" });
  }

  /** `first + 1` entries of the tenant, newest first, after the cursor `(at, id)`; and the tenant's total. */
  async page(tenantId: string, first: number, after?: readonly [number, string]): Promise<{ rows: AuditRecord[]; totalCount: number }> {
    const repository = this.dataSource.getRepository(AuditLogEntity);
    const query = repository.createQueryBuilder("a").where("a.tenant_id = :tenantId", { tenantId });
    if (after !== undefined) query.andWhere("(a.at < :at OR (a.at = :at AND a.id < :id))", { at: after[0], id: after[1] });
    const [rows, totalCount] = await Promise.all([
      query.orderBy("a.at", "DESC").addOrderBy("a.id", "DESC").take(first + 1).getMany(),
      repository.countBy({ tenantId }),
    ]);
    return { rows, totalCount };
  }
}

/** Entries per read of topic `audit`: an MDM import of 1,000 devices writes 1,000 entries at once. */
const AUDIT_BATCH = 500;

/** Follows topic `audit` (consumer group `devices.audit`) into `audit_log`. */
export function consumeAuditTrail(events: EventLog, log: AuditLogRepository, logger: Logger): Disposable {
  const options = { group: "devices.audit", consumer: `devices-${randomUUID()}`, batchSize: AUDIT_BATCH, logger };
  return consumeEventBatches(events, AUDIT_TOPIC, [AUDIT_RECORDED], options, async (batch) => {
    const entries = batch.map((event) => event.payload);
    try {
      await log.store(entries);
    } catch (error) {
      logger.warn({ err: error, events: batch.length, first: batch[0]!.id }, "audit entries not stored; the batch will be retried");
      throw error;
    }
  });
}
