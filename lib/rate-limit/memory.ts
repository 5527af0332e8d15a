/** Token buckets in this process: the embedded default, one set of buckets per gateway process. */
import type { BucketDecision, BucketLimit, TokenBuckets } from "./types.js";

interface Bucket {
  tokens: number;
  /** Epoch ms of the last refill. */
  at: number;
  /** Epoch ms when the bucket is full again: after that it may be forgotten. */
  fullAt: number;
}

/** How often full buckets are forgotten. */
const SWEEP_MS = 60_000;

export class MemoryTokenBuckets implements TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweep = setInterval(() => {
      const now = this.now();
      for (const [key, bucket] of this.buckets) if (bucket.fullAt <= now) this.buckets.delete(key);
    }, SWEEP_MS);
    this.sweep.unref();
  }

  async take(key: string, limit: BucketLimit, cost = 1): Promise<BucketDecision> {
    return takeFrom(this.buckets, key, limit, cost, this.now());
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweep);
  }
}

function takeFrom(buckets: Map<string, Bucket>, key: string, { perSecond, burst }: BucketLimit, requested: number, now: number): BucketDecision {
  const cost = Math.min(requested, burst);
  const bucket = buckets.get(key) ?? { tokens: burst, at: now, fullAt: now };
  bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) * perSecond) / 1000);
  bucket.at = now;
  let decision: BucketDecision;
  if (bucket.tokens >= cost) {
    bucket.tokens -= cost;
    decision = { allowed: true, remaining: Math.floor(bucket.tokens), retryAfterSeconds: 0 };
  } else {
    decision = { allowed: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil((cost - bucket.tokens) / perSecond)) };
  }
  bucket.fullAt = now + ((burst - bucket.tokens) * 1000) / perSecond;
  buckets.set(key, bucket);
  return decision;
}
