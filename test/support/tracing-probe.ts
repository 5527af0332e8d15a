/**
 * Run as its own process (`node --import tsx test/support/tracing-probe.ts`):
 * starts tracing as `bin/start.ts` does from the environment, serves the
 * devices subgraph in process on embedded defaults, sends it one request, and
 * prints the OpenTelemetry packages the process has loaded, as one JSON line.
 */
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadServiceConfig } from "../../subgraphs/config.js";
import { createEventLog } from "../../lib/events/index.js";
import { createLogger } from "../../lib/logger.js";
import { startTracing } from "../../lib/tracing.js";
import { SUBGRAPHS } from "../../subgraphs/index.js";

const dataDir = mkdtempSync(join(tmpdir(), "mtd-tracing-probe-"));
const config = loadServiceConfig({ ...process.env, MTD_DATA_DIR: dataDir, MTD_HOST: "127.0.0.1", PORT: "0" });
const logger = createLogger("silent", "probe");
const tracing = await startTracing(config.tracing, "devices", logger);
const events = createEventLog({ redis: {}, redisPrefix: "probe" });
const devices = await SUBGRAPHS.devices!({ config, logger, events });
await fetch(devices.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) });
const require = createRequire(import.meta.url);
const loaded = new Set(Object.keys(require.cache).map((path) => /node_modules\/(@opentelemetry\/[^/]+)\//.exec(path)?.[1]).filter((name) => name !== undefined));
console.log(JSON.stringify({ loaded: [...loaded].sort() }));
await devices.dispose();
await events.close();
await tracing.dispose();
rmSync(dataDir, { recursive: true, force: true });
