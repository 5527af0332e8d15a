/**
 * `npm start`                           gateway + every subgraph in one process (embedded defaults)
 * `npm run start:gateway`               the gateway alone
 * `npm run start:subgraph -- <name>`    one subgraph alone
 */
import { ConfigError, DEFAULT_PORTS, loadConfig, type Config, type SubgraphName } from "../lib/config.js";
import { createEventLog } from "../lib/events/index.js";
import { createLogger } from "../lib/logger.js";
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
const events = createEventLog({ redisUrl: config.redisUrl, redisPrefix: config.redisPrefix });
const running: { dispose(): Promise<void> }[] = [];

async function startSubgraph(subgraph: SubgraphName, port: number | undefined) {
  const start = SUBGRAPHS[subgraph];
  if (start === undefined) throw new Error(`unknown subgraph "${subgraph}"; one of ${Object.keys(SUBGRAPHS).join(", ")}`);
  const served = await start({ config: { ...config, port }, logger, events });
  running.push(served);
  logger.info({ subgraph, url: served.url }, "subgraph listening");
}

async function main() {
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

async function shutdown(signal: string) {
  logger.info({ signal }, "shutting down");
  for (const service of running.reverse()) await service.dispose();
  await events.close();
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));

main().catch(async (error: unknown) => {
  logger.fatal({ err: error }, "start failed");
  for (const service of running.reverse()) await service.dispose().catch(() => undefined);
  await events.close();
  process.exit(1);
});
