/**
 * What the threats subgraph consumes: the devices service's events, a batch at
 * a time (up to 200 per read), applied to its copy of each device (and its
 * assessment) in a transaction per tenant.
 */
import { randomUUID } from "node:crypto";
import { DEVICE_EVENT_TYPES } from "../../lib/events/catalog.js";
import { consumeEventBatches } from "../../lib/events/consumer.js";
import type { Disposable, EventLog } from "../../lib/events/types.js";
import type { Logger } from "../../lib/logger.js";
import type { AssessmentRepository } from "./data/assessments.js";

const DEVICE_EVENTS_BATCH = 200;

export function consumeDeviceEvents(events: EventLog, assessments: AssessmentRepository, logger: Logger): Disposable {
  const options = { group: "threats.devices", consumer: `threats-${randomUUID()}`, batchSize: DEVICE_EVENTS_BATCH, logger };
  return consumeEventBatches(events, "devices", DEVICE_EVENT_TYPES, options, async (batch) => {
    try {
      await assessments.applyDeviceEvents(batch);
    } catch (error) {
      logger.warn({ err: error, events: batch.length, first: batch[0]!.id }, "device events not applied; the batch will be retried");
      throw error;
    }
  });
}
