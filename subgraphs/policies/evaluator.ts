/**
 * The evaluator turns what happened (device events, assessments, policy
 * changes) into access decisions and access changes. Each step is one
 * transaction under the tenant's lock: decisions, access changes with their
 * per-tenant sequence, and their outbox events commit together, and the
 * tenant's sequence numbers commit in order.
 *
 * Consumption is at-least-once; effects happen once: an event id applied by a
 * consumer group is recorded in the same transaction, and per-device versions
 * keep a stale event from overriding a newer one.
 */
import { randomUUID } from "node:crypto";
import { In } from "typeorm";
import type { AccessChangedPayload, AssessmentChangedPayload, ComplianceChangedPayload, DeviceEventPayload, Platform } from "../../lib/events/contracts.js";
import { isDeviceEvent } from "../../lib/events/catalog.js";
import type { LoggedEvent, NewEvent } from "../../lib/events/types.js";
import { encodeCursor } from "../../lib/paging.js";
import type { Transaction, UnitOfWork } from "../../lib/unit-of-work.js";
import {
  AccessChangeEntity,
  AccessDecisionEntity,
  CompliancePolicyEntity,
  ConditionalAccessPolicyEntity,
  PolicyDeviceEntity,
  TenantSequenceEntity,
  type AccessChangeRecord,
  type CompliancePolicyRecord,
  type PolicyDeviceRecord,
} from "./data/entities.js";
import type { PolicyChangedPayload, PolicyRepository } from "./data/repository.js";
import { exceptionsInForce } from "./data/exceptions.js";
import { syncImpacts } from "./data/impact.js";
import { blockingPolicies, diffDecisions, evaluateAccess, evaluateCompliance, stateOf, withGrace, type ComplianceStateName, type ComplianceStatus, type Decision } from "./evaluate.js";

/** Devices re-evaluated per transaction after a policy change. */
export const REEVALUATION_BATCH = 200;

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
    await this.step(tenantId, undefined, undefined, async (tx, lastSequence) => {
      const ids = await work(tx);
      if (ids.length === 0) return;
      const devices = await tx.manager.getRepository(PolicyDeviceEntity).find({ where: { tenantId, deviceId: In(ids) } });
      await this.evaluate(tx, tenantId, lastSequence, devices.map((device) => ({ device, previous: device })));
    });
  }

  /** Handles one event of the `devices`, `threats` or `policies` topic for consumer group `group`. */
  async handle(group: string, event: LoggedEvent): Promise<void> {
    if (isDeviceEvent(event)) return this.applyDeviceEvent(group, event);
    switch (event.type) {
      case "device.assessment.changed":
        return this.applyAssessment(group, event as LoggedEvent<AssessmentChangedPayload>);
      case "policy.changed":
        return this.reevaluate(group, event as LoggedEvent<PolicyChangedPayload>);
      default:
        return;
    }
  }

  private async applyDeviceEvent(group: string, event: LoggedEvent<DeviceEventPayload>) {
    const { payload } = event;
    await this.step(event.tenantId, group, event.id, async (tx, lastSequence) => {
      const existing = await tx.manager.getRepository(PolicyDeviceEntity).findOne({ where: { tenantId: event.tenantId, deviceId: payload.id } });
      if (existing !== null && existing.deviceVersion >= (event.version ?? 0)) return;
      const device: PolicyDeviceRecord = {
        ...(existing ?? unknownDevice(event.tenantId, payload.id, payload.platform)),
        platform: payload.platform,
        userPrincipalName: payload.userPrincipalName,
        retired: payload.retiredAt !== null,
        deviceVersion: event.version ?? 0,
      };
      await this.evaluate(tx, event.tenantId, lastSequence, [{ device, previous: existing }]);
    });
  }

  private async applyAssessment(group: string, event: LoggedEvent<AssessmentChangedPayload>) {
    const { payload } = event;
    await this.step(event.tenantId, group, event.id, async (tx, lastSequence) => {
      const existing = await tx.manager.getRepository(PolicyDeviceEntity).findOne({ where: { tenantId: event.tenantId, deviceId: payload.deviceId } });
      if (existing !== null && existing.assessmentVersion >= (event.version ?? 0)) return;
      const device: PolicyDeviceRecord = {
        ...(existing ?? unknownDevice(event.tenantId, payload.deviceId, payload.platform)),
        assessmentVersion: event.version ?? 0,
        level: payload.level,
        dataStatus: payload.dataStatus,
        blockOnMissing: payload.blockOnMissing,
        partner: payload.partner,
        unresponsiveSince: payload.unresponsiveSince === null ? null : new Date(payload.unresponsiveSince),
      };
      await this.evaluate(tx, event.tenantId, lastSequence, [{ device, previous: existing }]);
    });
  }

  /** Re-evaluates every device of the tenant on the policy's platforms, a batch per transaction. */
  private async reevaluate(group: string, event: LoggedEvent<PolicyChangedPayload>) {
    let after = "";
    for (;;) {
      let last: string | undefined;
      await this.step(event.tenantId, undefined, undefined, async (tx, lastSequence) => {
        const batch = await this.repository.devicePage(tx.manager, event.tenantId, event.payload.platforms, after, REEVALUATION_BATCH);
        last = batch.at(-1)?.deviceId;
        await this.evaluate(tx, event.tenantId, lastSequence, batch.map((device) => ({ device, previous: device })));
      });
      if (last === undefined) break;
      after = last;
    }
    await this.step(event.tenantId, group, event.id, async () => undefined);
  }

  /**
   * One transaction under the tenant's lock. With `group`/`eventId`, the event
   * is applied at most once: a redelivery finds it recorded and does nothing.
   * `work` gets the tenant's last access-change sequence, read with the lock.
   */
  private async step(tenantId: string, group: string | undefined, eventId: string | undefined, work: (tx: Transaction, lastSequence: number) => Promise<void>) {
    await this.work.transaction(async (tx) => {
      const { lastSequence } = await tx.lock(TenantSequenceEntity, { tenantId }, { tenantId, lastSequence: 0 });
      if (group !== undefined && eventId !== undefined && !(await tx.markProcessed(group, eventId))) return;
      await work(tx, lastSequence);
    });
  }

  /** Evaluates devices, stores their state and changed decisions, and records access changes with their events. */
  private async evaluate(tx: Transaction, tenantId: string, lastSequence: number, items: { device: PolicyDeviceRecord; previous: PolicyDeviceRecord | null }[]) {
    if (items.length === 0) return;
    const { manager } = tx;
    const now = new Date(this.now());
    const deviceIds = items.map((item) => item.device.deviceId);
    const [compliancePolicies, accessPolicies, storedDecisions, exceptions] = await Promise.all([
      manager.getRepository(CompliancePolicyEntity).find({ where: { tenantId } }),
      manager.getRepository(ConditionalAccessPolicyEntity).find({ where: { tenantId } }),
      manager.getRepository(AccessDecisionEntity).find({ where: { tenantId, deviceId: In(deviceIds) } }),
      exceptionsInForce(manager, tenantId, deviceIds, now),
    ]);
    const policyByPlatform = new Map(compliancePolicies.map((policy) => [policy.platform, policy]));
    const storedByDevice = new Map<string, Map<string, Decision>>();
    for (const decision of storedDecisions) {
      const map = storedByDevice.get(decision.deviceId) ?? new Map<string, Decision>();
      map.set(decision.resource, { allowed: decision.allowed, reason: decision.reason });
      storedByDevice.set(decision.deviceId, map);
    }

    const devices: PolicyDeviceRecord[] = [];
    const blocking = new Map<string, string[]>();
    const upserts: { deviceId: string; resource: string; decision: Decision }[] = [];
    const deletions: { deviceId: string; resource: string }[] = [];
    const changes: { deviceId: string; resource: string; decision: Decision }[] = [];
    const complianceEvents: NewEvent<ComplianceChangedPayload>[] = [];

    for (const { device, previous } of items) {
      const policy = policyByPlatform.get(device.platform);
      const status = withGrace(evaluateCompliance(device, policy), previous ?? device, policy, now);
      const excepted = exceptions.get(device.deviceId) ?? [];
      const next = evaluateAccess(device, status, accessPolicies, excepted);
      blocking.set(device.deviceId, blockingPolicies(device, status, accessPolicies, excepted));
      for (const change of diffDecisions(device.retired, storedByDevice.get(device.deviceId) ?? new Map(), next)) {
        if (change.decision === null) deletions.push({ deviceId: device.deviceId, resource: change.resource });
        else upserts.push({ deviceId: device.deviceId, resource: change.resource, decision: change.decision });
        if (change.accessChange) changes.push({ deviceId: device.deviceId, resource: change.resource, decision: change.accessChange });
      }
      // A device seen for the first time was implicitly compliant: only a first IN_GRACE_PERIOD or NONCOMPLIANT is a change.
      const was = stateOf(previous ?? { compliant: true, graceDeadline: null });
      if (was !== status.state) complianceEvents.push(complianceChanged(tenantId, device, policy ?? null, previous === null ? null : was, status, now));
      devices.push({ ...device, compliant: status.state !== "NONCOMPLIANT", graceDeadline: status.deadline, complianceReason: status.reason, evaluatedAt: now });
    }

    await manager.getRepository(PolicyDeviceEntity).upsert(devices, ["tenantId", "deviceId"]);
    await syncImpacts(manager, tenantId, blocking);
    if (upserts.length > 0) {
      await manager.getRepository(AccessDecisionEntity).upsert(
        upserts.map(({ deviceId, resource, decision }) => ({ tenantId, deviceId, resource, ...decision, decidedAt: now })),
        ["tenantId", "deviceId", "resource"],
      );
    }
    for (const { deviceId, resource } of deletions) {
      await manager.getRepository(AccessDecisionEntity).delete({ tenantId, deviceId, resource });
    }
    const events: NewEvent[] = [...complianceEvents];
    if (changes.length > 0) {
      const sequences = manager.getRepository(TenantSequenceEntity);
      const records: AccessChangeRecord[] = changes.map(({ deviceId, resource, decision }, index) => ({
        tenantId,
        sequence: lastSequence + index + 1,
        deviceId,
        resource,
        allowed: decision.allowed,
        reason: decision.reason,
        at: now,
      }));
      await sequences.update({ tenantId }, { lastSequence: lastSequence + records.length });
      await manager.getRepository(AccessChangeEntity).insert(records);
      events.push(...records.map(accessChanged));
    }
    tx.emit(...events);
  }
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

function accessChanged(record: AccessChangeRecord): NewEvent<AccessChangedPayload> {
  return {
    id: randomUUID(),
    type: "access.changed",
    tenantId: record.tenantId,
    aggregateId: record.deviceId,
    version: record.sequence,
    occurredAt: record.at.toISOString(),
    payload: {
      sequence: record.sequence,
      cursor: encodeCursor([record.sequence]),
      deviceId: record.deviceId,
      resource: record.resource,
      allowed: record.allowed,
      reason: record.reason,
      at: record.at.toISOString(),
    },
  };
}

/**
 * `compliance.changed` for a change of the device's state. `previous` /
 * `current` are the enforced states (IN_GRACE_PERIOD counts as COMPLIANT:
 * access is unchanged), so they flip only when the device actually becomes,
 * or stops being, NONCOMPLIANT — what the Shared Signals transmitter reports.
 * `previousState` / `state` / `complianceDeadline` carry the grace period.
 */
function complianceChanged(
  tenantId: string,
  device: PolicyDeviceRecord,
  policy: CompliancePolicyRecord | null,
  previous: ComplianceStateName | null,
  status: ComplianceStatus,
  at: Date,
): NewEvent<ComplianceChangedPayload> {
  const enforced = (state: ComplianceStateName) => (state === "NONCOMPLIANT" ? "NONCOMPLIANT" : "COMPLIANT");
  const changeId = randomUUID();
  return {
    id: changeId,
    type: "compliance.changed",
    tenantId,
    aggregateId: device.deviceId,
    occurredAt: at.toISOString(),
    payload: {
      changeId,
      deviceId: device.deviceId,
      userPrincipalName: device.userPrincipalName,
      previous: previous === null ? null : enforced(previous),
      current: enforced(status.state),
      previousState: previous,
      state: status.state,
      complianceDeadline: status.deadline?.toISOString() ?? null,
      reason: status.reason,
      at: at.toISOString(),
      platform: device.platform,
      partner: device.partner,
      level: device.level,
      policy: policy === null ? null : { id: policy.id, name: policy.name, maxThreatLevel: policy.maxThreatLevel },
    },
  };
}
