import { TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";

/**
 * RESOLVED threats last observed longer ago than `MTD_RETENTION_REPORTS` are
 * pruned (lib/retention.ts): the index on status and observation time finds
 * each batch, oldest first, without reading the threats that stay.
 */
export class Threats0004 implements MigrationInterface {
  name = "Threats0004_1796342400000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex("threats", new TableIndex({ name: "threats_status_observed", columnNames: ["status", "observed_at"] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex("threats", "threats_status_observed");
  }
}
