/** Subscriptions per tenant in this process: the embedded default, and what a shared count remembers of its own replica's share. */
import type { TenantSubscriptions } from "./types.js";

export class LocalTenantSubscriptions implements TenantSubscriptions {
  private readonly counts = new Map<string, number>();

  async acquire(tenantId: string, max: number): Promise<boolean> {
    return this.add(tenantId, max) !== undefined;
  }

  /** Counts one more if at most `max` are then active; returns the new count, or undefined when refused. */
  add(tenantId: string, max = Infinity): number | undefined {
    const count = (this.counts.get(tenantId) ?? 0) + 1;
    if (count > max) return undefined;
    this.counts.set(tenantId, count);
    return count;
  }

  release(tenantId: string): void {
    this.remove(tenantId);
  }

  /** Counts one fewer; returns what is left. */
  remove(tenantId: string): number {
    const left = (this.counts.get(tenantId) ?? 1) - 1;
    if (left <= 0) this.counts.delete(tenantId);
    else this.counts.set(tenantId, left);
    return Math.max(0, left);
  }

  count(tenantId: string): number {
    return this.counts.get(tenantId) ?? 0;
  }

  entries(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }

  async close(): Promise<void> {}
}

