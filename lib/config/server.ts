/** What a process serves and where: environment, ports, the gateway's subgraphs and supergraph, CORS, HTTP limits. */
import { resolve } from "node:path";
import type { ConfigReader } from "./reader.js";

export const SUBGRAPH_NAMES = ["devices", "threats", "policies", "inventory", "signals"] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

export const DEFAULT_PORTS: Record<"gateway" | SubgraphName, number> = {
  gateway: 4000,
  devices: 4001,
  threats: 4002,
  policies: 4003,
  inventory: 4004,
  signals: 4005,
};

export type Environment = "development" | "production" | "test";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

export interface ServerConfig {
  /** `NODE_ENV`. Production masks internal errors and requires explicit token keys. Default `development`. */
  env: Environment;
  /** `LOG_LEVEL`: `debug` | `info` | `warn` | `error` | `silent`. Default `info`. */
  logLevel: LogLevel;
  /** `PORT`: the port of a single-service process. Unset: the service's default port. */
  port?: number;
  /** `MTD_HOST`: interface to listen on. Default `0.0.0.0`. */
  host: string;
  /** `MTD_DATA_DIR`: where SQLite files and the development secret live. Default `./data`. */
  dataDir: string;
  /** `MTD_SUBGRAPH_<NAME>_URL`: where the gateway finds each subgraph (unset: `http://127.0.0.1:<default port>/graphql`). */
  subgraphUrls: Record<SubgraphName, string>;
  /** The `MTD_SUBGRAPH_<NAME>_URL` variables that are set: with `MTD_SUPERGRAPH_PATH` they win over the supergraph's `join__graph` URLs. */
  subgraphUrlOverrides: Partial<Record<SubgraphName, string>>;
  /**
   * `MTD_SUPERGRAPH_PATH`: the gateway reads the supergraph from this file, watches it and reloads it
   * on change (subgraph URLs from its `join__graph` unless overridden). Unset: the committed
   * `schema/supergraph.graphql` with `subgraphUrls`, read once.
   */
  supergraphPath?: string;
  /** `MTD_CORS_ORIGINS`: comma-separated origins (`https://admin.example.com`) allowed cross-origin access to the gateway. Default none. */
  corsOrigins: readonly string[];
  /** `MTD_MAX_BODY_BYTES`: largest accepted HTTP request body. Default 1 MiB. */
  maxBodyBytes: number;
  /** `MTD_INTROSPECTION`: schema introspection. Default on, off with `NODE_ENV=production`. */
  introspection: boolean;
  /** `MTD_LANDING_PAGE`: Apollo's landing page on `GET /graphql` from a browser. Default on, off with `NODE_ENV=production`. */
  landingPage: boolean;
  /** `MTD_SHUTDOWN_TIMEOUT_MS`: on SIGTERM, how long in-flight requests may take before their connections are cut. Default 10000. */
  shutdownTimeoutMs: number;
}

/** `NODE_ENV` as written (checked here): other sections derive production defaults from it. */
export function nodeEnvOf(reader: ConfigReader): string {
  return reader.read("NODE_ENV") ?? "development";
}

export function readServer(reader: ConfigReader): ServerConfig {
  const nodeEnv = nodeEnvOf(reader);
  if (!["development", "production", "test"].includes(nodeEnv)) {
    reader.problem(`NODE_ENV must be development, production or test; got "${nodeEnv}"`);
  }
  const logLevel = reader.read("LOG_LEVEL") ?? "info";
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    reader.problem(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}; got "${logLevel}"`);
  }
  const port = reader.integer("PORT", 0, 65535);
  const maxBodyBytes = reader.integer("MTD_MAX_BODY_BYTES", 1024, 64 * 1024 * 1024);
  const introspection = reader.boolean("MTD_INTROSPECTION") ?? nodeEnv !== "production";
  const landingPage = reader.boolean("MTD_LANDING_PAGE") ?? nodeEnv !== "production";
  const shutdownTimeoutMs = reader.integerOr("MTD_SHUTDOWN_TIMEOUT_MS", 0, 600_000, 10_000);

  const subgraphUrls = {} as Record<SubgraphName, string>;
  const subgraphUrlOverrides: Partial<Record<SubgraphName, string>> = {};
  for (const name of SUBGRAPH_NAMES) {
    const variable = `MTD_SUBGRAPH_${name.toUpperCase()}_URL`;
    const set = reader.read(variable);
    const url = set ?? `http://127.0.0.1:${DEFAULT_PORTS[name]}/graphql`;
    reader.checkUrl(url, variable, ["http:", "https:"]);
    subgraphUrls[name] = url;
    if (set !== undefined) subgraphUrlOverrides[name] = set;
  }
  const supergraphPath = reader.read("MTD_SUPERGRAPH_PATH");
  return {
    env: nodeEnv as Environment,
    logLevel: logLevel as LogLevel,
    port,
    host: reader.read("MTD_HOST") ?? "0.0.0.0",
    dataDir: resolve(reader.read("MTD_DATA_DIR") ?? "data"),
    subgraphUrls,
    subgraphUrlOverrides,
    supergraphPath: supergraphPath === undefined ? undefined : resolve(supergraphPath),
    corsOrigins: corsOrigins(reader),
    maxBodyBytes: maxBodyBytes ?? 1024 * 1024,
    introspection,
    landingPage,
    shutdownTimeoutMs,
  };
}

function corsOrigins(reader: ConfigReader): string[] {
  const origins = (reader.read("MTD_CORS_ORIGINS") ?? "").split(",").map((origin) => origin.trim()).filter((origin) => origin !== "");
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || !["http:", "https:"].includes(parsed.protocol) || parsed.origin !== origin) {
      reader.problem(`MTD_CORS_ORIGINS: expected origins like https://admin.example.com (scheme, host, optional port; no path, no trailing slash); got "${origin}"`);
    }
  }
  return origins;
}
