/**
 * The one place that reads the environment. Every variable is validated up
 * front; all problems are collected and reported together so an operator
 * fixes a deployment in one pass, not one restart per typo.
 *
 * One module per concern under `config/` (server, auth, storage, limits,
 * observability); a service's own variables are read by its own section,
 * passed in by the process that runs it (`subgraphs/config.ts`), so that
 * they are checked with everything else.
 */
import { readAuth, type AuthConfig } from "./config/auth.js";
import { readLimits, type LimitsConfig } from "./config/limits.js";
import { readObservability, type ObservabilityConfig } from "./config/observability.js";
import { ConfigError, ConfigReader, deepFreeze } from "./config/reader.js";
import { readServer, type ServerConfig } from "./config/server.js";
import { readStorage, type StorageConfig } from "./config/storage.js";

export { developmentSecret } from "./config/auth.js";
export type { BucketLimit, CacheLimits, OperationLimits, RateLimits, SubscriptionLimits } from "./config/limits.js";
export { ConfigError, ConfigReader } from "./config/reader.js";
export { DEFAULT_PORTS, SUBGRAPH_NAMES, type Environment, type LogLevel, type SubgraphName } from "./config/server.js";
export type { EventLogRetention, Retention } from "./config/storage.js";

export interface Config extends ServerConfig, AuthConfig, StorageConfig, LimitsConfig, ObservabilityConfig {}

/**
 * The configuration of `env`, frozen all the way down (a service that needs another value gets a copy,
 * `{ ...config, port: 0 }`, never an edit), with what `sections` reads from the same environment.
 * Throws one `ConfigError` listing every problem.
 */
export function loadConfig<TSections extends object = object>(
  env: NodeJS.ProcessEnv = process.env,
  sections?: (reader: ConfigReader) => TSections,
): Config & TSections {
  const reader = new ConfigReader(env);
  const server = readServer(reader);
  const config = {
    ...server,
    ...readAuth(reader),
    ...readStorage(reader),
    ...readLimits(reader),
    ...readObservability(reader, server),
    ...(sections?.(reader) as TSections),
  };
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return deepFreeze(config);
}
