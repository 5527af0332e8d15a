/**
 * What every subgraph process has in common: its schema built from
 * `schema/<name>.graphql`, Apollo Server with our error formatting, token
 * verification on every request, the HTTP + WebSocket server, and health.
 */
import { readFileSync } from "node:fs";
import { settlesWithin } from "../lib/async.js";
import type { IncomingMessage } from "node:http";
import { buildSubgraphSchema } from "@apollo/subgraph";
import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/index.js";
import { parse } from "graphql";
import { createTokenVerifier, type Identity, type TokenVerifier } from "../lib/auth.js";
import { serveSubscriptions } from "./subscriptions.js";
import { developmentSecret, type Config, type SubgraphName, DEFAULT_PORTS } from "../lib/config.js";
import type { Logger } from "../lib/logger.js";
import { watchEventLog, watchOutbox } from "../lib/metrics.js";
import { createApolloServer } from "../lib/apollo.js";
import { requestIdFrom } from "../lib/observability.js";
import { header, serve, type Served, type ServeOptions } from "../lib/server.js";
import { openDatabase, type Database } from "../lib/db.js";
import type { EventLog } from "../lib/events/types.js";
import { Outbox, outboxEntity, outboxMigration } from "../lib/events/outbox.js";
import { auditEntity, auditMigration, auditTable, AuditTrail } from "../lib/audit.js";
import { processedEventsAgeMigration, processedEventsEntity, processedEventsMigration, UnitOfWork, type ProcessedEventRecord } from "../lib/unit-of-work.js";
import type { EntitySchema, MigrationInterface } from "typeorm";
import { olderThan, startPruning, type PruneTarget } from "../lib/retention.js";

/** What every subgraph resolver can rely on: a verified caller. */
export interface RequestContext {
  identity: Identity;
  requestId: string;
  logger: Logger;
}

/** What a subgraph process is given. */
export interface SubgraphDeps {
  config: Config;
  logger: Logger;
  events: EventLog;
}

export interface RunningSubgraph extends Served {
  database: Database;
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

/** What a subgraph contributes: its resolvers, its per-request context, and optional subscriptions and background work. */
export interface SubgraphParts<TContext extends RequestContext> {
  resolvers: unknown;
  /** Builds the per-request context (DataLoaders are created here, per request). */
  context: (base: RequestContext) => TContext;
  /** Extra HTTP routes served on the subgraph's port (see `serve`). */
  routes?: ServeOptions<TContext>["routes"];
  /** Serve `Subscription` fields over graphql-ws on the same port and path. */
  subscriptions?: boolean;
  /** Tables this subgraph prunes (`lib/retention.ts`), besides its outbox and audit trail, which every subgraph prunes. */
  retention?: PruneTarget[];
  /** Stops background work (consumers, timers) before the database closes. */
  dispose?: () => Promise<void>;
}

export interface SubgraphDefinition<TContext extends RequestContext> {
  name: SubgraphName;
  entities: EntitySchema[];
  migrations: (new () => MigrationInterface)[];
  /** The subgraph's clock for its unit of work, epoch ms. Default `Date.now`. */
  now?: () => number;
  setup: (resources: SubgraphResources) => Promise<SubgraphParts<TContext>> | SubgraphParts<TContext>;
}

/**
 * Opens the subgraph's database (running its migrations and the outbox's),
 * starts its outbox relay, sets it up and serves it. Everything opened is
 * closed again by `dispose`, or at once if start-up fails.
 */
export async function runSubgraph<TContext extends RequestContext>(deps: SubgraphDeps, definition: SubgraphDefinition<TContext>): Promise<RunningSubgraph> {
  const { config, logger: parentLogger, events } = deps;
  const { name } = definition;
  const logger = parentLogger.child({ subgraph: name });
  const processedEvents = processedEventsEntity(name);
  const database = await openDatabase({
    name,
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    entities: [...definition.entities, outboxEntity(name), auditEntity(auditTable(name)), processedEvents],
    migrations: [...definition.migrations, outboxMigration(name), auditMigration(auditTable(name)), processedEventsMigration(name), processedEventsAgeMigration(name)],
  });
  const outbox = new Outbox({ dataSource: database.dataSource, log: events, service: name, logger });
  outbox.start();
  const unwatch = [watchOutbox(name, outbox), watchEventLog(events)];
  let parts: SubgraphParts<TContext> | undefined;
  let pruning: { dispose(): Promise<void> } | undefined;
  const stop = async () => {
    for (const stopWatching of unwatch) stopWatching();
    await pruning?.dispose();
    await parts?.dispose?.();
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
    pruning = startPruning(database.dataSource, [...historyTargets(name, config, processedEvents), ...(parts.retention ?? [])], config.retention.intervalMs, logger);
    const served = await serveSubgraph(name, config, logger, parts, async () => {
      await database.ping();
      await events.ping();
    });
    return {
      ...served,
      database,
      dispose: async () => {
        await served.dispose();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Published outbox rows (recovery needs only the unpublished ones; an hour is
 * kept for inspection), processed-event records (a week: far beyond any
 * redelivery, which comes within the event log's retention or from the outbox
 * sweep after an outage), and the audit trail.
 */
function historyTargets(name: SubgraphName, config: Config, processedEvents: EntitySchema<ProcessedEventRecord>): PruneTarget[] {
  return [
    olderThan(outboxEntity(name), "publishedAt", PUBLISHED_OUTBOX_KEPT_MS, "epochMs"),
    olderThan(processedEvents, "processedAt", PROCESSED_EVENTS_KEPT_MS, "date"),
    olderThan(auditEntity(auditTable(name)), "at", config.retention.auditMs, "epochMs"),
  ];
}

/** How long a stopping subgraph waits for its last publish. */
const FINAL_PUBLISH_MS = 2_000;

/** How long published outbox rows and processed-event records stay. */
const PUBLISHED_OUTBOX_KEPT_MS = 3_600_000;
const PROCESSED_EVENTS_KEPT_MS = 7 * 86_400_000;

export function loadTypeDefs(name: SubgraphName) {
  return parse(readFileSync(new URL(`../schema/${name}.graphql`, import.meta.url), "utf8"));
}

export function tokenVerifier(config: Config): TokenVerifier {
  return createTokenVerifier({ ...config.auth, secret: developmentSecret(config) });
}

async function serveSubgraph<TContext extends RequestContext>(
  name: SubgraphName,
  config: Config,
  logger: Logger,
  parts: SubgraphParts<TContext>,
  ready: () => Promise<void>,
): Promise<Served> {
  const schema = buildSubgraphSchema({ typeDefs: loadTypeDefs(name), resolvers: parts.resolvers as GraphQLResolverMap<unknown> });
  const verify = tokenVerifier(config);
  const apollo = createApolloServer<TContext>({
    config,
    service: name,
    logger,
    schema,
    requestIdOf: (context) => context.requestId,
    callerOf: (context) => ({ tenantId: context.identity.tenantId, subject: context.identity.subject, role: context.identity.role }),
  });
  await apollo.start();
  return serve({
    apollo,
    port: config.port ?? DEFAULT_PORTS[name],
    host: config.host,
    maxBodyBytes: config.maxBodyBytes,
    logger,
    ready,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    routes: parts.routes,
    websocket: parts.subscriptions ? (wss) => serveSubscriptions(wss, schema, verify, parts.context, logger, config.env === "production", { service: name, limits: config.limits }) : undefined,
    context: async (request: IncomingMessage) => {
      const identity = await verify(header(request, "authorization"));
      const requestId = requestIdFrom(header(request, "x-request-id"));
      return parts.context({ identity, requestId, logger: logger.child({ requestId, tenantId: identity.tenantId }) });
    },
  });
}
