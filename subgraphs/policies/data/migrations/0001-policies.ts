import { Table, TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";

const tenant = { name: "tenant_id", type: "varchar", length: "64", isPrimary: true };

export class Policies0001 implements MigrationInterface {
  name = "Policies0001_1764417600000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "policy_devices",
        columns: [
          tenant,
          { name: "device_id", type: "varchar", length: "128", isPrimary: true },
          { name: "platform", type: "varchar", length: "16" },
          { name: "user_principal_name", type: "varchar", length: "320", isNullable: true },
          { name: "retired", type: "boolean" },
          { name: "device_version", type: "integer" },
          { name: "assessment_version", type: "integer" },
          { name: "level", type: "varchar", length: "16", isNullable: true },
          { name: "data_status", type: "varchar", length: "32" },
          { name: "block_on_missing", type: "boolean" },
          { name: "partner", type: "varchar", length: "64", isNullable: true },
          { name: "unresponsive_since", type: "bigint", isNullable: true },
          { name: "compliant", type: "boolean" },
          { name: "compliance_reason", type: "varchar", length: "512" },
          { name: "evaluated_at", type: "bigint" },
        ],
        indices: [new TableIndex({ name: "policy_devices_platform", columnNames: ["tenant_id", "platform", "device_id"] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "compliance_policies",
        columns: [
          tenant,
          { name: "id", type: "varchar", length: "64", isPrimary: true },
          { name: "platform", type: "varchar", length: "16" },
          { name: "name", type: "varchar", length: "256" },
          { name: "max_threat_level", type: "varchar", length: "16" },
          { name: "updated_at", type: "bigint" },
        ],
        indices: [new TableIndex({ name: "compliance_policies_platform", columnNames: ["tenant_id", "platform"], isUnique: true })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "conditional_access_policies",
        columns: [
          tenant,
          { name: "id", type: "varchar", length: "64", isPrimary: true },
          { name: "name", type: "varchar", length: "256" },
          { name: "resources", type: "text" },
          { name: "platforms", type: "varchar", length: "128" },
          { name: "enabled", type: "boolean" },
          { name: "updated_at", type: "bigint" },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "access_decisions",
        columns: [
          tenant,
          { name: "device_id", type: "varchar", length: "128", isPrimary: true },
          { name: "resource", type: "varchar", length: "128", isPrimary: true },
          { name: "allowed", type: "boolean" },
          { name: "reason", type: "varchar", length: "512" },
          { name: "decided_at", type: "bigint" },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "access_changes",
        columns: [
          tenant,
          { name: "sequence", type: "bigint", isPrimary: true },
          { name: "device_id", type: "varchar", length: "128" },
          { name: "resource", type: "varchar", length: "128" },
          { name: "allowed", type: "boolean" },
          { name: "reason", type: "varchar", length: "512" },
          { name: "at", type: "bigint" },
        ],
        indices: [new TableIndex({ name: "access_changes_resource", columnNames: ["tenant_id", "resource", "sequence"] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "tenant_sequences",
        columns: [tenant, { name: "last_sequence", type: "bigint" }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ["tenant_sequences", "access_changes", "access_decisions", "conditional_access_policies", "compliance_policies", "policy_devices"]) {
      await queryRunner.dropTable(table);
    }
  }
}
