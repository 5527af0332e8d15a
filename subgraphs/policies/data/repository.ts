/** Policies' tables: reads for resolvers and subscriptions, and policy writes. Evaluation writes live in `../evaluator.ts`. */
import { randomUUID } from "node:crypto";
import { In, MoreThan, type DataSource, type EntityManager } from "typeorm";
import type { Actor, AuditTrail } from "../../../lib/audit.js";
import type { Platform, ThreatLevel } from "../../../lib/domain-enums.js";
import { POLICIES_PRIVATE_TOPIC, POLICY_CHANGED } from "../../../lib/events/catalog.js";
import type { PolicyChangedPayload } from "../../../lib/events/contracts.js";
import type { Transaction, UnitOfWork } from "../../../lib/unit-of-work.js";
import {
  AccessChangeEntity,
  AccessDecisionEntity,
  CompliancePolicyEntity,
  ConditionalAccessPolicyEntity,
  PolicyDeviceEntity,
  TenantSequenceEntity,
  type AccessChangeRecord,
  type AccessDecisionRecord,
  type ConditionalAccessMode,
  type CompliancePolicyRecord,
  type ConditionalAccessPolicyRecord,
  type PolicyDeviceRecord,
} from "./entities.js";

/** What the audit trail keeps of a compliance policy. */
function auditedCompliance({ id, platform, name, maxThreatLevel, gracePeriodMinutes }: CompliancePolicyRecord) {
  return { id, platform, name, maxThreatLevel, gracePeriodMinutes };
}

/** What the audit trail keeps of a conditional-access policy. */
function auditedConditionalAccess({ id, name, resources, platforms, enabled, mode }: ConditionalAccessPolicyRecord) {
  return { id, name, resources, platforms, enabled, mode };
}

export class PolicyRepository {
  private readonly dataSource: DataSource;

  constructor(
    private readonly work: UnitOfWork,
    private readonly audit: AuditTrail,
  ) {
    this.dataSource = work.dataSource;
  }

  compliancePolicies(tenantId: string): Promise<CompliancePolicyRecord[]> {
    return this.dataSource.getRepository(CompliancePolicyEntity).find({ where: { tenantId }, order: { platform: "ASC" } });
  }

  conditionalAccessPolicies(tenantId: string): Promise<ConditionalAccessPolicyRecord[]> {
    return this.dataSource.getRepository(ConditionalAccessPolicyEntity).find({ where: { tenantId }, order: { id: "ASC" } });
  }

  /** Creates or replaces the tenant's policy for `platform`; re-evaluation follows through `policy.changed`. */
  async setCompliancePolicy(tenantId: string, values: { platform: Platform; name: string; maxThreatLevel: ThreatLevel; gracePeriodMinutes: number }, actor: Actor): Promise<CompliancePolicyRecord> {
    return this.work.transaction(async (tx) => {
      const repository = tx.manager.getRepository(CompliancePolicyEntity);
      const existing = await repository.findOne({ where: { tenantId, platform: values.platform } });
      const record: CompliancePolicyRecord = { tenantId, id: existing?.id ?? randomUUID(), ...values, updatedAt: new Date() };
      if (existing === null) await repository.insert(record);
      else await repository.update({ tenantId, id: record.id }, record);
      policyChanged(tx, tenantId, { kind: "compliance", policyId: record.id, platforms: [values.platform] });
      await this.audit.record(tx, tenantId, actor, {
        action: existing === null ? "compliancePolicy.created" : "compliancePolicy.updated",
        targetType: "CompliancePolicy",
        targetId: record.id,
        before: existing === null ? null : auditedCompliance(existing),
        after: auditedCompliance(record),
      });
      return record;
    });
  }

  /** Creates (no id) or updates a conditional-access policy; null when `id` names no policy of the tenant. */
  async setConditionalAccessPolicy(
    tenantId: string,
    values: { id?: string; name: string; resources: string[]; platforms: Platform[]; enabled: boolean; mode: ConditionalAccessMode },
    actor: Actor,
  ): Promise<ConditionalAccessPolicyRecord | null> {
    return this.work.transaction(async (tx) => {
      const repository = tx.manager.getRepository(ConditionalAccessPolicyEntity);
      const existing = values.id === undefined ? null : await repository.findOne({ where: { tenantId, id: values.id } });
      if (values.id !== undefined && existing === null) return null;
      const record: ConditionalAccessPolicyRecord = { tenantId, ...values, id: values.id ?? randomUUID(), updatedAt: new Date() };
      if (existing === null) await repository.insert(record);
      else await repository.update({ tenantId, id: record.id }, record);
      const platforms = [...new Set([...(existing?.platforms ?? []), ...values.platforms])];
      policyChanged(tx, tenantId, { kind: "conditional-access", policyId: record.id, platforms });
      await this.audit.record(tx, tenantId, actor, {
        action: existing === null ? "conditionalAccessPolicy.created" : "conditionalAccessPolicy.updated",
        targetType: "ConditionalAccessPolicy",
        targetId: record.id,
        before: existing === null ? null : auditedConditionalAccess(existing),
        after: auditedConditionalAccess(record),
      });
      return record;
    });
  }

  /** One statement for a batch of devices. */
  devices(tenantId: string, deviceIds: readonly string[]): Promise<PolicyDeviceRecord[]> {
    return this.dataSource.getRepository(PolicyDeviceEntity).find({ where: { tenantId, deviceId: In([...deviceIds]) } });
  }

  /** One statement for a batch of devices. */
  decisions(tenantId: string, deviceIds: readonly string[]): Promise<AccessDecisionRecord[]> {
    return this.dataSource
      .getRepository(AccessDecisionEntity)
      .find({ where: { tenantId, deviceId: In([...deviceIds]) }, order: { deviceId: "ASC", resource: "ASC" } });
  }

  /** Access changes with sequence in (after, upTo], optionally of some resources only, in sequence order. */
  changes(tenantId: string, options: { after: number; upTo?: number; resources?: readonly string[]; limit: number }): Promise<AccessChangeRecord[]> {
    const query = this.dataSource
      .getRepository(AccessChangeEntity)
      .createQueryBuilder("c")
      .where("c.tenant_id = :tenantId", { tenantId })
      .andWhere("c.sequence > :after", { after: options.after })
      .orderBy("c.sequence", "ASC")
      .take(options.limit);
    if (options.upTo !== undefined) query.andWhere("c.sequence <= :upTo", { upTo: options.upTo });
    if (options.resources !== undefined) query.andWhere("c.resource IN (:...resources)", { resources: options.resources });
    return query.getMany();
  }

  countChanges(tenantId: string, resource?: string): Promise<number> {
    return this.dataSource.getRepository(AccessChangeEntity).count({ where: { tenantId, ...(resource === undefined ? {} : { resource }) } });
  }

  /**
   * The earliest sequence a replay may start after: the changes up to it were
   * pruned (`MTD_RETENTION_ACCESS_CHANGES`). Sequences are gap-free per
   * tenant, so it is the oldest kept change's minus one, or the last one when
   * none is kept.
   */
  async retainedAfter(tenantId: string): Promise<number> {
    const oldest = await this.dataSource.getRepository(AccessChangeEntity).minimum("sequence", { tenantId });
    return oldest === null ? this.lastSequence(tenantId) : Number(oldest) - 1;
  }

  /** The tenant's last access-change sequence (0 before the first). */
  async lastSequence(tenantId: string): Promise<number> {
    const row = await this.dataSource.getRepository(TenantSequenceEntity).findOne({ where: { tenantId } });
    return row?.lastSequence ?? 0;
  }

  /** A page of the tenant's devices on `platforms`, in device-id order after `afterDeviceId`: re-evaluation never loads a whole tenant. */
  devicePage(manager: EntityManager, tenantId: string, platforms: readonly Platform[], afterDeviceId: string, limit: number): Promise<PolicyDeviceRecord[]> {
    return manager.getRepository(PolicyDeviceEntity).find({
      where: { tenantId, platform: In([...platforms]), deviceId: MoreThan(afterDeviceId) },
      order: { deviceId: "ASC" },
      take: limit,
    });
  }

}

/** `policy.changed` on the service's private topic: the evaluator re-evaluates the devices of those platforms. */
function policyChanged(tx: Transaction, tenantId: string, payload: PolicyChangedPayload): void {
  tx.emitTo(POLICIES_PRIVATE_TOPIC, { id: randomUUID(), type: POLICY_CHANGED, tenantId, aggregateId: payload.policyId, occurredAt: new Date().toISOString(), payload });
}
