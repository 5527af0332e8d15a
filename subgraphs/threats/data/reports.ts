/**
 * Ingest: one partner report in one transaction. The report id is recorded
 * first (its unique key makes a replay, even a concurrent one, a no-op), the
 * device row is locked (reports on one device take turns), each threat is
 * applied (an observation older than the stored one does not overwrite it),
 * and the device is reassessed; its event goes through the outbox.
 */
import { randomUUID } from "node:crypto";
import { In, type EntityManager, type FindOptionsWhere } from "typeorm";
import type { MtdPartner } from "../../../lib/auth.js";
import { isUniqueViolation } from "../../../lib/db.js";
import { forbidden, notFound } from "../../../lib/errors.js";
import { coveringConnector } from "../domain.js";
import type { ThreatCategory, ThreatLevel, ThreatStatus } from "../generated/graphql.js";
import { activeConnectors, lockDevice, type AssessmentRepository } from "./assessments.js";
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
   * Applies the report for `partner`, which must be one of the tenant's
   * ENABLED or UNRESPONSIVE connectors (else FORBIDDEN) and cover the device's
   * platform (else FORBIDDEN, naming the partner that does). NOT_FOUND for a
   * device the subgraph does not know or that is retired. `duplicate`: the
   * report id was already accepted and nothing changed.
   */
  async report(tenantId: string, partner: MtdPartner | undefined, report: Report): Promise<{ duplicate: boolean }> {
    try {
      await this.store.transaction(async (tx) => {
        const connectors = await activeConnectors(tx.manager, tenantId);
        const connector = authorizePartner(connectors, partner);
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
        if (!connector.enabledPlatforms.includes(device.platform)) {
          const covering = coveringConnector(connectors, device.platform);
          const who = covering === null ? "no partner covers it" : `partner ${covering.partner} covers it`;
          throw forbidden(`partner ${connector.partner} does not cover ${device.platform} devices in this tenant (${who}); device ${report.deviceId} is ${device.platform}`);
        }

        const activeSeverities = await this.apply(tx.manager, tenantId, connector.partner, report, now);
        await this.assessments.reassess(tx, tenantId, [device], connectors, new Map([[device.deviceId, { reported: true, activeSeverities }]]));
      });
      return { duplicate: false };
    } catch (error) {
      if (error instanceof DuplicateReport) return { duplicate: true };
      throw error;
    }
  }

  /**
   * Inserts new threats and updates those whose stored observation is not
   * newer than the report's. One read serves both the upserts and the risk:
   * the stored threats the report names, and every ACTIVE one of the device.
   * Returns the severities of the device's ACTIVE threats afterwards.
   */
  private async apply(manager: EntityManager, tenantId: string, partner: MtdPartner, report: Report, now: Date): Promise<ThreatLevel[]> {
    const { deviceId, observedAt } = report;
    const scope = { tenantId, partner, deviceId };
    const where: FindOptionsWhere<ThreatRecord>[] = [{ ...scope, status: "ACTIVE" }];
    if (report.threats.length > 0) where.push({ ...scope, externalId: In(report.threats.map((threat) => threat.externalId)) });
    const stored = await manager.find(ThreatEntity, { where });
    const byExternalId = new Map(stored.map((threat) => [threat.externalId, threat]));
    /** Each threat's state after this report, by external id. */
    const current = new Map(stored.map((threat) => [threat.externalId, { status: threat.status, severity: threat.severity }]));
    const inserts: ThreatRecord[] = [];
    for (const threat of report.threats) {
      const existing = byExternalId.get(threat.externalId);
      if (existing === undefined) {
        inserts.push({
          id: randomUUID(),
          ...scope,
          ...threat,
          detectedAt: observedAt,
          resolvedAt: threat.status === "RESOLVED" ? observedAt : null,
          observedAt,
          updatedAt: now,
        });
      } else if (observedAt.getTime() >= existing.observedAt.getTime()) {
        const resolvedAt = threat.status === "ACTIVE" ? null : existing.status === "RESOLVED" ? existing.resolvedAt : observedAt;
        await manager.update(ThreatEntity, { id: existing.id }, { ...threat, resolvedAt, observedAt, updatedAt: now });
      } else {
        continue; // a newer observation is stored
      }
      current.set(threat.externalId, { status: threat.status, severity: threat.severity });
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
    return [...current.values()].filter((threat) => threat.status === "ACTIVE").map((threat) => threat.severity);
  }
}
