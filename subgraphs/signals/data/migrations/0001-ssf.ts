import { Table, TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";
import { isMysql } from "../../../../lib/db.js";

/**
 * The Shared Signals transmitter's tables (see `../entities.ts`). On a MySQL
 * database where the transmitter ran inside the policies service (same
 * migration, recorded in `policies_migrations`), the tables exist already:
 * the signals service adopts them with their data.
 */
export class Ssf0001 implements MigrationInterface {
  name = "Ssf0001_1764417600100";

  async up(queryRunner: QueryRunner): Promise<void> {
    if (await queryRunner.hasTable("ssf_signing_keys")) return;
    const mysql = isMysql(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: "ssf_signing_keys",
        columns: [
          { name: "kid", type: "varchar", length: "64", isPrimary: true },
          { name: "generation", type: "integer" },
          { name: "public_jwk", type: "text" },
          { name: "private_jwk", type: "text" },
          { name: "created_at", type: "bigint" },
          { name: "activates_at", type: "bigint" },
        ],
        uniques: [{ name: "ssf_signing_keys_generation", columnNames: ["generation"] }],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "ssf_receivers",
        columns: [
          { name: "client_id", type: "varchar", length: "64", isPrimary: true },
          { name: "tenant_id", type: "varchar", length: "64" },
          { name: "name", type: "varchar", length: "256" },
          { name: "audience", type: "varchar", length: "512" },
          { name: "secret_hash", type: "varchar", length: "128", isNullable: true },
          { name: "okta_org_url", type: "varchar", length: "512", isNullable: true },
          { name: "created_at", type: "bigint" },
        ],
        indices: [new TableIndex({ name: "ssf_receivers_tenant", columnNames: ["tenant_id", "created_at"] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "ssf_streams",
        columns: [
          { name: "stream_id", type: "varchar", length: "64", isPrimary: true },
          { name: "tenant_id", type: "varchar", length: "64" },
          { name: "client_id", type: "varchar", length: "64" },
          { name: "audience", type: "varchar", length: "512" },
          { name: "events_requested", type: "text" },
          { name: "delivery_method", type: "varchar", length: "8" },
          { name: "endpoint_url", type: "varchar", length: "2048", isNullable: true },
          { name: "authorization_header", type: "text", isNullable: true },
          { name: "description", type: "varchar", length: "256", isNullable: true },
          { name: "status", type: "varchar", length: "16" },
          { name: "status_reason", type: "varchar", length: "256", isNullable: true },
          { name: "created_at", type: "bigint" },
          { name: "updated_at", type: "bigint" },
          { name: "last_verification_at", type: "bigint", isNullable: true },
          { name: "last_delivered_at", type: "bigint", isNullable: true },
          { name: "last_error_at", type: "bigint", isNullable: true },
          { name: "last_error", type: "varchar", length: "512", isNullable: true },
          { name: "consecutive_failures", type: "integer" },
        ],
        uniques: [{ name: "ssf_streams_client", columnNames: ["client_id"] }],
        indices: [new TableIndex({ name: "ssf_streams_tenant", columnNames: ["tenant_id"] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "ssf_subjects",
        columns: [
          { name: "stream_id", type: "varchar", length: "64", isPrimary: true },
          { name: "subject_key", type: "varchar", length: "64", isPrimary: true },
          { name: "subject", type: "text" },
          { name: "state", type: "varchar", length: "8" },
          { name: "updated_at", type: "bigint" },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "ssf_deliveries",
        columns: [
          // SQLite only auto-increments an INTEGER PRIMARY KEY (64-bit there); MySQL's INT is 32-bit.
          { name: "sequence", type: mysql ? "bigint" : "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" },
          { name: "stream_id", type: "varchar", length: "64" },
          { name: "jti", type: "varchar", length: "64" },
          { name: "event_type", type: "varchar", length: "128" },
          { name: "order_key", type: "varchar", length: "200" },
          { name: "txn", type: "varchar", length: "64", isNullable: true },
          { name: "device_id", type: "varchar", length: "128", isNullable: true },
          { name: "body", type: "text" },
          { name: "control", type: "boolean" },
          { name: "status", type: "varchar", length: "16" },
          { name: "attempts", type: "integer" },
          { name: "next_attempt_at", type: "bigint" },
          { name: "claimed_until", type: "bigint", isNullable: true },
          { name: "created_at", type: "bigint" },
          { name: "finished_at", type: "bigint", isNullable: true },
          { name: "last_error", type: "varchar", length: "512", isNullable: true },
        ],
        uniques: [{ name: "ssf_deliveries_jti", columnNames: ["jti"] }],
        indices: [
          // Heads per subject, due SETs of a stream, and the dead-letter list.
          new TableIndex({ name: "ssf_deliveries_stream_status", columnNames: ["stream_id", "status", "order_key", "sequence"] }),
          new TableIndex({ name: "ssf_deliveries_status_due", columnNames: ["status", "next_attempt_at"] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "ssf_device_states",
        columns: [
          { name: "tenant_id", type: "varchar", length: "64", isPrimary: true },
          { name: "device_id", type: "varchar", length: "128", isPrimary: true },
          { name: "compliance", type: "varchar", length: "16" },
          { name: "at", type: "bigint" },
          { name: "event_id", type: "varchar", length: "64" },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "ssf_processed_events",
        columns: [
          { name: "consumer_group", type: "varchar", length: "64", isPrimary: true },
          { name: "event_id", type: "varchar", length: "64", isPrimary: true },
          { name: "processed_at", type: "bigint" },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ["ssf_processed_events", "ssf_device_states", "ssf_deliveries", "ssf_subjects", "ssf_streams", "ssf_receivers", "ssf_signing_keys"]) {
      await queryRunner.dropTable(table);
    }
  }
}
