/** Active subscriptions per tenant: in this process by default, shared by the replicas in Redis with `REDIS_URL` or `REDIS_CLUSTER_NODES`. */
import type { Logger } from "../../../lib/logger.js";
import { redisConfigured, type RedisTarget } from "../../../lib/redis.js";
import { LocalTenantSubscriptions } from "./local.js";
import { RedisTenantSubscriptions } from "./redis.js";
import type { TenantSubscriptions } from "./types.js";

export type { TenantSubscriptions } from "./types.js";
export { LocalTenantSubscriptions } from "./local.js";
export { RedisTenantSubscriptions, type RedisTenantSubscriptionsOptions } from "./redis.js";

export interface TenantSubscriptionsOptions {
  redis: RedisTarget;
  /** `MTD_REDIS_PREFIX`. */
  redisPrefix: string;
  /** `MTD_WS_TENANT_LEASE_MS`: how long a replica's share counts without a heartbeat. */
  leaseMs: number;
  logger: Logger;
}

export function createTenantSubscriptions(options: TenantSubscriptionsOptions): TenantSubscriptions {
  return redisConfigured(options.redis) ? new RedisTenantSubscriptions({ ...options.redis, prefix: options.redisPrefix, leaseMs: options.leaseMs, logger: options.logger }) : new LocalTenantSubscriptions();
}
