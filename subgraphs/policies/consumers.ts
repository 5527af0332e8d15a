/**
 * What the policies subgraph consumes, in lanes: device events, assessments
 * and its own policy changes, each topic in its own consumer group, and the
 * urgent lane, a second group on `threats` that applies only the assessments
 * marked `urgent` (a report on a single device) and acknowledges the rest
 * unread. Each lane takes a batch at a time into the evaluator, and the lanes
 * run side by side: an urgent report waits for no backlog of bulk work (a
 * re-sync, an enrolment wave), only for the tenant's lock, which a bulk
 * transaction holds for one batch or one re-evaluation slice. Its copy in the
 * assessments lane then finds its version applied and changes nothing; an
 * older event of the device still queued there is stale by then, so a
 * device's effects stay in version order.
 */
import { randomUUID } from "node:crypto";
import type { AssessmentChangedPayload } from "../../lib/events/contracts.js";
import type { Disposable, EventLog, LoggedEvent } from "../../lib/events/types.js";
import type { Logger } from "../../lib/logger.js";
import type { Evaluator } from "./evaluator.js";

/**
 * Events per batch: the most a tenant's transaction applies at once, which
 * bounds how long it holds the tenant's lock (the other lanes' transactions of
 * the tenant wait at most that long).
 */
export const EVALUATION_BATCH = 100;
/** Events per read of the urgent lane: most of them are skipped unread, so it reads far ahead. */
const URGENT_READ = 1000;

interface Lane {
  topic: string;
  group: string;
  batchSize: number;
  /** Only these events of the topic are applied (default: all). */
  accepts?: (event: LoggedEvent) => boolean;
}

const LANES: readonly Lane[] = [
  { topic: "devices", group: "policies.devices", batchSize: EVALUATION_BATCH },
  { topic: "threats", group: "policies.assessments", batchSize: EVALUATION_BATCH },
  { topic: "threats", group: "policies.urgent-assessments", batchSize: URGENT_READ, accepts: isUrgentAssessment },
  { topic: "policies", group: "policies.policy-changes", batchSize: EVALUATION_BATCH },
];

function isUrgentAssessment(event: LoggedEvent): boolean {
  return event.type === "device.assessment.changed" && (event.payload as Partial<AssessmentChangedPayload> | null)?.urgent === true;
}

export function consumeIntoEvaluator(events: EventLog, evaluator: Evaluator, logger: Logger): Disposable[] {
  const consumer = `policies-${randomUUID()}`;
  return LANES.map(({ topic, group, batchSize, accepts }) =>
    events.consumeBatches(topic, { group, consumer, batchSize }, async (batch) => {
      const applied = accepts === undefined ? batch : batch.filter(accepts);
      if (applied.length === 0) return;
      try {
        await evaluator.handleBatch(group, applied);
      } catch (error) {
        logger.error({ err: error, events: applied.length, first: applied[0]!.id, topic, group }, "evaluation failed; the batch will be retried");
        throw error;
      }
    }),
  );
}
