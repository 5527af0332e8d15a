import { EntitySchema } from "typeorm";
import { integerColumn, timestampColumn } from "../../../lib/db.js";
import type { Ownership, Platform } from "../generated/graphql.js";

export interface DeviceRecord {
  tenantId: string;
  id: string;
  name: string;
  platform: Platform;
  osVersion: string;
  ownership: Ownership;
  userPrincipalName: string | null;
  enrolledAt: Date;
  updatedAt: Date;
  retiredAt: Date | null;
  /** Incremented on every change; orders this device's events. */
  version: number;
}

export const DeviceEntity = new EntitySchema<DeviceRecord>({
  name: "Device",
  tableName: "devices",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    id: { type: "varchar", length: 128, primary: true },
    name: { type: "varchar", length: 256 },
    platform: { type: "varchar", length: 16 },
    osVersion: { type: "varchar", length: 64, name: "os_version" },
    ownership: { type: "varchar", length: 16 },
    userPrincipalName: { type: "varchar", length: 320, nullable: true, name: "user_principal_name" },
    enrolledAt: timestampColumn({ name: "enrolled_at" }),
    updatedAt: timestampColumn({ name: "updated_at" }),
    retiredAt: timestampColumn({ name: "retired_at", nullable: true }),
    version: integerColumn({ name: "version" }),
  },
});
