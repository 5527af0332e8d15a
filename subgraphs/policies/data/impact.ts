/**
 * The stored impact of conditional-access policies: one row per enabled policy
 * and device it would block now (REPORT_ONLY) or blocks (ENFORCED). The
 * evaluator keeps it current for every device it evaluates, in the same
 * transaction as the decisions, so `ConditionalAccessPolicy.impact` reads rows
 * instead of evaluating the fleet per query.
 */
import { In, MoreThan, type DataSource, type EntityManager } from "typeorm";
import { insertRows } from "../../../lib/bulk.js";
import { chunks } from "../../../lib/db.js";
import { PolicyImpactEntity } from "./entities.js";

/** Rows per read / multi-row insert. */
const CHUNK = 500;

/** Replaces the impact rows of each device in `blocking` (device id → ids of the policies that block it): set-based, a few statements per chunk of devices. */
export async function syncImpacts(manager: EntityManager, tenantId: string, blocking: ReadonlyMap<string, readonly string[]>): Promise<void> {
  const repository = manager.getRepository(PolicyImpactEntity);
  const key = (policyId: string, deviceId: string) => `${policyId}\u0000${deviceId}`;
  for (const deviceIds of chunks([...blocking.keys()], CHUNK)) {
    const stored = await repository.find({ where: { tenantId, deviceId: In(deviceIds) } });
    const storedKeys = new Set(stored.map((row) => key(row.policyId, row.deviceId)));
    const wanted = deviceIds.flatMap((deviceId) => blocking.get(deviceId)!.map((policyId) => ({ tenantId, policyId, deviceId })));
    const wantedKeys = new Set(wanted.map((row) => key(row.policyId, row.deviceId)));
    const inserts = wanted.filter((row) => !storedKeys.has(key(row.policyId, row.deviceId)));
    await insertRows(manager, PolicyImpactEntity, inserts);
    const stale = new Map<string, string[]>();
    for (const row of stored) {
      if (!wantedKeys.has(key(row.policyId, row.deviceId))) stale.set(row.policyId, [...(stale.get(row.policyId) ?? []), row.deviceId]);
    }
    for (const [policyId, ids] of stale) await repository.delete({ tenantId, policyId, deviceId: In(ids) });
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
