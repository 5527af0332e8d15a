import { Table, TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";

/** The threats subgraph's tables. The name ends with the 13-digit timestamp TypeORM orders migrations by. */
export class Threats0001 implements MigrationInterface {
  name = "Threats0001_1767225600000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "threat_connectors",
        columns: [
          { name: "tenant_id", type: "varchar", length: "64", isPrimary: true },
          { name: "partner", type: "varchar", length: "64", isPrimary: true },
          { name: "state", type: "varchar", length: "16" },
          { name: "enabled_platforms", type: "varchar", length: "64" },
          { name: "block_on_missing", type: "varchar", length: "64" },
          { name: "unresponsive_after_minutes", type: "integer" },
          { name: "enabled_at", type: "bigint" },
          { name: "last_heartbeat_at", type: "bigint", isNullable: true },
          { name: "deadline_at", type: "bigint", isNullable: true },
          { name: "unresponsive_since", type: "bigint", isNullable: true },
          { name: "updated_at", type: "bigint" },
        ],
        // The timer's query: ENABLED connectors past their deadline, across tenants.
        indices: [{ name: "threat_connectors_deadline", columnNames: ["state", "deadline_at"] }],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "threat_tenants",
        columns: [
          { name: "tenant_id", type: "varchar", length: "64", isPrimary: true },
          { name: "connector_version", type: "integer", default: 0 },
          { name: "assessed_version", type: "integer", default: 0 },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "threat_devices",
        columns: [
          { name: "tenant_id", type: "varchar", length: "64", isPrimary: true },
          { name: "device_id", type: "varchar", length: "128", isPrimary: true },
          { name: "platform", type: "varchar", length: "16" },
          { name: "ownership", type: "varchar", length: "16" },
          { name: "retired_at", type: "bigint", isNullable: true },
          { name: "device_version", type: "integer" },
          { name: "level", type: "varchar", length: "16", isNullable: true },
          { name: "data_status", type: "varchar", length: "32" },
          { name: "block_on_missing", type: "integer" },
          { name: "partner", type: "varchar", length: "64", isNullable: true },
          { name: "unresponsive_since", type: "bigint", isNullable: true },
          { name: "assessment_version", type: "integer" },
          { name: "assessed_at", type: "bigint", isNullable: true },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "threat_reports",
        columns: [
          { name: "tenant_id", type: "varchar", length: "64", isPrimary: true },
          { name: "partner", type: "varchar", length: "64", isPrimary: true },
          { name: "report_id", type: "varchar", length: "128", isPrimary: true },
          { name: "device_id", type: "varchar", length: "128" },
          { name: "observed_at", type: "bigint" },
          { name: "received_at", type: "bigint" },
          { name: "threat_count", type: "integer" },
        ],
      }),
    );
    // Which devices a partner reported on (dataStatus REPORTED after a partner switch).
    await queryRunner.createIndex("threat_reports", new TableIndex({ name: "threat_reports_device", columnNames: ["tenant_id", "partner", "device_id"] }));
    await queryRunner.createTable(
      new Table({
        name: "threats",
        columns: [
          { name: "id", type: "varchar", length: "36", isPrimary: true },
          { name: "tenant_id", type: "varchar", length: "64" },
          { name: "partner", type: "varchar", length: "64" },
          { name: "device_id", type: "varchar", length: "128" },
          { name: "external_id", type: "varchar", length: "256" },
          { name: "category", type: "varchar", length: "16" },
          { name: "severity", type: "varchar", length: "16" },
          { name: "title", type: "varchar", length: "512" },
          { name: "status", type: "varchar", length: "16" },
          { name: "detected_at", type: "bigint" },
          { name: "resolved_at", type: "bigint", isNullable: true },
          { name: "observed_at", type: "bigint" },
          { name: "updated_at", type: "bigint" },
        ],
      }),
    );
    await queryRunner.createIndex("threats", new TableIndex({ name: "threats_key", columnNames: ["tenant_id", "partner", "device_id", "external_id"], isUnique: true }));
    await queryRunner.createIndex("threats", new TableIndex({ name: "threats_device", columnNames: ["tenant_id", "device_id"] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ["threats", "threat_reports", "threat_devices", "threat_tenants", "threat_connectors"]) await queryRunner.dropTable(table);
  }
}
