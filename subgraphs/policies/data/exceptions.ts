/**
 * Access exceptions: a device allowed on some resources until a deadline,
 * whatever its compliance. Granting and revoking take the tenant's evaluation
 * lock and re-evaluate the device in the same transaction (with the audit
 * entry), so the decision and its access change commit with the exception.
 * Expiry is a durable deadline: see `../deadlines.ts`.
 */
import { randomUUID } from "node:crypto";
import { In, IsNull, MoreThan, type DataSource, type EntityManager } from "typeorm";
import type { Actor, AuditTrail } from "../../../lib/audit.js";
import type { Transaction } from "../../../lib/unit-of-work.js";
import { notFound } from "../../../lib/errors.js";
import { AccessExceptionEntity, PolicyDeviceEntity, type AccessExceptionRecord } from "./entities.js";

export interface ExceptionGrant {
  deviceId: string;
  resources: string[];
  reason: string;
  expiresAt: Date;
}

/** What the audit trail keeps of an exception. */
function audited({ id, deviceId, resources, reason, expiresAt, revokedAt }: AccessExceptionRecord) {
  return { id, deviceId, resources, reason, expiresAt: expiresAt.toISOString(), revokedAt: revokedAt?.toISOString() ?? null };
}

/** The exceptions in force at `now` on `deviceIds`, by device: one statement. */
export async function exceptionsInForce(manager: EntityManager, tenantId: string, deviceIds: readonly string[], now: Date): Promise<Map<string, AccessExceptionRecord[]>> {
  const byDevice = new Map<string, AccessExceptionRecord[]>();
  if (deviceIds.length === 0) return byDevice;
  const rows = await manager.getRepository(AccessExceptionEntity).find({
    where: { tenantId, deviceId: In([...deviceIds]), revokedAt: IsNull(), expiresAt: MoreThan(now) },
    order: { grantedAt: "ASC", id: "ASC" },
  });
  for (const row of rows) {
    byDevice.set(row.deviceId, [...(byDevice.get(row.deviceId) ?? []), row]);
  }
  return byDevice;
}

/** The evaluator's step under the tenant's lock (evaluator.ts `within`): what an exception change runs in. */
export interface TenantEvaluation {
  within(tenantId: string, work: (tx: Transaction) => Promise<string[]>): Promise<void>;
}

export class ExceptionRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly evaluator: TenantEvaluation,
    private readonly audit: AuditTrail,
    private readonly now: () => number,
  ) {}

  /** Grants an exception and re-evaluates the device. NOT_FOUND for a device policies does not know in the tenant. */
  async grant(tenantId: string, grant: ExceptionGrant, actor: Actor): Promise<AccessExceptionRecord> {
    let granted: AccessExceptionRecord | undefined;
    await this.evaluator.within(tenantId, async (tx) => {
      const { manager } = tx;
      const device = await manager.getRepository(PolicyDeviceEntity).findOne({ where: { tenantId, deviceId: grant.deviceId } });
      if (device === null || device.retired) throw notFound("Device", grant.deviceId);
      granted = { tenantId, id: randomUUID(), ...grant, grantedBy: actor.subject, grantedAt: new Date(this.now()), revokedAt: null, expiryEvaluated: false };
      await manager.getRepository(AccessExceptionEntity).insert(granted);
      await this.audit.record(tx, tenantId, actor, { action: "accessException.granted", targetType: "AccessException", targetId: granted.id, before: null, after: audited(granted) });
      return [grant.deviceId];
    });
    return granted!;
  }

  /** Revokes an exception (again: unchanged) and re-evaluates the device. NOT_FOUND for an id the tenant does not have. */
  async revoke(tenantId: string, id: string, actor: Actor): Promise<AccessExceptionRecord> {
    let revoked: AccessExceptionRecord | undefined;
    await this.evaluator.within(tenantId, async (tx) => {
      const { manager } = tx;
      const repository = manager.getRepository(AccessExceptionEntity);
      const existing = await repository.findOne({ where: { tenantId, id } });
      if (existing === null) throw notFound("AccessException", id);
      if (existing.revokedAt !== null) {
        revoked = existing;
        return [];
      }
      revoked = { ...existing, revokedAt: new Date(this.now()), expiryEvaluated: true };
      await repository.update({ tenantId, id }, { revokedAt: revoked.revokedAt, expiryEvaluated: true });
      await this.audit.record(tx, tenantId, actor, { action: "accessException.revoked", targetType: "AccessException", targetId: id, before: audited(existing), after: audited(revoked) });
      return [existing.deviceId];
    });
    return revoked!;
  }

  /** The exceptions in force on `deviceIds` now, by device: one statement per batch (a DataLoader's). */
  inForce(tenantId: string, deviceIds: readonly string[]): Promise<Map<string, AccessExceptionRecord[]>> {
    return exceptionsInForce(this.dataSource.manager, tenantId, deviceIds, new Date(this.now()));
  }
}
