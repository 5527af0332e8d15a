/**
 * Token buckets in Redis, shared by every gateway replica: one hash per
 * bucket, `${prefix}:ratelimit:${key}` = { t: tokens, ts: last refill (ms) },
 * updated by one Lua script (atomic: concurrent takes from several replicas
 * never overdraw). Time is Redis's own clock, so replicas' clocks do not
 * matter. A bucket expires once it would be full again.
 */
import { connectRedis, type RedisClient, type RedisTarget } from "../redis.js";
import type { BucketDecision, BucketLimit, TokenBuckets } from "./types.js";

/** KEYS[1] bucket; ARGV rate per second, burst, cost. Returns { allowed, remaining, retry ms }. */
const TAKE = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
end
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = math.ceil((cost - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return { allowed, math.floor(tokens), retry }
`;

export interface RedisTokenBucketsOptions extends RedisTarget {
  /** Key prefix (`MTD_REDIS_PREFIX`); required, as for the event log. */
  prefix: string;
  /** A take that gets no answer within this is failed (the caller decides: the gateway lets it through). Default 500 ms. */
  commandTimeoutMs?: number;
}

type WithTake = RedisClient & { mtdTakeTokens(key: string, rate: number, burst: number, cost: number): Promise<[number, number, number]> };

export class RedisTokenBuckets implements TokenBuckets {
  private readonly redis: WithTake;
  /** The connection was lost and is not back: takes fail at once instead of each waiting out the command timeout. */
  private away = false;

  constructor(private readonly options: RedisTokenBucketsOptions) {
    if (!options.prefix) throw new TypeError(`RedisTokenBuckets: expected a non-empty prefix, got ${JSON.stringify(options.prefix)}`);
    const redis = connectRedis(options, `${options.prefix}:ratelimit`, {
      commandTimeout: options.commandTimeoutMs ?? 500,
      // The first takes wait (at most the command timeout) for the first connection.
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
    });
    redis.on("error", () => {}); // surfaces as rejected takes; readiness reports it
    // Fail fast while Redis is away rather than queueing every request behind a reconnect.
    redis.on("close", () => (this.away = true));
    redis.on("ready", () => (this.away = false));
    redis.defineCommand("mtdTakeTokens", { numberOfKeys: 1, lua: TAKE });
    this.redis = redis as WithTake;
  }

  async take(key: string, { perSecond, burst }: BucketLimit, requested = 1): Promise<BucketDecision> {
    if (this.away) throw new Error("rate-limit store unreachable: reconnecting to Redis");
    const cost = Math.min(requested, burst);
    const [allowed, remaining, retryMs] = await this.redis.mtdTakeTokens(`${this.options.prefix}:ratelimit:${key}`, perSecond, burst, cost);
    return allowed === 1
      ? { allowed: true, remaining, retryAfterSeconds: 0 }
      : { allowed: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)) };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
