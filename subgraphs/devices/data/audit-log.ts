/**
 * `audit_log`: every service's audit entries (`lib/audit.ts`), consumed from
 * topic `audit` into this one table so `Query.auditLog` reads one place. An
 * entry delivered twice is stored once (its id is the key).
 */
import { randomUUID } from "node:crypto";
import type { DataSource } from "typeorm";
import { AUDIT_RECORDED, AUDIT_TOPIC, auditEntity, type AuditRecord } from "../../../lib/audit.js";
import { isUniqueViolation } from "../../../lib/db.js";
import type { Disposable, EventLog } from "../../../lib/events/types.js";
import type { Logger } from "../../../lib/logger.js";

/** The table of every service's entries. */
export const AUDIT_LOG_TABLE = "audit_log";
export const AuditLogEntity = auditEntity(AUDIT_LOG_TABLE);

export class AuditLogRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores the entry unless it is there already. */
  async store(entry: AuditRecord): Promise<void> {
    try {
      await this.dataSource.createQueryBuilder().insert().into(AuditLogEntity).values(entry).updateEntity(false).execute();
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
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

/** Follows topic `audit` (consumer group `devices.audit`) into `audit_log`. */
export function consumeAuditTrail(events: EventLog, log: AuditLogRepository, logger: Logger): Disposable {
  return events.consume(AUDIT_TOPIC, { group: "devices.audit", consumer: `devices-${randomUUID()}` }, async (event) => {
    if (event.type !== AUDIT_RECORDED) return;
    try {
      await log.store(event.payload as AuditRecord);
    } catch (error) {
      logger.warn({ err: error, eventId: event.id }, "audit entry not stored; it will be retried");
      throw error;
    }
  });
}
