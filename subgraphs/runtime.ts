/**
 * A subgraph's lifecycle, the same for every one: open its database (its
 * migrations and the outbox's, audit trail's and processed events'), start
 * its outbox relay, set it up, start its consumers, timers and pruning,
 * serve it (serve.ts), run its after-listen hook; and `dispose` in reverse:
 * stop serving, timers, consumers, its own background work, pruning, flush
 * the outbox, close the database.
 */
import type { EntitySchema, MigrationInterface, Logger as TypeOrmLogger } from "typeorm";
import { once, settlesWithin, singleFlight } from "../lib/async.js";
import { auditEntity, auditMigration, auditTable, AuditTrail } from "../lib/audit.js";
import { connectorViewEntity, connectorViewMigration, ConnectorView, consumeConnectorEvents } from "../lib/connector-view.js";
import type { SubgraphName } from "../lib/config.js";
import type { ServiceConfig } from "./config.js";
import { openDatabase, type Database } from "../lib/db.js";
import { Outbox, outboxEntity, outboxMigration } from "../lib/events/outbox.js";
import type { Disposable, EventLog } from "../lib/events/types.js";
import type { Logger } from "../lib/logger.js";
import type { ConnectorDirectory } from "../lib/partner-rule.js";
import { watchEventLog, watchOutbox } from "../lib/metrics.js";
import { olderThan, startPruning, type PruneTarget } from "../lib/retention.js";
import type { Served } from "../lib/server.js";
import { processedEventsAgeMigration, processedEventsEntity, processedEventsMigration, UnitOfWork, type ProcessedEventRecord } from "../lib/unit-of-work.js";
import type { RequestContext } from "./context.js";
import { serveSubgraph, type ServedParts } from "./serve.js";

/** What a subgraph process is given. */
export interface SubgraphDeps {
  config: ServiceConfig;
  logger: Logger;
  events: EventLog;
  /** Where the subgraph's SQL statements are logged (tests count them); none by default. */
  sqlLogger?: TypeOrmLogger;
}

export interface RunningSubgraph extends Served {
  database: Database;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The resources `runSubgraph` opens for a subgraph before it sets up. */
export interface SubgraphResources extends SubgraphDeps {
  database: Database;
  /** This subgraph's transactional outbox to topic `<name>`; relay and sweep already running. */
  outbox: Outbox;
  /** This subgraph's audit trail (`<name>_audit`): `audit.record(tx, …)` in each configuration change's transaction. */
  audit: AuditTrail;
  /** This subgraph's unit of work: transactions whose events go to topic `<name>` through the outbox. */
  work: UnitOfWork;
}

/** Work a subgraph repeats: run at start and every `everyMs`, one run at a time (a tick during a run is skipped). */
export interface SubgraphTimer {
  everyMs: number;
  /** Must not reject: it logs its own failures (the next tick retries). */
  run: () => Promise<void>;
}

/**
 * What a subgraph contributes: its resolvers and per-request context, and
 * the background work the lifecycle starts and stops for it.
 */
export interface SubgraphParts<TContext extends RequestContext, TApi extends object = object> extends ServedParts<TContext> {
  /** Its event-log consumers, already consuming; disposed first at shutdown (after the timers). */
  consumers?: Disposable[];
  /** Its periodic work. */
  timers?: SubgraphTimer[];
  /** Tables this subgraph prunes (`lib/retention.ts`), besides its outbox and audit trail, which every subgraph prunes. */
  retention?: PruneTarget[];
  /** Runs once the subgraph listens, with its URL; a failure stops the subgraph and fails the start. */
  afterListen?: (url: string) => Promise<void>;
  /** What the running subgraph offers besides `url` and `dispose` (e.g. running a timer's work now). */
  api?: TApi;
  /** Stops its other background work, after consumers and timers, before the database closes. */
  dispose?: () => Promise<void>;
  /** The subgraph that owns the MTD connectors (`ownsConnectors`): where the partner rule reads them. */
  partnerConnectors?: ConnectorDirectory;
}

export interface SubgraphDefinition<TContext extends RequestContext, TApi extends object> {
  name: SubgraphName;
  entities: EntitySchema[];
  migrations: (new () => MigrationInterface)[];
  /** The subgraph's clock for its unit of work, epoch ms. Default `Date.now`. */
  now?: () => number;
  /**
   * True for the subgraph that owns the MTD connectors (threats): its setup
   * gives the partner rule its own `partnerConnectors`. Every other subgraph
   * keeps a view of the connector events for it (lib/connector-view.ts).
   */
  ownsConnectors?: boolean;
  setup: (resources: SubgraphResources) => Promise<SubgraphParts<TContext, TApi>> | SubgraphParts<TContext, TApi>;
}

export async function runSubgraph<TContext extends RequestContext, TApi extends object = object>(
  deps: SubgraphDeps,
  definition: SubgraphDefinition<TContext, TApi>,
): Promise<RunningSubgraph & TApi> {
  const { config, logger: parentLogger, events } = deps;
  const { name } = definition;
  const logger = parentLogger.child({ subgraph: name });
  const processedEvents = processedEventsEntity(name);
  const connectorView = definition.ownsConnectors ? undefined : connectorViewEntity(name);
  const database = await openDatabase({
    name,
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    entities: [...definition.entities, outboxEntity(name), auditEntity(auditTable(name)), processedEvents, ...(connectorView ? [connectorView] : [])],
    sqlLogger: deps.sqlLogger,
    migrations: [
      ...definition.migrations,
      outboxMigration(name),
      auditMigration(auditTable(name)),
      processedEventsMigration(name),
      processedEventsAgeMigration(name),
      ...(connectorView ? [connectorViewMigration(name)] : []),
    ],
  });
  const outbox = new Outbox({ dataSource: database.dataSource, log: events, service: name, logger });
  outbox.start();
  const unwatch = [watchOutbox(name, outbox), watchEventLog(events)];
  let parts: SubgraphParts<TContext, TApi> | undefined;
  let viewConsumer: Disposable | undefined;
  let timers: Disposable[] = [];
  let pruning: Disposable | undefined;
  let served: Served | undefined;
  const stop = async () => {
    await served?.dispose();
    for (const stopWatching of unwatch) stopWatching();
    await Promise.all(timers.map((timer) => timer.dispose()));
    await Promise.all([...(parts?.consumers ?? []), ...(viewConsumer ? [viewConsumer] : [])].map((consumer) => consumer.dispose()));
    await parts?.dispose?.();
    await pruning?.dispose();
    // Whatever the last requests and consumers committed goes out now, not at the next start.
    // With the event log unreachable a publish waits for it: the last one gets a deadline, and what it
    // could not send stays in the outbox for the next start's sweep.
    const flushed = outbox.flush().catch((error: unknown) => logger.warn({ err: error }, "final outbox flush failed; the next start publishes the rest"));
    if (!(await settlesWithin(flushed, FINAL_PUBLISH_MS))) logger.warn({ deadlineMs: FINAL_PUBLISH_MS }, "final outbox flush timed out (event log unreachable?); the next start publishes the rest");
    await settlesWithin(outbox.dispose(), FINAL_PUBLISH_MS);
    await database.close();
  };
  try {
    const work = new UnitOfWork({ dataSource: database.dataSource, outbox, topic: name, processedEvents, now: definition.now });
    parts = await definition.setup({ config, logger, events, database, outbox, audit: new AuditTrail(name, outbox), work });
    timers = (parts.timers ?? []).map(repeat);
    pruning = startPruning(database.dataSource, [...historyTargets(name, config, processedEvents), ...(parts.retention ?? [])], config.retention.intervalMs, logger);
    let partnerConnectors = parts.partnerConnectors;
    if (connectorView !== undefined) {
      const view = new ConnectorView(database.dataSource, connectorView);
      viewConsumer = consumeConnectorEvents(events, view, name, logger);
      partnerConnectors = view;
    }
    if (partnerConnectors === undefined) throw new Error(`subgraph ${name} owns the MTD connectors but gives the partner rule none (partnerConnectors)`);
    served = await serveSubgraph(name, config, logger, parts, partnerConnectors, async () => {
      await database.ping();
      await events.ping();
    });
    await parts.afterListen?.(served.url);
  } catch (error) {
    await stop();
    throw error;
  }
  const dispose = once(stop);
  return { ...(parts.api as TApi), url: served.url, port: served.port, database, dispose, [Symbol.asyncDispose]: dispose };
}

/** Starts a timer's work now and every `everyMs`; `dispose` stops it and waits for a run in progress. */
function repeat(timer: SubgraphTimer): Disposable {
  const run = singleFlight(timer.run);
  const interval = setInterval(() => void run(), timer.everyMs);
  interval.unref();
  void run(); // catch up on whatever a previous process left behind
  return {
    dispose: async () => {
      clearInterval(interval);
      await run.current();
    },
  };
}

/**
 * Published outbox rows (recovery needs only the unpublished ones; an hour is
 * kept for inspection), processed-event records (a week: far beyond any
 * redelivery, which comes within the event log's retention or from the outbox
 * sweep after an outage), and the audit trail.
 */
function historyTargets(name: SubgraphName, config: ServiceConfig, processedEvents: EntitySchema<ProcessedEventRecord>): PruneTarget[] {
  return [
    olderThan(outboxEntity(name), "publishedAt", PUBLISHED_OUTBOX_KEPT_MS, "epochMs"),
    olderThan(processedEvents, "processedAt", PROCESSED_EVENTS_KEPT_MS, "date"),
    olderThan(auditEntity(auditTable(name)), "at", config.retention.auditMs, "epochMs"),
  ];
}

/** How long a stopping subgraph waits for its last publish. */
const FINAL_PUBLISH_MS = 2_000;

/** How long published outbox rows and processed-event records stay (the latter also for a subgraph's own records, e.g. signals' `ssf_processed_events`). */
const PUBLISHED_OUTBOX_KEPT_MS = 3_600_000;
export const PROCESSED_EVENTS_KEPT_MS = 7 * 86_400_000;

