/**
 * The event catalog: which event types each topic carries and the payload of
 * each (contracts.ts). Producers and consumers name types through these
 * constants, so a renamed type is a compile error in every consumer instead
 * of an event silently skipped.
 */
import type { ConnectorsAnnouncedPayload, ConnectorStateChangedPayload, DeviceEventPayload } from "./contracts.js";
import type { LoggedEvent } from "./types.js";

/** Topic `devices`: the device's state after enrolment, an update or retirement; aggregate = device id, versioned per device. */
export const DEVICE_EVENT_TYPES = ["device.enrolled", "device.updated", "device.retired"] as const;
export type DeviceEventType = (typeof DEVICE_EVENT_TYPES)[number];

const deviceEventTypes: ReadonlySet<string> = new Set(DEVICE_EVENT_TYPES);

/** An event of topic `devices` carrying a device's state (the types every consumer of devices applies). */
export function isDeviceEvent(event: LoggedEvent): event is LoggedEvent<DeviceEventPayload> & { type: DeviceEventType } {
  return deviceEventTypes.has(event.type);
}

/** Topic `threats`: a connector's state transition, and every connector of a tenant (see contracts.ts). */
export const CONNECTOR_STATE_CHANGED = "connector.state.changed";
export const CONNECTORS_ANNOUNCED = "connectors.announced";

/** The connectors an event of topic `threats` says something about, with their states (none for other events). */
export function connectorsOf(event: LoggedEvent): readonly { partner: ConnectorStateChangedPayload["partner"]; state: ConnectorStateChangedPayload["state"] }[] {
  if (event.type === CONNECTOR_STATE_CHANGED) return [event.payload as ConnectorStateChangedPayload];
  if (event.type === CONNECTORS_ANNOUNCED) return (event.payload as ConnectorsAnnouncedPayload).connectors;
  return [];
}
