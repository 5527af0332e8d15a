/**
 * Active subscriptions per tenant, shared by every gateway replica through
 * Redis (`REDIS_URL` or `REDIS_CLUSTER_NODES`), each replica's share held
 * under a lease.
 *
 * Per tenant, two keys on one slot (hash tag `{<tenant>}`): a hash
 * `<prefix>:subscriptions:{<tenant>}:counts` (replica → its active
 * subscriptions of the tenant) and a sorted set `…:leases` (replica → when its
 * share stops counting, on Redis's clock). A replica writes only its own
 * field, and always its whole count (never an increment), so Redis converges
 * on what the replicas hold:
 * - acquire: one script drops expired shares, sums the other replicas' and
 *   admits when they plus this replica's count (the new one included) are at
 *   most `max`, writing that count and renewing the lease;
 * - release, and a heartbeat every `leaseMs / 3`: the same write without the
 *   check; a count of 0 withdraws the share (so does `close`).
 * A replica killed with -9 stops renewing: its share stops counting at most
 * `leaseMs` after its last heartbeat. Both keys expire with the latest lease.
 *
 * Redis unreachable: fail open to the per-process limit: the replica admits a
 * tenant's subscription while its own count stays within `max` (what one
 * gateway enforced before there was a shared count). Logged, counted in
 * `mtd_rate_limit_store_errors_total`; once Redis is back the heartbeat writes
 * the shares admitted meanwhile.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "../../../lib/logger.js";
import { metrics } from "../../../lib/metrics.js";
import { connectRedis, type RedisClient, type RedisTarget } from "../../../lib/redis.js";
import { LocalTenantSubscriptions } from "./local.js";
import type { TenantSubscriptions } from "./types.js";

/** KEYS[1] counts, KEYS[2] leases; ARGV replica, count, lease ms (, max). Drops expired shares; `now` on Redis's clock. */
const PRUNE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, dead in ipairs(expired) do redis.call('HDEL', KEYS[1], dead) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
local replica = ARGV[1]
local count = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
`;

/** Writes this replica's share (0 withdraws it) and renews its lease. */
const WRITE = `
if count <= 0 then
  redis.call('HDEL', KEYS[1], replica)
  redis.call('ZREM', KEYS[2], replica)
else
  redis.call('HSET', KEYS[1], replica, count)
  redis.call('ZADD', KEYS[2], now + lease, replica)
  redis.call('PEXPIRE', KEYS[1], lease)
  redis.call('PEXPIRE', KEYS[2], lease)
end
return 1
`;

/** Returns 0 (refused) when the other replicas' shares plus `count` exceed ARGV[4]. */
const ACQUIRE = `${PRUNE}
local shares = redis.call('HGETALL', KEYS[1])
local others = 0
for i = 1, #shares, 2 do
  if shares[i] ~= replica then others = others + tonumber(shares[i + 1]) end
end
if others + count > tonumber(ARGV[4]) then return 0 end
${WRITE}`;

export interface RedisTenantSubscriptionsOptions extends RedisTarget {
  /** Key prefix (`MTD_REDIS_PREFIX`); required, as for the event log. */
  prefix: string;
  /** `MTD_WS_SUBSCRIPTION_LEASE_MS`: how long a replica's share counts after its last heartbeat. */
  leaseMs: number;
  logger: Logger;
  /** This replica's field in the shares. Default: a random UUID per instance. */
  replica?: string;
  /** A command that gets no answer within this fails (and the limit falls back to this process's). Default 500 ms. */
  commandTimeoutMs?: number;
}

type WithScripts = RedisClient & {
  mtdAcquireSubscription(counts: string, leases: string, replica: string, count: number, leaseMs: number, max: number): Promise<number>;
  mtdWriteSubscriptions(counts: string, leases: string, replica: string, count: number, leaseMs: number): Promise<number>;
};

/** Store failures logged: the first and every hundredth after it. */
const LOG_EVERY = 100;

export class RedisTenantSubscriptions implements TenantSubscriptions {
  private readonly redis: WithScripts;
  /** This replica's share per tenant: the truth its writes carry. */
  private readonly own = new LocalTenantSubscriptions();
  private readonly replica: string;
  private readonly heartbeat: NodeJS.Timeout;
  /** The connection was lost and is not back: fall back at once instead of waiting out the command timeout. */
  private away = false;
  private closed = false;
  private failures = 0;
  /** Writes under way: `close` lets them land before it withdraws what is left. */
  private readonly writing = new Set<Promise<void>>();

  constructor(private readonly options: RedisTenantSubscriptionsOptions) {
    if (!options.prefix) throw new TypeError(`RedisTenantSubscriptions: expected a non-empty prefix, got ${JSON.stringify(options.prefix)}`);
    this.replica = options.replica ?? randomUUID();
    const redis = connectRedis(options, `${options.prefix}:subscriptions`, { commandTimeout: options.commandTimeoutMs ?? 500, maxRetriesPerRequest: 1, enableOfflineQueue: true });
    redis.on("error", () => {}); // surfaces as failed commands
    redis.on("close", () => (this.away = true));
    redis.on("ready", () => {
      if (!this.away) return;
      this.away = false;
      void this.renew(); // the shares admitted while Redis was away
    });
    redis.defineCommand("mtdAcquireSubscription", { numberOfKeys: 2, lua: ACQUIRE });
    redis.defineCommand("mtdWriteSubscriptions", { numberOfKeys: 2, lua: `${PRUNE}${WRITE}` });
    this.redis = redis as WithScripts;
    this.heartbeat = setInterval(() => void this.renew(), Math.max(100, Math.floor(options.leaseMs / 3)));
    this.heartbeat.unref();
  }

  async acquire(tenantId: string, max: number): Promise<boolean> {
    // This replica's own share alone reaching past `max` is refused without asking.
    const count = this.own.add(tenantId, max);
    if (count === undefined) return false;
    try {
      if (this.away) throw new Error("reconnecting to Redis");
      if ((await this.redis.mtdAcquireSubscription(...this.keys(tenantId), this.replica, count, this.options.leaseMs, max)) === 1) return true;
    } catch (error) {
      this.failed(error);
      return true;
    }
    this.own.remove(tenantId);
    return false;
  }

  release(tenantId: string): void {
    const left = this.own.remove(tenantId);
    if (!this.away && !this.closed) void this.write(tenantId, left);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    await Promise.all(this.writing);
    // Withdraw this replica's shares now rather than letting them count until the lease ends.
    if (!this.away) await Promise.all([...this.own.entries()].map(([tenantId]) => this.write(tenantId, 0)));
    this.redis.disconnect();
  }

  private keys(tenantId: string): [counts: string, leases: string] {
    const base = `${this.options.prefix}:subscriptions:{${tenantId}}`;
    return [`${base}:counts`, `${base}:leases`];
  }

  private write(tenantId: string, count: number): Promise<void> {
    const written = this.redis.mtdWriteSubscriptions(...this.keys(tenantId), this.replica, count, this.options.leaseMs).then(
      () => {},
      (error: unknown) => this.failed(error),
    );
    this.writing.add(written);
    void written.finally(() => this.writing.delete(written));
    return written;
  }

  private async renew(): Promise<void> {
    if (this.closed || this.away) return;
    await Promise.all([...this.own.entries()].map(([tenantId, count]) => this.write(tenantId, count)));
  }

  private failed(error: unknown) {
    metrics.rateLimitErrors.inc();
    if (this.failures++ % LOG_EVERY === 0) {
      this.options.logger.warn({ err: error, failures: this.failures }, "subscription count store unavailable; tenant limit enforced per replica");
    }
  }
}
