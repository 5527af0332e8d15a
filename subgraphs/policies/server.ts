/**
 * The policies subgraph: compliance and conditional-access policies, the
 * evaluator that turns device events and assessments into access decisions,
 * and the gap-free stream of access changes.
 */
import { ACCESS_CHANGED } from "../../lib/events/catalog.js";
import { TopicFeed } from "../../lib/events/feed.js";
import { olderThan } from "../../lib/retention.js";
import { runSubgraph, type RunningSubgraph, type SubgraphDeps } from "../runtime.js";
import { AccessChangeStream } from "./access-stream.js";
import { consumeIntoEvaluator } from "./consumers.js";
import { createContext } from "./context.js";
import { AccessChangeEntity, POLICY_ENTITIES } from "./data/entities.js";
import { Policies0001 } from "./data/migrations/0001-policies.js";
import { Policies0002 } from "./data/migrations/0002-grace-exceptions.js";
import { Policies0003 } from "./data/migrations/0003-access-change-age.js";
import { ExceptionRepository } from "./data/exceptions.js";
import { ComplianceReader } from "./data/compliance.js";
import { ImpactReader } from "./data/impact.js";
import { PolicyRepository } from "./data/repository.js";
import { Deadlines, DEFAULT_DEADLINE_POLL_MS } from "./deadlines.js";
import { Evaluator } from "./evaluator.js";
import { resolvers } from "./resolvers/index.js";

export interface PoliciesOptions {
  /** The subgraph's clock, epoch ms. Default `Date.now` (tests run one ahead of it). */
  now?: () => number;
  /** Period of the deadline poll (grace periods ending, exceptions expiring). Default 1000 ms. */
  deadlinePollMs?: number;
}

export interface RunningPolicies extends RunningSubgraph {
  /** Runs one deadline poll now (what the timer runs). */
  fireDeadlines(): Promise<void>;
}

export async function start(deps: SubgraphDeps, options: PoliciesOptions = {}): Promise<RunningPolicies> {
  return runSubgraph(deps, {
    name: "policies",
    entities: POLICY_ENTITIES,
    migrations: [Policies0001, Policies0002, Policies0003],
    setup: ({ config, database, events, logger, audit, work }) => {
      const repository = new PolicyRepository(work, audit);
      const now = options.now ?? Date.now;
      const evaluator = new Evaluator(work, repository, now);
      const services = { exceptions: new ExceptionRepository(database.dataSource, evaluator, audit, now), impact: new ImpactReader(database.dataSource), compliance: new ComplianceReader(database.dataSource), now };
      const deadlines = new Deadlines(database.dataSource, evaluator, now, logger);
      const feed = new TopicFeed(events, { topic: "policies", types: [ACCESS_CHANGED], name: "policies.access-feed", logger });
      const accessStream = new AccessChangeStream(feed, repository);
      return {
        resolvers,
        subscriptions: true,
        // Access changes age out; a cursor from before what remains is CURSOR_EXPIRED (resolvers, access-stream.ts).
        retention: [olderThan(AccessChangeEntity, "at", config.retention.accessChangesMs, "date")],
        context: (base) => createContext(base, repository, services, accessStream),
        consumers: consumeIntoEvaluator(events, evaluator, logger),
        timers: [{ everyMs: options.deadlinePollMs ?? DEFAULT_DEADLINE_POLL_MS, run: () => deadlines.poll() }],
        api: { fireDeadlines: () => deadlines.poll() },
        dispose: () => feed.dispose(),
      };
    },
  });
}
