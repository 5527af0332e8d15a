/** What the threats subgraph consumes: the devices service's events, applied to its copy of each device (and its assessment). */
import { randomUUID } from "node:crypto";
import type { Disposable, EventLog } from "../../lib/events/types.js";
import type { Logger } from "../../lib/logger.js";
import type { AssessmentRepository } from "./data/assessments.js";

export function consumeDeviceEvents(events: EventLog, assessments: AssessmentRepository, logger: Logger): Disposable {
  return events.consume("devices", { group: "threats.devices", consumer: `threats-${randomUUID()}` }, async (event) => {
    try {
      await assessments.applyDeviceEvent(event);
    } catch (error) {
      logger.warn({ err: error, eventId: event.id, type: event.type }, "device event not applied; it will be retried");
      throw error;
    }
  });
}
