/**
 * The one place that reads the environment. Every variable is validated up
 * front; all problems are collected and reported together so an operator
 * fixes a deployment in one pass, not one restart per typo.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { parseDuration } from "./duration.js";
import { splitHostPort, type RedisTarget } from "./redis.js";
import type { OtlpProtocol, TracingConfig } from "./tracing.js";

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

export interface Config {
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
  /** `DATABASE_URL`: `mysql://user:pass@host:port/db`. Unset: SQLite files under `dataDir`. */
  databaseUrl?: string;
  /**
   * The event log's and the shared rate limits' Redis: `REDIS_URL` (`redis://host:port`) or
   * `REDIS_CLUSTER_NODES` (`host:port,host:port,…`, a Redis Cluster). Neither: the in-process event log.
   */
  redis: RedisTarget;
  /** `MTD_REDIS_PREFIX`: key prefix for every Redis key. Default `mtd`. */
  redisPrefix: string;
  /** `MTD_JWT_SECRET` (HS256) or `MTD_JWKS_URL` (asymmetric). Default: a development secret under `dataDir`. */
  auth: { secret?: string; jwksUrl?: string; issuer?: string; audience?: string };
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
  /** Operation limits checked before execution, at the gateway and in every subgraph (`lib/protection.ts`). */
  limits: OperationLimits;
  /** Token buckets the gateway enforces before planning (`lib/rate-limit/`); in Redis when `REDIS_URL` is set. */
  rateLimits: RateLimits;
  /** `MTD_INTROSPECTION`: schema introspection. Default on, off with `NODE_ENV=production`. */
  introspection: boolean;
  /** `MTD_LANDING_PAGE`: Apollo's landing page on `GET /graphql` from a browser. Default on, off with `NODE_ENV=production`. */
  landingPage: boolean;
  /** `MTD_SHUTDOWN_TIMEOUT_MS`: on SIGTERM, how long in-flight requests may take before their connections are cut. Default 10000. */
  shutdownTimeoutMs: number;
  /** The gateway's federated subscriptions over WebSocket (`gateway/subscriptions/`). */
  subscriptions: SubscriptionLimits;
  /** The Shared Signals (SSF 1.0 / CAEP 1.0) transmitter: the signals service (`subgraphs/signals/`). */
  ssf: SsfConfig;
  /** Entry bounds of the caches keyed by what clients send (`lib/cache.ts`), the same in every process. */
  caches: CacheLimits;
  /** How much of each event-log topic is kept (`lib/events/`). */
  eventLog: EventLogRetention;
  /** OpenTelemetry traces (`lib/tracing.ts`): the standard `OTEL_EXPORTER_OTLP_*` and `OTEL_SERVICE_NAME` variables. Default off. */
  tracing: TracingConfig;
  /** How long history is kept (`lib/retention.ts`). */
  retention: Retention;
}

export interface Retention {
  /** `MTD_RETENTION_ACCESS_CHANGES`: access changes older than this are pruned; older cursors are CURSOR_EXPIRED. Default `30d`. */
  accessChangesMs: number;
  /** `MTD_RETENTION_AUDIT`: audit entries older than this are pruned. Default `365d`. */
  auditMs: number;
  /** `MTD_RETENTION_INTERVAL`: how often each service prunes, in small batches (at most `60s`). Default `30s`. */
  intervalMs: number;
}

export interface CacheLimits {
  /** `MTD_CACHE_DOCUMENTS`: parsed and validated documents kept by Apollo Server, per service (gateway and each subgraph). Default 2000. */
  documents: number;
  /** `MTD_CACHE_QUERY_PLANS`: query plans kept by the gateway. Default 2000. */
  queryPlans: number;
  /** `MTD_CACHE_SUBSCRIPTION_PLANS`: subscription plans kept by the gateway. Default 1000. */
  subscriptionPlans: number;
}

export interface EventLogRetention {
  /**
   * `MTD_EVENT_LOG_RETENTION_SECONDS`: an event acknowledged by every consumer group of its topic is
   * dropped from the log once it is this old (kept meanwhile for tails that reconnect and groups that
   * start late). Default 600.
   */
  retentionSeconds: number;
  /**
   * `MTD_EVENT_LOG_MAX_ENTRIES`: last resort per topic: past this many events the oldest go even if a
   * group has not acknowledged them (a group that far behind is stuck; its lag says so). Default 1000000.
   */
  maxEntries: number;
}

export interface SubscriptionLimits {
  /** `MTD_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION`: active subscriptions one WebSocket may hold. Default 100. */
  maxPerConnection: number;
  /** `MTD_WS_MAX_SUBSCRIPTIONS_PER_TENANT`: active subscriptions of one tenant on one gateway process. Default 10000. */
  maxPerTenant: number;
  /** `MTD_WS_MAX_QUEUED_EVENTS`: events queued for one subscription before its client is closed as too slow (4409). Default 1000. */
  maxQueuedEvents: number;
  /** `MTD_WS_KEEPALIVE_MS`: ping interval towards clients and subgraphs; a peer that misses a pong for as long is dropped. 0 disables. Default 12000. */
  keepAliveMs: number;
  /** `MTD_WS_UPSTREAM_RETRY_MAX_MS`: longest wait between attempts to re-establish a dropped subgraph subscription (exponential backoff with jitter from 100 ms). Default 5000. */
  upstreamRetryMaxMs: number;
}

export interface OperationLimits {
  /** `MTD_MAX_DEPTH`: deepest field nesting of an operation. Default 12. */
  maxDepth: number;
  /** `MTD_MAX_ALIASES`: aliases in one operation. Default 15. */
  maxAliases: number;
  /** `MTD_MAX_TOKENS`: lexical tokens of the document. Default 2000. */
  maxTokens: number;
  /** `MTD_MAX_DIRECTIVES`: directives in one operation. Default 20. */
  maxDirectives: number;
  /** `MTD_MAX_COST`: graphql-armor cost with list sizes (`first`, from literals, variables or defaults) as multipliers. Default 50000. */
  maxCost: number;
  /** `MTD_MAX_PAGE_SIZE`: largest `first` (1-500; resolvers never serve more than 500). Default 500. */
  maxPageSize: number;
}

/** A token bucket: `burst` requests at once, refilled at `perSecond`. `perSecond` 0 turns the bucket off. */
export interface BucketLimit {
  perSecond: number;
  burst: number;
}

export interface RateLimits {
  /** `MTD_RATE_LIMIT_TENANT_PER_SECOND` / `_BURST`: every HTTP operation of a tenant. Default 200/s, burst 400. */
  tenant: BucketLimit;
  /** `MTD_RATE_LIMIT_PARTNER_PER_SECOND` / `_BURST`: ingest (`reportThreats`, each report of `reportThreatsBatch`, `partnerHeartbeat`) per tenant and partner. Default 500/s, burst 1000. */
  partner: BucketLimit;
}

export interface SsfConfig {
  /**
   * `MTD_SSF_ISSUER`: the transmitter's issuer (the `iss` of every SET; metadata at
   * `/.well-known/ssf-configuration`), an https URL without query or fragment.
   * Unset: `http://<host>:<signals port>` outside production; in production the transmitter is off.
   */
  issuer?: string;
  /** `MTD_SSF_ALLOW_HTTP`: accept plain http issuer and receiver URLs with `NODE_ENV=production` (never in a real deployment). Default false; development and test always accept http. */
  allowHttp: boolean;
  /**
   * `MTD_SSF_KEY_ENCRYPTION_KEY`: secret (at least 32 characters) that encrypts the private signing keys and
   * receivers' push authorization headers at rest. Required in production with `MTD_SSF_ISSUER`.
   * Unset: a development secret created under `MTD_DATA_DIR`.
   */
  keyEncryptionKey?: string;
  /** `MTD_SSF_KEY_ROTATION_SECONDS`: how long a signing key signs before the next one takes over. Default 2592000 (30 days). */
  keyRotationSeconds: number;
  /** `MTD_SSF_KEY_PUBLISH_AHEAD_SECONDS`: a new key is in the JWKS this long before it signs (less than the rotation period). Default 86400 (1 day). */
  keyPublishAheadSeconds: number;
  /** `MTD_SSF_KEY_RETAIN_SECONDS`: a retired key stays in the JWKS this long after its successor took over. Default 604800 (7 days). */
  keyRetainSeconds: number;
  /** `MTD_SSF_TOKEN_TTL_SECONDS`: lifetime of the access tokens receivers get from `/oauth/token`. Default 3600. */
  tokenTtlSeconds: number;
  /** `MTD_SSF_PUSH_RETRY_BASE_MS`: delay before the first retry of a failed push; doubles per attempt (each delay drawn between half and all of it). Default 1000. */
  pushRetryBaseMs: number;
  /** `MTD_SSF_PUSH_RETRY_MAX_MS`: longest delay between two push attempts. Default 300000 (5 minutes). */
  pushRetryMaxMs: number;
  /** `MTD_SSF_PUSH_GIVE_UP_SECONDS`: a SET still not accepted this long after it was queued becomes a dead letter. Default 86400 (1 day). */
  pushGiveUpSeconds: number;
  /** `MTD_SSF_PUSH_TIMEOUT_MS`: how long one push request may take. Default 10000. */
  pushTimeoutMs: number;
  /** `MTD_SSF_POLL_WAIT_MAX_MS`: longest a long poll (`returnImmediately: false`) is held open. Default 25000. */
  pollWaitMaxMs: number;
  /** `MTD_SSF_POLL_REDELIVER_MS`: a polled SET not acknowledged is returned again by polls after this long. Default 60000. */
  pollRedeliverMs: number;
  /** `MTD_SSF_MIN_VERIFICATION_INTERVAL_SECONDS`: a stream's `min_verification_interval`; verification requests more frequent than this get 429. Default 30. */
  minVerificationIntervalSeconds: number;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === "" ? undefined : value;
  };

  const nodeEnv = read("NODE_ENV") ?? "development";
  if (!["development", "production", "test"].includes(nodeEnv)) {
    problems.push(`NODE_ENV must be development, production or test; got "${nodeEnv}"`);
  }
  const logLevel = read("LOG_LEVEL") ?? "info";
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}; got "${logLevel}"`);
  }

  const port = integer(read("PORT"), "PORT", 0, 65535, problems);
  const maxBodyBytes = integer(read("MTD_MAX_BODY_BYTES"), "MTD_MAX_BODY_BYTES", 1024, 64 * 1024 * 1024, problems);
  const subscriptions: SubscriptionLimits = {
    maxPerConnection: integer(read("MTD_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION"), "MTD_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION", 1, 10_000, problems) ?? 100,
    maxPerTenant: integer(read("MTD_WS_MAX_SUBSCRIPTIONS_PER_TENANT"), "MTD_WS_MAX_SUBSCRIPTIONS_PER_TENANT", 1, 1_000_000, problems) ?? 10_000,
    maxQueuedEvents: integer(read("MTD_WS_MAX_QUEUED_EVENTS"), "MTD_WS_MAX_QUEUED_EVENTS", 1, 1_000_000, problems) ?? 1000,
    keepAliveMs: integer(read("MTD_WS_KEEPALIVE_MS"), "MTD_WS_KEEPALIVE_MS", 0, 600_000, problems) ?? 12_000,
    upstreamRetryMaxMs: integer(read("MTD_WS_UPSTREAM_RETRY_MAX_MS"), "MTD_WS_UPSTREAM_RETRY_MAX_MS", 100, 600_000, problems) ?? 5000,
  };

  const limit = (name: string, min: number, max: number, fallback: number) => integer(read(name), name, min, max, problems) ?? fallback;
  const limits: OperationLimits = {
    maxDepth: limit("MTD_MAX_DEPTH", 1, 1000, 12),
    maxAliases: limit("MTD_MAX_ALIASES", 0, 10_000, 15),
    maxTokens: limit("MTD_MAX_TOKENS", 10, 1_000_000, 2000),
    maxDirectives: limit("MTD_MAX_DIRECTIVES", 0, 10_000, 20),
    maxCost: limit("MTD_MAX_COST", 1, 1_000_000_000, 50_000),
    maxPageSize: limit("MTD_MAX_PAGE_SIZE", 1, 500, 500),
  };
  const bucket = (scope: string, perSecond: number, burst: number): BucketLimit => ({
    perSecond: limit(`MTD_RATE_LIMIT_${scope}_PER_SECOND`, 0, 1_000_000, perSecond),
    burst: limit(`MTD_RATE_LIMIT_${scope}_BURST`, 1, 10_000_000, burst),
  });
  const rateLimits: RateLimits = { tenant: bucket("TENANT", 200, 400), partner: bucket("PARTNER", 500, 1000) };
  const introspection = boolean(read("MTD_INTROSPECTION"), "MTD_INTROSPECTION", problems) ?? nodeEnv !== "production";
  const landingPage = boolean(read("MTD_LANDING_PAGE"), "MTD_LANDING_PAGE", problems) ?? nodeEnv !== "production";
  const shutdownTimeoutMs = limit("MTD_SHUTDOWN_TIMEOUT_MS", 0, 600_000, 10_000);

  const databaseUrl = read("DATABASE_URL");
  if (databaseUrl !== undefined) checkUrl(databaseUrl, "DATABASE_URL", ["mysql:", "mariadb:"], problems);
  const redisUrl = read("REDIS_URL");
  if (redisUrl !== undefined) checkUrl(redisUrl, "REDIS_URL", ["redis:", "rediss:"], problems);
  const clusterNodes = read("REDIS_CLUSTER_NODES")?.split(",").map((node) => node.trim());
  for (const node of clusterNodes ?? []) {
    try {
      splitHostPort(node);
    } catch {
      problems.push(`REDIS_CLUSTER_NODES must be host:port,host:port,…; got "${node}"`);
    }
  }
  if (redisUrl !== undefined && clusterNodes !== undefined) problems.push("set REDIS_URL or REDIS_CLUSTER_NODES, not both");

  const secret = read("MTD_JWT_SECRET");
  const jwksUrl = read("MTD_JWKS_URL");
  if (secret !== undefined && secret.length < 32) {
    problems.push(`MTD_JWT_SECRET must be at least 32 characters; got ${secret.length}`);
  }
  if (jwksUrl !== undefined) checkUrl(jwksUrl, "MTD_JWKS_URL", ["https:", "http:"], problems);
  if (secret !== undefined && jwksUrl !== undefined) {
    problems.push("set MTD_JWT_SECRET or MTD_JWKS_URL, not both");
  }
  if (nodeEnv === "production" && secret === undefined && jwksUrl === undefined) {
    problems.push("NODE_ENV=production requires MTD_JWT_SECRET or MTD_JWKS_URL (the development secret is refused)");
  }

  const subgraphUrls = {} as Record<SubgraphName, string>;
  const subgraphUrlOverrides: Partial<Record<SubgraphName, string>> = {};
  for (const name of SUBGRAPH_NAMES) {
    const variable = `MTD_SUBGRAPH_${name.toUpperCase()}_URL`;
    const set = read(variable);
    const url = set ?? `http://127.0.0.1:${DEFAULT_PORTS[name]}/graphql`;
    checkUrl(url, variable, ["http:", "https:"], problems);
    subgraphUrls[name] = url;
    if (set !== undefined) subgraphUrlOverrides[name] = set;
  }
  const corsOrigins = (read("MTD_CORS_ORIGINS") ?? "").split(",").map((origin) => origin.trim()).filter((origin) => origin !== "");
  for (const origin of corsOrigins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || !["http:", "https:"].includes(parsed.protocol) || parsed.origin !== origin) {
      problems.push(`MTD_CORS_ORIGINS: expected origins like https://admin.example.com (scheme, host, optional port; no path, no trailing slash); got "${origin}"`);
    }
  }

  const ssf = ssfConfig(read, nodeEnv, problems);
  const caches: CacheLimits = {
    documents: limit("MTD_CACHE_DOCUMENTS", 1, 1_000_000, 2000),
    queryPlans: limit("MTD_CACHE_QUERY_PLANS", 1, 1_000_000, 2000),
    subscriptionPlans: limit("MTD_CACHE_SUBSCRIPTION_PLANS", 1, 1_000_000, 1000),
  };
  const eventLog: EventLogRetention = {
    retentionSeconds: limit("MTD_EVENT_LOG_RETENTION_SECONDS", 0, 30 * 86_400, 600),
    maxEntries: limit("MTD_EVENT_LOG_MAX_ENTRIES", 1000, 1_000_000_000, 1_000_000),
  };
  const tracing = tracingConfig(read, problems);
  const retentionOf = (name: string, fallback: string, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const text = read(name) ?? fallback;
    const ms = parseDuration(text);
    if (ms === undefined || ms < min || ms > max) {
      problems.push(`${name} must be a duration like 90s, 15m, 12h or 30d, from ${min / 1000}s${max < Number.MAX_SAFE_INTEGER ? ` to ${max / 1000}s` : ""}; got "${text}"`);
    }
    return ms ?? parseDuration(fallback)!;
  };
  const retention: Retention = {
    accessChangesMs: retentionOf("MTD_RETENTION_ACCESS_CHANGES", "30d", 1000),
    auditMs: retentionOf("MTD_RETENTION_AUDIT", "365d", 1000),
    intervalMs: retentionOf("MTD_RETENTION_INTERVAL", "30s", 1000, 60_000),
  };

  if (problems.length > 0) throw new ConfigError(problems);

  // Frozen, all the way down: a service that needs another value gets a copy (`{ ...config, port: 0 }`), never an edit.
  return deepFreeze({
    env: nodeEnv as Environment,
    logLevel: logLevel as LogLevel,
    port,
    host: read("MTD_HOST") ?? "0.0.0.0",
    dataDir: resolve(read("MTD_DATA_DIR") ?? "data"),
    databaseUrl,
    redis: { url: redisUrl, clusterNodes },
    redisPrefix: read("MTD_REDIS_PREFIX") ?? "mtd",
    auth: { secret, jwksUrl, issuer: read("MTD_JWT_ISSUER"), audience: read("MTD_JWT_AUDIENCE") },
    subgraphUrls,
    subgraphUrlOverrides,
    supergraphPath: read("MTD_SUPERGRAPH_PATH") === undefined ? undefined : resolve(read("MTD_SUPERGRAPH_PATH")!),
    corsOrigins,
    maxBodyBytes: maxBodyBytes ?? 1024 * 1024,
    limits,
    rateLimits,
    introspection,
    landingPage,
    shutdownTimeoutMs,
    subscriptions,
    ssf,
    caches,
    eventLog,
    tracing,
    retention,
  });
}

/**
 * The HS256 secret in effect: the configured one, or in development a random
 * secret created once under the data directory (shared by `npm start` and
 * `npm run token`).
 */
export function developmentSecret(config: Pick<Config, "auth" | "dataDir" | "env">): string | undefined {
  if (config.auth.secret !== undefined || config.auth.jwksUrl !== undefined) return config.auth.secret;
  if (config.env === "production") return undefined;
  const file = join(config.dataDir, "dev-jwt-secret");
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600, flag: "wx" });
  }
  return readFileSync(file, "utf8").trim();
}

function integer(value: string | undefined, name: string, min: number, max: number, problems: string[]) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}; got "${value}"`);
    return undefined;
  }
  return n;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function boolean(value: string | undefined, name: string, problems: string[]): boolean | undefined {
  if (value === undefined) return undefined;
  if (["true", "1", "on"].includes(value.toLowerCase())) return true;
  if (["false", "0", "off"].includes(value.toLowerCase())) return false;
  problems.push(`${name} must be true or false; got "${value}"`);
  return undefined;
}

function checkUrl(value: string, name: string, protocols: string[], problems: string[]) {
  try {
    const url = new URL(value);
    if (!protocols.includes(url.protocol)) {
      problems.push(`${name} must use ${protocols.join(" or ")}; got "${url.protocol}"`);
    }
  } catch {
    problems.push(`${name} must be a URL; got "${value}"`);
  }
}

function ssfConfig(read: (name: string) => string | undefined, nodeEnv: string, problems: string[]): SsfConfig {
  const seconds = (name: string, min: number, max: number, fallback: number) => integer(read(name), name, min, max, problems) ?? fallback;
  const allowHttp = boolean(read("MTD_SSF_ALLOW_HTTP"), "MTD_SSF_ALLOW_HTTP", problems) ?? false;
  const issuer = read("MTD_SSF_ISSUER");
  if (issuer !== undefined) {
    const http = nodeEnv !== "production" || allowHttp;
    checkUrl(issuer, "MTD_SSF_ISSUER", http ? ["https:", "http:"] : ["https:"], problems);
    if (/[?#]/.test(issuer)) problems.push(`MTD_SSF_ISSUER must have no query or fragment; got "${issuer}"`);
  }
  const keyEncryptionKey = read("MTD_SSF_KEY_ENCRYPTION_KEY");
  if (keyEncryptionKey !== undefined && keyEncryptionKey.length < 32) {
    problems.push(`MTD_SSF_KEY_ENCRYPTION_KEY must be at least 32 characters; got ${keyEncryptionKey.length}`);
  }
  if (nodeEnv === "production" && issuer !== undefined && keyEncryptionKey === undefined) {
    problems.push("NODE_ENV=production with MTD_SSF_ISSUER requires MTD_SSF_KEY_ENCRYPTION_KEY (signing keys are stored encrypted)");
  }
  const keyRotationSeconds = seconds("MTD_SSF_KEY_ROTATION_SECONDS", 2, 10 * 365 * 86_400, 30 * 86_400);
  const keyPublishAheadSeconds = seconds("MTD_SSF_KEY_PUBLISH_AHEAD_SECONDS", 1, 365 * 86_400, 86_400);
  if (keyPublishAheadSeconds >= keyRotationSeconds) {
    problems.push(`MTD_SSF_KEY_PUBLISH_AHEAD_SECONDS must be less than MTD_SSF_KEY_ROTATION_SECONDS (${keyRotationSeconds}); got ${keyPublishAheadSeconds}`);
  }
  const ms = (name: string, min: number, max: number, fallback: number) => integer(read(name), name, min, max, problems) ?? fallback;
  const pushRetryBaseMs = ms("MTD_SSF_PUSH_RETRY_BASE_MS", 1, 3_600_000, 1000);
  const pushRetryMaxMs = ms("MTD_SSF_PUSH_RETRY_MAX_MS", 1, 86_400_000, 300_000);
  if (pushRetryMaxMs < pushRetryBaseMs) {
    problems.push(`MTD_SSF_PUSH_RETRY_MAX_MS must be at least MTD_SSF_PUSH_RETRY_BASE_MS (${pushRetryBaseMs}); got ${pushRetryMaxMs}`);
  }
  return {
    issuer: issuer?.replace(/\/+$/, ""),
    allowHttp,
    keyEncryptionKey,
    keyRotationSeconds,
    keyPublishAheadSeconds,
    keyRetainSeconds: seconds("MTD_SSF_KEY_RETAIN_SECONDS", 0, 365 * 86_400, 7 * 86_400),
    tokenTtlSeconds: seconds("MTD_SSF_TOKEN_TTL_SECONDS", 60, 86_400, 3600),
    pushRetryBaseMs,
    pushRetryMaxMs,
    pushGiveUpSeconds: seconds("MTD_SSF_PUSH_GIVE_UP_SECONDS", 1, 30 * 86_400, 86_400),
    pushTimeoutMs: ms("MTD_SSF_PUSH_TIMEOUT_MS", 100, 120_000, 10_000),
    pollWaitMaxMs: ms("MTD_SSF_POLL_WAIT_MAX_MS", 0, 120_000, 25_000),
    pollRedeliverMs: ms("MTD_SSF_POLL_REDELIVER_MS", 100, 86_400_000, 60_000),
    minVerificationIntervalSeconds: seconds("MTD_SSF_MIN_VERIFICATION_INTERVAL_SECONDS", 0, 86_400, 30),
  };
}

/** OTLP over HTTP only: `grpc` would load a second networking stack for no gain here. */
const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ["http/protobuf", "http/json"];

function tracingConfig(read: (name: string) => string | undefined, problems: string[]): TracingConfig {
  const endpoint = read("OTEL_EXPORTER_OTLP_ENDPOINT");
  const tracesEndpoint = read("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  if (endpoint !== undefined) checkUrl(endpoint, "OTEL_EXPORTER_OTLP_ENDPOINT", ["http:", "https:"], problems);
  if (tracesEndpoint !== undefined) checkUrl(tracesEndpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ["http:", "https:"], problems);
  const protocol = read("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ?? read("OTEL_EXPORTER_OTLP_PROTOCOL") ?? "http/protobuf";
  if (!OTLP_PROTOCOLS.includes(protocol as OtlpProtocol)) {
    problems.push(`OTEL_EXPORTER_OTLP_PROTOCOL must be one of ${OTLP_PROTOCOLS.join(", ")}; got "${protocol}"`);
  }
  const tracesUrl = tracesEndpoint ?? (endpoint === undefined ? undefined : `${endpoint.replace(/\/+$/, "")}/v1/traces`);
  return { endpoint: tracesEndpoint ?? endpoint, tracesUrl, protocol: protocol as OtlpProtocol, serviceName: read("OTEL_SERVICE_NAME") };
}
