/**
 * The threats subgraph: the tenant's MTD connector, partner threat reports,
 * device risk (`Device.riskLevel`, `Device.threats`) and
 * `Subscription.deviceRiskChanged`. It learns devices from the `devices` topic
 * and publishes `device.assessment.changed` and `connector.state.changed` to
 * topic `threats` through its outbox.
 */
import { randomUUID } from "node:crypto";
import { runSubgraph, type RunningSubgraph, type SubgraphDeps } from "../runtime.js";
import { createContext, type Services } from "./context.js";
import { AssessmentRepository } from "./data/assessments.js";
import { ConnectorRepository } from "./data/connectors.js";
import { ENTITIES } from "./data/entities.js";
import { Threats0001 } from "./data/migrations/0001-threats.js";
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
  let check: (() => Promise<void>) | undefined;
  const running = await runSubgraph(deps, {
    name: "threats",
    entities: ENTITIES,
    migrations: [Threats0001],
    now: options.now,
    setup: async ({ work: store, events, logger, audit }) => {
      const now = store.now;
      const assessments = new AssessmentRepository(store, logger);
      const connectors = new ConnectorRepository(store, assessments, logger, audit);
      const riskFeed = new RiskFeed(events);
      await riskFeed.ready();
      const services: Services = { assessments, connectors, reports: new ReportRepository(store, assessments), riskFeed, now };

      const consumer = events.consume("devices", { group: "threats.devices", consumer: `threats-${randomUUID()}` }, async (event) => {
        try {
          await assessments.applyDeviceEvent(event);
        } catch (error) {
          logger.warn({ err: error, eventId: event.id, type: event.type }, "device event not applied; it will be retried");
          throw error;
        }
      });

      // Single-flight: a tick while a check runs is skipped.
      let checking: Promise<void> | undefined;
      check = () =>
        (checking ??= connectors
          .check()
          .catch((error: unknown) => logger.warn({ err: error }, "connector check failed"))
          .finally(() => {
            checking = undefined;
          }));
      const timer = setInterval(() => void check!(), options.connectorCheckIntervalMs ?? DEFAULT_CONNECTOR_CHECK_INTERVAL_MS);
      timer.unref();
      void check(); // catch up on whatever a previous process left behind

      return {
        resolvers,
        subscriptions: true,
        context: (base) => createContext(base, services),
        dispose: async () => {
          clearInterval(timer);
          await checking;
          await consumer.dispose();
          await assessments.settle();
          await riskFeed.dispose();
        },
      };
    },
  });
  return { ...running, checkConnectors: () => check!() };
}
