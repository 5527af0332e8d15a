/**
 * Starts the whole graph for a test: every subgraph and the gateway on port 0,
 * on SQLite in a temporary directory (or a fresh MariaDB database) and the
 * in-process event log (or Redis). Returns helpers to query it with real
 * tokens, and `stop()`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DestinationStream } from "pino";
import { signToken, type TokenClaims } from "../../lib/auth.js";
import { createEventLog } from "../../lib/events/index.js";
import type { EventLog } from "../../lib/events/types.js";
import { createLogger } from "../../lib/logger.js";
import { loadServiceConfig, type ServiceConfig } from "../../subgraphs/config.js";
import { startStack, type Stack } from "../../subgraphs/stack.js";
import type { RunningSubgraph } from "../../subgraphs/runtime.js";
import { StatementCounter } from "./statements.js";
import { createMysqlDatabase, redisPrefix, REDIS_TEST_URL } from "./services.js";

export interface GraphOptions {
  database?: "sqlite" | "mysql";
  eventLog?: "memory" | "redis";
  /** Extra environment for the config (e.g. limits). */
  env?: Record<string, string>;
  /** Where the services' JSON logs go (with `env.LOG_LEVEL`): tests that read the logs. Default: stdout. */
  logDestination?: DestinationStream;
}

export interface GraphQLResponse<TData = Record<string, any>> {
  status: number;
  data?: TData | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface TestGraph {
  config: ServiceConfig;
  gatewayUrl: string;
  /** The process's `GET /metrics` when `MTD_METRICS_PORT` is set (then not on the services' ports). */
  metricsUrl?: string;
  subgraphs: Record<string, RunningSubgraph>;
  /** The SQL statements each subgraph sends. */
  statements: Record<string, StatementCounter>;
  events: EventLog;
  token(claims: TokenClaims): Promise<string>;
  /** POSTs a GraphQL request to the gateway (or to `url`). `token` null sends no Authorization. */
  query<TData = Record<string, any>>(token: string | null, query: string, variables?: Record<string, unknown>, url?: string): Promise<GraphQLResponse<TData>>;
  stop(): Promise<void>;
}

export async function startGraph(options: GraphOptions = {}): Promise<TestGraph> {
  const dataDir = mkdtempSync(join(tmpdir(), "mtd-graph-"));
  const mysql = options.database === "mysql" ? await createMysqlDatabase() : undefined;
  const redis = options.eventLog === "redis" ? redisPrefix() : undefined;
  const secret = randomBytes(32).toString("base64url");
  const config = loadServiceConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    MTD_HOST: "127.0.0.1",
    MTD_DATA_DIR: dataDir,
    MTD_JWT_SECRET: secret,
    ...(mysql ? { DATABASE_URL: mysql.url } : {}),
    ...(redis ? { REDIS_URL: REDIS_TEST_URL, MTD_REDIS_PREFIX: redis.prefix } : {}),
    ...options.env,
  });
  const logger = createLogger(config.logLevel, "test", options.logDestination);
  const events = createEventLog({ redis: config.redis, redisPrefix: config.redisPrefix, retention: config.eventLog });
  let stack: Stack | undefined;

  const stop = async () => {
    await stack?.dispose();
    await events.close();
    await mysql?.drop();
    await redis?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const statements: Record<string, StatementCounter> = {};
    stack = await startStack({ config, logger, events, ports: "ephemeral", sqlLogger: (name) => (statements[name] = new StatementCounter()) });
    const gateway = stack.gateway!;

    const query: TestGraph["query"] = async (token, document, variables, url = gateway.url) => {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ query: document, variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResponse, "status">;
      return { status: response.status, ...body } as GraphQLResponse<never>;
    };

    return {
      config: stack.config,
      gatewayUrl: gateway.url,
      metricsUrl: stack.metricsUrl,
      subgraphs: stack.subgraphs as Record<string, RunningSubgraph>,
      statements,
      events,
      token: (claims) => signToken(secret, claims),
      query,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
