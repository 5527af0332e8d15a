/**
 * The event catalog: every topic, the event types it carries, and the check
 * of each type's payload (its type in contracts.ts). Producers and consumers
 * name topics and types through it: `CatalogNewEvent` is what a unit of work
 * emits, and consumers read through lib/events/consumer.ts, which hands over
 * only events of the types they ask for, each checked here first. A renamed
 * type is a compile error in every producer and consumer instead of an event
 * silently skipped; a malformed event is refused the same way everywhere.
 *
 * Topics are named after the service that owns their events. `*.private`
 * topics carry a service's triggers to itself: no other service consumes
 * them, and they are no contract.
 */
import { CONNECTOR_STATES, COMPLIANCE_STATES, MTD_PARTNERS, OWNERSHIPS, PLATFORMS, THREAT_LEVELS } from "../domain-enums.js";
import { boolean, integer, list, nullable, object, oneOf, optional, string, text, time, type Check } from "./checks.js";
import {
  DATA_STATUSES,
  type AccessChangedPayload,
  type AssessmentChangedPayload,
  type AuditRecord,
  type ComplianceChangedPayload,
  type ConnectorsAnnouncedPayload,
  type ConnectorStateChangedPayload,
  type DeviceEventPayload,
  type InventorySettingsChangedPayload,
  type PolicyChangedPayload,
} from "./contracts.js";
import type { LoggedEvent, NewEvent } from "./types.js";

export const DEVICE_ENROLLED = "device.enrolled";
export const DEVICE_UPDATED = "device.updated";
export const DEVICE_RETIRED = "device.retired";
/** Topic `devices`: the device's state after enrolment, an update or retirement. */
export const DEVICE_EVENT_TYPES = [DEVICE_ENROLLED, DEVICE_UPDATED, DEVICE_RETIRED] as const;
export type DeviceEventType = (typeof DEVICE_EVENT_TYPES)[number];
export const ASSESSMENT_CHANGED = "device.assessment.changed";
export const CONNECTOR_STATE_CHANGED = "connector.state.changed";
export const CONNECTORS_ANNOUNCED = "connectors.announced";
export const ACCESS_CHANGED = "access.changed";
export const COMPLIANCE_CHANGED = "compliance.changed";
export const POLICY_CHANGED = "policy.changed";
export const INVENTORY_SETTINGS_CHANGED = "inventory.settings.changed";
export const AUDIT_RECORDED = "audit.recorded";

/** The policies service's own triggers (`policy.changed`). */
export const POLICIES_PRIVATE_TOPIC = "policies.private";
/** Every service's audit entries, gathered by the devices service. */
export const AUDIT_TOPIC = "audit";

// Lengths are those of the columns consumers store the values in.
const platform = oneOf(PLATFORMS);
const level = nullable(oneOf(THREAT_LEVELS));

const device: Check<DeviceEventPayload> = object<DeviceEventPayload>({
  id: text(128),
  name: text(256),
  platform,
  ownership: oneOf(OWNERSHIPS),
  osVersion: text(64),
  userPrincipalName: nullable(text(320)),
  enrolledAt: time,
  retiredAt: nullable(time),
});

const assessment = object<AssessmentChangedPayload>({
  deviceId: text(128),
  platform,
  previousLevel: level,
  level,
  dataStatus: oneOf(DATA_STATUSES),
  blockOnMissing: boolean,
  partner: nullable(oneOf(MTD_PARTNERS)),
  unresponsiveSince: nullable(time),
  urgent: optional(boolean),
});

const connectorStateChanged = object<ConnectorStateChangedPayload>({
  partner: oneOf(MTD_PARTNERS),
  previousState: nullable(oneOf(CONNECTOR_STATES)),
  state: oneOf(CONNECTOR_STATES),
  enabledPlatforms: optional(list(platform)),
});

const connectorsAnnounced = object<ConnectorsAnnouncedPayload>({
  connectors: list(object({ partner: oneOf(MTD_PARTNERS), state: oneOf(CONNECTOR_STATES), enabledPlatforms: list(platform) })),
});

const accessChanged = object<AccessChangedPayload>({
  sequence: integer(1),
  cursor: text(1024),
  deviceId: text(128),
  resource: text(128),
  allowed: boolean,
  reason: string,
  at: time,
});

const enforced = oneOf(["COMPLIANT", "NONCOMPLIANT"] as const);
const complianceChanged = object<ComplianceChangedPayload>({
  changeId: text(64),
  deviceId: text(128),
  userPrincipalName: nullable(text(320)),
  previous: nullable(enforced),
  current: enforced,
  previousState: optional(nullable(oneOf(COMPLIANCE_STATES))),
  state: optional(oneOf(COMPLIANCE_STATES)),
  complianceDeadline: optional(nullable(time)),
  reason: string,
  at: time,
  platform: optional(platform),
  partner: optional(nullable(oneOf(MTD_PARTNERS))),
  level: optional(level),
  policy: optional(nullable(object({ id: text(64), name: text(256), maxThreatLevel: oneOf(THREAT_LEVELS) }))),
});

const policyChanged = object<PolicyChangedPayload>({
  kind: oneOf(["compliance", "conditional-access"] as const),
  policyId: text(64),
  platforms: list(platform),
});

const sharing = { iosAppSyncEnabled: boolean, includePersonalDevices: boolean };
const inventorySettingsChanged = object<InventorySettingsChangedPayload>({ ...sharing, previous: object(sharing), changedBy: text(256, 0) });

const auditRecorded = object<AuditRecord>({
  id: text(36),
  tenantId: text(64),
  service: text(32),
  action: text(64),
  targetType: text(64),
  targetId: text(256),
  actor: text(256, 0),
  actorRole: text(32),
  requestId: nullable(text(128, 0)),
  before: nullable(string),
  after: nullable(string),
  at: integer(0),
});

/** Topic → event type → the check of its payload. */
export const CATALOG = {
  devices: { [DEVICE_ENROLLED]: device, [DEVICE_UPDATED]: device, [DEVICE_RETIRED]: device },
  threats: { [ASSESSMENT_CHANGED]: assessment, [CONNECTOR_STATE_CHANGED]: connectorStateChanged, [CONNECTORS_ANNOUNCED]: connectorsAnnounced },
  /**
   * `policy.changed` is here only as releases before `policies.private` wrote
   * it (still in the log or an outbox after an upgrade): the policies
   * evaluator reads it here too, and nothing writes it here any more.
   */
  policies: { [ACCESS_CHANGED]: accessChanged, [COMPLIANCE_CHANGED]: complianceChanged, [POLICY_CHANGED]: policyChanged },
  [POLICIES_PRIVATE_TOPIC]: { [POLICY_CHANGED]: policyChanged },
  inventory: { [INVENTORY_SETTINGS_CHANGED]: inventorySettingsChanged },
  [AUDIT_TOPIC]: { [AUDIT_RECORDED]: auditRecorded },
};

type Catalog = typeof CATALOG;
export type CatalogTopic = keyof Catalog;
/** The event types of `T` (of every topic by default). */
export type EventType<T extends CatalogTopic = CatalogTopic> = { [P in T]: keyof Catalog[P] & string }[T];
/** The payload of events of type `K` on topic `T`. */
export type PayloadOf<T extends CatalogTopic, K extends EventType<T>> = Catalog[T][K & keyof Catalog[T]] extends Check<infer P> ? P : never;

/** An event of topic `T` and one of the types `K`, as consumers get it: its payload checked, `type` telling which it is. */
export type CatalogEvent<T extends CatalogTopic = CatalogTopic, K extends EventType<T> = EventType<T>> = {
  [P in T]: { [Q in K & EventType<P>]: LoggedEvent<PayloadOf<P, Q>> & { topic: P; type: Q } }[K & EventType<P>];
}[T];

/** An event of topic `T` as a producer writes it. */
export type CatalogNewEvent<T extends CatalogTopic = CatalogTopic, K extends EventType<T> = EventType<T>> = {
  [P in T]: { [Q in K & EventType<P>]: NewEvent<PayloadOf<P, Q>> & { type: Q } }[K & EventType<P>];
}[T];

/** What every event carries besides its payload, checked before it. */
const envelope = object<Pick<NewEvent, "id" | "tenantId" | "version" | "occurredAt">>({ id: text(64), tenantId: text(64), version: optional(integer(0)), occurredAt: time });

/** Whether the catalog lists `type` on `topic`. */
export function listed<T extends CatalogTopic>(topic: T, type: string): type is EventType<T> {
  return Object.hasOwn(CATALOG[topic], type);
}

/** Why `event`, of a type the catalog lists on its topic, cannot be applied (naming the field, what was expected and what came), or null. */
export function eventProblem<T extends CatalogTopic>(topic: T, event: LoggedEvent & { type: EventType<T> }): string | null {
  const payload = (CATALOG[topic] as Record<string, Check<unknown>>)[event.type]!;
  return envelope(event, "") ?? payload(event.payload, "payload");
}
