/** Devices' tables: the only code that touches them. */
import { randomUUID } from "node:crypto";
import type { DataSource } from "typeorm";
import type { Actor, AuditTrail, Change } from "../../../lib/audit.js";
import { insertRows, selectRows } from "../../../lib/bulk.js";
import { isUniqueViolation } from "../../../lib/db.js";
import type { CatalogNewEvent, DeviceEventType } from "../../../lib/events/catalog.js";
import type { UnitOfWork } from "../../../lib/unit-of-work.js";
import { DeviceEntity, type DeviceRecord } from "./entities.js";
import type { Ownership, Platform } from "../generated/graphql.js";

export interface EnrollValues {
  id: string;
  name: string;
  platform: Platform;
  osVersion: string;
  ownership: Ownership;
  userPrincipalName: string | null;
}

export interface ListOptions {
  first: number;
  afterId?: string;
  platform?: Platform;
  includeRetired: boolean;
  /** A substring of the name, id or user principal name, any case; LIKE's wildcards in it are matched as themselves. */
  search?: string;
}

export class DeviceRepository {
  private readonly dataSource: DataSource;

  constructor(
    private readonly work: UnitOfWork,
    private readonly audit: AuditTrail,
  ) {
    this.dataSource = work.dataSource;
  }

  /** One statement for the whole batch, whatever its size. */
  async findByIds(tenantId: string, ids: readonly string[]): Promise<DeviceRecord[]> {
    return selectRows(this.dataSource.manager, DeviceEntity, { tenantId, id: ids });
  }

  /** `first + 1` rows after `afterId` in id order, and the total matching the filter. */
  async list(tenantId: string, options: ListOptions): Promise<{ rows: DeviceRecord[]; totalCount: number }> {
    const base = () => {
      const query = this.dataSource.getRepository(DeviceEntity).createQueryBuilder("d").where("d.tenant_id = :tenantId", { tenantId });
      if (options.platform !== undefined) query.andWhere("d.platform = :platform", { platform: options.platform });
      if (!options.includeRetired) query.andWhere("d.retired_at IS NULL");
      if (options.search !== undefined && options.search !== "") {
        // LOWER on both sides: SQLite's LIKE ignores ASCII case only and MariaDB's follows the column's collation.
        const pattern = `%${escapeLike(options.search.toLowerCase())}%`;
        query.andWhere("(LOWER(d.name) LIKE :pattern ESCAPE '!' OR LOWER(d.id) LIKE :pattern ESCAPE '!' OR LOWER(d.user_principal_name) LIKE :pattern ESCAPE '!')", { pattern });
      }
      return query;
    };
    const page = base().orderBy("d.id", "ASC").take(options.first + 1);
    if (options.afterId !== undefined) page.andWhere("d.id > :afterId", { afterId: options.afterId });
    const [rows, totalCount] = await Promise.all([page.getMany(), base().getCount()]);
    return { rows, totalCount };
  }

  /** Creates or updates the device; writes `device.enrolled` / `device.updated` when something changed. */
  enroll(tenantId: string, values: EnrollValues, actor: Actor): Promise<DeviceRecord> {
    // A concurrent enrollment of the same id may insert first: the second attempt is an update.
    return this.work.transaction(
      async (tx) => {
        const repository = tx.manager.getRepository(DeviceEntity);
        const existing = await repository.findOne({ where: { tenantId, id: values.id } });
        const change = enrolment(tenantId, existing, values, new Date());
        if (change === null) return existing!;
        if (existing === null) await repository.insert(change.record);
        else await repository.update({ tenantId, id: values.id }, change.record);
        await this.audit.record(tx, tenantId, actor, change.audit);
        tx.emit(event(change.action, change.record));
        return change.record;
      },
      { retryOn: isUniqueViolation },
    );
  }

  /**
   * `enroll` for up to a batch of devices in one transaction, applied in
   * order (an id twice: the second is an update of the first): one read of
   * the existing rows, multi-row upserts of the changed ones, their audit
   * entries and events in one write each.
   */
  async enrollMany(tenantId: string, items: readonly EnrollValues[], actor: Actor): Promise<DeviceRecord[]> {
    if (items.length === 0) return [];
    return this.work.transaction(
      async (tx) => {
        const current = new Map((await selectRows(tx.manager, DeviceEntity, { tenantId, id: items.map((item) => item.id) })).map((d) => [d.id, d]));
        const now = new Date();
        const changed = new Map<string, DeviceRecord>();
        const audits: Change[] = [];
        const records = items.map((values) => {
          const change = enrolment(tenantId, current.get(values.id) ?? null, values, now);
          if (change === null) return current.get(values.id)!;
          current.set(values.id, change.record);
          changed.set(values.id, change.record);
          audits.push(change.audit);
          tx.emit(event(change.action, change.record));
          return change.record;
        });
        const rows = [...changed.values()];
        await insertRows(tx.manager, DeviceEntity, rows, { onConflict: "update" });
        await this.audit.recordMany(tx, tenantId, actor, audits);
        return records;
      },
      { retryOn: isUniqueViolation },
    );
  }

  /** Marks the device retired (`device.retired`); null when it does not exist. Retiring twice changes nothing. */
  retire(tenantId: string, id: string, actor: Actor): Promise<DeviceRecord | null> {
    return this.work.transaction(async (tx) => {
      const repository = tx.manager.getRepository(DeviceEntity);
      const existing = await repository.findOne({ where: { tenantId, id } });
      if (existing === null || existing.retiredAt !== null) return existing;
      const now = new Date();
      const record: DeviceRecord = { ...existing, retiredAt: now, updatedAt: now, version: existing.version + 1 };
      await repository.update({ tenantId, id }, { retiredAt: now, updatedAt: now, version: record.version });
      await this.audit.record(tx, tenantId, actor, { action: "device.retired", targetType: "Device", targetId: id, before: audited(existing), after: audited(record) });
      tx.emit(event("device.retired", record));
      return record;
    });
  }
}

/** What enrolling `values` changes on `existing` (null: nothing): the record to store, its event type and audit entry. */
function enrolment(tenantId: string, existing: DeviceRecord | null, values: EnrollValues, now: Date): { record: DeviceRecord; action: "device.enrolled" | "device.updated"; audit: Change } | null {
  if (existing === null) {
    const record: DeviceRecord = { tenantId, ...values, enrolledAt: now, updatedAt: now, retiredAt: null, version: 1 };
    return { record, action: "device.enrolled", audit: { action: "device.enrolled", targetType: "Device", targetId: record.id, before: null, after: audited(record) } };
  }
  const changed = (Object.keys(values) as (keyof EnrollValues)[]).some((key) => existing[key] !== values[key]);
  if (!changed && existing.retiredAt === null) return null;
  const reenrolled = existing.retiredAt !== null;
  const record: DeviceRecord = { ...existing, ...values, enrolledAt: reenrolled ? now : existing.enrolledAt, retiredAt: null, updatedAt: now, version: existing.version + 1 };
  const action = reenrolled ? "device.enrolled" : "device.updated";
  return { record, action, audit: { action, targetType: "Device", targetId: record.id, before: audited(existing), after: audited(record) } };
}

/** `value` with LIKE's wildcards and the escape character itself escaped by `!` (the same on SQLite and MariaDB, unlike a backslash). */
function escapeLike(value: string): string {
  return value.replace(/[!%_]/g, "!$&");
}

/** What the audit trail keeps of a device. */
function audited(record: DeviceRecord) {
  const { id, name, platform, osVersion, ownership, userPrincipalName, retiredAt } = record;
  return { id, name, platform, osVersion, ownership, userPrincipalName, retiredAt: retiredAt?.toISOString() ?? null };
}

function event(type: DeviceEventType, record: DeviceRecord): CatalogNewEvent<"devices"> {
  return {
    id: randomUUID(),
    type,
    tenantId: record.tenantId,
    aggregateId: record.id,
    version: record.version,
    occurredAt: record.updatedAt.toISOString(),
    payload: {
      id: record.id,
      name: record.name,
      platform: record.platform,
      ownership: record.ownership,
      osVersion: record.osVersion,
      userPrincipalName: record.userPrincipalName,
      enrolledAt: record.enrolledAt.toISOString(),
      retiredAt: record.retiredAt?.toISOString() ?? null,
    },
  };
}
