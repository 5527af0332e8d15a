/**
 * Active subscriptions per tenant, for `MTD_WS_MAX_SUBSCRIPTIONS_PER_TENANT`:
 * this process's count (local.ts, the embedded default: one gateway) or, with
 * `REDIS_URL` or `REDIS_CLUSTER_NODES`, one count shared by every gateway
 * replica, each replica's share held under a lease that expires when the
 * replica dies (redis.ts).
 */
export interface TenantSubscriptions {
  /** Counts one more subscription of `tenantId` unless that would make more than `max` active; false when refused. */
  acquire(tenantId: string, max: number): Promise<boolean>;
  /** One subscription `acquire` counted has ended. */
  release(tenantId: string): void;
  /** Stops counting (a replica's share is withdrawn at once). Idempotent. */
  close(): Promise<void>;
}

