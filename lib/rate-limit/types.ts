/**
 * Token buckets: `burst` tokens at most, refilled continuously at `perSecond`.
 * Two implementations behind this interface: in process (embedded default)
 * and Redis (`REDIS_URL`: one bucket shared by every gateway replica).
 */
import type { BucketLimit } from "../config.js";

export type { BucketLimit };

export interface BucketDecision {
  allowed: boolean;
  /** Whole tokens left after this take (0 when refused). */
  remaining: number;
  /** When refused: seconds until `cost` tokens are back (at least 1). 0 when allowed. */
  retryAfterSeconds: number;
}

export interface TokenBuckets {
  /**
   * Takes `cost` tokens from bucket `key` if it holds that many. A cost above
   * `burst` is charged as `burst` (a full bucket), so no request is refused forever.
   */
  take(key: string, limit: BucketLimit, cost?: number): Promise<BucketDecision>;
  /** Round-trips to the store (readiness). */
  ping(): Promise<void>;
  /** Releases connections and timers. Idempotent. */
  close(): Promise<void>;
}
