import { Table, type MigrationInterface, type QueryRunner } from "typeorm";
import { VERSION_KEY_LENGTH } from "../version.js";

/**
 * The inventory's tables. Index key lengths stay under InnoDB's 3072 bytes
 * (utf8mb4: 4 bytes per character, plus 2 per varchar): the widest,
 * `inventory_apps_app_device`, is 2689 bytes.
 */
export class Inventory0001_1767225600000 implements MigrationInterface {
  name = "Inventory0001_1767225600000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "inventory_settings",
        columns: [
          { name: "tenant_id", type: "varchar", length: "64", isPrimary: true },
          { name: "ios_app_sync_enabled", type: "boolean" },
          { name: "include_personal_devices", type: "boolean" },
          { name: "updated_at", type: "bigint" },
          { name: "version", type: "integer" },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "inventory_devices",
        columns: [
          { name: "tenant_id", type: "varchar", length: "64", isPrimary: true },
          { name: "id", type: "varchar", length: "128", isPrimary: true },
          { name: "platform", type: "varchar", length: "16" },
          { name: "ownership", type: "varchar", length: "16" },
          { name: "retired_at", type: "bigint", isNullable: true },
          { name: "version", type: "integer" },
          { name: "captured_at", type: "bigint", isNullable: true },
          { name: "app_count", type: "integer" },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "inventory_apps",
        columns: [
          // Primary key (tenant, device, app): a device's snapshot is one range, and the default order of `apps`.
          { name: "tenant_id", type: "varchar", length: "64", isPrimary: true },
          { name: "device_id", type: "varchar", length: "128", isPrimary: true },
          { name: "app_id", type: "varchar", length: "256", isPrimary: true },
          { name: "platform", type: "varchar", length: "16" },
          { name: "ownership", type: "varchar", length: "16" },
          { name: "name", type: "varchar", length: "256" },
          { name: "name_lower", type: "varchar", length: "512" },
          { name: "version", type: "varchar", length: "64" },
          { name: "version_key", type: "varchar", length: String(VERSION_KEY_LENGTH) },
          { name: "short_version", type: "varchar", length: "64", isNullable: true },
          { name: "bundle_size", type: "bigint", isNullable: true },
          { name: "dynamic_size", type: "bigint", isNullable: true },
          { name: "validated", type: "boolean" },
          { name: "managed", type: "boolean" },
          { name: "reported_at", type: "bigint" },
        ],
        // Both indexes carry what visibility (platform, ownership, managed) and the common filters
        // test, so queries by app id filter and count on the index alone, reading table rows only
        // for the page they return.
        indices: [
          // `apps(filter: { appId, … })`: one range in (device, app) order; LIMIT stops the scan early.
          { name: "inventory_apps_app_device", columnNames: ["tenant_id", "app_id", "device_id", "platform", "ownership", "managed", "version_key"] },
          // `appVersionCounts`: grouped in index order.
          { name: "inventory_apps_app_version", columnNames: ["tenant_id", "app_id", "version_key", "version", "platform", "ownership", "managed"] },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "inventory_app_names",
        columns: [
          { name: "tenant_id", type: "varchar", length: "64", isPrimary: true },
          { name: "app_id", type: "varchar", length: "256", isPrimary: true },
          { name: "name", type: "varchar", length: "256", isPrimary: true },
          { name: "name_lower", type: "varchar", length: "512" },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ["inventory_app_names", "inventory_apps", "inventory_devices", "inventory_settings"]) {
      await queryRunner.dropTable(table);
    }
  }
}
