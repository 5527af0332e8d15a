import { TableColumn, type MigrationInterface, type QueryRunner } from "typeorm";

/** A report's content fingerprint (fingerprint.ts): a reused reportId with other content is CONFLICT. Reports accepted before have none. */
export class Threats0002 implements MigrationInterface {
  name = "Threats0002_1796169600000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn("threat_reports", new TableColumn({ name: "fingerprint", type: "varchar", length: "64", isNullable: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn("threat_reports", "fingerprint");
  }
}
