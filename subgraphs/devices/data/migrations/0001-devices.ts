import { Table, TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";

export class Devices0001 implements MigrationInterface {
  name = "Devices0001_1764417600000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "devices",
        columns: [
          { name: "tenant_id", type: "varchar", length: "64", isPrimary: true },
          { name: "id", type: "varchar", length: "128", isPrimary: true },
          { name: "name", type: "varchar", length: "256" },
          { name: "platform", type: "varchar", length: "16" },
          { name: "os_version", type: "varchar", length: "64" },
          { name: "ownership", type: "varchar", length: "16" },
          { name: "user_principal_name", type: "varchar", length: "320", isNullable: true },
          { name: "enrolled_at", type: "bigint" },
          { name: "updated_at", type: "bigint" },
          { name: "retired_at", type: "bigint", isNullable: true },
          { name: "version", type: "integer" },
        ],
      }),
    );
    await queryRunner.createIndex("devices", new TableIndex({ name: "devices_tenant_platform", columnNames: ["tenant_id", "platform", "id"] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("devices");
  }
}
