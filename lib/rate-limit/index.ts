/** Token buckets: in process by default, in Redis (shared by replicas) with `REDIS_URL` or `REDIS_CLUSTER_NODES`. */
import { MemoryTokenBuckets } from "./memory.js";
import { RedisTokenBuckets } from "./redis.js";
import type { TokenBuckets } from "./types.js";
import { redisConfigured, type RedisTarget } from "../redis.js";

export type { BucketDecision, BucketLimit, TokenBuckets } from "./types.js";
export { MemoryTokenBuckets } from "./memory.js";
export { RedisTokenBuckets, type RedisTokenBucketsOptions } from "./redis.js";

export function createTokenBuckets(options: { redis: RedisTarget; redisPrefix: string }): TokenBuckets {
  return redisConfigured(options.redis) ? new RedisTokenBuckets({ ...options.redis, prefix: options.redisPrefix }) : new MemoryTokenBuckets();
}
