/**
 * The audit trail of configuration changes: who (the token's `sub` and role),
 * when, what (action and target), and the configuration before and after.
 *
 * Each service records into its own table, `${service}_audit`, in the same
 * transaction as the change (one `audit.record(manager, …)` call in the
 * repository method), and publishes the entry as an `audit.recorded` event on
 * topic `audit` through its outbox. The devices subgraph consumes that topic
 * into one table, the tenant's whole trail, served as `Query.auditLog`.
 * A change that is refused never commits, so it leaves no entry; a request
 * that changes nothing (the same settings again) leaves none either.
 */
import { randomUUID } from "node:crypto";
import { EntitySchema, Table, type EntityManager, type MigrationInterface, type QueryRunner } from "typeorm";
import type { Identity } from "./auth.js";
import { insertRows } from "./bulk.js";
import { integerColumn, isMysql } from "./db.js";
import { AUDIT_RECORDED, AUDIT_TOPIC, type CatalogNewEvent } from "./events/catalog.js";
import type { AuditRecord } from "./events/contracts.js";
import type { Outbox } from "./events/outbox.js";
import type { Transaction } from "./unit-of-work.js";

/** Who made a change. */
export interface Actor {
  /** The token's `sub`. */
  subject: string;
  role: string;
  requestId?: string;
}

/** The caller of a request, as an actor. */
export function actorOf(context: { identity: Identity; requestId?: string }): Actor {
  return { subject: context.identity.subject, role: context.identity.role, requestId: context.requestId };
}

/** What changed, as the repository describes it. */
export interface Change {
  /** e.g. `device.enrolled`, `connector.enabled`, `compliancePolicy.set`. */
  action: string;
  /** e.g. `Device`, `MtdConnector`, `CompliancePolicy`. */
  targetType: string;
  targetId: string;
  /** The configuration before the change; null when it did not exist. JSON-serialisable. */
  before: unknown;
  /** The configuration after the change; null when it no longer exists. */
  after: unknown;
}

export type { AuditRecord };

/** The table of a service's own entries. */
export const auditTable = (service: string) => `${service}_audit`;
/** The entity of an audit table (`auditTable(service)`, or a table gathering every service's entries). */
export function auditEntity(table: string): EntitySchema<AuditRecord> {
  return new EntitySchema<AuditRecord>({
    name: table,
    tableName: table,
    columns: {
      id: { type: "varchar", length: 36, primary: true },
      tenantId: { type: "varchar", length: 64, name: "tenant_id" },
      service: { type: "varchar", length: 32 },
      action: { type: "varchar", length: 64 },
      targetType: { type: "varchar", length: 64, name: "target_type" },
      targetId: { type: "varchar", length: 256, name: "target_id" },
      actor: { type: "varchar", length: 256 },
      actorRole: { type: "varchar", length: 32, name: "actor_role" },
      requestId: { type: "varchar", length: 128, name: "request_id", nullable: true },
      before: { type: "text", nullable: true },
      after: { type: "text", nullable: true },
      at: integerColumn({ name: "at", big: true }),
    },
    indices: [{ name: `${table}_tenant_at`, columns: ["tenantId", "at", "id"] }],
  });
}

/**
 * The migration creating an audit table, named `Audit_${table}_${timestamp}`.
 * Services' tables use 1000000000001 (right after the outbox's); the devices
 * subgraph's table of every service's entries 1000000000002.
 */
export function auditMigration(table: string, timestamp = 1_000_000_000_001): new () => MigrationInterface {
  return class AuditMigration implements MigrationInterface {
    name = `Audit_${table}_${timestamp}`;

    async up(queryRunner: QueryRunner): Promise<void> {
      const json = isMysql(queryRunner) ? "mediumtext" : "text";
      await queryRunner.createTable(
        new Table({
          name: table,
          columns: [
            { name: "id", type: "varchar", length: "36", isPrimary: true },
            { name: "tenant_id", type: "varchar", length: "64" },
            { name: "service", type: "varchar", length: "32" },
            { name: "action", type: "varchar", length: "64" },
            { name: "target_type", type: "varchar", length: "64" },
            { name: "target_id", type: "varchar", length: "256" },
            { name: "actor", type: "varchar", length: "256" },
            { name: "actor_role", type: "varchar", length: "32" },
            { name: "request_id", type: "varchar", length: "128", isNullable: true },
            { name: "before", type: json, isNullable: true },
            { name: "after", type: json, isNullable: true },
            { name: "at", type: "bigint" },
          ],
          indices: [{ name: `${table}_tenant_at`, columnNames: ["tenant_id", "at", "id"] }],
        }),
      );
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.dropTable(table);
    }
  };
}

/**
 * Where an entry is written: the unit of work's transaction (its event is
 * queued with the transaction's others), or a bare transactional
 * EntityManager (the event is enqueued at once; the caller flushes).
 */
export type AuditScope = Pick<Transaction, "manager" | "emitTo"> | EntityManager;

/** A service's audit trail: `record` inside the repository's transaction. */
export class AuditTrail {
  private readonly entity: EntitySchema<AuditRecord>;

  constructor(
    private readonly service: string,
    private readonly outbox: Pick<Outbox, "enqueue">,
    private readonly now: () => number = Date.now,
  ) {
    this.entity = auditEntity(auditTable(service));
  }

  /**
   * Stores the entry and its `audit.recorded` event in the caller's
   * transaction. Nothing when `before` and `after` are the same. Returns the
   * entry, or null.
   */
  async record(scope: AuditScope, tenantId: string, actor: Actor, change: Change): Promise<AuditRecord | null> {
    return (await this.recordMany(scope, tenantId, actor, [change]))[0] ?? null;
  }

  /** `record` for several changes: one multi-row insert and one outbox write. Returns the entries stored. */
  async recordMany(scope: AuditScope, tenantId: string, actor: Actor, changes: readonly Change[]): Promise<AuditRecord[]> {
    const manager = "emitTo" in scope ? scope.manager : scope;
    const entries: AuditRecord[] = [];
    for (const change of changes) {
      const before = change.before === null || change.before === undefined ? null : JSON.stringify(change.before);
      const after = change.after === null || change.after === undefined ? null : JSON.stringify(change.after);
      if (before === after) continue;
      entries.push({
        id: randomUUID(),
        tenantId,
        service: this.service,
        action: change.action,
        targetType: change.targetType,
        targetId: change.targetId,
        actor: actor.subject.slice(0, 256),
        actorRole: actor.role,
        requestId: actor.requestId?.slice(0, 128) ?? null,
        before,
        after,
        at: this.now(),
      });
    }
    if (entries.length === 0) return entries;
    await insertRows(manager, this.entity, entries);
    const events: CatalogNewEvent<typeof AUDIT_TOPIC>[] = entries.map((entry) => ({
      id: entry.id,
      type: AUDIT_RECORDED,
      tenantId,
      aggregateId: `${entry.targetType}:${entry.targetId}`,
      occurredAt: new Date(entry.at).toISOString(),
      payload: entry,
    }));
    if ("emitTo" in scope) scope.emitTo(AUDIT_TOPIC, ...events);
    else await this.outbox.enqueue(manager, AUDIT_TOPIC, events);
    return entries;
  }
}
