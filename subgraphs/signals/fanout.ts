/**
 * Feeds the transmitter: consumes `compliance.changed` (topic `policies`,
 * consumer group `policies.ssf`) and queues, in one transaction, the SETs of
 * the flip for every stream of the tenant that is not disabled, and the
 * event id as processed: a redelivered event queues nothing twice.
 *
 * Per-device order. The log hands a group's events to several consumers
 * side by side (one per replica), so two flips of one device may arrive in
 * either order. Flips of a device alternate (compliant → not → compliant,
 * starting from an implicit compliant), so the next flip is the one whose
 * `previous` is the last fanned-out state:
 * an event that does not follow is retried (the consumer throws; the log
 * redelivers it after a backoff) until the missing flip has been fanned out,
 * for at most `GAP_WAIT_MS` after it happened — a flip lost for good (or
 * published before the transmitter existed) does not block the device
 * forever. An event older than the last one fanned out is stale and dropped.
 */
import { randomId } from "./crypto.js";
import type { SsfContext } from "./ssf-context.js";
import { DeviceStateEntity, ReceiverEntity, SsfProcessedEventEntity, type StreamRecord } from "./data/entities.js";
import type { NewDelivery } from "./data/repository.js";
import type { COMPLIANCE_CHANGED, CatalogEvent } from "../../lib/events/catalog.js";
import type { ComplianceChangedPayload } from "../../lib/events/contracts.js";
import { engineOf, isUniqueViolation } from "../../lib/db.js";
import { EventType } from "./protocol.js";
import { complianceSets } from "./sets.js";
import { deviceSubject, subjectMatches } from "./subjects.js";
import { In, type EntityManager } from "typeorm";

/**
 * The group's name from when the transmitter lived in the policies service,
 * kept: a renamed group would read the topic again from its start, and its
 * processed-event records (`ssf_processed_events`) are kept under this name.
 */
export const SSF_CONSUMER_GROUP = "policies.ssf";
/** How long a flip waits for the flip before it (arriving through another consumer) before it goes anyway. */
export const GAP_WAIT_MS = 30_000;

/** Thrown to have the log redeliver an event that arrived ahead of the flip before it. */
export class OutOfOrder extends Error {
  override name = "OutOfOrder";
}

export class Fanout {
  constructor(private readonly context: SsfContext) {}

  async handle(event: CatalogEvent<"policies", typeof COMPLIANCE_CHANGED>): Promise<void> {
    const change = event.payload;
    // A grace period starting or ending without access changing: no flip, nothing to signal (CAEP only when the device is actually noncompliant).
    if ((change.previous ?? "COMPLIANT") === change.current) return;
    const woken: string[] = [];
    await this.context.repository.dataSource.transaction(async (manager) => {
      try {
        await manager.getRepository(SsfProcessedEventEntity).insert({ consumerGroup: SSF_CONSUMER_GROUP, eventId: event.id, processedAt: new Date() });
      } catch (error) {
        if (isUniqueViolation(error)) return; // fanned out before
        throw error;
      }
      if (!(await this.inOrder(manager, event, change))) return;
      const streams = await this.context.repository.liveStreams(manager, event.tenantId);
      const deliveries = await this.deliveries(manager, streams, change);
      await this.context.repository.enqueue(manager, deliveries);
      woken.push(...new Set(deliveries.map((delivery) => delivery.streamId)));
    });
    for (const streamId of woken) this.context.notifier.wake(streamId);
  }

  /** Records the flip as the device's last one; false for a stale flip (drop it); throws OutOfOrder to wait for a missing one. */
  private async inOrder(manager: EntityManager, event: CatalogEvent<"policies", typeof COMPLIANCE_CHANGED>, change: ComplianceChangedPayload): Promise<boolean> {
    const states = manager.getRepository(DeviceStateEntity);
    const key = { tenantId: event.tenantId, deviceId: change.deviceId };
    const mysql = engineOf(manager.connection) === "mysql";
    const query = states.createQueryBuilder("s").where("s.tenant_id = :tenantId AND s.device_id = :deviceId", key);
    const state = await (mysql ? query.setLock("pessimistic_write") : query).getOne();
    const at = Date.parse(change.at);
    // A device policies never reported on is implicitly compliant: its first flip is to NONCOMPLIANT,
    // with `previous` null (first seen) or COMPLIANT (seen, compliant, never flipped).
    const expected = state?.current ?? "COMPLIANT";
    const previous = change.previous ?? "COMPLIANT";
    if (previous !== expected) {
      if (state !== null && at < state.at) {
        this.context.logger.warn({ eventId: event.id, deviceId: change.deviceId }, "ssf: stale compliance change dropped (a later one was already sent)");
        return false;
      }
      if (Date.now() - at < GAP_WAIT_MS) {
        throw new OutOfOrder(`compliance change ${event.id} of device ${change.deviceId} follows a flip not fanned out yet (expected previous ${expected}, got ${previous})`);
      }
      this.context.logger.warn({ eventId: event.id, deviceId: change.deviceId }, "ssf: a compliance change never arrived; sending the next one anyway");
    }
    await states.upsert({ ...key, current: change.current, at, eventId: event.id }, ["tenantId", "deviceId"]);
    return true;
  }

  private async deliveries(manager: EntityManager, streams: StreamRecord[], change: ComplianceChangedPayload): Promise<NewDelivery[]> {
    if (streams.length === 0) return [];
    const removed = await this.context.repository.removedSubjects(manager, streams.map((stream) => stream.streamId));
    const receivers = await manager.getRepository(ReceiverEntity).find({ where: { clientId: In(streams.map((stream) => stream.clientId)) } });
    const okta = new Set(receivers.filter((receiver) => receiver.oktaOrgUrl !== null).map((receiver) => receiver.clientId));
    const subject = deviceSubject(change.deviceId, change.userPrincipalName);
    const deliveries: NewDelivery[] = [];
    for (const stream of streams) {
      const excluded = removed.some((row) => row.streamId === stream.streamId && subjectMatches(JSON.parse(row.subject), subject));
      if (excluded) continue;
      const sets = complianceSets(change, {
        deviceCompliance: stream.eventsRequested.includes(EventType.DEVICE_COMPLIANCE_CHANGE),
        sessionRevoked: stream.eventsRequested.includes(EventType.SESSION_REVOKED),
        okta: okta.has(stream.clientId),
      });
      for (const set of sets) {
        deliveries.push({
          streamId: stream.streamId,
          jti: randomId(),
          eventType: set.eventType,
          orderKey: `device:${change.deviceId}`,
          txn: change.changeId,
          deviceId: change.deviceId,
          body: JSON.stringify(set.body),
          control: false,
        });
      }
    }
    return deliveries;
  }
}
