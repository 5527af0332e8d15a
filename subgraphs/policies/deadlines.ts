/**
 * Durable deadlines: grace periods ending (`policy_devices.grace_deadline`)
 * and access exceptions expiring (`access_exceptions.expires_at`). The rows
 * are the source of truth; a poll on every replica finds the tenants with
 * something due and, under the tenant's evaluation lock, claims the due rows
 * and evaluates their devices in the same transaction:
 * - a device whose grace deadline has passed turns NONCOMPLIANT (its deadline
 *   cleared), so a second claim of it finds nothing due;
 * - an expired exception is marked `expiry_evaluated` as it is claimed.
 * A deadline that passes while no replica runs fires at the first poll after
 * a start; two replicas polling together evaluate each deadline once.
 */
import { In, LessThanOrEqual, type DataSource } from "typeorm";
import type { Logger } from "../../lib/logger.js";
import { AccessExceptionEntity, PolicyDeviceEntity } from "./data/entities.js";
import type { Evaluator } from "./evaluator.js";

/** Default poll period: deadlines fire within about a second. */
export const DEFAULT_DEADLINE_POLL_MS = 1000;
/** Due rows claimed per transaction. */
const CLAIM_BATCH = 200;

export class Deadlines {
  private polling: Promise<void> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly evaluator: Evaluator,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  /** One poll (single-flight: a call while one runs waits for it). Failures are logged; the next poll retries. */
  poll(): Promise<void> {
    return (this.polling ??= this.fire()
      .catch((error: unknown) => this.logger.warn({ err: error }, "deadline poll failed; the next poll retries"))
      .finally(() => {
        this.polling = undefined;
      }));
  }

  private async fire(): Promise<void> {
    const now = new Date(this.now());
    const tenants = new Set<string>();
    const graceDue = await this.dataSource
      .getRepository(PolicyDeviceEntity)
      .createQueryBuilder("d")
      .select("DISTINCT d.tenant_id", "tenantId")
      .where("d.grace_deadline <= :now", { now: now.getTime() })
      .getRawMany<{ tenantId: string }>();
    const expiryDue = await this.dataSource
      .getRepository(AccessExceptionEntity)
      .createQueryBuilder("e")
      .select("DISTINCT e.tenant_id", "tenantId")
      .where("e.expiry_evaluated = :no AND e.expires_at <= :now", { no: false, now: now.getTime() })
      .getRawMany<{ tenantId: string }>();
    for (const row of [...graceDue, ...expiryDue]) tenants.add(row.tenantId);
    for (const tenantId of tenants) await this.claim(tenantId, now);
  }

  /** Claims and evaluates the tenant's due rows, a batch per transaction, until none is left. */
  private async claim(tenantId: string, now: Date): Promise<void> {
    for (;;) {
      let claimed = 0;
      await this.evaluator.within(tenantId, async ({ manager }) => {
        const devices = await manager.getRepository(PolicyDeviceEntity).find({ where: { tenantId, graceDeadline: LessThanOrEqual(now) }, take: CLAIM_BATCH });
        const exceptions = await manager.getRepository(AccessExceptionEntity).find({ where: { tenantId, expiryEvaluated: false, expiresAt: LessThanOrEqual(now) }, take: CLAIM_BATCH });
        if (exceptions.length > 0) {
          await manager.getRepository(AccessExceptionEntity).update({ tenantId, id: In(exceptions.map((exception) => exception.id)) }, { expiryEvaluated: true });
        }
        claimed = devices.length + exceptions.length;
        return [...new Set([...devices.map((device) => device.deviceId), ...exceptions.map((exception) => exception.deviceId)])];
      });
      if (claimed > 0) this.logger.info({ tenantId, claimed }, "deadlines fired");
      if (claimed < CLAIM_BATCH) return;
    }
  }
}
