import DataLoader from "dataloader";
import type { RequestContext } from "../context.js";
import type { AccessChangeStream } from "./access-stream.js";
import type { ComplianceReader } from "./data/compliance.js";
import type { AccessDecisionRecord, AccessExceptionRecord, PolicyDeviceRecord } from "./data/entities.js";
import type { ExceptionRepository } from "./data/exceptions.js";
import type { ImpactReader } from "./data/impact.js";
import type { PolicyRepository } from "./data/repository.js";

export interface DeviceReference {
  id: string;
}

/** What `ConditionalAccessPolicy.impact` resolves to: its fields read the stored impact. */
export interface PolicyImpactReference {
  policyId: string;
}

/** The parts of the policies subgraph resolvers use besides the policy repository. */
export interface PolicyServices {
  exceptions: ExceptionRepository;
  impact: ImpactReader;
  compliance: ComplianceReader;
  /** The subgraph's clock, epoch ms. */
  now: () => number;
}

export interface Context extends RequestContext, PolicyServices {
  policies: PolicyRepository;
  accessStream: AccessChangeStream;
  /** Per request (and per subscription event): one SQL statement per batch of devices. */
  deviceState: DataLoader<string, PolicyDeviceRecord | null>;
  decisions: DataLoader<string, AccessDecisionRecord[]>;
  accessExceptions: DataLoader<string, AccessExceptionRecord[]>;
}

export function createContext(base: RequestContext, policies: PolicyRepository, services: PolicyServices, accessStream: AccessChangeStream): Context {
  const tenantId = base.identity.tenantId;
  return {
    ...base,
    ...services,
    policies,
    accessStream,
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
    accessExceptions: new DataLoader(async (ids) => {
      const byDevice = await services.exceptions.inForce(tenantId, ids);
      return ids.map((id) => byDevice.get(id) ?? []);
    }),
  };
}
