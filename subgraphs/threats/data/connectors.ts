/**
 * The tenant's MTD connector: one row per tenant and partner, at most one of
 * them ENABLED or UNRESPONSIVE. Every change takes the tenant's row lock;
 * every state transition is a `connector.state.changed` event, and every change
 * that can alter assessments triggers their republication.
 */
import type { Actor, AuditTrail } from "../../../lib/audit.js";
import type { MtdPartner } from "../../../lib/auth.js";
import { conflict, forbidden } from "../../../lib/errors.js";
import type { Logger } from "../../../lib/logger.js";
import { connectorStateChanged, deadlineOf, effectiveState, isActive } from "../domain.js";
import type { ConnectorState, Platform } from "../generated/graphql.js";
import { activeConnector, type AssessmentRepository } from "./assessments.js";
import { ConnectorEntity, TenantEntity, type ConnectorRecord, type TenantRecord } from "./entities.js";
import type { Store, Transaction } from "./store.js";

export interface ConnectorSettings {
  partner: MtdPartner;
  enabledPlatforms: Platform[];
  blockOnMissingPartnerData: Platform[];
  unresponsiveAfterMinutes: number;
}

/** Overdue connectors handled per check. */
const CHECK_BATCH_SIZE = 500;

/** What the audit trail keeps of a connector: its configuration and state. */
function audited(connector: ConnectorRecord) {
  const { partner, state, enabledPlatforms, blockOnMissingPartnerData, unresponsiveAfterMinutes } = connector;
  return { partner, state, enabledPlatforms, blockOnMissingPartnerData, unresponsiveAfterMinutes };
}

/** FORBIDDEN unless `partner` is the partner of the tenant's ENABLED or UNRESPONSIVE connector. */
export function authorizePartner(connector: ConnectorRecord | null, partner: MtdPartner | undefined): ConnectorRecord {
  if (!isActive(connector)) throw forbidden("no MTD connector is enabled for this tenant: enableMtdConnector first");
  if (connector.partner !== partner) throw forbidden(`partner ${partner} is not the tenant's enabled MTD connector`);
  return connector;
}

export class ConnectorRepository {
  constructor(
    private readonly store: Store,
    private readonly assessments: AssessmentRepository,
    private readonly logger: Logger,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * `Query.mtdConnector`: the ENABLED or UNRESPONSIVE connector (turned
   * UNRESPONSIVE first if it is overdue), else the most recently changed one.
   */
  async current(tenantId: string): Promise<ConnectorRecord | null> {
    const manager = this.store.dataSource.manager;
    let active = await activeConnector(manager, tenantId);
    if (active !== null && effectiveState(active, this.store.now()) !== active.state) {
      await this.markUnresponsive(tenantId);
      active = await activeConnector(manager, tenantId);
    }
    return active ?? manager.findOne(ConnectorEntity, { where: { tenantId }, order: { updatedAt: "DESC", partner: "ASC" } });
  }

  /** FORBIDDEN unless `partner` is the partner of the tenant's ENABLED or UNRESPONSIVE connector. */
  async authorize(tenantId: string, partner: MtdPartner | undefined): Promise<ConnectorRecord> {
    return authorizePartner(await activeConnector(this.store.dataSource.manager, tenantId), partner);
  }

  /**
   * Enables the partner's connector, or updates its settings when it is already
   * the enabled one. CONFLICT when another partner is ENABLED or UNRESPONSIVE.
   */
  async enable(tenantId: string, settings: ConnectorSettings, actor: Actor): Promise<ConnectorRecord> {
    const { connector, changed } = await this.store.transaction(async (tx) => {
      const tenant = await lockTenant(tx, tenantId);
      const connectors = await tx.manager.find(ConnectorEntity, { where: { tenantId } });
      const active = connectors.find(isActive);
      if (active !== undefined && active.partner !== settings.partner) {
        throw conflict(`partner ${active.partner} is ${active.state} for this tenant; disable it before enabling ${settings.partner}`);
      }
      const now = new Date(this.store.now());
      const existing = connectors.find((connector) => connector.partner === settings.partner);
      let next: ConnectorRecord;
      if (existing !== undefined && isActive(existing)) {
        const unchanged =
          existing.enabledPlatforms.join() === settings.enabledPlatforms.join() &&
          existing.blockOnMissingPartnerData.join() === settings.blockOnMissingPartnerData.join() &&
          existing.unresponsiveAfterMinutes === settings.unresponsiveAfterMinutes;
        if (unchanged && effectiveState(existing, now.getTime()) === existing.state) return { connector: existing, changed: false };
        next = { ...existing, ...settings, updatedAt: now };
        next.deadlineAt = deadlineOf(next);
        const overdue = now.getTime() > next.deadlineAt.getTime();
        next.state = overdue ? "UNRESPONSIVE" : "ENABLED";
        next.unresponsiveSince = overdue ? (existing.unresponsiveSince ?? next.deadlineAt) : null;
      } else {
        next = { tenantId, ...settings, state: "ENABLED", enabledAt: now, lastHeartbeatAt: null, deadlineAt: null, unresponsiveSince: null, updatedAt: now };
        next.deadlineAt = deadlineOf(next);
      }
      await tx.manager.getRepository(ConnectorEntity).save(next);
      await this.changed(tx, tenant, settings.partner, existing?.state ?? null, next.state, now);
      const action = existing !== undefined && isActive(existing) ? "connector.updated" : "connector.enabled";
      await this.audit.record(tx.manager, tenantId, actor, { action, targetType: "MtdConnector", targetId: settings.partner, before: existing === undefined ? null : audited(existing), after: audited(next) });
      return { connector: next, changed: true };
    });
    if (changed) this.republish(tenantId);
    return connector;
  }

  /** Disables the tenant's ENABLED or UNRESPONSIVE connector; null when there is none. */
  async disable(tenantId: string, actor: Actor): Promise<ConnectorRecord | null> {
    const connector = await this.store.transaction(async (tx) => {
      const tenant = await lockTenant(tx, tenantId);
      const active = await activeConnector(tx.manager, tenantId);
      if (active === null) return null;
      const now = new Date(this.store.now());
      const next: ConnectorRecord = { ...active, state: "DISABLED", deadlineAt: null, unresponsiveSince: null, updatedAt: now };
      await tx.manager.getRepository(ConnectorEntity).save(next);
      await this.changed(tx, tenant, active.partner, active.state, "DISABLED", now);
      await this.audit.record(tx.manager, tenantId, actor, { action: "connector.disabled", targetType: "MtdConnector", targetId: active.partner, before: audited(active), after: audited(next) });
      return next;
    });
    if (connector !== null) this.republish(tenantId);
    return connector;
  }

  /** The partner is alive: pushes the deadline out, and an UNRESPONSIVE connector is ENABLED again. FORBIDDEN for any other partner. */
  async heartbeat(tenantId: string, partner: MtdPartner | undefined): Promise<ConnectorRecord> {
    const { connector, changed } = await this.store.transaction(async (tx) => {
      const tenant = await lockTenant(tx, tenantId);
      const active = authorizePartner(await activeConnector(tx.manager, tenantId), partner);
      const now = new Date(this.store.now());
      const was = effectiveState(active, now.getTime());
      // Overdue but not yet marked (no check or read since the deadline): the miss is recorded before the recovery.
      if (was === "UNRESPONSIVE" && active.state === "ENABLED") await this.changed(tx, tenant, active.partner, "ENABLED", "UNRESPONSIVE", now);
      const next: ConnectorRecord = { ...active, state: "ENABLED", lastHeartbeatAt: now, unresponsiveSince: null, updatedAt: now };
      next.deadlineAt = deadlineOf(next);
      await tx.manager.getRepository(ConnectorEntity).save(next);
      if (was === "UNRESPONSIVE") await this.changed(tx, tenant, active.partner, "UNRESPONSIVE", "ENABLED", now);
      return { connector: next, changed: was === "UNRESPONSIVE" };
    });
    if (changed) this.republish(tenantId);
    return connector;
  }

  /**
   * The periodic check: every ENABLED connector past its deadline turns
   * UNRESPONSIVE, and tenants whose assessments lag behind their connector
   * (a republish cut short by a crash) are republished.
   */
  async check(): Promise<void> {
    for (;;) {
      const overdue = await this.store.dataSource
        .getRepository(ConnectorEntity)
        .createQueryBuilder("c")
        .where("c.state = :state AND c.deadline_at < :now", { state: "ENABLED", now: this.store.now() })
        .orderBy("c.deadline_at", "ASC")
        .limit(CHECK_BATCH_SIZE)
        .getMany();
      for (const connector of overdue) await this.markUnresponsive(connector.tenantId);
      if (overdue.length < CHECK_BATCH_SIZE) break;
    }
    const behind = await this.store.dataSource
      .getRepository(TenantEntity)
      .createQueryBuilder("t")
      .where("t.assessed_version < t.connector_version")
      .getMany();
    for (const tenant of behind) await this.assessments.republish(tenant.tenantId);
  }

  /** ENABLED and overdue → UNRESPONSIVE since the missed deadline. False when there was nothing to do. */
  private async markUnresponsive(tenantId: string): Promise<boolean> {
    const marked = await this.store.transaction(async (tx) => {
      const tenant = await lockTenant(tx, tenantId);
      const active = await activeConnector(tx.manager, tenantId);
      const now = new Date(this.store.now());
      if (active === null || active.state !== "ENABLED" || effectiveState(active, now.getTime()) !== "UNRESPONSIVE") return false;
      const next: ConnectorRecord = { ...active, state: "UNRESPONSIVE", unresponsiveSince: active.deadlineAt, updatedAt: now };
      await tx.manager.getRepository(ConnectorEntity).save(next);
      await this.changed(tx, tenant, active.partner, "ENABLED", "UNRESPONSIVE", now);
      return true;
    });
    if (marked) {
      this.logger.info({ tenantId }, "MTD connector unresponsive");
      this.republish(tenantId);
    }
    return marked;
  }

  /** Bumps the tenant's connector version (assessments are now behind it) and emits the transition, if the state changed. */
  private async changed(tx: Transaction, tenant: TenantRecord, partner: MtdPartner, previous: ConnectorState | null, state: ConnectorState, at: Date): Promise<void> {
    tenant.connectorVersion += 1;
    await tx.manager.update(TenantEntity, { tenantId: tenant.tenantId }, { connectorVersion: tenant.connectorVersion });
    if (previous !== state) tx.emit(connectorStateChanged(tenant.tenantId, partner, previous, state, tenant.connectorVersion, at));
  }

  /** Republishes in the background; the periodic check retries what fails. */
  private republish(tenantId: string): void {
    this.assessments.republish(tenantId).catch((error: unknown) => this.logger.warn({ err: error, tenantId }, "republishing assessments failed"));
  }
}

/** The tenant's row (created on first use), locked until the commit on MySQL: connector changes of one tenant take turns. */
async function lockTenant(tx: Transaction, tenantId: string): Promise<TenantRecord> {
  await tx.manager.createQueryBuilder().insert().into(TenantEntity).values({ tenantId, connectorVersion: 0, assessedVersion: 0 }).orIgnore().updateEntity(false).execute();
  const query = tx.manager.getRepository(TenantEntity).createQueryBuilder("t").where("t.tenant_id = :tenantId", { tenantId });
  return (await tx.forUpdate(query).getOne())!;
}
