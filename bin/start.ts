/**
 * `npm start`                           gateway + every subgraph in one process (embedded defaults)
 * `npm run start:gateway`               the gateway alone
 * `npm run start:subgraph -- <name>`    one subgraph alone
 *
 * SIGTERM / SIGINT shut down gracefully: the gateway first, then each
 * subgraph, each one refusing new connections, closing WebSockets with 1012
 * (reconnect elsewhere), finishing in-flight requests, stopping its consumers,
 * flushing its outbox and closing its pool; the event log last. A second
 * signal, or a shutdown slower than `MTD_SHUTDOWN_TIMEOUT_MS` + 5 s, exits at once.
 */
import { ConfigError, DEFAULT_PORTS, loadConfig, type Config, type SubgraphName } from "../lib/config.js";
import { createEventLog } from "../lib/events/index.js";
import { createLogger } from "../lib/logger.js";
import { startTracing } from "../lib/tracing.js";
import { start as startGateway } from "../gateway/server.js";
import { SUBGRAPHS } from "../subgraphs/index.js";

const [mode = "all", name] = process.argv.slice(2);

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
const logger = createLogger(config.logLevel, mode === "subgraph" ? `subgraph-${name}` : mode);
const events = createEventLog({ redis: config.redis, redisPrefix: config.redisPrefix, retention: config.eventLog });
const running: { dispose(): Promise<void> }[] = [];

async function startSubgraph(subgraph: SubgraphName, port: number | undefined) {
  const start = SUBGRAPHS[subgraph];
  if (start === undefined) throw new Error(`unknown subgraph "${subgraph}"; one of ${Object.keys(SUBGRAPHS).join(", ")}`);
  const served = await start({ config: { ...config, port }, logger, events });
  running.push(served);
  logger.info({ subgraph, url: served.url }, "subgraph listening");
}

async function main() {
  // First, so that every server and consumer started below is traced (OTEL_EXPORTER_OTLP_ENDPOINT set).
  running.push(await startTracing(config.tracing, mode === "subgraph" ? name : mode === "all" ? "graph" : mode, logger));
  if (mode === "subgraph") {
    await startSubgraph(name as SubgraphName, config.port);
    return;
  }
  if (mode === "all") {
    if (config.port !== undefined) throw new Error("PORT applies to one service per process; use start:gateway or start:subgraph");
    for (const subgraph of Object.keys(SUBGRAPHS) as SubgraphName[]) await startSubgraph(subgraph, DEFAULT_PORTS[subgraph]);
  } else if (mode !== "gateway") {
    throw new Error(`unknown mode "${mode}": expected no argument, "gateway" or "subgraph <name>"`);
  }
  const gateway = await startGateway({ config, logger });
  running.push(gateway);
  logger.info({ url: gateway.url }, "gateway listening");
}

let started: Promise<void> | undefined;
let stopping = false;

async function shutdown(signal: string) {
  if (stopping) {
    logger.warn({ signal }, "second signal: exiting now");
    process.exit(1);
  }
  stopping = true;
  logger.info({ signal }, "shutting down");
  setTimeout(() => {
    logger.error({ timeoutMs: config.shutdownTimeoutMs + 5000 }, "shutdown took too long: exiting");
    process.exit(1);
  }, config.shutdownTimeoutMs + 5000).unref();
  await started?.catch(() => undefined); // a service still starting is disposed too
  let clean = true;
  for (const service of running.reverse()) {
    await service.dispose().catch((error: unknown) => {
      clean = false;
      logger.error({ err: error }, "service did not stop cleanly");
    });
  }
  await events.close();
  logger.info({ signal, clean }, "shut down");
  process.exit(clean ? 0 : 1);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

started = main();
started.catch(async (error: unknown) => {
  logger.fatal({ err: error }, "start failed");
  for (const service of running.reverse()) await service.dispose().catch(() => undefined);
  await events.close();
  process.exit(1);
});
