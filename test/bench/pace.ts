/**
 * Partner reports for the benchmarks that time a report to its delivery: the
 * steady pace, reports flipping devices in turn, and which report caused
 * which access change.
 */
import { ACCESS_CHANGES, type Tenant } from "../gateway/subscriptions-helpers.js";

/** Runs `act(i)` for i in [0, total) at `rate` per second, not waiting for one to finish before starting the next. */
export async function steady(total: number, rate: number, act: (i: number) => Promise<void>): Promise<void> {
  const start = Date.now();
  const running: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / rate - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    running.push(act(i));
  }
  await Promise.all(running);
}

/**
 * Report `i` flips device `i % devices.length` (revoked ↔ restored: one access
 * change per covered resource); resolves, once the report is accepted, to its
 * key `<device>#<flip>`, the key `ChangeMap` gives the change it causes.
 */
export function deviceFlips(tenant: Tenant, devices: readonly string[], revoked: Iterable<string>): (i: number) => Promise<string> {
  const down = new Set(revoked);
  const flips = new Map<string, number>();
  return async (i) => {
    const id = devices[i % devices.length]!;
    const n = (flips.get(id) ?? 0) + 1;
    flips.set(id, n);
    const restore = down.has(id);
    if (restore) down.delete(id);
    else down.add(id);
    await (restore ? tenant.restore(id) : tenant.revoke(id));
    return `${id}#${n}`;
  };
}

/** Which report caused which sequence of `resource`: read from the stored changes after a cursor (call `read` again for more, before retention prunes them). */
export class ChangeMap {
  readonly keyOf = new Map<number, string>();
  private readonly flips = new Map<string, number>();

  constructor(
    private readonly tenant: Tenant,
    private after: string,
    private readonly resource = "exchange",
  ) {}

  async read(): Promise<void> {
    for (;;) {
      const page = await this.tenant.ok(ACCESS_CHANGES, { after: this.after }, this.tenant.enforcement);
      for (const edge of page.accessChanges.edges) {
        this.after = edge.cursor;
        if (edge.node.resource !== this.resource) continue;
        const device = edge.node.device.id as string;
        const n = (this.flips.get(device) ?? 0) + 1;
        this.flips.set(device, n);
        this.keyOf.set(edge.node.sequence, `${device}#${n}`);
      }
      if (!page.accessChanges.pageInfo.hasNextPage) return;
    }
  }
}
