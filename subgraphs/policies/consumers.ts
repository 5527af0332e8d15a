/** What the policies subgraph consumes: device events, assessments and its own policy changes, each topic in its own consumer group, into the evaluator. */
import { randomUUID } from "node:crypto";
import type { Disposable, EventLog } from "../../lib/events/types.js";
import type { Logger } from "../../lib/logger.js";
import type { Evaluator } from "./evaluator.js";

/** The consumer group of each topic the evaluator follows. */
const GROUPS = { devices: "policies.devices", threats: "policies.assessments", policies: "policies.policy-changes" } as const;

export function consumeIntoEvaluator(events: EventLog, evaluator: Evaluator, logger: Logger): Disposable[] {
  const consumer = `policies-${randomUUID()}`;
  return Object.entries(GROUPS).map(([topic, group]) =>
    events.consume(topic, { group, consumer }, async (event) => {
      try {
        await evaluator.handle(group, event);
      } catch (error) {
        logger.error({ err: error, eventId: event.id, type: event.type }, "evaluation failed; the event will be retried");
        throw error;
      }
    }),
  );
}
