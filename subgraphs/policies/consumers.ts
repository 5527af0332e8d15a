/**
 * What the policies subgraph consumes, in lanes: device events, assessments
 * and its own policy changes, each topic in its own consumer group, and the
 * urgent lane, a second group on `threats` that applies only the assessments
 * marked `urgent` (a report on a single device) and acknowledges the rest
 * unparsed (the log screens their JSON for `"urgent":true`). Each lane takes a batch at a time into the evaluator, and the lanes
 * run side by side: an urgent report waits for no backlog of bulk work (a
 * re-sync, an enrolment wave), only for the tenant's lock, which a bulk
 * transaction holds for one batch or one re-evaluation slice. Its copy in the
 * assessments lane then finds its version applied and changes nothing; an
 * older event of the device still queued there is stale by then, so a
 * device's effects stay in version order.
 *
 * Policy changes travel on the service's private topic (`policies.private`);
 * releases before it wrote them to the public `policies` topic, and the
 * legacy lane (the same consumer group on that topic) applies those still in
 * the log or in an outbox after an upgrade. Every event reaches the evaluator
 * checked against the catalog (lib/events/consumer.ts).
 */
import { randomUUID } from "node:crypto";
import { ASSESSMENT_CHANGED, DEVICE_EVENT_TYPES, POLICIES_PRIVATE_TOPIC, POLICY_CHANGED } from "../../lib/events/catalog.js";
import { consumeEventBatches } from "../../lib/events/consumer.js";
import type { Disposable, EventLog } from "../../lib/events/types.js";
import type { Logger } from "../../lib/logger.js";
import type { EvaluatorEvent, Evaluator } from "./evaluator.js";

/**
 * Events per batch: the most a tenant's transaction applies at once, which
 * bounds how long it holds the tenant's lock (the other lanes' transactions of
 * the tenant wait at most that long).
 */
export const EVALUATION_BATCH = 100;
/** Events per read of the urgent lane: most of them are skipped unread, so it reads far ahead. */
const URGENT_READ = 1000;
/** The text of an urgent assessment's JSON (`"urgent":true`): the urgent lane parses only the events that contain it. */
const URGENT_MARK = JSON.stringify({ urgent: true }).slice(1, -1);
const POLICY_CHANGES = "policies.policy-changes";

export function consumeIntoEvaluator(events: EventLog, evaluator: Evaluator, logger: Logger): Disposable[] {
  const consumer = `policies-${randomUUID()}`;
  /** A lane's consumer options and its handler: each batch (the events `accepts` takes) into the evaluator. */
  const lane = (group: string, batchSize: number, accepts: (event: EvaluatorEvent) => boolean = () => true, mentions?: string) =>
    [
      { group, consumer, batchSize, logger, mentions },
      async (batch: EvaluatorEvent[]) => {
        const applied = batch.filter(accepts);
        if (applied.length === 0) return;
        try {
          await evaluator.handleBatch(group, applied);
        } catch (error) {
          logger.error({ err: error, events: applied.length, first: applied[0]!.id, topic: applied[0]!.topic, group }, "evaluation failed; the batch will be retried");
          throw error;
        }
      },
    ] as const;
  return [
    consumeEventBatches(events, "devices", DEVICE_EVENT_TYPES, ...lane("policies.devices", EVALUATION_BATCH)),
    consumeEventBatches(events, "threats", [ASSESSMENT_CHANGED], ...lane("policies.assessments", EVALUATION_BATCH)),
    consumeEventBatches(events, "threats", [ASSESSMENT_CHANGED], ...lane("policies.urgent-assessments", URGENT_READ, isUrgent, URGENT_MARK)),
    consumeEventBatches(events, POLICIES_PRIVATE_TOPIC, [POLICY_CHANGED], ...lane(POLICY_CHANGES, EVALUATION_BATCH)),
    // Legacy: policy changes written to the public topic by earlier releases.
    consumeEventBatches(events, "policies", [POLICY_CHANGED], ...lane(POLICY_CHANGES, EVALUATION_BATCH)),
  ];
}

function isUrgent(event: EvaluatorEvent): boolean {
  return event.type === ASSESSMENT_CHANGED && event.payload.urgent === true;
}
