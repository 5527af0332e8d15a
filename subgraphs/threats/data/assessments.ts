/**
 * What the threats subgraph knows about devices (from the `devices` topic) and
 * each device's assessment: recomputed on device events, reports and connector
 * changes, published as `device.assessment.changed` whenever it changes.
 */
import { In, type EntityManager } from "typeorm";
import type { Logger } from "../../../lib/logger.js";
import type { DeviceEventPayload } from "../../../lib/events/contracts.js";
import type { LoggedEvent } from "../../../lib/events/types.js";
import { assess, assessmentChanged, isActive, sameAssessment, type PartnerData } from "../domain.js";
import type { ThreatLevel } from "../generated/graphql.js";
import { ConnectorEntity, DeviceStateEntity, ReportEntity, TenantEntity, ThreatEntity, type ConnectorRecord, type DeviceStateRecord, type ThreatRecord } from "./entities.js";
import type { Store, Transaction } from "./store.js";

/** Devices reassessed per transaction when a connector changes: a 50,000-device tenant is never loaded at once. */
export const REASSESS_BATCH_SIZE = 500;

const DEVICE_EVENTS = new Set(["device.enrolled", "device.updated", "device.retired"]);

/** The tenant's ENABLED or UNRESPONSIVE connector, or null. */
export async function activeConnector(manager: EntityManager, tenantId: string): Promise<ConnectorRecord | null> {
  return manager.findOne(ConnectorEntity, { where: { tenantId, state: In(["ENABLED", "UNRESPONSIVE"]) } });
}

/** The device's row, locked until the commit on MySQL. */
export async function lockDevice(tx: Transaction, tenantId: string, deviceId: string): Promise<DeviceStateRecord | null> {
  const query = tx.manager
    .getRepository(DeviceStateEntity)
    .createQueryBuilder("d")
    .where("d.tenant_id = :tenantId AND d.device_id = :deviceId", { tenantId, deviceId });
  return tx.forUpdate(query).getOne();
}

export class AssessmentRepository {
  private readonly republishing = new Map<string, { running: Promise<void>; again: boolean }>();

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  /** Assessment rows of `deviceIds` in the tenant: one statement. */
  async findDevices(tenantId: string, deviceIds: readonly string[]): Promise<DeviceStateRecord[]> {
    return this.store.dataSource.getRepository(DeviceStateEntity).find({ where: { tenantId, deviceId: In([...deviceIds]) } });
  }

  /** Threats on `deviceIds` in the tenant, in detection order: one statement. */
  async findThreats(tenantId: string, deviceIds: readonly string[]): Promise<ThreatRecord[]> {
    return this.store.dataSource
      .getRepository(ThreatEntity)
      .find({ where: { tenantId, deviceId: In([...deviceIds]) }, order: { detectedAt: "ASC", externalId: "ASC" } });
  }

  /**
   * Applies a `devices` topic event: idempotent by the device's version (a
   * version at or below the stored one is ignored). A new device, or one whose
   * platform changed, is reassessed and its assessment published if it changed.
   */
  async applyDeviceEvent(event: LoggedEvent): Promise<void> {
    if (!DEVICE_EVENTS.has(event.type)) return;
    const payload = event.payload as DeviceEventPayload;
    const version = event.version ?? 0;
    await this.store.transaction(async (tx) => {
      const existing = await lockDevice(tx, event.tenantId, payload.id);
      if (existing !== null && existing.deviceVersion >= version) return;
      const known = {
        platform: payload.platform,
        ownership: payload.ownership,
        retiredAt: payload.retiredAt === null ? null : new Date(payload.retiredAt),
        deviceVersion: version,
      };
      let device: DeviceStateRecord;
      if (existing === null) {
        device = {
          tenantId: event.tenantId,
          deviceId: payload.id,
          ...known,
          level: null,
          dataStatus: "NOT_CONNECTED",
          blockOnMissing: false,
          partner: null,
          unresponsiveSince: null,
          assessmentVersion: 0,
          assessedAt: null,
        };
        // A concurrent insert of the same device (a reclaimed event) fails here; the retry sees the row.
        await tx.manager.getRepository(DeviceStateEntity).insert(device);
      } else {
        device = { ...existing, ...known };
        await tx.manager.update(DeviceStateEntity, { tenantId: event.tenantId, deviceId: payload.id }, known);
      }
      await this.reassess(tx, event.tenantId, [device], await activeConnector(tx.manager, event.tenantId));
    });
  }

  /**
   * Recomputes the assessments of `devices` (rows locked by the caller) under
   * `connector`, stores those that changed and emits their events. `known`:
   * the partner data of the devices when the caller has it already (ingest);
   * otherwise it is read, two statements for the whole batch.
   */
  async reassess(tx: Transaction, tenantId: string, devices: DeviceStateRecord[], connector: ConnectorRecord | null, known?: ReadonlyMap<string, PartnerData>): Promise<void> {
    if (devices.length === 0) return;
    const data = known ?? (await this.partnerData(tx.manager, tenantId, devices, connector));
    const now = this.store.now();
    const at = new Date(now);
    for (const device of devices) {
      const next = assess(device.platform, connector, data.get(device.deviceId) ?? { reported: false, activeSeverities: [] }, now);
      if (device.assessmentVersion > 0 && sameAssessment(device, next)) continue;
      const version = device.assessmentVersion + 1;
      tx.emit(assessmentChanged(device, next, version, at));
      await tx.manager.update(DeviceStateEntity, { tenantId, deviceId: device.deviceId }, { ...next, assessmentVersion: version, assessedAt: at });
      Object.assign(device, next, { assessmentVersion: version, assessedAt: at });
    }
  }

  /**
   * Republishes the assessment of every current device of the tenant after a
   * connector change, `REASSESS_BATCH_SIZE` devices per transaction, then
   * records the connector version they reflect. Single-flight per tenant: a
   * call while one runs makes it run once more.
   */
  republish(tenantId: string): Promise<void> {
    const current = this.republishing.get(tenantId);
    if (current !== undefined) {
      current.again = true;
      return current.running;
    }
    const entry = { running: Promise.resolve(), again: false };
    entry.running = (async () => {
      try {
        do {
          entry.again = false;
          await this.republishOnce(tenantId);
        } while (entry.again);
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

  private async republishOnce(tenantId: string): Promise<void> {
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
        const devices = await tx.forUpdate(query).getMany();
        const before = devices.map((device) => device.assessmentVersion);
        await this.reassess(tx, tenantId, devices, await activeConnector(tx.manager, tenantId));
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
    this.logger.debug({ tenantId, connectorVersion: target, changed }, "assessments republished");
  }

  /** Per device: whether the connector's partner reported on it, and its ACTIVE threats' severities. Two statements for any number of devices. */
  private async partnerData(manager: EntityManager, tenantId: string, devices: DeviceStateRecord[], connector: ConnectorRecord | null): Promise<Map<string, PartnerData>> {
    const data = new Map<string, PartnerData>();
    if (!isActive(connector)) return data;
    const partner = connector.partner;
    const ids = devices.map((device) => device.deviceId);
    const reported = await manager
      .getRepository(ReportEntity)
      .createQueryBuilder("r")
      .select("r.device_id", "deviceId")
      .distinct(true)
      .where("r.tenant_id = :tenantId AND r.partner = :partner", { tenantId, partner })
      .andWhere({ deviceId: In(ids) })
      .getRawMany<{ deviceId: string }>();
    const reportedIds = new Set(reported.map((row) => row.deviceId));
    const active = await manager
      .getRepository(ThreatEntity)
      .createQueryBuilder("t")
      .select("t.device_id", "deviceId")
      .addSelect("t.severity", "severity")
      .distinct(true)
      .where("t.tenant_id = :tenantId AND t.partner = :partner AND t.status = :status", { tenantId, partner, status: "ACTIVE" })
      .andWhere({ deviceId: In(ids) })
      .getRawMany<{ deviceId: string; severity: ThreatLevel }>();
    for (const id of ids) data.set(id, { reported: reportedIds.has(id), activeSeverities: [] });
    for (const row of active) data.get(row.deviceId)?.activeSeverities.push(row.severity);
    return data;
  }
}
