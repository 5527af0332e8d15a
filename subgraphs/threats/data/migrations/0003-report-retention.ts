import { Table, TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";

/**
 * Reports are pruned after `MTD_RETENTION_REPORTS` (by `received_at`, now
 * indexed), so whether a partner ever reported on a device moves to a table
 * of its own, one row per tenant, partner and device, filled from the
 * reports stored so far; the index that answered it from the reports goes.
 */
export class Threats0003 implements MigrationInterface {
  name = "Threats0003_1796256000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "threat_reported_devices",
        columns: [
          { name: "tenant_id", type: "varchar", length: "64", isPrimary: true },
          { name: "partner", type: "varchar", length: "64", isPrimary: true },
          { name: "device_id", type: "varchar", length: "128", isPrimary: true },
          { name: "first_reported_at", type: "bigint" },
        ],
      }),
    );
    await queryRunner.query(
      "INSERT INTO threat_reported_devices (tenant_id, partner, device_id, first_reported_at) SELECT tenant_id, partner, device_id, MIN(received_at) FROM threat_reports GROUP BY tenant_id, partner, device_id",
    );
    await queryRunner.dropIndex("threat_reports", "threat_reports_device");
    await queryRunner.createIndex("threat_reports", new TableIndex({ name: "threat_reports_received", columnNames: ["received_at"] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex("threat_reports", "threat_reports_received");
    await queryRunner.createIndex("threat_reports", new TableIndex({ name: "threat_reports_device", columnNames: ["tenant_id", "partner", "device_id"] }));
    await queryRunner.dropTable("threat_reported_devices");
  }
}
