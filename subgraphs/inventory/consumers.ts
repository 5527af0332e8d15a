/**
 * What the inventory knows about devices comes from the devices service's
 * events: platform, ownership and retirement, applied idempotently by the
 * per-device version.
 */
import { randomUUID } from "node:crypto";
import { DEVICE_EVENT_TYPES } from "../../lib/events/catalog.js";
import { consumeEvents } from "../../lib/events/consumer.js";
import type { Disposable, EventLog } from "../../lib/events/types.js";
import type { Logger } from "../../lib/logger.js";
import type { InventoryRepository } from "./data/repository.js";

export function consumeDeviceEvents(events: EventLog, inventory: InventoryRepository, logger: Logger): Disposable {
  return consumeEvents(events, "devices", DEVICE_EVENT_TYPES, { group: "inventory.devices", consumer: `inventory-${randomUUID()}`, logger }, async (event) => {
    if (event.version === undefined) {
      // Without a version the event cannot be ordered against others: applying it could undo a newer one.
      logger.warn({ eventId: event.id, type: event.type }, "device event without a version ignored");
      return;
    }
    const outcome = await inventory.applyDeviceEvent(event.tenantId, event.version, event.payload);
    logger.debug({ eventId: event.id, type: event.type, deviceId: event.aggregateId, version: event.version, outcome }, "device event");
  });
}
