/**
 * One tenant's evaluation inside one transaction under the tenant's lock: what
 * a batch of events (or a slice of a tenant-wide re-evaluation) does, applied
 * in memory step by step and written set-based at the end.
 *
 * Each `evaluate` is exactly what one event's own transaction used to do —
 * the device against its policies, its decisions diffed against the ones the
 * previous step left, an access change with the tenant's next sequence for
 * each flip, a `compliance.changed` for each change of state — but against
 * the state in memory, so a device changing twice in a batch yields the same
 * changes, in the same order, as two transactions would. `commit` then writes
 * the final state of every device evaluated with a few multi-row statements:
 * devices, impacts, decisions (upserts and deletes), the access changes, the
 * tenant's last sequence, and the events into the outbox.
 *
 * Reads are set-based too: `load` reads the devices, their decisions and
 * their exceptions in force with one statement each per chunk of ids.
 */
import { randomUUID } from "node:crypto";
import { In } from "typeorm";
import { insertRows } from "../../lib/bulk.js";
import { chunks } from "../../lib/db.js";
import { ACCESS_CHANGED, COMPLIANCE_CHANGED, type CatalogNewEvent } from "../../lib/events/catalog.js";
import { encodeCursor } from "../../lib/paging.js";
import type { Transaction } from "../../lib/unit-of-work.js";
import {
  AccessChangeEntity,
  AccessDecisionEntity,
  CompliancePolicyEntity,
  ConditionalAccessPolicyEntity,
  PolicyDeviceEntity,
  TenantSequenceEntity,
  type AccessChangeRecord,
  type AccessDecisionRecord,
  type AccessExceptionRecord,
  type CompliancePolicyRecord,
  type ConditionalAccessPolicyRecord,
  type PolicyDeviceRecord,
} from "./data/entities.js";
import { exceptionsInForce } from "./data/exceptions.js";
import { syncImpacts } from "./data/impact.js";
import { blockingPolicies, diffDecisions, evaluateAccess, evaluateCompliance, stateOf, withGrace, type ComplianceStateName, type ComplianceStatus, type Decision } from "./evaluate.js";

/** Rows per multi-row statement (16 columns × 500 stays far below both engines' parameter limits). */
const CHUNK = 500;

interface Policies {
  byPlatform: Map<string, CompliancePolicyRecord>;
  access: ConditionalAccessPolicyRecord[];
}

export class TenantEvaluation {
  private policies: Policies | undefined;
  /** Every device loaded so far, as the last step left it; absent = unknown to policies. */
  private readonly devices = new Map<string, PolicyDeviceRecord>();
  private readonly loaded = new Set<string>();
  /** Decisions as stored when loaded, and as the last step left them. */
  private readonly stored = new Map<string, ReadonlyMap<string, Decision>>();
  private readonly decisions = new Map<string, Map<string, Decision>>();
  /** Resources whose decision some step changed, per device. */
  private readonly dirty = new Map<string, Set<string>>();
  private readonly exceptions = new Map<string, AccessExceptionRecord[]>();
  /** Policies blocking each evaluated device after its last step. */
  private readonly blocking = new Map<string, string[]>();
  private readonly changes: AccessChangeRecord[] = [];
  private readonly events: CatalogNewEvent<"policies">[] = [];

  constructor(
    private readonly tx: Transaction,
    private readonly tenantId: string,
    /** The tenant's last access-change sequence, read under its lock. */
    private sequence: number,
    private readonly now: Date,
  ) {}

  /** Reads the devices `deviceIds` not loaded yet (a missing one stays unknown), then their decisions and exceptions. */
  async load(deviceIds: readonly string[]): Promise<void> {
    const missing = [...new Set(deviceIds)].filter((id) => !this.loaded.has(id));
    const rows: PolicyDeviceRecord[] = [];
    for (const chunk of chunks(missing, CHUNK)) {
      rows.push(...(await this.tx.manager.getRepository(PolicyDeviceEntity).find({ where: { tenantId: this.tenantId, deviceId: In(chunk) } })));
    }
    await this.include(rows, missing);
  }

  /** Adds devices already read (a page of a re-evaluation), then reads their decisions and exceptions. */
  async include(rows: readonly PolicyDeviceRecord[], ids: readonly string[] = rows.map((row) => row.deviceId)): Promise<void> {
    const fresh = ids.filter((id) => !this.loaded.has(id));
    if (fresh.length === 0) return;
    await this.readPolicies();
    for (const row of rows) if (!this.loaded.has(row.deviceId)) this.devices.set(row.deviceId, row);
    const { manager } = this.tx;
    for (const chunk of chunks(fresh, CHUNK)) {
      const [decisions, exceptions] = await Promise.all([
        manager.getRepository(AccessDecisionEntity).find({ where: { tenantId: this.tenantId, deviceId: In(chunk) } }),
        exceptionsInForce(manager, this.tenantId, chunk, this.now),
      ]);
      for (const decision of decisions) {
        const map = this.decisions.get(decision.deviceId) ?? new Map<string, Decision>();
        map.set(decision.resource, { allowed: decision.allowed, reason: decision.reason });
        this.decisions.set(decision.deviceId, map);
      }
      for (const [deviceId, list] of exceptions) this.exceptions.set(deviceId, list);
    }
    for (const id of fresh) {
      this.loaded.add(id);
      this.stored.set(id, new Map(this.decisions.get(id) ?? []));
    }
  }

  /** What policies knows of a loaded device after the last step; null when it does not know it. */
  device(deviceId: string): PolicyDeviceRecord | null {
    if (!this.loaded.has(deviceId)) throw new Error(`TenantEvaluation: device ${deviceId} was not loaded`);
    return this.devices.get(deviceId) ?? null;
  }

  /** One step: `device` (its new facts) evaluated against `previous` (its state before; null = first seen). */
  evaluate(device: PolicyDeviceRecord, previous: PolicyDeviceRecord | null): void {
    const { byPlatform, access } = this.policies!;
    const id = device.deviceId;
    const policy = byPlatform.get(device.platform);
    const status = withGrace(evaluateCompliance(device, policy), device, previous ?? device, policy, this.now);
    const excepted = this.exceptions.get(id) ?? [];
    this.blocking.set(id, blockingPolicies(device, status, access, excepted));
    // A device seen for the first time was implicitly compliant: only a first IN_GRACE_PERIOD or NONCOMPLIANT is a change.
    const was = stateOf(previous ?? { compliant: true, graceDeadline: null });
    if (was !== status.state) this.events.push(complianceChanged(this.tenantId, device, policy ?? null, previous === null ? null : was, status, this.now));
    const current = this.decisions.get(id) ?? new Map<string, Decision>();
    this.decisions.set(id, current);
    const dirty = this.dirty.get(id) ?? new Set<string>();
    this.dirty.set(id, dirty);
    for (const change of diffDecisions(device.retired, current, evaluateAccess(device, status, access, excepted))) {
      if (change.decision === null) current.delete(change.resource);
      else current.set(change.resource, change.decision);
      dirty.add(change.resource);
      if (change.accessChange === undefined) continue;
      this.sequence += 1;
      const record: AccessChangeRecord = { tenantId: this.tenantId, sequence: this.sequence, deviceId: id, resource: change.resource, ...change.accessChange, at: this.now };
      this.changes.push(record);
      this.events.push(accessChanged(record));
    }
    this.devices.set(id, { ...device, compliant: status.state !== "NONCOMPLIANT", graceDeadline: status.deadline, complianceReason: status.reason, evaluatedAt: this.now });
  }

  /** Writes what the steps left: devices, impacts, decisions, access changes and the tenant's sequence, and emits the events. */
  async commit(): Promise<void> {
    if (this.dirty.size === 0) return;
    const { manager } = this.tx;
    const tenantId = this.tenantId;
    const evaluated = [...this.dirty.keys()].map((id) => this.devices.get(id)!);
    await insertRows(manager, PolicyDeviceEntity, evaluated, { onConflict: "update" });
    await syncImpacts(manager, tenantId, this.blocking);

    const upserts: AccessDecisionRecord[] = [];
    const deletions = new Map<string, string[]>();
    for (const [deviceId, resources] of this.dirty) {
      for (const resource of resources) {
        const decision = this.decisions.get(deviceId)?.get(resource);
        if (decision !== undefined) upserts.push({ tenantId, deviceId, resource, ...decision, decidedAt: this.now });
        else if (this.stored.get(deviceId)?.has(resource)) deletions.set(resource, [...(deletions.get(resource) ?? []), deviceId]);
      }
    }
    await insertRows(manager, AccessDecisionEntity, upserts, { onConflict: "update" });
    for (const [resource, deviceIds] of deletions) {
      for (const chunk of chunks(deviceIds, CHUNK)) await manager.getRepository(AccessDecisionEntity).delete({ tenantId, resource, deviceId: In(chunk) });
    }
    if (this.changes.length > 0) {
      await manager.getRepository(TenantSequenceEntity).update({ tenantId }, { lastSequence: this.sequence });
      await insertRows(manager, AccessChangeEntity, this.changes);
    }
    this.tx.emit(...this.events);
  }

  /** The tenant's policies, read once per transaction (under the lock: a policy change commits before its re-evaluation reads it). */
  private async readPolicies(): Promise<void> {
    if (this.policies !== undefined) return;
    const { manager } = this.tx;
    const [compliance, access] = await Promise.all([
      manager.getRepository(CompliancePolicyEntity).find({ where: { tenantId: this.tenantId } }),
      manager.getRepository(ConditionalAccessPolicyEntity).find({ where: { tenantId: this.tenantId } }),
    ]);
    this.policies = { byPlatform: new Map(compliance.map((policy) => [policy.platform, policy])), access };
  }
}

function accessChanged(record: AccessChangeRecord): CatalogNewEvent<"policies", typeof ACCESS_CHANGED> {
  return {
    id: randomUUID(),
    type: ACCESS_CHANGED,
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
): CatalogNewEvent<"policies", typeof COMPLIANCE_CHANGED> {
  const enforced = (state: ComplianceStateName) => (state === "NONCOMPLIANT" ? "NONCOMPLIANT" : "COMPLIANT");
  const changeId = randomUUID();
  return {
    id: changeId,
    type: COMPLIANCE_CHANGED,
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
