/**
 * The devices subgraph: enrollment, retirement, the Device entity every other
 * subgraph extends, and the tenant's audit log (every service's entries,
 * consumed from topic `audit`).
 */
import { auditMigration } from "../../lib/audit.js";
import { olderThan } from "../../lib/retention.js";
import { runSubgraph, type SubgraphDeps } from "../runtime.js";
import { AUDIT_LOG_TABLE, AuditLogEntity, AuditLogRepository, consumeAuditTrail } from "./data/audit-log.js";
import { createContext } from "./context.js";
import { DeviceEntity } from "./data/entities.js";
import { Devices0001 } from "./data/migrations/0001-devices.js";
import { DeviceRepository } from "./data/repository.js";
import { resolvers } from "./resolvers/index.js";

export function start(deps: SubgraphDeps) {
  return runSubgraph(deps, {
    name: "devices",
    entities: [DeviceEntity, AuditLogEntity],
    migrations: [Devices0001, auditMigration(AUDIT_LOG_TABLE, 1_000_000_000_002)],
    setup: ({ config, database, work, audit, events, logger }) => {
      const devices = new DeviceRepository(work, audit);
      const auditLog = new AuditLogRepository(database.dataSource);
      return {
        resolvers,
        context: (base) => createContext(base, devices, auditLog),
        // The tenant-wide audit log it gathers ages like every audit trail.
        retention: [olderThan(AuditLogEntity, "at", config.retention.auditMs, "epochMs")],
        consumers: [consumeAuditTrail(events, auditLog, logger)],
      };
    },
  });
}
