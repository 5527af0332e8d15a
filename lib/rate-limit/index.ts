/** Token buckets: in process by default, in Redis (shared by replicas) with `REDIS_URL`. */
import { MemoryTokenBuckets } from "./memory.js";
import { RedisTokenBuckets } from "./redis.js";
import type { TokenBuckets } from "./types.js";

export type { BucketDecision, BucketLimit, TokenBuckets } from "./types.js";
export { MemoryTokenBuckets } from "./memory.js";
export { RedisTokenBuckets, type RedisTokenBucketsOptions } from "./redis.js";

export function createTokenBuckets(options: { redisUrl?: string; redisPrefix: string }): TokenBuckets {
  return options.redisUrl === undefined ? new MemoryTokenBuckets() : new RedisTokenBuckets({ url: options.redisUrl, prefix: options.redisPrefix });
}
