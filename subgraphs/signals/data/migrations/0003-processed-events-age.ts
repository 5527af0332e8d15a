import { TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";

/** Retention prunes `ssf_processed_events` by age, like every service's processed events (lib/retention.ts): an index makes each batch a range read. */
export class Ssf0003 implements MigrationInterface {
  name = "Ssf0003_1796256000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex("ssf_processed_events", new TableIndex({ name: "ssf_processed_events_at", columnNames: ["processed_at"] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex("ssf_processed_events", "ssf_processed_events_at");
  }
}
