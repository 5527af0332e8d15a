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
import { ConfigError, type SubgraphName } from "../lib/config.js";
import { createEventLog } from "../lib/events/index.js";
import { createLogger } from "../lib/logger.js";
import { startTracing } from "../lib/tracing.js";
import { loadServiceConfig, type ServiceConfig } from "../subgraphs/config.js";
import { startStack } from "../subgraphs/stack.js";

const [mode = "all", name] = process.argv.slice(2);

let config: ServiceConfig;
try {
  config = loadServiceConfig();
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

async function main() {
  // First, so that every server and consumer started below is traced (OTEL_EXPORTER_OTLP_ENDPOINT set).
  // The gateway carries its spans and needs no async context (lib/tracing.ts); subgraphs follow theirs with it.
  running.push(await startTracing(config.tracing, mode === "subgraph" ? name : mode === "all" ? "graph" : mode, logger, { asyncContext: mode !== "gateway" }));
  if (mode !== "all" && mode !== "gateway" && mode !== "subgraph") {
    throw new Error(`unknown mode "${mode}": expected no argument, "gateway" or "subgraph <name>"`);
  }
  const subgraphs = mode === "subgraph" ? [name as SubgraphName] : mode === "gateway" ? [] : undefined;
  running.push(await startStack({ config, logger, events, subgraphs, gateway: mode !== "subgraph", ports: "fixed" }));
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
