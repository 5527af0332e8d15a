import DataLoader from "dataloader";
import type { RequestContext } from "../context.js";
import type { AssessmentRepository } from "./data/assessments.js";
import type { ConnectorRepository } from "./data/connectors.js";
import type { DeviceStateRecord, ThreatRecord } from "./data/entities.js";
import type { ReportRepository } from "./data/reports.js";
import type { RiskFeed } from "./risk-feed.js";

export interface Services {
  assessments: AssessmentRepository;
  connectors: ConnectorRepository;
  reports: ReportRepository;
  riskFeed: RiskFeed;
  /** Epoch ms. */
  now: () => number;
}

export interface Loaders {
  /** A device's assessment row (null: unknown to this subgraph): one SQL statement per batch. */
  deviceState: DataLoader<string, DeviceStateRecord | null>;
  /** Every threat on a device: one SQL statement per batch. */
  threats: DataLoader<string, ThreatRecord[]>;
}

export interface Context extends RequestContext, Services {
  /** Per request, and renewed per subscription event (`renewLoaders`). */
  loaders: Loaders;
  renewLoaders(): void;
}

export function createContext(base: RequestContext, services: Services): Context {
  const tenantId = base.identity.tenantId;
  const loaders = (): Loaders => ({
    deviceState: new DataLoader(async (ids) => {
      const found = new Map((await services.assessments.findDevices(tenantId, ids)).map((device) => [device.deviceId, device]));
      return ids.map((id) => found.get(id) ?? null);
    }),
    threats: new DataLoader(async (ids) => {
      const byDevice = new Map<string, ThreatRecord[]>(ids.map((id) => [id, []]));
      for (const threat of await services.assessments.findThreats(tenantId, ids)) byDevice.get(threat.deviceId)?.push(threat);
      return ids.map((id) => byDevice.get(id)!);
    }),
  });
  const context: Context = {
    ...base,
    ...services,
    loaders: loaders(),
    renewLoaders: () => {
      context.loaders = loaders();
    },
  };
  return context;
}
