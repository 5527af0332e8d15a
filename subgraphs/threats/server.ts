/**
 * The threats subgraph: the tenant's MTD connector, partner threat reports,
 * device risk (`Device.riskLevel`, `Device.threats`) and
 * `Subscription.deviceRiskChanged`. It learns devices from the `devices` topic
 * (and asks the devices subgraph, at `MTD_SUBGRAPH_DEVICES_URL`, for one a
 * partner reports on before its event arrived) and publishes
 * `device.assessment.changed` and `connector.state.changed` to topic
 * `threats` through its outbox.
 */
import { singleFlight } from "../../lib/async.js";
import { olderThan } from "../../lib/retention.js";
import { runSubgraph, type RunningSubgraph, type SubgraphDeps } from "../runtime.js";
import { consumeDeviceEvents } from "./consumers.js";
import { createContext, type Services } from "./context.js";
import { AssessmentRepository } from "./data/assessments.js";
import { ConnectorRepository } from "./data/connectors.js";
import { ENTITIES, ReportEntity } from "./data/entities.js";
import { DeviceDirectory } from "./device-directory.js";
import { Threats0001 } from "./data/migrations/0001-threats.js";
import { Threats0002 } from "./data/migrations/0002-report-fingerprint.js";
import { Threats0003 } from "./data/migrations/0003-report-retention.js";
import { Threats0004 } from "./data/migrations/0004-resolved-threat-retention.js";
import { ReportRepository } from "./data/reports.js";
import { resolvers } from "./resolvers/index.js";
import { RiskFeed } from "./risk-feed.js";

export interface ThreatsOptions {
  /**
   * Period of the connector check: ENABLED connectors past their deadline turn
   * UNRESPONSIVE, and assessments left behind a connector change are
   * republished. Default 30 000 ms.
   */
  connectorCheckIntervalMs?: number;
  /** The subgraph's clock, epoch ms. Default `Date.now` (tests run one ahead of it). */
  now?: () => number;
}

export const DEFAULT_CONNECTOR_CHECK_INTERVAL_MS = 30_000;

export interface RunningThreats extends RunningSubgraph {
  /** Runs the connector check now (what the timer runs). */
  checkConnectors(): Promise<void>;
}

export async function start(deps: SubgraphDeps, options: ThreatsOptions = {}): Promise<RunningThreats> {
  return runSubgraph(deps, {
    name: "threats",
    entities: ENTITIES,
    migrations: [Threats0001, Threats0002, Threats0003, Threats0004],
    now: options.now,
    ownsConnectors: true,
    setup: async ({ work: store, events, logger, audit, config }) => {
      const assessments = new AssessmentRepository(store, logger);
      const connectors = new ConnectorRepository(store, assessments, logger, audit);
      // For the other subgraphs' partner rule, whether their view of the connectors is new or not (lib/connector-view.ts).
      await connectors.announce();
      const riskFeed = new RiskFeed(events, logger);
      await riskFeed.ready();
      const reports = new ReportRepository(store, assessments, config.retention.reportsMs, new DeviceDirectory(config.subgraphUrls.devices));
      const services: Services = { assessments, connectors, reports, riskFeed, now: store.now };
      const checkConnectors = singleFlight(() => connectors.check().catch((error: unknown) => logger.warn({ err: error }, "connector check failed")));
      return {
        resolvers,
        subscriptions: true,
        context: (base) => createContext(base, services),
        partnerConnectors: connectors,
        consumers: [consumeDeviceEvents(events, assessments, logger)],
        // A report id is remembered this long (duplicate or CONFLICT), a RESOLVED threat as long after its last observation; whether a partner reported on a device is kept apart, for good.
        retention: [olderThan(ReportEntity, "receivedAt", config.retention.reportsMs, "date"), reports.resolvedThreats()],
        timers: [{ everyMs: options.connectorCheckIntervalMs ?? DEFAULT_CONNECTOR_CHECK_INTERVAL_MS, run: checkConnectors }],
        api: { checkConnectors },
        dispose: async () => {
          await assessments.settle();
          await riskFeed.dispose();
        },
      };
    },
  });
}
