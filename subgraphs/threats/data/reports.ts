/**
 * Ingest: partner reports, one or a batch of up to 500, in one transaction.
 * Set-based: one read of the report ids already accepted (a replay of the
 * same content is a no-op; the same id with other content is CONFLICT), the
 * devices' rows locked in id order (reports on one device take
 * turns, and two batches never deadlock on each other), one read of the
 * stored threats the reports name or that are ACTIVE, multi-row inserts of
 * the reports and upserts of the threats (an observation older than the
 * stored one does not overwrite it), and one reassessment of each device
 * touched: at most one assessment event per device, one outbox write.
 *
 * Retention prunes RESOLVED threats last observed more than
 * `MTD_RETENTION_REPORTS` ago (`resolvedThreats`), like the reports
 * themselves. So an observation older than that of a threat not stored is
 * stale and changes nothing: it may be older than one pruned (a report
 * replayed after its id was forgotten must not bring back as ACTIVE a threat
 * since resolved). A device's risk needs only its ACTIVE threats, which are
 * never pruned, and whether its partner reported on it, kept apart.
 *
 * A report that cannot be applied (unknown or retired device, a platform the
 * partner does not cover) is refused on its own and writes nothing; the
 * others of the batch are stored.
 *
 * A device the subgraph has not learnt from the `devices` topic yet is not
 * refused for that: the reports on such devices are applied in a second
 * transaction once the devices subgraph has said, for all of them in one
 * request, which exist (`DeviceDirectory`, with the caller's token); those
 * are learnt at their current version first (the enrolment event, arriving
 * later, is then stale). NOT_FOUND only for a device that does not exist in
 * the tenant (or is retired); when the devices subgraph cannot answer, the
 * report fails (INTERNAL_SERVER_ERROR: retry), never NOT_FOUND.
 */
import { createHash, randomUUID } from "node:crypto";
import { GraphQLError } from "graphql";
import type { MtdPartner } from "../../../lib/domain-enums.js";
import { insertRows, selectRows, type RowFilter } from "../../../lib/bulk.js";
import { olderThan, type PruneTarget } from "../../../lib/retention.js";
import { isUniqueViolation } from "../../../lib/db.js";
import { conflict, forbidden, notFound } from "../../../lib/errors.js";
import { authorizePartner } from "../../../lib/partner-rule.js";
import type { DeviceDirectory, DirectoryDevice } from "../device-directory.js";
import { coveringConnector, type PartnerData } from "../domain.js";
import { ReportLanes } from "../report-lanes.js";
import type { ThreatCategory, ThreatLevel, ThreatStatus } from "../generated/graphql.js";
import { activeConnectors, lockDevices, type AssessmentRepository } from "./assessments.js";
import { ReportedDeviceEntity, ReportEntity, ThreatEntity, type ConnectorRecord, type DeviceStateRecord, type ReportRecord, type ThreatRecord } from "./entities.js";
import type { Transaction, UnitOfWork } from "../../../lib/unit-of-work.js";

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

/**
 * One report's outcome: accepted (`duplicate`: a report with its id and the
 * same content was already accepted, nothing changed), or refused with a
 * GraphQL error (CONFLICT: its id was accepted with other content), or failed
 * (any other error: the devices subgraph could not be asked; masked as
 * INTERNAL_SERVER_ERROR).
 */
export type ReportOutcome = { duplicate: boolean } | { error: Error };

/** What `apply` knows about a report refused because its device is not in `threat_devices`. */
const UNKNOWN_DEVICE = Symbol("unknown device");
type Applied = ReportOutcome | { error: GraphQLError; [UNKNOWN_DEVICE]: true };

export class ReportRepository {
  private readonly lanes = new ReportLanes();

  constructor(
    private readonly store: UnitOfWork,
    private readonly assessments: AssessmentRepository,
    /** `MTD_RETENTION_REPORTS`: how long a report id is remembered, and a RESOLVED threat after its last observation. */
    private readonly retentionMs: number,
    /** Where devices not learnt yet are resolved; without one they are NOT_FOUND. */
    private readonly directory?: DeviceDirectory,
  ) {}

  /** What retention prunes of the threats: RESOLVED ones last observed more than `retentionMs` ago, on the clock `apply` judges observations by. */
  resolvedThreats(): PruneTarget {
    return olderThan(ThreatEntity, "observedAt", this.retentionMs, "date", { where: { status: "RESOLVED" }, now: this.store.now });
  }

  /**
   * Applies one report for `partner`, which must be one of the tenant's
   * ENABLED or UNRESPONSIVE connectors (else FORBIDDEN) and cover the device's
   * platform (else FORBIDDEN, naming the partner that does). NOT_FOUND for a
   * device the subgraph does not know or that is retired.
   */
  async report(tenantId: string, partner: MtdPartner | undefined, report: Report, authorization?: string): Promise<{ duplicate: boolean }> {
    const [outcome] = await this.reportMany(tenantId, partner, [report], authorization);
    if ("error" in outcome!) throw outcome.error;
    return outcome!;
  }

  /**
   * Applies `reports` in one transaction, in order; one outcome per report.
   * FORBIDDEN (thrown) for a partner that is not an active connector. The
   * reports on devices not learnt yet are resolved with `authorization` (the
   * caller's) and applied in a second transaction (see the header). A batch
   * on several devices waits for the tenant's bulk batches before it in this
   * process; a report on one device does not (report-lanes.ts).
   */
  async reportMany(tenantId: string, partner: MtdPartner | undefined, reports: readonly Report[], authorization?: string): Promise<ReportOutcome[]> {
    if (reports.length === 0) return [];
    return this.lanes.run(
      tenantId,
      reports.map((report) => report.deviceId),
      () => this.applyAll(tenantId, partner, reports, authorization),
    );
  }

  private async applyAll(tenantId: string, partner: MtdPartner | undefined, reports: readonly Report[], authorization: string | undefined): Promise<ReportOutcome[]> {
    const outcomes = await this.applyInTransaction(tenantId, partner, reports);
    const unknown = outcomes.flatMap((outcome, i) => (UNKNOWN_DEVICE in outcome ? [i] : []));
    if (unknown.length === 0 || this.directory === undefined || authorization === undefined) return outcomes;
    const ids = [...new Set(unknown.map((i) => reports[i]!.deviceId))];
    let found: DirectoryDevice[];
    try {
      found = await this.directory.find(authorization, ids);
    } catch (error) {
      const failure = new Error(`devices ${ids.join(", ")} are not known to the threats subgraph yet and the devices subgraph could not be asked`, { cause: error });
      return outcomes.map((outcome) => (UNKNOWN_DEVICE in outcome ? { error: failure } : outcome));
    }
    if (found.length === 0) return outcomes;
    await this.assessments.learn(tenantId, found);
    // Every report on a device now learnt, in order (a device's reports all were refused above).
    const existing = new Set(found.map((device) => device.id));
    const again = unknown.filter((i) => existing.has(reports[i]!.deviceId));
    const retried = await this.applyInTransaction(tenantId, partner, again.map((i) => reports[i]!));
    again.forEach((i, n) => (outcomes[i] = retried[n]!));
    return outcomes;
  }

  private applyInTransaction(tenantId: string, partner: MtdPartner | undefined, reports: readonly Report[]): Promise<Applied[]> {
    return this.store.transaction((tx) => this.apply(tx, tenantId, partner, reports), { retryOn: isUniqueViolation });
  }

  private async apply(tx: Transaction, tenantId: string, partner: MtdPartner | undefined, reports: readonly Report[]): Promise<Applied[]> {
    const connectors = await activeConnectors(tx.manager, tenantId);
    const connector = authorizePartner(connectors, partner);
    const scope = { tenantId, partner: connector.partner };
    const now = new Date(this.store.now());
    /** The reports accepted so far by id: stored before, or earlier in this batch. */
    const accepted = new Map((await selectRows(tx.manager, ReportEntity, { ...scope, reportId: reports.map((r) => r.reportId) })).map((r) => [r.reportId, r]));
    const devices = new Map((await lockDevices(tx, tenantId, reports.map((r) => r.deviceId))).map((d) => [d.deviceId, d]));

    const outcomes: Applied[] = [];
    const applied: Report[] = [];
    const rows: ReportRecord[] = [];
    for (const report of reports) {
      const fingerprint = reportFingerprint(report);
      const earlier = accepted.get(report.reportId);
      if (earlier !== undefined) {
        outcomes.push(sameContent(earlier, report, fingerprint) ? { duplicate: true } : { error: reusedReportId(report.reportId) });
        continue;
      }
      const device = devices.get(report.deviceId);
      if (device === undefined) {
        outcomes.push({ error: notFound("Device", report.deviceId), [UNKNOWN_DEVICE]: true });
        continue;
      }
      const refusal = refusalOf(device, report, connector, connectors);
      if (refusal !== null) {
        outcomes.push({ error: refusal });
        continue;
      }
      const row: ReportRecord = { ...scope, reportId: report.reportId, deviceId: report.deviceId, observedAt: report.observedAt, receivedAt: now, threatCount: report.threats.length, fingerprint };
      accepted.set(report.reportId, row);
      rows.push(row);
      applied.push(report);
      outcomes.push({ duplicate: false });
    }
    if (applied.length === 0) return outcomes;

    await insertRows(tx.manager, ReportEntity, rows);
    await this.recordReportedDevices(tx, tenantId, connector.partner, applied, devices, now);
    const data = await this.applyThreats(tx, connector.partner, tenantId, applied, now);
    const touched = [...data.keys()].map((id) => devices.get(id)!);
    // A report on one device is urgent: the policies evaluator takes it ahead of bulk work.
    await this.assessments.reassess(tx, tenantId, touched, connectors, data, touched.length === 1);
    return outcomes;
  }

  /**
   * Records the devices `partner` reports on for the first time: whether it
   * ever reported on a device outlives the reports, which retention prunes
   * (`MTD_RETENTION_REPORTS`). A device whose stored assessment has a level
   * by this partner was reported on before (a level is only known then) and
   * has its row: no statement in the steady state.
   */
  private async recordReportedDevices(tx: Transaction, tenantId: string, partner: MtdPartner, reports: readonly Report[], devices: ReadonlyMap<string, DeviceStateRecord>, now: Date): Promise<void> {
    const first = [...new Set(reports.map((r) => r.deviceId))].filter((id) => {
      const device = devices.get(id)!;
      return device.partner !== partner || device.level === null;
    });
    await insertRows(tx.manager, ReportedDeviceEntity, first.map((deviceId) => ({ tenantId, partner, deviceId, firstReportedAt: now })), { onConflict: "ignore" });
  }

  /**
   * Inserts new threats and updates those whose stored observation is not
   * newer than the report's, reports applied in order. One read serves both
   * the upserts and the risk: the stored threats the reports name, and every
   * ACTIVE one of their devices. Returns each device's partner data afterwards.
   */
  private async applyThreats(tx: Transaction, partner: MtdPartner, tenantId: string, reports: readonly Report[], now: Date): Promise<Map<string, PartnerData>> {
    const deviceIds = [...new Set(reports.map((r) => r.deviceId))];
    const externalIds = [...new Set(reports.flatMap((r) => r.threats.map((t) => t.externalId)))];
    const scope = { tenantId, partner, deviceId: deviceIds };
    const where: RowFilter<ThreatRecord>[] = [{ ...scope, status: "ACTIVE" }, { ...scope, externalId: externalIds }];
    /** Each device's threats as they stand after the reports applied so far, by external id. */
    const state = new Map<string, Map<string, ThreatRecord>>(deviceIds.map((id) => [id, new Map()]));
    for (const threat of await selectRows(tx.manager, ThreatEntity, where)) state.get(threat.deviceId)!.set(threat.externalId, threat);
    const written = new Map<string, ThreatRecord>();
    /** Observations before this may be older than a RESOLVED one retention pruned. */
    const staleBefore = now.getTime() - this.retentionMs;
    for (const { deviceId, observedAt, threats } of reports) {
      const current = state.get(deviceId)!;
      for (const threat of threats) {
        const existing = current.get(threat.externalId);
        let next: ThreatRecord;
        if (existing === undefined) {
          if (observedAt.getTime() < staleBefore) continue; // stale, as if older than the stored (see the header)
          next = { id: randomUUID(), tenantId, partner, deviceId, ...threat, detectedAt: observedAt, resolvedAt: threat.status === "RESOLVED" ? observedAt : null, observedAt, updatedAt: now };
        } else if (observedAt.getTime() >= existing.observedAt.getTime()) {
          const resolvedAt = threat.status === "ACTIVE" ? null : existing.status === "RESOLVED" ? existing.resolvedAt : observedAt;
          next = { ...existing, ...threat, resolvedAt, observedAt, updatedAt: now };
        } else {
          continue; // a newer observation is stored
        }
        current.set(threat.externalId, next);
        written.set(next.id, next);
      }
    }
    await insertRows(tx.manager, ThreatEntity, [...written.values()], { onConflict: "update", conflictPaths: ["tenantId", "partner", "deviceId", "externalId"] });
    const data = new Map<string, PartnerData>();
    for (const [deviceId, threats] of state) {
      data.set(deviceId, { reported: true, activeSeverities: [...threats.values()].filter((t) => t.status === "ACTIVE").map((t) => t.severity) });
    }
    return data;
  }
}

/**
 * Whether `report` (with `fingerprint`) is what `earlier` recorded. A record
 * from before fingerprints were stored has none: its device, observation time
 * and threat count are what can be compared.
 */
function sameContent(earlier: ReportRecord, report: Report, fingerprint: string): boolean {
  if (earlier.fingerprint !== null) return earlier.fingerprint === fingerprint;
  return earlier.deviceId === report.deviceId && earlier.observedAt.getTime() === report.observedAt.getTime() && earlier.threatCount === report.threats.length;
}

function reusedReportId(reportId: string): GraphQLError {
  return conflict(`reportId ${JSON.stringify(reportId)} was already accepted with other content (device, observedAt or threats); a new report needs a new reportId`, { reportId });
}

/** Why `report` cannot be applied to `device` under `connector`, or null. */
function refusalOf(device: DeviceStateRecord, report: Report, connector: ConnectorRecord, connectors: readonly ConnectorRecord[]): GraphQLError | null {
  if (device.retiredAt !== null) return notFound("Device", report.deviceId);
  if (connector.enabledPlatforms.includes(device.platform)) return null;
  const covering = coveringConnector(connectors, device.platform);
  const who = covering === null ? "no partner covers it" : `partner ${covering.partner} covers it`;
  return forbidden(`partner ${connector.partner} does not cover ${device.platform} devices in this tenant (${who}); device ${report.deviceId} is ${device.platform}`);
}

/**
 * A report's content fingerprint: what makes a replay of a `reportId` the
 * same report. SHA-256 (hex) of the canonical JSON of the device, the
 * observation time (epoch ms) and the threats ordered by external id (unique
 * within a report), each as its fields in a fixed order: the same report sent
 * with its threats in another order or with other JSON spacing has the same
 * fingerprint; another device, observation time or any threat field does not.
 */
function reportFingerprint(report: Report): string {
  const threats = [...report.threats]
    .sort((a, b) => (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0))
    .map((t) => [t.externalId, t.category, t.severity, t.title, t.status]);
  return createHash("sha256").update(JSON.stringify([report.deviceId, report.observedAt.getTime(), threats])).digest("hex");
}
