import { TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";

/** Retention prunes access changes oldest first, by `at` (lib/retention.ts): an index makes each batch a range read. */
export class Policies0003 implements MigrationInterface {
  name = "Policies0003_1764720000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex("access_changes", new TableIndex({ name: "access_changes_at", columnNames: ["at"] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex("access_changes", "access_changes_at");
  }
}
