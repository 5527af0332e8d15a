/**
 * What the inventory knows about devices comes from the devices service's
 * events: platform, ownership and retirement, applied idempotently by the
 * per-device version.
 */
import { randomUUID } from "node:crypto";
import { isDeviceEvent } from "../../lib/events/catalog.js";
import type { Disposable, EventLog, LoggedEvent } from "../../lib/events/types.js";
import type { Logger } from "../../lib/logger.js";
import type { InventoryRepository } from "./data/repository.js";

export function consumeDeviceEvents(events: EventLog, inventory: InventoryRepository, logger: Logger): Disposable {
  return events.consume("devices", { group: "inventory.devices", consumer: `inventory-${randomUUID()}` }, async (event: LoggedEvent) => {
    if (!isDeviceEvent(event)) return;
    if (event.version === undefined) {
      // Without a version the event cannot be ordered against others: applying it could undo a newer one.
      logger.warn({ eventId: event.id, type: event.type }, "device event without a version ignored");
      return;
    }
    const outcome = await inventory.applyDeviceEvent(event.tenantId, event.version, event.payload);
    logger.debug({ eventId: event.id, type: event.type, deviceId: event.aggregateId, version: event.version, outcome }, "device event");
  });
}
