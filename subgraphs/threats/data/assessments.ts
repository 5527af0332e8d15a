/**
 * What the threats subgraph knows about devices (from the `devices` topic) and
 * each device's assessment: recomputed on device events, reports and connector
 * changes, published as `device.assessment.changed` whenever it changes.
 */
import type { EntityManager } from "typeorm";
import { insertRows, selectRows } from "../../../lib/bulk.js";
import { isUniqueViolation } from "../../../lib/db.js";
import type { MtdPartner, Ownership } from "../../../lib/domain-enums.js";
import type { Logger } from "../../../lib/logger.js";
import type { CatalogEvent } from "../../../lib/events/catalog.js";
import { assess, assessmentChanged, coveringConnector, sameAssessment, type PartnerData } from "../domain.js";
import type { Platform, ThreatLevel } from "../generated/graphql.js";
import { ConnectorEntity, DeviceStateEntity, ReportedDeviceEntity, TenantEntity, ThreatEntity, type ConnectorRecord, type DeviceStateRecord, type ThreatRecord } from "./entities.js";
import type { Transaction, UnitOfWork } from "../../../lib/unit-of-work.js";

/** Devices reassessed per transaction when a connector changes: a 50,000-device tenant is never loaded at once. */
export const REASSESS_BATCH_SIZE = 500;

/** The tenant's ENABLED and UNRESPONSIVE connectors (on disjoint platforms), by partner. */
export async function activeConnectors(manager: EntityManager, tenantId: string): Promise<ConnectorRecord[]> {
  return selectRows(manager, ConnectorEntity, { tenantId, state: ["ENABLED", "UNRESPONSIVE"] }, { orderBy: ["partner"] });
}

/** The rows of `deviceIds` (unknown ones left out), locked until the commit on MySQL, in id order so that two batches never deadlock. */
export async function lockDevices(tx: Transaction, tenantId: string, deviceIds: readonly string[]): Promise<DeviceStateRecord[]> {
  return selectRows(tx.manager, DeviceStateEntity, { tenantId, deviceId: [...new Set(deviceIds)] }, { orderBy: ["deviceId"], forUpdate: true });
}

/** What the threats subgraph keeps of a device, at the device's version. */
export interface DeviceFacts {
  id: string;
  platform: Platform;
  ownership: Ownership;
  /** ISO-8601; null while enrolled. */
  retiredAt: string | null;
  version: number;
}

/** A device threats has just learnt of: no partner data, not assessed yet. */
function unassessed(tenantId: string, deviceId: string): Omit<DeviceStateRecord, "platform" | "ownership" | "retiredAt" | "deviceVersion"> {
  return { tenantId, deviceId, level: null, dataStatus: "NOT_CONNECTED", blockOnMissing: false, partner: null, unresponsiveSince: null, assessmentVersion: 0, assessedAt: null };
}

export class AssessmentRepository {
  /** Per tenant: the republish running, and the platforms (null: all) a call asked for while it ran. */
  private readonly republishing = new Map<string, { running: Promise<void>; again: Set<Platform> | null | undefined }>();

  constructor(
    private readonly store: UnitOfWork,
    private readonly logger: Logger,
  ) {}

  /** Assessment rows of `deviceIds` in the tenant: one statement. */
  async findDevices(tenantId: string, deviceIds: readonly string[]): Promise<DeviceStateRecord[]> {
    return selectRows(this.store.dataSource.manager, DeviceStateEntity, { tenantId, deviceId: deviceIds });
  }

  /** The tenant's devices not retired (of `platform` when given) counted by level (null: no partner data): one statement. */
  async countByLevel(tenantId: string, platform?: Platform): Promise<Map<ThreatLevel | null, number>> {
    const query = this.store.dataSource
      .getRepository(DeviceStateEntity)
      .createQueryBuilder("d")
      .select("d.level", "level")
      .addSelect("COUNT(*)", "count")
      .where("d.tenant_id = :tenantId", { tenantId })
      .andWhere("d.retired_at IS NULL");
    if (platform !== undefined) query.andWhere("d.platform = :platform", { platform });
    const rows = await query.groupBy("d.level").getRawMany<{ level: ThreatLevel | null; count: number | string }>();
    return new Map(rows.map((row) => [row.level, Number(row.count)]));
  }

  /** Threats on `deviceIds` in the tenant, in detection order: one statement. */
  async findThreats(tenantId: string, deviceIds: readonly string[]): Promise<ThreatRecord[]> {
    return selectRows(this.store.dataSource.manager, ThreatEntity, { tenantId, deviceId: deviceIds }, { orderBy: ["detectedAt", "externalId"] });
  }

  /**
   * Applies a batch of `devices` topic events, a transaction per tenant:
   * the devices' rows locked with one statement (in id order), the events
   * applied in log order in memory, idempotent by the device's version (a
   * version at or below the stored one is ignored), new devices inserted and
   * known ones updated with multi-row statements, then one reassessment of
   * the devices that changed (each assessment published if it changed; a
   * device with several events in the batch is assessed once, on its last
   * state). Under a bulk enrolment the lag of this consumer stays that of a
   * few batches, so a device is reportable soon after its enrolment is
   * acknowledged.
   */
  async applyDeviceEvents(events: readonly CatalogEvent<"devices">[]): Promise<void> {
    const byTenant = new Map<string, DeviceFacts[]>();
    for (const event of events) {
      const { id, platform, ownership, retiredAt } = event.payload;
      const facts = byTenant.get(event.tenantId) ?? [];
      facts.push({ id, platform, ownership, retiredAt, version: event.version ?? 0 });
      byTenant.set(event.tenantId, facts);
    }
    for (const [tenantId, facts] of byTenant) await this.learn(tenantId, facts);
  }

  /**
   * Applies what is known of `devices` of the tenant (from their events, or
   * from the devices subgraph itself) in one transaction, in order,
   * idempotent by each device's version: the rows locked with one statement,
   * new devices inserted and known ones updated multi-row, then one
   * reassessment of those that changed.
   */
  learn(tenantId: string, devices: readonly DeviceFacts[]): Promise<void> {
    return this.store.transaction((tx) => this.applyFacts(tx, tenantId, devices), { retryOn: isUniqueViolation });
  }

  private async applyFacts(tx: Transaction, tenantId: string, facts: readonly DeviceFacts[]): Promise<void> {
    const stored = new Map((await lockDevices(tx, tenantId, facts.map((device) => device.id))).map((row) => [row.deviceId, row]));
    const changed = new Map<string, DeviceStateRecord>();
    for (const { id, platform, ownership, retiredAt, version } of facts) {
      const existing = changed.get(id) ?? stored.get(id) ?? null;
      if (existing !== null && existing.deviceVersion >= version) continue;
      const known = { platform, ownership, retiredAt: retiredAt === null ? null : new Date(retiredAt), deviceVersion: version };
      changed.set(id, existing === null ? { ...unassessed(tenantId, id), ...known } : { ...existing, ...known });
    }
    if (changed.size === 0) return;
    const devices = [...changed.values()];
    // New rows are inserted (a concurrent insert of the same device, a reclaimed event, fails here and the retry
    // finds the row to lock); rows locked above are overwritten.
    await insertRows(tx.manager, DeviceStateEntity, devices.filter((device) => !stored.has(device.deviceId)));
    await insertRows(tx.manager, DeviceStateEntity, devices.filter((device) => stored.has(device.deviceId)), { onConflict: "update" });
    await this.reassess(tx, tenantId, devices, await activeConnectors(tx.manager, tenantId));
  }

  /**
   * Recomputes the assessments of `devices` (rows locked by the caller), each
   * under the connector of `connectors` that covers its platform, stores those
   * that changed and emits their events. `known`: the partner data of the
   * devices when the caller has it already (ingest); otherwise it is read, two
   * statements per partner for the whole batch. `urgent`: the events are
   * marked for the policies evaluator's urgent lane (a single device's report).
   */
  async reassess(tx: Transaction, tenantId: string, devices: DeviceStateRecord[], connectors: readonly ConnectorRecord[], known?: ReadonlyMap<string, PartnerData>, urgent = false): Promise<void> {
    if (devices.length === 0) return;
    const data = known ?? (await this.partnerData(tx.manager, tenantId, devices, connectors));
    const now = this.store.now();
    const at = new Date(now);
    const changed: DeviceStateRecord[] = [];
    for (const device of devices) {
      const connector = coveringConnector(connectors, device.platform);
      const next = assess(device.platform, connector, data.get(device.deviceId) ?? { reported: false, activeSeverities: [] }, now);
      if (device.assessmentVersion > 0 && sameAssessment(device, next)) continue;
      const version = device.assessmentVersion + 1;
      tx.emit(assessmentChanged(device, next, version, at, urgent));
      Object.assign(device, next, { assessmentVersion: version, assessedAt: at });
      changed.push(device);
    }
    // Multi-row statements for every changed device (their rows are locked by the caller).
    await insertRows(tx.manager, DeviceStateEntity, changed, { onConflict: "update" });
  }

  /**
   * Republishes the assessment of every current device of the tenant on
   * `platforms` (all when omitted) after a connector change,
   * `REASSESS_BATCH_SIZE` devices per transaction, then records the connector
   * version they reflect. Single-flight per tenant: a call while one runs
   * makes it run once more, over the platforms of every such call.
   */
  republish(tenantId: string, platforms?: readonly Platform[]): Promise<void> {
    const current = this.republishing.get(tenantId);
    if (current !== undefined) {
      current.again = platforms === undefined || current.again === null ? null : new Set([...(current.again ?? []), ...platforms]);
      return current.running;
    }
    const entry: { running: Promise<void>; again: Set<Platform> | null | undefined } = { running: Promise.resolve(), again: undefined };
    entry.running = (async () => {
      try {
        let next: readonly Platform[] | undefined = platforms;
        for (;;) {
          entry.again = undefined;
          await this.republishOnce(tenantId, next);
          if (entry.again === undefined) break;
          next = entry.again === null ? undefined : [...entry.again];
        }
      } finally {
        this.republishing.delete(tenantId);
      }
    })();
    this.republishing.set(tenantId, entry);
    return entry.running;
  }

  /** Waits for the republishes in progress (shutdown). */
  async settle(): Promise<void> {
    await Promise.all([...this.republishing.values()].map((entry) => entry.running.catch(() => {})));
  }

  private async republishOnce(tenantId: string, platforms: readonly Platform[] | undefined): Promise<void> {
    const tenant = await this.store.dataSource.getRepository(TenantEntity).findOne({ where: { tenantId } });
    const target = tenant?.connectorVersion ?? 0;
    let after: string | undefined;
    let changed = 0;
    for (;;) {
      const batch = await this.store.transaction(async (tx) => {
        const query = tx.manager
          .getRepository(DeviceStateEntity)
          .createQueryBuilder("d")
          .where("d.tenant_id = :tenantId AND d.retired_at IS NULL", { tenantId })
          .orderBy("d.device_id", "ASC")
          .limit(REASSESS_BATCH_SIZE);
        if (after !== undefined) query.andWhere("d.device_id > :after", { after });
        if (platforms !== undefined) query.andWhere("d.platform IN (:...platforms)", { platforms });
        const devices = platforms?.length === 0 ? [] : await tx.forUpdate(query).getMany();
        const before = devices.map((device) => device.assessmentVersion);
        await this.reassess(tx, tenantId, devices, await activeConnectors(tx.manager, tenantId));
        changed += devices.filter((device, i) => device.assessmentVersion !== before[i]).length;
        return devices;
      });
      if (batch.length < REASSESS_BATCH_SIZE) break;
      after = batch.at(-1)!.deviceId;
    }
    await this.store.dataSource
      .createQueryBuilder()
      .update(TenantEntity)
      .set({ assessedVersion: target })
      .where("tenant_id = :tenantId AND assessed_version < :target", { tenantId, target })
      .execute();
    this.logger.debug({ tenantId, platforms, connectorVersion: target, changed }, "assessments republished");
  }

  /**
   * Per device: whether the partner covering its platform reported on it, and
   * the severities of that partner's ACTIVE threats on it. Two statements per
   * covering partner for any number of devices.
   */
  private async partnerData(manager: EntityManager, tenantId: string, devices: DeviceStateRecord[], connectors: readonly ConnectorRecord[]): Promise<Map<string, PartnerData>> {
    const data = new Map<string, PartnerData>();
    const byPartner = new Map<MtdPartner, string[]>();
    for (const device of devices) {
      const partner = coveringConnector(connectors, device.platform)?.partner;
      if (partner !== undefined) byPartner.set(partner, [...(byPartner.get(partner) ?? []), device.deviceId]);
    }
    for (const [partner, ids] of byPartner) {
      const reportedIds = new Set((await selectRows(manager, ReportedDeviceEntity, { tenantId, partner, deviceId: ids })).map((row) => row.deviceId));
      const active = await selectRows(manager, ThreatEntity, { tenantId, partner, status: "ACTIVE", deviceId: ids });
      for (const id of ids) data.set(id, { reported: reportedIds.has(id), activeSeverities: [] });
      for (const row of active) data.get(row.deviceId)?.activeSeverities.push(row.severity);
    }
    return data;
  }
}
