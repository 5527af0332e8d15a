/**
 * Lanes for the reports of one threats process. A batch of several reports
 * (a partner's re-sync) is bulk work: a tenant's bulk batches take turns, one
 * at a time, so that they do not all share the process's thread and the
 * database with an urgent report at once. A report on a single device
 * (`reportThreats`, or a batch of one) is urgent: it goes ahead of every bulk
 * batch waiting for its turn.
 *
 * Per-device order: every piece of work waits first for the work before it
 * that names one of its devices (queued or running, in either lane), so a
 * device's later report never lands before its earlier one; only work on
 * other devices is overtaken. Across replicas the order of two requests sent
 * concurrently is not defined anyway; within a transaction the device rows
 * are locked (lib/unit-of-work.ts).
 */

interface TenantLanes {
  /** The last bulk batch of the tenant (queued or running): the next one starts after it. */
  bulk: Promise<void>;
  /** Per device: the last work naming it, to wait for. */
  devices: Map<string, Promise<void>>;
  /** Work queued or running. */
  pending: number;
}

export class ReportLanes {
  private readonly tenants = new Map<string, TenantLanes>();

  /** Runs `work` on `deviceIds` of the tenant in its lane: urgent when it names one device. */
  run<T>(tenantId: string, deviceIds: readonly string[], work: () => Promise<T>): Promise<T> {
    const ids = [...new Set(deviceIds)];
    const lanes = this.tenants.get(tenantId) ?? { bulk: Promise.resolve(), devices: new Map(), pending: 0 };
    this.tenants.set(tenantId, lanes);
    lanes.pending += 1;
    const urgent = ids.length === 1;
    const before = ids.flatMap((id) => lanes.devices.get(id) ?? []);
    if (!urgent) before.push(lanes.bulk);
    const result = Promise.all(before).then(work);
    const done = result.then(
      () => undefined,
      () => undefined,
    );
    if (!urgent) lanes.bulk = done;
    for (const id of ids) lanes.devices.set(id, done);
    void done.then(() => {
      for (const id of ids) if (lanes.devices.get(id) === done) lanes.devices.delete(id);
      lanes.pending -= 1;
      if (lanes.pending === 0) this.tenants.delete(tenantId);
    });
    return result;
  }
}
