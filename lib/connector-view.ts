/**
 * A subgraph's view of the tenants' MTD connectors, for the partner rule
 * (lib/partner-rule.ts) in every subgraph but threats, which owns them:
 * `${service}_partner_connectors`, one row per tenant and partner with its
 * state and the version of the event that set it, kept from topic `threats`
 * (`connector.state.changed`, `connectors.announced`) by the consumer group
 * `${service}.partner-rule`. The rule reads it on every partner request: one
 * primary-key range read.
 *
 * What a replica knows: the view is a table of the subgraph's database,
 * shared by its replicas and kept across restarts, so a new or restarted
 * replica knows what the others knew, and a restart neither opens nor
 * closes the door. A view that is itself new (the first start of this
 * release, a new database) is empty and every partner is FORBIDDEN (fail
 * closed) until its consumer, which starts at the oldest event the log still
 * keeps, has applied the `connectors.announced` the threats subgraph sends
 * for every tenant each time it starts (or a later change of the tenant's
 * connectors). Between a change and its event reaching the view, the view
 * lags by the event latency (the relay publishes right after the commit).
 *
 * An event is applied by a conditional write (a row changes only for a
 * higher version), so redelivery, replicas consuming at once and an
 * announcement older than a transition it crossed are all harmless.
 */
import { randomUUID } from "node:crypto";
import { EntitySchema, Table, type DataSource, type MigrationInterface, type QueryRunner } from "typeorm";
import { integerColumn, isUniqueViolation } from "./db.js";
import type { ConnectorState, MtdPartner } from "./domain-enums.js";
import { CONNECTOR_STATE_CHANGED, CONNECTORS_ANNOUNCED, type CatalogEvent } from "./events/catalog.js";
import { consumeEventBatches } from "./events/consumer.js";
import type { Disposable, EventLog } from "./events/types.js";
import type { Logger } from "./logger.js";
import type { ConnectorDirectory, ConnectorStateName, PartnerConnector } from "./partner-rule.js";

export interface ConnectorViewRecord {
  tenantId: string;
  partner: MtdPartner;
  state: ConnectorStateName;
  /** The tenant's connector version of the event that set the row. */
  version: number;
}

const tableOf = (service: string) => `${service}_partner_connectors`;

/** The view's table of `service`: `${service}_partner_connectors`. */
export function connectorViewEntity(service: string): EntitySchema<ConnectorViewRecord> {
  return new EntitySchema<ConnectorViewRecord>({
    name: tableOf(service),
    tableName: tableOf(service),
    columns: {
      tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
      partner: { type: "varchar", length: 64, primary: true },
      state: { type: "varchar", length: 16 },
      version: integerColumn({ name: "version" }),
    },
  });
}

/** Creates `${service}_partner_connectors`: `ConnectorView_${service}_1000000000005`, after the outbox's, audit trail's and processed events' tables. */
export function connectorViewMigration(service: string): new () => MigrationInterface {
  const table = tableOf(service);
  return class ConnectorViewMigration implements MigrationInterface {
    name = `ConnectorView_${service}_1000000000005`;

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.createTable(
        new Table({
          name: table,
          columns: [
            { name: "tenant_id", type: "varchar", length: "64", isPrimary: true },
            { name: "partner", type: "varchar", length: "64", isPrimary: true },
            { name: "state", type: "varchar", length: "16" },
            { name: "version", type: "integer" },
          ],
        }),
      );
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.dropTable(table);
    }
  };
}

export class ConnectorView implements ConnectorDirectory {
  constructor(
    private readonly dataSource: DataSource,
    private readonly entity: EntitySchema<ConnectorViewRecord>,
  ) {}

  async connectors(tenantId: string): Promise<PartnerConnector[]> {
    return this.dataSource.getRepository(this.entity).find({ select: { partner: true, state: true }, where: { tenantId } });
  }

  /** Sets the connector's state unless the view holds it at `version` or later. */
  async apply(tenantId: string, connector: PartnerConnector, version: number): Promise<void> {
    const row: ConnectorViewRecord = { tenantId, partner: connector.partner, state: connector.state, version };
    if (await this.settled(row)) return;
    try {
      await this.dataSource.createQueryBuilder().insert().into(this.entity).values(row).updateEntity(false).execute();
    } catch (error) {
      // Another consumer inserted it meanwhile: replace it if it is older.
      if (!isUniqueViolation(error)) throw error;
      await this.settled(row);
    }
  }

  /** Replaces the row if it is older; true unless it is missing (it is now at `row.version` or later). */
  private async settled(row: ConnectorViewRecord): Promise<boolean> {
    const result = await this.dataSource
      .createQueryBuilder()
      .update(this.entity)
      .set({ state: row.state, version: row.version })
      .where("tenant_id = :tenantId AND partner = :partner AND version < :version", row)
      .execute();
    if ((result.affected ?? 0) > 0) return true;
    return this.dataSource.getRepository(this.entity).exists({ where: { tenantId: row.tenantId, partner: row.partner } });
  }
}

/** Keeps `view` from topic `threats` (consumer group `${service}.partner-rule`). */
export function consumeConnectorEvents(events: EventLog, view: ConnectorView, service: string, logger: Logger): Disposable {
  const options = { group: `${service}.partner-rule`, consumer: `${service}-${randomUUID()}`, logger };
  return consumeEventBatches(events, "threats", [CONNECTOR_STATE_CHANGED, CONNECTORS_ANNOUNCED], options, async (batch) => {
    try {
      for (const event of batch) {
        for (const connector of connectorsOf(event)) await view.apply(event.tenantId, connector, event.version ?? 0);
      }
    } catch (error) {
      logger.warn({ err: error }, "connector events not applied to the partner rule's view; they will be retried");
      throw error;
    }
  });
}

/** The connectors a connector event says something about, with their states. */
function connectorsOf(event: CatalogEvent<"threats", typeof CONNECTOR_STATE_CHANGED | typeof CONNECTORS_ANNOUNCED>): readonly { partner: MtdPartner; state: ConnectorState }[] {
  return event.type === CONNECTOR_STATE_CHANGED ? [event.payload] : event.payload.connectors;
}
