/**
 * Every statement of the Shared Signals transmitter. Deliveries are claimed
 * with conditional single-row UPDATEs, so several signals replicas share the
 * work without locks held across HTTP calls.
 */
import { In, LessThan, Not, type DataSource, type EntityManager } from "typeorm";
import {
  DeliveryEntity,
  ReceiverEntity,
  StreamEntity,
  SubjectEntity,
  type DeliveryRecord,
  type ReceiverRecord,
  type StreamRecord,
  type SubjectRecord,
} from "./entities.js";

export type NewDelivery = Omit<DeliveryRecord, "sequence" | "status" | "attempts" | "claimedUntil" | "finishedAt" | "lastError" | "nextAttemptAt" | "createdAt">;

export interface StreamHealthCounts {
  pending: number;
  oldestPendingAt: number | null;
  dead: number;
}

export class SsfRepository {
  constructor(readonly dataSource: DataSource) {}

  // Receivers

  receiver(clientId: string): Promise<ReceiverRecord | null> {
    return this.dataSource.getRepository(ReceiverEntity).findOne({ where: { clientId } });
  }

  receivers(tenantId: string): Promise<ReceiverRecord[]> {
    return this.dataSource.getRepository(ReceiverEntity).find({ where: { tenantId }, order: { createdAt: "ASC", clientId: "ASC" } });
  }

  receiversByIds(tenantId: string, clientIds: readonly string[]): Promise<ReceiverRecord[]> {
    return this.dataSource.getRepository(ReceiverEntity).find({ where: { tenantId, clientId: In([...clientIds]) } });
  }

  /** In the caller's transaction (`manager`), like every write that the audit trail records. */
  async insertReceiver(manager: EntityManager, receiver: ReceiverRecord, stream?: StreamRecord): Promise<void> {
    await manager.getRepository(ReceiverEntity).insert(receiver);
    if (stream !== undefined) await manager.getRepository(StreamEntity).insert(stream);
  }

  async updateSecret(manager: EntityManager, clientId: string, secretHash: string): Promise<void> {
    await manager.getRepository(ReceiverEntity).update({ clientId }, { secretHash });
  }

  /** Deletes a receiver with its stream, subjects and queued SETs. */
  async deleteReceiver(manager: EntityManager, clientId: string): Promise<void> {
    const streams = await manager.getRepository(StreamEntity).find({ where: { clientId } });
    for (const stream of streams) await deleteStream(manager, stream.streamId);
    await manager.getRepository(ReceiverEntity).delete({ clientId });
  }

  // Streams

  stream(streamId: string): Promise<StreamRecord | null> {
    return this.dataSource.getRepository(StreamEntity).findOne({ where: { streamId } });
  }

  streamsOfClient(clientId: string): Promise<StreamRecord[]> {
    return this.dataSource.getRepository(StreamEntity).find({ where: { clientId }, order: { createdAt: "ASC" } });
  }

  streamsOfTenant(tenantId: string): Promise<StreamRecord[]> {
    return this.dataSource.getRepository(StreamEntity).find({ where: { tenantId }, order: { createdAt: "ASC", streamId: "ASC" } });
  }

  /** The streams a tenant's events go to: every stream that is not disabled. */
  liveStreams(manager: EntityManager, tenantId: string): Promise<StreamRecord[]> {
    return manager.getRepository(StreamEntity).find({ where: { tenantId, status: Not("disabled") }, order: { streamId: "ASC" } });
  }

  async insertStream(manager: EntityManager, stream: StreamRecord): Promise<void> {
    await manager.getRepository(StreamEntity).insert(stream);
  }

  async updateStream(streamId: string, values: Partial<StreamRecord>, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.getRepository(StreamEntity).update({ streamId }, { ...values, updatedAt: new Date() });
  }

  async deleteStream(manager: EntityManager, streamId: string): Promise<void> {
    await deleteStream(manager, streamId);
  }

  /** Records a delivery outcome on the stream (admins see it as the stream's health). */
  async recordOutcome(streamId: string, outcome: { ok: true } | { ok: false; error: string }): Promise<void> {
    const repository = this.dataSource.getRepository(StreamEntity);
    if (outcome.ok) {
      await repository.update({ streamId }, { lastDeliveredAt: new Date(), consecutiveFailures: 0 });
    } else {
      await repository
        .createQueryBuilder()
        .update()
        .set({ lastErrorAt: new Date(), lastError: outcome.error.slice(0, 512), consecutiveFailures: () => "consecutive_failures + 1" })
        .where("stream_id = :streamId", { streamId })
        .execute();
    }
  }

  // Subjects

  async setSubject(record: SubjectRecord): Promise<void> {
    await this.dataSource.getRepository(SubjectEntity).upsert(record, ["streamId", "subjectKey"]);
  }

  removedSubjects(manager: EntityManager, streamIds: readonly string[]): Promise<SubjectRecord[]> {
    if (streamIds.length === 0) return Promise.resolve([]);
    return manager.getRepository(SubjectEntity).find({ where: { streamId: In([...streamIds]), state: "removed" } });
  }

  // Deliveries

  async enqueue(manager: EntityManager, deliveries: readonly NewDelivery[], now = Date.now()): Promise<void> {
    if (deliveries.length === 0) return;
    const rows = deliveries.map((delivery) => ({
      ...delivery,
      status: "pending" as const,
      attempts: 0,
      nextAttemptAt: now,
      claimedUntil: null,
      createdAt: now,
      finishedAt: null,
      lastError: null,
    }));
    for (let start = 0; start < rows.length; start += 200) {
      await manager.createQueryBuilder().insert().into(DeliveryEntity).values(rows.slice(start, start + 200)).updateEntity(false).execute();
    }
  }

  /** Ids of push streams with a SET due now (only control SETs count while a stream is not enabled). */
  async dueStreams(now: number): Promise<string[]> {
    const rows = await this.dataSource
      .getRepository(DeliveryEntity)
      .createQueryBuilder("d")
      .select("DISTINCT d.stream_id", "streamId")
      .innerJoin("ssf_streams", "s", "s.stream_id = d.stream_id AND s.delivery_method = 'push'")
      .where("d.status = 'pending'")
      .andWhere("(s.status = 'enabled' OR d.control = 1)")
      .andWhere("d.next_attempt_at <= :now", { now })
      .andWhere("(d.claimed_until IS NULL OR d.claimed_until < :now)", { now })
      .getRawMany<{ streamId: string }>();
    return rows.map((row) => row.streamId);
  }

  /** When the next pending push SET becomes due (epoch ms), or null. */
  async nextDueAt(): Promise<number | null> {
    const row = await this.dataSource
      .getRepository(DeliveryEntity)
      .createQueryBuilder("d")
      .select("MIN(d.next_attempt_at)", "next")
      .innerJoin("ssf_streams", "s", "s.stream_id = d.stream_id AND s.delivery_method = 'push'")
      .where("d.status = 'pending'")
      .andWhere("(s.status = 'enabled' OR d.control = 1)")
      .getRawOne<{ next: string | number | null }>();
    return row?.next == null ? null : Number(row.next);
  }

  /**
   * The first pending SET of each subject of the stream (per-subject order),
   * those of them due and unclaimed, oldest first. While the stream is not
   * enabled only control SETs (stream-updated) go.
   */
  dueHeads(streamId: string, enabled: boolean, now: number, limit: number): Promise<DeliveryRecord[]> {
    const repository = this.dataSource.getRepository(DeliveryEntity);
    const heads = repository
      .createQueryBuilder("h")
      .subQuery()
      .select("MIN(h.sequence)")
      .from(DeliveryEntity, "h")
      .where("h.stream_id = :streamId")
      .andWhere("h.status = 'pending'")
      .groupBy("h.order_key")
      .getQuery();
    const query = repository
      .createQueryBuilder("d")
      .where(`d.sequence IN ${heads}`, { streamId })
      .andWhere("d.next_attempt_at <= :now", { now })
      .andWhere("(d.claimed_until IS NULL OR d.claimed_until < :now)", { now })
      .orderBy("d.sequence", "ASC")
      .take(limit);
    if (!enabled) query.andWhere("d.control = 1");
    return query.getMany();
  }

  /** Takes a pending SET for `until` (epoch ms); false when another worker has it. */
  async claim(sequence: number, until: number, now: number): Promise<boolean> {
    const result = await this.dataSource
      .getRepository(DeliveryEntity)
      .createQueryBuilder()
      .update()
      .set({ claimedUntil: until })
      .where("sequence = :sequence", { sequence })
      .andWhere("status = 'pending'")
      .andWhere("(claimed_until IS NULL OR claimed_until < :now)", { now })
      .execute();
    return result.affected === 1;
  }

  async finish(sequence: number, status: "delivered" | "dead", values: { attempts: number; error?: string; now: number }): Promise<void> {
    await this.dataSource.getRepository(DeliveryEntity).update(
      { sequence },
      { status, attempts: values.attempts, claimedUntil: null, finishedAt: values.now, lastError: values.error?.slice(0, 512) ?? null },
    );
  }

  async retryLater(sequence: number, values: { attempts: number; nextAttemptAt: number; error: string }): Promise<void> {
    await this.dataSource
      .getRepository(DeliveryEntity)
      .update({ sequence }, { attempts: values.attempts, nextAttemptAt: values.nextAttemptAt, claimedUntil: null, lastError: values.error.slice(0, 512) });
  }

  /** Drops the held SETs of a stream (it was disabled: "will not hold any events"); control SETs stay. */
  async dropPending(streamId: string, now: number, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager
      .getRepository(DeliveryEntity)
      .update({ streamId, status: "pending", control: false }, { status: "dropped", finishedAt: now, claimedUntil: null });
  }

  /** Poll: pending SETs not handed out (or handed out and not acknowledged for too long), oldest first. */
  pollable(streamId: string, enabled: boolean, now: number, limit: number): Promise<DeliveryRecord[]> {
    const where = { streamId, status: "pending" as const, nextAttemptAt: LessThan(now + 1), ...(enabled ? {} : { control: true }) };
    return this.dataSource.getRepository(DeliveryEntity).find({ where, order: { sequence: "ASC" }, take: limit });
  }

  /** Poll: hands a SET out until `until`; false when a concurrent poll took it. */
  async lease(sequence: number, attempts: number, until: number, now: number): Promise<boolean> {
    const result = await this.dataSource
      .getRepository(DeliveryEntity)
      .createQueryBuilder()
      .update()
      .set({ nextAttemptAt: until, attempts })
      .where("sequence = :sequence", { sequence })
      .andWhere("status = 'pending'")
      .andWhere("next_attempt_at <= :now", { now })
      .execute();
    return result.affected === 1;
  }

  /** Poll acknowledgements: the stream's pending SETs with these `jti`s are delivered. Returns how many. */
  async acknowledge(streamId: string, jtis: readonly string[], now: number): Promise<number> {
    if (jtis.length === 0) return 0;
    const result = await this.dataSource
      .getRepository(DeliveryEntity)
      .update({ streamId, status: "pending", jti: In([...jtis]) }, { status: "delivered", finishedAt: now });
    return result.affected ?? 0;
  }

  /** Poll `setErrs`: the receiver rejected these SETs; they become dead letters with its reason. */
  async reject(streamId: string, errors: ReadonlyMap<string, string>, now: number): Promise<void> {
    for (const [jti, error] of errors) {
      await this.dataSource
        .getRepository(DeliveryEntity)
        .update({ streamId, status: "pending", jti }, { status: "dead", finishedAt: now, lastError: error.slice(0, 512) });
    }
  }

  async health(streamIds: readonly string[]): Promise<Map<string, StreamHealthCounts>> {
    const result = new Map<string, StreamHealthCounts>(streamIds.map((id) => [id, { pending: 0, oldestPendingAt: null, dead: 0 }]));
    if (streamIds.length === 0) return result;
    const rows = await this.dataSource
      .getRepository(DeliveryEntity)
      .createQueryBuilder("d")
      .select("d.stream_id", "streamId")
      .addSelect("d.status", "status")
      .addSelect("COUNT(*)", "count")
      .addSelect("MIN(d.created_at)", "oldest")
      .where("d.stream_id IN (:...streamIds)", { streamIds })
      .andWhere("d.status IN ('pending', 'dead')")
      .groupBy("d.stream_id")
      .addGroupBy("d.status")
      .getRawMany<{ streamId: string; status: string; count: string | number; oldest: string | number | null }>();
    for (const row of rows) {
      const health = result.get(row.streamId)!;
      if (row.status === "pending") {
        health.pending = Number(row.count);
        health.oldestPendingAt = row.oldest == null ? null : Number(row.oldest);
      } else {
        health.dead = Number(row.count);
      }
    }
    return result;
  }

  /** Dead letters of some streams, newest first, after a sequence (paging). */
  deadLetters(streamIds: readonly string[], options: { before?: number; limit: number }): Promise<DeliveryRecord[]> {
    if (streamIds.length === 0) return Promise.resolve([]);
    return this.dataSource.getRepository(DeliveryEntity).find({
      where: { streamId: In([...streamIds]), status: "dead", ...(options.before === undefined ? {} : { sequence: LessThan(options.before) }) },
      order: { sequence: "DESC" },
      take: options.limit,
    });
  }

  countDeadLetters(streamIds: readonly string[]): Promise<number> {
    if (streamIds.length === 0) return Promise.resolve(0);
    return this.dataSource.getRepository(DeliveryEntity).count({ where: { streamId: In([...streamIds]), status: "dead" } });
  }

  /** Queues a stream's dead letters again (same `jti`: receivers dedupe). Returns how many. */
  async redeliver(streamId: string, now: number, manager: EntityManager = this.dataSource.manager): Promise<number> {
    const result = await manager
      .getRepository(DeliveryEntity)
      .update({ streamId, status: "dead" }, { status: "pending", attempts: 0, nextAttemptAt: now, createdAt: now, finishedAt: null, claimedUntil: null });
    return result.affected ?? 0;
  }

  /** Deletes delivered and dropped SETs finished before `before` (epoch ms). */
  async prune(before: number): Promise<void> {
    await this.dataSource.getRepository(DeliveryEntity).delete({ status: In(["delivered", "dropped"]), finishedAt: LessThan(before) });
  }
}

async function deleteStream(manager: EntityManager, streamId: string): Promise<void> {
  await manager.getRepository(DeliveryEntity).delete({ streamId });
  await manager.getRepository(SubjectEntity).delete({ streamId });
  await manager.getRepository(StreamEntity).delete({ streamId });
}
