/**
 * The stored impact of conditional-access policies: one row per enabled policy
 * and device it would block now (REPORT_ONLY) or blocks (ENFORCED). The
 * evaluator keeps it current for every device it evaluates, in the same
 * transaction as the decisions, so `ConditionalAccessPolicy.impact` reads rows
 * instead of evaluating the fleet per query.
 */
import { In, MoreThan, type DataSource, type EntityManager } from "typeorm";
import { PolicyImpactEntity } from "./entities.js";

/** Replaces the impact rows of each device in `blocking` (device id → ids of the policies that block it). One read for the batch. */
export async function syncImpacts(manager: EntityManager, tenantId: string, blocking: ReadonlyMap<string, readonly string[]>): Promise<void> {
  if (blocking.size === 0) return;
  const repository = manager.getRepository(PolicyImpactEntity);
  const stored = await repository.find({ where: { tenantId, deviceId: In([...blocking.keys()]) } });
  const key = (policyId: string, deviceId: string) => `${policyId}\u0000${deviceId}`;
  const storedKeys = new Set(stored.map((row) => key(row.policyId, row.deviceId)));
  const wanted = [...blocking].flatMap(([deviceId, policyIds]) => policyIds.map((policyId) => ({ tenantId, policyId, deviceId })));
  const wantedKeys = new Set(wanted.map((row) => key(row.policyId, row.deviceId)));
  const inserts = wanted.filter((row) => !storedKeys.has(key(row.policyId, row.deviceId)));
  if (inserts.length > 0) await repository.insert(inserts);
  for (const row of stored) {
    if (!wantedKeys.has(key(row.policyId, row.deviceId))) await repository.delete({ tenantId, policyId: row.policyId, deviceId: row.deviceId });
  }
}

export class ImpactReader {
  constructor(private readonly dataSource: DataSource) {}

  /** How many devices the policy would block now. */
  count(tenantId: string, policyId: string): Promise<number> {
    return this.dataSource.getRepository(PolicyImpactEntity).count({ where: { tenantId, policyId } });
  }

  /** Ids of the devices the policy would block, in id order after `afterDeviceId`. */
  async devices(tenantId: string, policyId: string, afterDeviceId: string, limit: number): Promise<string[]> {
    const rows = await this.dataSource
      .getRepository(PolicyImpactEntity)
      .find({ where: { tenantId, policyId, deviceId: MoreThan(afterDeviceId) }, order: { deviceId: "ASC" }, take: limit });
    return rows.map((row) => row.deviceId);
  }
}
