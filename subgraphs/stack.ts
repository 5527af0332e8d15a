/**
 * The whole stack in one process: the subgraphs (in SUBGRAPHS order), then
 * the gateway, all on one event log, and with `MTD_METRICS_PORT` the
 * process's one metrics server (first up, last down). The one way `npm start`, the demo and
 * the tests start it. `dispose` stops them in reverse (the gateway first);
 * a start that fails stops what had started.
 */
import { start as startGateway } from "../gateway/server.js";
import { once } from "../lib/async.js";
import { DEFAULT_PORTS, type SubgraphName } from "../lib/config.js";
import type { ServiceConfig } from "./config.js";
import type { Logger as TypeOrmLogger } from "typeorm";
import type { EventLog } from "../lib/events/types.js";
import type { Logger } from "../lib/logger.js";
import { serveMetricsPort, type Served } from "../lib/server.js";
import { SUBGRAPHS } from "./index.js";
import type { RunningSubgraph } from "./runtime.js";

export interface StackOptions {
  config: ServiceConfig;
  logger: Logger;
  events: EventLog;
  /** The subgraphs to start. Default: every one. */
  subgraphs?: readonly SubgraphName[];
  /** Whether to start the gateway after them. Default true. */
  gateway?: boolean;
  /**
   * `ephemeral`: every service on a port the OS picks, and the gateway told
   * where the subgraphs started listen (tests, the demo). `fixed`: a lone
   * subgraph on `PORT` (or its default), several on their default ports, the
   * gateway on `PORT` (or 4000) finding them at the configured URLs.
   */
  ports: "ephemeral" | "fixed";
  /** The SQL logger of each subgraph (tests count statements); none by default. */
  sqlLogger?: (subgraph: SubgraphName) => TypeOrmLogger;
}

export interface Stack {
  /** The configuration the gateway was given (with the started subgraphs' URLs when ports are ephemeral). */
  config: ServiceConfig;
  subgraphs: Partial<Record<SubgraphName, RunningSubgraph>>;
  gateway?: Served;
  /** `GET /metrics` of the process, when `MTD_METRICS_PORT` gives it a port of its own (one per process, whatever runs in it). */
  metricsUrl?: string;
  dispose(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const { logger, events, ports } = options;
  const names = options.subgraphs ?? (Object.keys(SUBGRAPHS) as SubgraphName[]);
  if (ports === "fixed" && names.length > 1 && options.config.port !== undefined) {
    throw new Error("PORT applies to one service per process; use start:gateway or start:subgraph");
  }
  const running: { dispose(): Promise<void> }[] = [];
  const dispose = once(async () => {
    for (const service of running.reverse()) await service.dispose();
  });
  const subgraphs: Stack["subgraphs"] = {};
  let config = options.config;
  try {
    let metricsUrl: string | undefined;
    if (config.metricsPort !== undefined) {
      const metrics = await serveMetricsPort({ port: config.metricsPort, host: config.host });
      running.push(metrics);
      metricsUrl = metrics.url;
      logger.info({ url: metrics.url }, "metrics served on their own port");
    }
    for (const name of names) {
      const start = SUBGRAPHS[name];
      if (start === undefined) throw new Error(`unknown subgraph "${name}"; one of ${Object.keys(SUBGRAPHS).join(", ")}`);
      const port = ports === "ephemeral" ? 0 : names.length > 1 ? DEFAULT_PORTS[name] : config.port;
      const subgraph = await start({ config: { ...config, port }, logger, events, sqlLogger: options.sqlLogger?.(name) });
      running.push(subgraph);
      subgraphs[name] = subgraph;
      // The subgraphs started after it find it (threats asks devices), as the gateway does.
      if (ports === "ephemeral") config = Object.freeze({ ...config, subgraphUrls: Object.freeze({ ...config.subgraphUrls, [name]: subgraph.url }) });
      logger.info({ subgraph: name, url: subgraph.url }, "subgraph listening");
    }
    if (ports === "ephemeral") config = Object.freeze({ ...config, port: 0 });
    let gateway: Served | undefined;
    if (options.gateway ?? true) {
      gateway = await startGateway({ config, logger });
      running.push(gateway);
      logger.info({ url: gateway.url }, "gateway listening");
    }
    return { config, subgraphs, gateway, metricsUrl, dispose, [Symbol.asyncDispose]: dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
