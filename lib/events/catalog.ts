/**
 * The event catalog: which event types each topic carries and the payload of
 * each (contracts.ts). Producers and consumers name types through these
 * constants, so a renamed type is a compile error in every consumer instead
 * of an event silently skipped.
 */
import type { DeviceEventPayload } from "./contracts.js";
import type { LoggedEvent } from "./types.js";

/** Topic `devices`: the device's state after enrolment, an update or retirement; aggregate = device id, versioned per device. */
export const DEVICE_EVENT_TYPES = ["device.enrolled", "device.updated", "device.retired"] as const;
export type DeviceEventType = (typeof DEVICE_EVENT_TYPES)[number];

const deviceEventTypes: ReadonlySet<string> = new Set(DEVICE_EVENT_TYPES);

/** An event of topic `devices` carrying a device's state (the types every consumer of devices applies). */
export function isDeviceEvent(event: LoggedEvent): event is LoggedEvent<DeviceEventPayload> & { type: DeviceEventType } {
  return deviceEventTypes.has(event.type);
}
