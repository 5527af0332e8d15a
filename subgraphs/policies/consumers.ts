/**
 * What the policies subgraph consumes: device events, assessments and its own
 * policy changes, each topic in its own consumer group, a batch at a time
 * (up to `EVALUATION_BATCH` events per read), into the evaluator.
 */
import { randomUUID } from "node:crypto";
import type { Disposable, EventLog } from "../../lib/events/types.js";
import type { Logger } from "../../lib/logger.js";
import type { Evaluator } from "./evaluator.js";

/** The consumer group of each topic the evaluator follows. */
const GROUPS = { devices: "policies.devices", threats: "policies.assessments", policies: "policies.policy-changes" } as const;

/**
 * Events per batch: the most a tenant's transaction applies at once, which
 * bounds how long it holds the tenant's lock (the other topics' consumers of
 * the tenant wait at most that long).
 */
export const EVALUATION_BATCH = 200;

export function consumeIntoEvaluator(events: EventLog, evaluator: Evaluator, logger: Logger): Disposable[] {
  const consumer = `policies-${randomUUID()}`;
  return Object.entries(GROUPS).map(([topic, group]) =>
    events.consumeBatches(topic, { group, consumer, batchSize: EVALUATION_BATCH }, async (batch) => {
      try {
        await evaluator.handleBatch(group, batch);
      } catch (error) {
        logger.error({ err: error, events: batch.length, first: batch[0]!.id, topic }, "evaluation failed; the batch will be retried");
        throw error;
      }
    }),
  );
}
