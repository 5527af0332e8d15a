/**
 * The evaluator turns what happened (device events, assessments, policy
 * changes) into access decisions and access changes, a batch at a time.
 *
 * A batch (the events of one topic the log hands over together) is grouped
 * by tenant, and each tenant's events are applied in one transaction under
 * the tenant's lock (`TenantEvaluation`): the event ids recorded in bulk, the
 * devices involved read set-based, each event applied in log order as its
 * own step, and decisions, access changes with their per-tenant sequence,
 * and their outbox events written with multi-row statements. The tenant's
 * sequence numbers commit in order, gap-free.
 *
 * Consumption is at-least-once; effects happen once: an event id applied by a
 * consumer group is recorded in the same transaction (a batch handed over
 * again skips what it finds recorded), and per-device versions keep a stale
 * event from overriding a newer one. A malformed event never gets here: it is
 * refused at the consumer boundary (lib/events/consumer.ts).
 *
 * Lock hold times stay short: a transaction holds at most one batch of one
 * tenant (the consumers' batch size), and a tenant-wide re-evaluation runs in
 * slices of `REEVALUATION_SLICE` devices, each its own transaction, so the
 * other consumers' batches of the tenant interleave with its slices.
 */
import { ASSESSMENT_CHANGED, POLICY_CHANGED, type CatalogEvent } from "../../lib/events/catalog.js";
import type { Platform } from "../../lib/domain-enums.js";
import { isUniqueViolation } from "../../lib/db.js";
import type { Transaction, UnitOfWork } from "../../lib/unit-of-work.js";
import { TenantSequenceEntity, type PolicyDeviceRecord } from "./data/entities.js";
import type { PolicyRepository } from "./data/repository.js";
import { TenantEvaluation } from "./evaluation.js";

/** Devices re-evaluated per transaction after a policy change: large for throughput, small enough that the tenant's lock is free again within a fraction of a second. */
export const REEVALUATION_SLICE = 200;

type DeviceEvent = CatalogEvent<"devices">;
type Assessment = CatalogEvent<"threats", typeof ASSESSMENT_CHANGED>;
type PolicyChange = CatalogEvent<"policies" | "policies.private", typeof POLICY_CHANGED>;
/** What the evaluator applies: device events, assessments and policy changes (those of earlier releases on `policies` too). */
export type EvaluatorEvent = DeviceEvent | Assessment | PolicyChange;

type DeviceUpdate = { kind: "device"; event: DeviceEvent } | { kind: "assessment"; event: Assessment };

export class Evaluator {
  constructor(
    private readonly work: UnitOfWork,
    private readonly repository: PolicyRepository,
    /** Epoch ms: the clock decisions, grace deadlines and exception expiry are judged by (tests move it). */
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * One step under the tenant's lock for the deadline poll and exceptions:
   * `work` writes what it must and names the devices to evaluate, which are
   * then evaluated in the same transaction.
   */
  async within(tenantId: string, work: (tx: Transaction) => Promise<string[]>): Promise<void> {
    await this.step(tenantId, async (tx, evaluation) => {
      const ids = await work(tx);
      await evaluation.load(ids);
      for (const id of new Set(ids)) {
        const device = evaluation.device(id);
        if (device !== null) evaluation.evaluate(device, device);
      }
    });
  }

  /** Handles a batch of the `devices`, `threats` or `policies` topic for consumer group `group`. */
  async handleBatch(group: string, events: readonly EvaluatorEvent[]): Promise<void> {
    const updates = new Map<string, DeviceUpdate[]>();
    const policyChanges = new Map<string, PolicyChange[]>();
    for (const event of events) {
      if (event.type === POLICY_CHANGED) policyChanges.set(event.tenantId, [...(policyChanges.get(event.tenantId) ?? []), event]);
      else updates.set(event.tenantId, [...(updates.get(event.tenantId) ?? []), event.type === ASSESSMENT_CHANGED ? { kind: "assessment", event } : { kind: "device", event }]);
    }
    for (const [tenantId, tenantUpdates] of updates) await this.apply(group, tenantId, tenantUpdates);
    for (const [tenantId, changes] of policyChanges) await this.reevaluate(group, tenantId, changes);
  }

  /** A tenant's device events and assessments, in log order, in one transaction. */
  private async apply(group: string, tenantId: string, updates: readonly DeviceUpdate[]): Promise<void> {
    await this.step(tenantId, async (tx, evaluation) => {
      const fresh = new Set(await tx.markProcessed(group, updates.map(({ event }) => event.id)));
      const pending = updates.filter(({ event }) => fresh.delete(event.id));
      await evaluation.load(pending.map(deviceIdOf));
      for (const update of pending) {
        const existing = evaluation.device(deviceIdOf(update));
        const device = update.kind === "device" ? fromDeviceEvent(update.event, existing) : fromAssessment(update.event, existing);
        if (device !== null) evaluation.evaluate(device, existing);
      }
    });
  }

  /**
   * Re-evaluates every device of the tenant on the changed policies'
   * platforms, a slice per transaction (the lock is released between slices),
   * then records the changes applied. Several changes of one tenant in a batch
   * need one pass: each slice reads the policies as committed.
   */
  private async reevaluate(group: string, tenantId: string, changes: readonly PolicyChange[]): Promise<void> {
    const platforms = [...new Set(changes.flatMap((change) => change.payload.platforms))] as Platform[];
    let after = "";
    for (;;) {
      let last: string | undefined;
      await this.step(tenantId, async (tx, evaluation) => {
        const page = await this.repository.devicePage(tx.manager, tenantId, platforms, after, REEVALUATION_SLICE);
        last = page.at(-1)?.deviceId;
        await evaluation.include(page);
        for (const device of page) evaluation.evaluate(device, device);
      });
      if (last === undefined) break;
      after = last;
    }
    await this.step(tenantId, async (tx) => void (await tx.markProcessed(group, changes.map((change) => change.id))));
  }

  /**
   * One transaction under the tenant's lock: `work` applies its steps to the
   * tenant's evaluation (which starts from the tenant's last sequence, read
   * with the lock), written when it resolves. A unique violation (another
   * replica recorded one of the event ids first) runs it again.
   */
  private async step(tenantId: string, work: (tx: Transaction, evaluation: TenantEvaluation) => Promise<void>): Promise<void> {
    await this.work.transaction(
      async (tx) => {
        const { lastSequence } = await tx.lock(TenantSequenceEntity, { tenantId }, { tenantId, lastSequence: 0 });
        const evaluation = new TenantEvaluation(tx, tenantId, lastSequence, new Date(this.now()));
        await work(tx, evaluation);
        await evaluation.commit();
      },
      { retryOn: isUniqueViolation },
    );
  }
}

function deviceIdOf(update: DeviceUpdate): string {
  return update.kind === "device" ? update.event.payload.id : update.event.payload.deviceId;
}

/** The device after a device event; null when `existing` already has this version or a later one. */
function fromDeviceEvent(event: DeviceEvent, existing: PolicyDeviceRecord | null): PolicyDeviceRecord | null {
  const { payload } = event;
  if (existing !== null && existing.deviceVersion >= (event.version ?? 0)) return null;
  return {
    ...(existing ?? unknownDevice(event.tenantId, payload.id, payload.platform)),
    platform: payload.platform,
    userPrincipalName: payload.userPrincipalName,
    retired: payload.retiredAt !== null,
    deviceVersion: event.version ?? 0,
  };
}

/** The device after an assessment; null when `existing` already has this version or a later one. */
function fromAssessment(event: Assessment, existing: PolicyDeviceRecord | null): PolicyDeviceRecord | null {
  const { payload } = event;
  if (existing !== null && existing.assessmentVersion >= (event.version ?? 0)) return null;
  return {
    ...(existing ?? unknownDevice(event.tenantId, payload.deviceId, payload.platform)),
    assessmentVersion: event.version ?? 0,
    level: payload.level,
    dataStatus: payload.dataStatus,
    blockOnMissing: payload.blockOnMissing,
    partner: payload.partner,
    unresponsiveSince: payload.unresponsiveSince === null ? null : new Date(payload.unresponsiveSince),
  };
}

function unknownDevice(tenantId: string, deviceId: string, platform: Platform): PolicyDeviceRecord {
  return {
    tenantId,
    deviceId,
    platform,
    userPrincipalName: null,
    retired: false,
    deviceVersion: 0,
    assessmentVersion: 0,
    level: null,
    dataStatus: "NOT_CONNECTED",
    blockOnMissing: false,
    partner: null,
    unresponsiveSince: null,
    compliant: true,
    graceDeadline: null,
    complianceReason: "not evaluated yet",
    evaluatedAt: new Date(0),
  };
}
