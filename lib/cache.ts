/**
 * Caches bounded by entry count, for everything keyed by what clients send
 * (document text, operation name). A byte budget estimated from JSON size (the
 * default of Apollo Server's document store and @apollo/gateway's query-plan
 * store) undercounts a parsed document or a query plan several times over, so
 * a stream of distinct documents grows the heap far past the "30 MiB" it
 * promises; a count does not drift.
 *
 * Least recently used first out: `get` refreshes an entry, `set` evicts the
 * oldest entries before returning, so the size is never above `maxEntries`,
 * whatever runs concurrently (everything here is synchronous).
 *
 * Each cache reports `mtd_cache_entries`, `mtd_cache_max_entries` and
 * `mtd_cache_{hits,misses,evictions}_total` by `service` and `cache`
 * (`lib/metrics.ts`). It also serves as Apollo's `KeyValueCache` (the
 * `documentStore` of Apollo Server, the `queryPlannerConfig.cache` of
 * @apollo/gateway).
 */
import type { DocumentNode } from "graphql";
import type { CacheLimits } from "./config.js";
import { metrics, watchCache } from "./metrics.js";

export interface BoundedCacheOptions {
  /** Service label (`gateway`, `devices`, …). */
  service: string;
  /** Cache label (`documents`, `query_plans`, `subscription_plans`). */
  name: string;
  /** Entries kept at most (at least 1). */
  maxEntries: number;
}

export class BoundedCache<V> {
  private readonly entries = new Map<string, V>();
  readonly maxEntries: number;
  private readonly labels: { service: string; cache: string };

  constructor(options: BoundedCacheOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new RangeError(`maxEntries: expected an integer of at least 1; got ${options.maxEntries}`);
    this.maxEntries = options.maxEntries;
    this.labels = { service: options.service, cache: options.name };
    watchCache(this.labels, this);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry, refreshed as the most recently used; counts a hit or a miss. */
  read(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) {
      metrics.cacheMisses.inc(this.labels);
      return undefined;
    }
    metrics.cacheHits.inc(this.labels);
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Stores the entry as the most recently used, evicting the least recently used past `maxEntries`. */
  write(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
      metrics.cacheEvictions.inc(this.labels);
    }
  }

  // Apollo's KeyValueCache (TTLs are not used by Apollo for these caches).
  async get(key: string): Promise<V | undefined> {
    return this.read(key);
  }

  async set(key: string, value: V): Promise<void> {
    this.write(key, value);
  }

  async delete(key: string): Promise<boolean> {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Apollo Server's parsed-and-validated document store for `service`, bounded by `MTD_CACHE_DOCUMENTS`. */
export function documentStore(limits: CacheLimits, service: string): BoundedCache<DocumentNode> {
  return new BoundedCache<DocumentNode>({ service, name: "documents", maxEntries: limits.documents });
}
