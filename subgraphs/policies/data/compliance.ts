/**
 * Devices by compliance state (`Query.devicesByCompliance`, `Query.deviceCountsByCompliance`): read from the
 * stored state the evaluator keeps (`policy_devices`), in device-id order.
 * Retired devices are left out, as `devices` leaves them out by default.
 */
import { IsNull, MoreThan, Not, type DataSource, type FindOptionsWhere } from "typeorm";
import type { ComplianceState, Platform } from "../generated/graphql.js";
import { PolicyDeviceEntity, type PolicyDeviceRecord } from "./entities.js";

export interface ComplianceFilter {
  state: ComplianceState;
  platform?: Platform;
}

/** The stored columns of `state` (see `stateOf` in evaluate.ts: NONCOMPLIANT is `compliant` false; IN_GRACE_PERIOD a deadline). */
function where(tenantId: string, filter: ComplianceFilter): FindOptionsWhere<PolicyDeviceRecord> {
  const state =
    filter.state === "NONCOMPLIANT" ? { compliant: false } : { compliant: true, graceDeadline: filter.state === "IN_GRACE_PERIOD" ? Not(IsNull()) : IsNull() };
  return { tenantId, retired: false, ...state, ...(filter.platform === undefined ? {} : { platform: filter.platform }) };
}

export class ComplianceReader {
  constructor(private readonly dataSource: DataSource) {}

  /** Ids of the devices in `filter`'s state after `afterDeviceId`, in id order, and how many there are. */
  async page(tenantId: string, filter: ComplianceFilter, afterDeviceId: string, limit: number): Promise<{ ids: string[]; totalCount: number }> {
    const repository = this.dataSource.getRepository(PolicyDeviceEntity);
    const [rows, totalCount] = await Promise.all([
      repository.find({ select: { deviceId: true }, where: { ...where(tenantId, filter), deviceId: MoreThan(afterDeviceId) }, order: { deviceId: "ASC" }, take: limit }),
      repository.count({ where: where(tenantId, filter) }),
    ]);
    return { ids: rows.map((row) => row.deviceId), totalCount };
  }

  /** How many devices (of `platform` when given) are in each of `states`, in that order: one count statement per state. */
  async counts(tenantId: string, states: readonly ComplianceState[], platform?: Platform): Promise<number[]> {
    const repository = this.dataSource.getRepository(PolicyDeviceEntity);
    return Promise.all(states.map((state) => repository.count({ where: where(tenantId, { state, platform }) })));
  }
}
