import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";

const tenant = { name: "tenant_id", type: "varchar", length: "64", isPrimary: true };

/** Wave 2: grace periods (a durable deadline per device), report-only policies with their stored impact, access exceptions. */
export class Policies0002 implements MigrationInterface {
  name = "Policies0002_1764633600000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn("compliance_policies", new TableColumn({ name: "grace_period_minutes", type: "integer", default: 0 }));
    await queryRunner.addColumn("conditional_access_policies", new TableColumn({ name: "mode", type: "varchar", length: "16", default: "'ENFORCED'" }));
    await queryRunner.addColumn("policy_devices", new TableColumn({ name: "grace_deadline", type: "bigint", isNullable: true }));
    await queryRunner.createIndex("policy_devices", new TableIndex({ name: "policy_devices_grace_deadline", columnNames: ["grace_deadline"] }));
    await queryRunner.createTable(
      new Table({
        name: "policy_impacts",
        columns: [tenant, { name: "policy_id", type: "varchar", length: "64", isPrimary: true }, { name: "device_id", type: "varchar", length: "128", isPrimary: true }],
        indices: [new TableIndex({ name: "policy_impacts_device", columnNames: ["tenant_id", "device_id"] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "access_exceptions",
        columns: [
          tenant,
          { name: "id", type: "varchar", length: "36", isPrimary: true },
          { name: "device_id", type: "varchar", length: "128" },
          { name: "resources", type: "text" },
          { name: "reason", type: "varchar", length: "512" },
          { name: "expires_at", type: "bigint" },
          { name: "granted_by", type: "varchar", length: "256" },
          { name: "granted_at", type: "bigint" },
          { name: "revoked_at", type: "bigint", isNullable: true },
          { name: "expiry_evaluated", type: "boolean" },
        ],
        indices: [
          new TableIndex({ name: "access_exceptions_device", columnNames: ["tenant_id", "device_id"] }),
          new TableIndex({ name: "access_exceptions_due", columnNames: ["expiry_evaluated", "expires_at"] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("access_exceptions");
    await queryRunner.dropTable("policy_impacts");
    await queryRunner.dropIndex("policy_devices", "policy_devices_grace_deadline");
    await queryRunner.dropColumn("policy_devices", "grace_deadline");
    await queryRunner.dropColumn("conditional_access_policies", "mode");
    await queryRunner.dropColumn("compliance_policies", "grace_period_minutes");
  }
}
