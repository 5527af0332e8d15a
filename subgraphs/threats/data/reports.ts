/**
 * Ingest: one partner report in one transaction. The report id is recorded
 * first (its unique key makes a replay, even a concurrent one, a no-op), the
 * device row is locked (reports on one device take turns), each threat is
 * applied (an observation older than the stored one does not overwrite it),
 * and the device is reassessed; its event goes through the outbox.
 */
import { randomUUID } from "node:crypto";
import { In, type EntityManager } from "typeorm";
import type { MtdPartner } from "../../../lib/auth.js";
import { isUniqueViolation } from "../../../lib/db.js";
import { notFound } from "../../../lib/errors.js";
import type { ThreatCategory, ThreatLevel, ThreatStatus } from "../generated/graphql.js";
import { activeConnector, lockDevice, type AssessmentRepository } from "./assessments.js";
import { authorizePartner } from "./connectors.js";
import { ReportEntity, ThreatEntity, type ThreatRecord } from "./entities.js";
import type { Store } from "./store.js";

/** A validated report (see `input.ts`). */
export interface Report {
  reportId: string;
  deviceId: string;
  observedAt: Date;
  threats: ObservedThreat[];
}

export interface ObservedThreat {
  externalId: string;
  category: ThreatCategory;
  severity: ThreatLevel;
  title: string;
  status: ThreatStatus;
}

/** Rows per multi-row INSERT of new threats. */
const INSERT_BATCH_SIZE = 100;

class DuplicateReport extends Error {}

export class ReportRepository {
  constructor(
    private readonly store: Store,
    private readonly assessments: AssessmentRepository,
  ) {}

  /**
   * Applies the report for `partner`, which must be the tenant's ENABLED or
   * UNRESPONSIVE connector (else FORBIDDEN). NOT_FOUND for a device the
   * subgraph does not know or that is retired. `duplicate`: the report id was
   * already accepted and nothing changed.
   */
  async report(tenantId: string, partner: MtdPartner | undefined, report: Report): Promise<{ duplicate: boolean }> {
    try {
      await this.store.transaction(async (tx) => {
        const connector = authorizePartner(await activeConnector(tx.manager, tenantId), partner);
        const now = new Date(this.store.now());
        try {
          await tx.manager
            .createQueryBuilder()
            .insert()
            .into(ReportEntity)
            .values({ tenantId, partner: connector.partner, reportId: report.reportId, deviceId: report.deviceId, observedAt: report.observedAt, receivedAt: now, threatCount: report.threats.length })
            .updateEntity(false)
            .execute();
        } catch (error) {
          if (isUniqueViolation(error)) throw new DuplicateReport();
          throw error;
        }

        const device = await lockDevice(tx, tenantId, report.deviceId);
        if (device === null || device.retiredAt !== null) throw notFound("Device", report.deviceId);

        await this.apply(tx.manager, tenantId, connector.partner, report, now);
        await this.assessments.reassess(tx, tenantId, [device], connector, new Set([device.deviceId]));
      });
      return { duplicate: false };
    } catch (error) {
      if (error instanceof DuplicateReport) return { duplicate: true };
      throw error;
    }
  }

  /** Inserts new threats and updates those whose stored observation is not newer than the report's. */
  private async apply(manager: EntityManager, tenantId: string, partner: MtdPartner, report: Report, now: Date): Promise<void> {
    const { deviceId, observedAt } = report;
    if (report.threats.length === 0) return;
    const stored = await manager.find(ThreatEntity, {
      where: { tenantId, partner, deviceId, externalId: In(report.threats.map((threat) => threat.externalId)) },
    });
    const byExternalId = new Map(stored.map((threat) => [threat.externalId, threat]));
    const inserts: ThreatRecord[] = [];
    for (const threat of report.threats) {
      const existing = byExternalId.get(threat.externalId);
      if (existing === undefined) {
        inserts.push({
          id: randomUUID(),
          tenantId,
          partner,
          deviceId,
          ...threat,
          detectedAt: observedAt,
          resolvedAt: threat.status === "RESOLVED" ? observedAt : null,
          observedAt,
          updatedAt: now,
        });
        continue;
      }
      if (observedAt.getTime() < existing.observedAt.getTime()) continue; // a newer observation is stored
      const resolvedAt = threat.status === "ACTIVE" ? null : existing.status === "RESOLVED" ? existing.resolvedAt : observedAt;
      await manager.update(ThreatEntity, { id: existing.id }, { ...threat, resolvedAt, observedAt, updatedAt: now });
    }
    for (let start = 0; start < inserts.length; start += INSERT_BATCH_SIZE) {
      await manager
        .createQueryBuilder()
        .insert()
        .into(ThreatEntity)
        .values(inserts.slice(start, start + INSERT_BATCH_SIZE))
        .updateEntity(false)
        .execute();
    }
  }
}
