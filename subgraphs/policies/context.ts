import DataLoader from "dataloader";
import type { RequestContext } from "../runtime.js";
import type { AccessChangeStream } from "./access-stream.js";
import type { AccessDecisionRecord, PolicyDeviceRecord } from "./data/entities.js";
import type { PolicyRepository } from "./data/repository.js";
import type { SsfAdmin } from "./ssf/admin.js";

export interface DeviceReference {
  id: string;
}

export interface Context extends RequestContext {
  policies: PolicyRepository;
  accessStream: AccessChangeStream;
  /** Per request (and per subscription event): one SQL statement per batch of devices. */
  deviceState: DataLoader<string, PolicyDeviceRecord | null>;
  decisions: DataLoader<string, AccessDecisionRecord[]>;
  /** The Shared Signals transmitter's admin side; undefined when the transmitter is off. */
  ssf?: SsfAdmin;
}

export function createContext(base: RequestContext, policies: PolicyRepository, accessStream: AccessChangeStream, ssf?: SsfAdmin): Context {
  const tenantId = base.identity.tenantId;
  return {
    ...base,
    policies,
    accessStream,
    ssf,
    deviceState: new DataLoader(async (ids) => {
      const found = new Map((await policies.devices(tenantId, ids)).map((device) => [device.deviceId, device]));
      return ids.map((id) => found.get(id) ?? null);
    }),
    decisions: new DataLoader(async (ids) => {
      const byDevice = new Map<string, AccessDecisionRecord[]>();
      for (const decision of await policies.decisions(tenantId, ids)) {
        byDevice.set(decision.deviceId, [...(byDevice.get(decision.deviceId) ?? []), decision]);
      }
      return ids.map((id) => byDevice.get(id) ?? []);
    }),
  };
}
