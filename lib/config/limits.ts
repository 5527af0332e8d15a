/** Bounds on what clients may ask for: operation limits, rate limits, subscriptions, caches. */
import type { ConfigReader } from "./reader.js";

export interface LimitsConfig {
  /** Operation limits checked before execution, at the gateway and in every subgraph (`lib/protection.ts`). */
  limits: OperationLimits;
  /** Token buckets the gateway enforces before planning (`lib/rate-limit/`); in Redis when `REDIS_URL` is set. */
  rateLimits: RateLimits;
  /** The gateway's federated subscriptions over WebSocket (`gateway/subscriptions/`). */
  subscriptions: SubscriptionLimits;
  /** Entry bounds of the caches keyed by what clients send (`lib/cache.ts`), the same in every process. */
  caches: CacheLimits;
}

export interface CacheLimits {
  /** `MTD_CACHE_DOCUMENTS`: parsed and validated documents kept by Apollo Server, per service (gateway and each subgraph). Default 2000. */
  documents: number;
  /** `MTD_CACHE_QUERY_PLANS`: query plans kept by the gateway. Default 2000. */
  queryPlans: number;
  /** `MTD_CACHE_SUBSCRIPTION_PLANS`: subscription plans kept by the gateway. Default 1000. */
  subscriptionPlans: number;
}

export interface SubscriptionLimits {
  /** `MTD_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION`: active subscriptions one WebSocket may hold. Default 100. */
  maxPerConnection: number;
  /**
   * `MTD_WS_MAX_SUBSCRIPTIONS_PER_TENANT`: active subscriptions of one tenant, on every gateway replica together
   * when they share Redis (each replica's share under a lease), else on this process. Default 10000.
   */
  maxPerTenant: number;
  /** `MTD_WS_SUBSCRIPTION_LEASE_MS`: how long a gateway replica's share of the per-tenant count outlives its last heartbeat (renewed every third of it). Default 30000. */
  tenantLeaseMs: number;
  /** `MTD_WS_MAX_QUEUED_EVENTS`: events queued for one subscription before its client is closed as too slow (4290). Default 1000. */
  maxQueuedEvents: number;
  /**
   * `MTD_WS_MAX_QUEUED_BYTES`: bytes the gateway holds for one client (a WebSocket with all its subscriptions,
   * or one SSE / multipart response): results waiting to be written plus the transport's unsent buffer.
   * Past it the client is closed as too slow (4290). Results executed ahead count (up to 4 per subscription),
   * so keep it above `maxPerConnection` × 4 × a large result. From 64 KiB to 1 GiB. Default 16777216 (16 MiB).
   */
  maxQueuedBytes: number;
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
  /** `MTD_RATE_LIMIT_SUBSCRIBE_PER_SECOND` / `_BURST`: subscriptions started by a tenant, on every transport. Default 100/s, burst 2000. */
  subscribe: BucketLimit;
}

export function readLimits(reader: ConfigReader): LimitsConfig {
  const limit = (name: string, min: number, max: number, fallback: number) => reader.integerOr(name, min, max, fallback);
  const subscriptions: SubscriptionLimits = {
    maxPerConnection: limit("MTD_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION", 1, 10_000, 100),
    maxPerTenant: limit("MTD_WS_MAX_SUBSCRIPTIONS_PER_TENANT", 1, 1_000_000, 10_000),
    tenantLeaseMs: limit("MTD_WS_SUBSCRIPTION_LEASE_MS", 1000, 600_000, 30_000),
    maxQueuedEvents: limit("MTD_WS_MAX_QUEUED_EVENTS", 1, 1_000_000, 1000),
    maxQueuedBytes: limit("MTD_WS_MAX_QUEUED_BYTES", 65_536, 1_073_741_824, 16 * 1024 * 1024),
    keepAliveMs: limit("MTD_WS_KEEPALIVE_MS", 0, 600_000, 12_000),
    upstreamRetryMaxMs: limit("MTD_WS_UPSTREAM_RETRY_MAX_MS", 100, 600_000, 5000),
  };
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
  const caches: CacheLimits = {
    documents: limit("MTD_CACHE_DOCUMENTS", 1, 1_000_000, 2000),
    queryPlans: limit("MTD_CACHE_QUERY_PLANS", 1, 1_000_000, 2000),
    subscriptionPlans: limit("MTD_CACHE_SUBSCRIPTION_PLANS", 1, 1_000_000, 1000),
  };
  return { limits, rateLimits: { tenant: bucket("TENANT", 200, 400), partner: bucket("PARTNER", 500, 1000), subscribe: bucket("SUBSCRIBE", 100, 2000) }, subscriptions, caches };
}
