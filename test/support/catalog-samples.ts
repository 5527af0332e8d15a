/**
 * A valid payload of every event type of the catalog, and a malformed one
 * (with the field the refusal must name). Typed by the catalog: a type added
 * to it without samples here is a compile error.
 */
import { randomUUID } from "node:crypto";
import type { CatalogTopic, EventType, PayloadOf } from "../../lib/events/catalog.js";
import type { NewEvent } from "../../lib/events/types.js";

interface Samples<T extends CatalogTopic, K extends EventType<T>> {
  valid: PayloadOf<T, K>;
  /** What a producer's bug or a hand-written entry could carry instead, and the path the refusal names. */
  malformed: { payload: unknown; field: string };
}

type Catalogued = { [T in CatalogTopic]: { [K in EventType<T>]: Samples<T, K> } };

const at = "2026-12-02T10:00:00.000Z";
const device: PayloadOf<"devices", "device.enrolled"> = {
  id: "d-1",
  name: "Ada's iPhone",
  platform: "IOS",
  ownership: "CORPORATE",
  osVersion: "17.1",
  userPrincipalName: "ada@example.com",
  enrolledAt: at,
  retiredAt: null,
};
const policyChanged = {
  valid: { kind: "compliance", policyId: "p-1", platforms: ["IOS"] } satisfies PayloadOf<"policies.private", "policy.changed">,
  malformed: { payload: { kind: "compliance", policyId: "p-1", platforms: ["IOS", "SYMBIAN"] }, field: "payload.platforms[1]" },
} as const;

export const SAMPLES: Catalogued = {
  devices: {
    "device.enrolled": { valid: device, malformed: { payload: { ...device, platform: "SYMBIAN" }, field: "payload.platform" } },
    "device.updated": { valid: device, malformed: { payload: { ...device, id: "x".repeat(129) }, field: "payload.id" } },
    "device.retired": { valid: { ...device, retiredAt: at }, malformed: { payload: { ...device, retiredAt: "yesterday" }, field: "payload.retiredAt" } },
  },
  threats: {
    "device.assessment.changed": {
      valid: { deviceId: "d-1", platform: "IOS", previousLevel: null, level: "HIGH", dataStatus: "REPORTED", blockOnMissing: false, partner: "LOOKOUT", unresponsiveSince: null, urgent: true },
      malformed: { payload: { deviceId: "d-1", platform: "IOS", previousLevel: null, level: "CRITICAL", dataStatus: "REPORTED", blockOnMissing: false, partner: "LOOKOUT", unresponsiveSince: null }, field: "payload.level" },
    },
    "connector.state.changed": {
      valid: { partner: "LOOKOUT", previousState: "ENABLED", state: "DISABLED", enabledPlatforms: ["IOS"] },
      malformed: { payload: { partner: "LOOKOUT", previousState: "ENABLED", state: "BROKEN" }, field: "payload.state" },
    },
    "connectors.announced": {
      valid: { connectors: [{ partner: "LOOKOUT", state: "ENABLED", enabledPlatforms: ["IOS", "ANDROID"] }] },
      malformed: { payload: { connectors: [{ partner: "NOKIA", state: "ENABLED", enabledPlatforms: [] }] }, field: "payload.connectors[0].partner" },
    },
  },
  policies: {
    "access.changed": {
      valid: { sequence: 1, cursor: "MQ", deviceId: "d-1", resource: "exchange", allowed: false, reason: "noncompliant", at },
      malformed: { payload: { sequence: "1", cursor: "MQ", deviceId: "d-1", resource: "exchange", allowed: false, reason: "noncompliant", at }, field: "payload.sequence" },
    },
    "compliance.changed": {
      valid: { changeId: "c-1", deviceId: "d-1", userPrincipalName: null, previous: null, current: "NONCOMPLIANT", reason: "risk HIGH", at },
      malformed: { payload: { changeId: "c-1", deviceId: "d-1", userPrincipalName: null, previous: null, current: "MAYBE", reason: "risk HIGH", at }, field: "payload.current" },
    },
    "policy.changed": policyChanged,
  },
  "policies.private": { "policy.changed": policyChanged },
  inventory: {
    "inventory.settings.changed": {
      valid: { iosAppSyncEnabled: true, includePersonalDevices: false, previous: { iosAppSyncEnabled: false, includePersonalDevices: false }, changedBy: "admin" },
      malformed: { payload: { iosAppSyncEnabled: true, includePersonalDevices: false, previous: { iosAppSyncEnabled: "no" }, changedBy: "admin" }, field: "payload.previous.iosAppSyncEnabled" },
    },
  },
  audit: {
    "audit.recorded": {
      valid: { id: randomUUID(), tenantId: "t-1", service: "devices", action: "device.enrolled", targetType: "Device", targetId: "d-1", actor: "admin", actorRole: "admin", requestId: null, before: null, after: "{}", at: Date.parse(at) },
      malformed: { payload: { id: randomUUID(), tenantId: "t-1", service: "devices", action: "device.enrolled", targetType: "Device", targetId: "d-1", actor: "admin", actorRole: "admin", requestId: null, before: null, after: "{}", at: at }, field: "payload.at" },
    },
  },
};

/** Every topic and type of the catalog with its samples. */
export const CATALOGUED = Object.entries(SAMPLES).flatMap(([topic, types]) =>
  Object.entries(types as Record<string, Samples<CatalogTopic, EventType>>).map(([type, samples]) => ({ topic: topic as CatalogTopic, type: type as EventType, ...samples })),
);

/** An event of `type` for `tenantId` carrying `payload`. */
export function sampleEvent(type: string, tenantId: string, payload: unknown, fields: Partial<NewEvent> = {}): NewEvent {
  return { id: randomUUID(), type, tenantId, aggregateId: "sample", version: 1, occurredAt: new Date().toISOString(), payload, ...fields };
}
