import DataLoader from "dataloader";
import type { RequestContext } from "../context.js";
import type { DeviceRecord } from "./data/entities.js";
import type { AuditLogRepository } from "./data/audit-log.js";
import type { DeviceRepository } from "./data/repository.js";

export interface Context extends RequestContext {
  devices: DeviceRepository;
  auditLog: AuditLogRepository;
  /** Per request: every device reference of one request costs one SQL statement. */
  deviceById: DataLoader<string, DeviceRecord | null>;
}

export function createContext(base: RequestContext, devices: DeviceRepository, auditLog: AuditLogRepository): Context {
  const tenantId = base.identity.tenantId;
  return {
    ...base,
    devices,
    auditLog,
    deviceById: new DataLoader(async (ids) => {
      const found = new Map((await devices.findByIds(tenantId, ids)).map((device) => [device.id, device]));
      return ids.map((id) => found.get(id) ?? null);
    }),
  };
}
