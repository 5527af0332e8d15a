/**
 * The policies subgraph: compliance and conditional-access policies, the
 * evaluator that turns device events and assessments into access decisions,
 * and the gap-free stream of access changes.
 */
import { randomUUID } from "node:crypto";
import { TopicFeed } from "../../lib/events/feed.js";
import { runSubgraph, type SubgraphDeps } from "../runtime.js";
import { AccessChangeStream } from "./access-stream.js";
import { createContext } from "./context.js";
import { POLICY_ENTITIES } from "./data/entities.js";
import { Policies0001 } from "./data/migrations/0001-policies.js";
import { PolicyRepository } from "./data/repository.js";
import { Evaluator } from "./evaluator.js";
import { resolvers } from "./resolvers/index.js";

/** The consumer group of each topic the evaluator follows. */
const GROUPS = { devices: "policies.devices", threats: "policies.assessments", policies: "policies.policy-changes" } as const;

export function start(deps: SubgraphDeps) {
  return runSubgraph(deps, {
    name: "policies",
    entities: POLICY_ENTITIES,
    migrations: [Policies0001],
    setup: ({ database, outbox, events, logger }) => {
      const repository = new PolicyRepository(database.dataSource, outbox);
      const evaluator = new Evaluator(database.dataSource, outbox, repository);
      const consumer = `policies-${randomUUID()}`;
      const consumers = Object.entries(GROUPS).map(([topic, group]) =>
        events.consume(topic, { group, consumer }, async (event) => {
          try {
            await evaluator.handle(group, event);
          } catch (error) {
            logger.error({ err: error, eventId: event.id, type: event.type }, "evaluation failed; the event will be retried");
            throw error;
          }
        }),
      );
      const feed = new TopicFeed(events, "policies");
      const accessStream = new AccessChangeStream(feed, repository);
      return {
        resolvers,
        subscriptions: true,
        context: (base) => createContext(base, repository, accessStream),
        dispose: async () => {
          await Promise.all(consumers.map((c) => c.dispose()));
          await feed.dispose();
        },
      };
    },
  });
}
