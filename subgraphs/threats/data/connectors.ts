/**
 * The tenant's MTD connectors: one row per tenant and partner, several of
 * them ENABLED or UNRESPONSIVE at once, never two on the same platform. Every
 * change takes the tenant's row lock; every state transition is a
 * `connector.state.changed` event of that connector, and every change that
 * can alter assessments triggers their republication on the connector's
 * platforms only. At start every tenant's connectors are announced
 * (`connectors.announced`) for the other subgraphs' partner rule.
 */
import type { Actor, AuditTrail } from "../../../lib/audit.js";
import type { MtdPartner } from "../../../lib/domain-enums.js";
import { badUserInput, conflict } from "../../../lib/errors.js";
import type { Logger } from "../../../lib/logger.js";
import { authorizePartner, type ConnectorDirectory } from "../../../lib/partner-rule.js";
import { connectorsAnnounced, connectorStateChanged, deadlineOf, effectiveState, isActive } from "../domain.js";
import type { ConnectorState, Platform } from "../generated/graphql.js";
import { activeConnectors, type AssessmentRepository } from "./assessments.js";
import { ConnectorEntity, TenantEntity, type ConnectorRecord, type TenantRecord } from "./entities.js";
import type { Transaction, UnitOfWork } from "../../../lib/unit-of-work.js";

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

/** The tenants' connectors; the partner rule's directory in the threats subgraph (it reads them as stored). */
export class ConnectorRepository implements ConnectorDirectory {
  constructor(
    private readonly store: UnitOfWork,
    private readonly assessments: AssessmentRepository,
    private readonly logger: Logger,
    private readonly audit: AuditTrail,
  ) {}

  /** `Query.mtdConnectors`: every connector of the tenant by partner, overdue ones turned UNRESPONSIVE first. */
  async list(tenantId: string): Promise<ConnectorRecord[]> {
    const manager = this.store.dataSource.manager;
    for (const active of await activeConnectors(manager, tenantId)) {
      if (effectiveState(active, this.store.now()) !== active.state) await this.markUnresponsive(tenantId, active.partner);
    }
    return manager.find(ConnectorEntity, { where: { tenantId }, order: { partner: "ASC" } });
  }

  /**
   * `Query.mtdConnector`: the active connector covering the most platforms,
   * else the most recently changed one, else null.
   */
  async current(tenantId: string): Promise<ConnectorRecord | null> {
    const connectors = await this.list(tenantId);
    const active = connectors.filter(isActive).sort((a, b) => b.enabledPlatforms.length - a.enabledPlatforms.length || a.partner.localeCompare(b.partner));
    if (active.length > 0) return active[0]!;
    return connectors.sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || a.partner.localeCompare(b.partner))[0] ?? null;
  }

  /** The tenant's ENABLED and UNRESPONSIVE connectors as stored, for the partner rule (lib/partner-rule.ts). */
  connectors(tenantId: string): Promise<ConnectorRecord[]> {
    return activeConnectors(this.store.dataSource.manager, tenantId);
  }

  /**
   * `connectors.announced` for every tenant that has connectors, each at its
   * connector version, from one consistent read: run at start, so the other
   * subgraphs' views of the connectors (lib/connector-view.ts) learn them even
   * when they are new.
   */
  async announce(): Promise<void> {
    await this.store.transaction(async (tx) => {
      const versions = new Map((await tx.manager.find(TenantEntity)).map((tenant) => [tenant.tenantId, tenant.connectorVersion]));
      const byTenant = new Map<string, ConnectorRecord[]>();
      for (const connector of await tx.manager.find(ConnectorEntity)) byTenant.set(connector.tenantId, [...(byTenant.get(connector.tenantId) ?? []), connector]);
      const at = new Date(this.store.now());
      for (const [tenantId, connectors] of byTenant) tx.emit(connectorsAnnounced(tenantId, connectors, versions.get(tenantId) ?? 0, at));
    });
  }

  /**
   * Enables the partner's connector, or updates its settings when it is
   * already active. CONFLICT when one of its platforms is covered by another
   * partner's ENABLED or UNRESPONSIVE connector.
   */
  async enable(tenantId: string, settings: ConnectorSettings, actor: Actor): Promise<ConnectorRecord> {
    const { connector, changed } = await this.store.transaction(async (tx) => {
      const tenant = await lockTenant(tx, tenantId);
      const connectors = await tx.manager.find(ConnectorEntity, { where: { tenantId } });
      for (const other of connectors.filter((connector) => isActive(connector) && connector.partner !== settings.partner)) {
        const shared = other.enabledPlatforms.filter((platform) => settings.enabledPlatforms.includes(platform));
        if (shared.length > 0) {
          throw conflict(`partner ${other.partner} is ${other.state} for ${shared.join(", ")} in this tenant; disable it or leave ${shared.join(", ")} out before enabling ${settings.partner}`);
        }
      }
      const now = new Date(this.store.now());
      const existing = connectors.find((connector) => connector.partner === settings.partner);
      let next: ConnectorRecord;
      if (existing !== undefined && isActive(existing)) {
        const unchanged =
          existing.enabledPlatforms.join() === settings.enabledPlatforms.join() &&
          existing.blockOnMissingPartnerData.join() === settings.blockOnMissingPartnerData.join() &&
          existing.unresponsiveAfterMinutes === settings.unresponsiveAfterMinutes;
        if (unchanged && effectiveState(existing, now.getTime()) === existing.state) return { connector: existing, changed: null };
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
      await this.changed(tx, tenant, next, existing?.state ?? null, next.state, now);
      const action = existing !== undefined && isActive(existing) ? "connector.updated" : "connector.enabled";
      await this.audit.record(tx, tenantId, actor, { action, targetType: "MtdConnector", targetId: settings.partner, before: existing === undefined ? null : audited(existing), after: audited(next) });
      const platforms = new Set([...(existing !== undefined && isActive(existing) ? existing.enabledPlatforms : []), ...next.enabledPlatforms]);
      return { connector: next, changed: [...platforms] };
    });
    if (changed !== null) this.republish(tenantId, changed);
    return connector;
  }

  /**
   * Disables the partner's ENABLED or UNRESPONSIVE connector; null when it has
   * none. Without `partner`: the tenant's only active connector (null when
   * there is none, BAD_USER_INPUT when there are several).
   */
  async disable(tenantId: string, partner: MtdPartner | undefined, actor: Actor): Promise<ConnectorRecord | null> {
    const connector = await this.store.transaction(async (tx) => {
      const tenant = await lockTenant(tx, tenantId);
      const actives = await activeConnectors(tx.manager, tenantId);
      if (partner === undefined && actives.length > 1) {
        throw badUserInput("partner", `expected one of ${actives.map((c) => c.partner).join(", ")}: several connectors are enabled; got none`);
      }
      const active = partner === undefined ? actives[0] : actives.find((c) => c.partner === partner);
      if (active === undefined) return null;
      const now = new Date(this.store.now());
      const next: ConnectorRecord = { ...active, state: "DISABLED", deadlineAt: null, unresponsiveSince: null, updatedAt: now };
      await tx.manager.getRepository(ConnectorEntity).save(next);
      await this.changed(tx, tenant, next, active.state, "DISABLED", now);
      await this.audit.record(tx, tenantId, actor, { action: "connector.disabled", targetType: "MtdConnector", targetId: active.partner, before: audited(active), after: audited(next) });
      return next;
    });
    if (connector !== null) this.republish(tenantId, connector.enabledPlatforms);
    return connector;
  }

  /** The partner is alive: pushes the deadline out, and an UNRESPONSIVE connector is ENABLED again. FORBIDDEN for any other partner. */
  async heartbeat(tenantId: string, partner: MtdPartner | undefined): Promise<ConnectorRecord> {
    const { connector, changed } = await this.store.transaction(async (tx) => {
      const tenant = await lockTenant(tx, tenantId);
      const active = authorizePartner(await activeConnectors(tx.manager, tenantId), partner);
      const now = new Date(this.store.now());
      const was = effectiveState(active, now.getTime());
      // Overdue but not yet marked (no check or read since the deadline): the miss is recorded before the recovery.
      if (was === "UNRESPONSIVE" && active.state === "ENABLED") await this.changed(tx, tenant, active, "ENABLED", "UNRESPONSIVE", now);
      const next: ConnectorRecord = { ...active, state: "ENABLED", lastHeartbeatAt: now, unresponsiveSince: null, updatedAt: now };
      next.deadlineAt = deadlineOf(next);
      await tx.manager.getRepository(ConnectorEntity).save(next);
      if (was === "UNRESPONSIVE") await this.changed(tx, tenant, active, "UNRESPONSIVE", "ENABLED", now);
      return { connector: next, changed: was === "UNRESPONSIVE" };
    });
    if (changed) this.republish(tenantId, connector.enabledPlatforms);
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
      for (const connector of overdue) await this.markUnresponsive(connector.tenantId, connector.partner);
      if (overdue.length < CHECK_BATCH_SIZE) break;
    }
    const behind = await this.store.dataSource
      .getRepository(TenantEntity)
      .createQueryBuilder("t")
      .where("t.assessed_version < t.connector_version")
      .getMany();
    for (const tenant of behind) await this.assessments.republish(tenant.tenantId);
  }

  /** The partner's connector, ENABLED and overdue → UNRESPONSIVE since the missed deadline (nothing to do otherwise). */
  private async markUnresponsive(tenantId: string, partner: MtdPartner): Promise<void> {
    const marked = await this.store.transaction(async (tx) => {
      const tenant = await lockTenant(tx, tenantId);
      const active = (await activeConnectors(tx.manager, tenantId)).find((connector) => connector.partner === partner);
      const now = new Date(this.store.now());
      if (active === undefined || active.state !== "ENABLED" || effectiveState(active, now.getTime()) !== "UNRESPONSIVE") return null;
      const next: ConnectorRecord = { ...active, state: "UNRESPONSIVE", unresponsiveSince: active.deadlineAt, updatedAt: now };
      await tx.manager.getRepository(ConnectorEntity).save(next);
      await this.changed(tx, tenant, next, "ENABLED", "UNRESPONSIVE", now);
      return next;
    });
    if (marked !== null) {
      this.logger.info({ tenantId, partner }, "MTD connector unresponsive");
      this.republish(tenantId, marked.enabledPlatforms);
    }
  }

  /** Bumps the tenant's connector version (assessments are now behind it) and emits the connector's transition, if its state changed. */
  private async changed(tx: Transaction, tenant: TenantRecord, connector: ConnectorRecord, previous: ConnectorState | null, state: ConnectorState, at: Date): Promise<void> {
    tenant.connectorVersion += 1;
    await tx.manager.update(TenantEntity, { tenantId: tenant.tenantId }, { connectorVersion: tenant.connectorVersion });
    if (previous !== state) tx.emit(connectorStateChanged(tenant.tenantId, connector, previous, state, tenant.connectorVersion, at));
  }

  /** Republishes the assessments of devices on `platforms` in the background; the periodic check retries what fails (over all platforms). */
  private republish(tenantId: string, platforms: readonly Platform[]): void {
    this.assessments.republish(tenantId, platforms).catch((error: unknown) => this.logger.warn({ err: error, tenantId }, "republishing assessments failed"));
  }
}

/** The tenant's row (created on first use), locked until the commit on MySQL: connector changes of one tenant take turns. */
function lockTenant(tx: Transaction, tenantId: string): Promise<TenantRecord> {
  return tx.lock(TenantEntity, { tenantId }, { tenantId, connectorVersion: 0, assessedVersion: 0 });
}
