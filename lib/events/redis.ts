/**
 * Event log over Redis Streams: one stream per topic, `${prefix}:events:${topic}`,
 * one entry per event whose field `e` holds the JSON of the NewEvent. Positions
 * are stream ids (`<ms>-<seq>`).
 *
 * Connections: one shared connection for commands (XADD, XACK, XGROUP,
 * XREVRANGE), and one of its own for each consumer and each tail, because a
 * blocking XREADGROUP / XREAD holds its connection. Disconnecting that
 * connection is how a blocked read is aborted on dispose.
 *
 * Consumers: each reads up to `batchSize` entries at a time (XREADGROUP COUNT)
 * and handles them in order: `consume` one by one, acknowledging each after its
 * handler resolves; `consumeBatches` all of them in one handler call, then one
 * XACK for the lot. A handler that throws stops the read, and after a backoff
 * the consumer starts again from its own pending entries, so later entries
 * wait. Consumers of one group run side by side on disjoint entries. Entries
 * idle longer than `reclaimAfterMs` on a consumer (dead, or stuck) are claimed
 * by another (XAUTOCLAIM). `dispose()` does not wait for a handler that is
 * running: its entry stays pending and is redelivered.
 *
 * Trimming (`RetentionOptions`): every `trimEveryMs` (and on `trim()`), each
 * stream this log published to or consumed is cut below the oldest entry that a
 * group still needs (its oldest pending entry, else the one after its
 * last-delivered id) or that is younger than `retentionMs` by Redis's clock,
 * whichever is older (`XTRIM MINID`). The group's last-delivered id is read
 * before its pending entries, so an entry delivered in between is pending by
 * then and kept. `XADD MAXLEN` caps each stream at `maxEntries`. Any replica
 * may trim; trimming twice is harmless.
 *
 * Loops survive transient errors (Redis restarting, a failover): they retry
 * silently with backoff (50 ms doubling up to 2 s) while ioredis reconnects.
 * A consumer whose connection was lost during a read starts again from its
 * pending entries: entries given to it in a reply that was lost come first.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { settlesWithin } from "../async.js";
import { connectRedis, type RedisClient, type RedisTarget } from "../redis.js";
import { retentionOf, screen, type ConsumeOptions, type ConsumerGroupStats, type Disposable, type EventLog, type LoggedEvent, type NewEvent, type RetentionOptions, type TailOptions, type Topic } from "./types.js";

export interface RedisEventLogOptions extends RetentionOptions, RedisTarget {
  /** Key prefix, so deployments and test runs sharing a Redis do not collide: streams are `${prefix}:events:${topic}`. Required. */
  prefix: string;
}

const DEFAULT_RECLAIM_AFTER_MS = 30_000;
/** How long disposing a consumer waits for its loop to notice. */
const DISPOSE_WAIT_MS = 1_000;
const DEFAULT_BATCH_SIZE = 100;
/** Longest a blocking read waits before its loop looks around again. */
const BLOCK_MS = 2000;
/** Entries per XREAD of a tail. */
const TAIL_BATCH_SIZE = 100;

/** Delay before retrying after the n-th consecutive failure: 50 ms doubling, at most 2 s. */
const retryDelay = (failures: number) => Math.min(50 * 2 ** (failures - 1), 2000);

/** A stream entry as XREAD / XREADGROUP / XAUTOCLAIM return it; fields are null for an entry deleted while pending. */
type Entry = [id: string, fields: string[] | null];

/** How a consumer's `process` runs handlers: `run` marks one as running (dispose does not wait for it). */
interface Handling {
  aborted(): boolean;
  run(handle: () => Promise<void>): Promise<void>;
}

export class RedisEventLog implements EventLog {
  /** Shared by publishes, acknowledgements and group creation. */
  private readonly command: RedisClient;
  private readonly consumers = new Set<Disposable>();
  /** Stops of the running tails. */
  private readonly tails = new Set<() => void>();
  /** Topics consumed through this log: what `consumerGroups()` reports on. */
  private readonly consumedTopics = new Set<string>();
  /** Topics published to or consumed through this log: what `trim()` trims. */
  private readonly usedTopics = new Set<string>();
  private readonly retention: Required<RetentionOptions>;
  private readonly trimming: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: RedisEventLogOptions) {
    if (!options.prefix) throw new TypeError(`RedisEventLog: expected a non-empty prefix, got ${JSON.stringify(options.prefix)}`);
    this.command = this.connect();
    this.retention = retentionOf(options);
    this.trimming = setInterval(() => void this.trim().catch(() => {}), this.retention.trimEveryMs);
    this.trimming.unref();
  }

  async publish(topic: Topic, events: readonly NewEvent[]): Promise<void> {
    this.assertOpen();
    if (events.length === 0) return;
    const key = this.key(topic);
    this.usedTopics.add(topic);
    const pipeline = this.command.pipeline();
    for (const event of events) pipeline.xadd(key, "MAXLEN", this.retention.maxEntries, "*", "e", JSON.stringify(event));
    for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
  }

  consume(topic: Topic, options: ConsumeOptions, handler: (event: LoggedEvent) => Promise<void>): Disposable {
    const wanted = screen(options.mentions);
    return this.subscribe(topic, options, async (key, entries, handling) => {
      for (const [id, fields] of entries) {
        if (handling.aborted()) return;
        const json = fields === null ? undefined : jsonOf(topic, id, fields);
        if (json !== undefined && wanted(json)) await handling.run(() => handler(toLoggedEvent(topic, id, json)));
        await this.command.xack(key, options.group, id);
      }
    });
  }

  consumeBatches(topic: Topic, options: ConsumeOptions, handler: (events: LoggedEvent[]) => Promise<void>): Disposable {
    const wanted = screen(options.mentions);
    return this.subscribe(topic, options, async (key, entries, handling) => {
      const events: LoggedEvent[] = [];
      for (const [id, fields] of entries) {
        const json = fields === null ? undefined : jsonOf(topic, id, fields);
        if (json !== undefined && wanted(json)) events.push(toLoggedEvent(topic, id, json));
      }
      if (handling.aborted()) return;
      if (events.length > 0) await handling.run(() => handler(events));
      await this.command.xack(key, options.group, ...entries.map(([id]) => id));
    });
  }

  /**
   * A consumer of the group: reads entries (its pending ones, reclaimed ones,
   * then new ones) and passes each read to `process`, which handles and
   * acknowledges them, running handlers through `handling.run`.
   */
  private subscribe(topic: Topic, options: ConsumeOptions, process: (key: string, entries: Entry[], handling: Handling) => Promise<void>): Disposable {
    this.assertOpen();
    const key = this.key(topic);
    this.consumedTopics.add(topic);
    this.usedTopics.add(topic);
    const { group, consumer } = options;
    const reclaimAfterMs = options.reclaimAfterMs ?? DEFAULT_RECLAIM_AFTER_MS;
    const count = options.batchSize ?? DEFAULT_BATCH_SIZE;
    const reader = this.connect();
    // Connections of the reader lost so far. ioredis resends a read that was in flight
    // when its connection closed; if Redis had already delivered entries to the first
    // (now pending on this consumer), the resend returns later ones.
    let losses = 0;
    reader.on("close", () => (losses += 1));
    const stop = new AbortController();
    let handling = false;
    const guard: Handling = {
      aborted: () => stop.signal.aborted,
      run: async (handle) => {
        handling = true;
        try {
          await handle();
        } finally {
          handling = false;
        }
      },
    };

    const run = async () => {
      let groupExists = false;
      let claimCursor = "0-0";
      let failures = 0;
      while (!stop.signal.aborted) {
        try {
          const lossesBefore = losses;
          if (!groupExists) {
            await this.command.xgroup("CREATE", key, group, options.startAt ?? "0", "MKSTREAM").catch(ignoreError("BUSYGROUP"));
            groupExists = true;
          }
          // 1. This consumer's own pending entries: failed before, or delivered before a restart under this name.
          let entries = entriesOf(await reader.xreadgroup("GROUP", group, consumer, "COUNT", count, "STREAMS", key, "0"));
          // 2. Entries another consumer has held for too long (dead, or stuck).
          if (entries.length === 0) {
            const [next, claimed] = (await reader.xautoclaim(key, group, consumer, reclaimAfterMs, claimCursor, "COUNT", count)) as [string, Entry[]];
            claimCursor = next;
            entries = claimed;
          }
          // 3. New entries; not blocking longer than reclaiming may have to wait.
          if (entries.length === 0) {
            const blockMs = Math.min(BLOCK_MS, reclaimAfterMs);
            entries = entriesOf(await reader.xreadgroup("GROUP", group, consumer, "COUNT", count, "BLOCK", blockMs, "STREAMS", key, ">"));
          }
          // The connection was lost meanwhile: a reply may be lost with it. What this consumer
          // was given is pending on it, so start again from its pending entries, in order.
          if (losses !== lossesBefore) continue;
          if (entries.length > 0) await process(key, entries, guard);
          failures = 0;
        } catch (error) {
          // A handler that threw, or Redis unreachable: back off, then start
          // again from this consumer's pending entries, so order is kept.
          if (stop.signal.aborted) return;
          if (isRedisError(error, "NOGROUP")) groupExists = false; // the stream was deleted
          failures += 1;
          await sleep(retryDelay(failures), undefined, { signal: stop.signal }).catch(() => {});
        }
      }
    };

    const done = run();
    const disposable: Disposable = {
      dispose: async () => {
        stop.abort();
        reader.disconnect();
        this.consumers.delete(disposable);
        // A handler that never settles must not hang shutdown: its entry stays
        // pending and another consumer claims it after `reclaimAfterMs`. Nor does
        // a command waiting for an unreachable Redis (ioredis retries it for tens of
        // seconds): past the deadline the loop, aborted, ends when it returns.
        if (!handling) await settlesWithin(done, DISPOSE_WAIT_MS);
      },
    };
    this.consumers.add(disposable);
    return disposable;
  }

  async position(topic: Topic): Promise<string> {
    this.assertOpen();
    const [last] = await this.command.xrevrange(this.key(topic), "+", "-", "COUNT", 1);
    return last?.[0] ?? "0";
  }

  tail(topic: Topic, options: TailOptions = {}): AsyncIterable<LoggedEvent> {
    this.assertOpen();
    const key = this.key(topic);
    const after = options.after ?? "$";
    if (after !== "$" && !/^\d+(-\d+)?$/.test(after)) throw new TypeError(`Expected a stream id like "1700000000000-0" or "$", got "${after}"`);
    // "$" is resolved now to the current last id, not passed to XREAD, which
    // would skip whatever is published between two reads. The query goes out on
    // the command connection ahead of any later publish through this log.
    const start = after === "$" ? this.position(topic) : Promise.resolve(after);
    start.catch(() => {}); // rethrown by the first next(); no unhandled rejection if never iterated
    return this.follow(topic, key, start, options.signal);
  }

  async consumerGroups(): Promise<ConsumerGroupStats[]> {
    this.assertOpen();
    const stats: ConsumerGroupStats[] = [];
    for (const topic of this.consumedTopics) {
      const groups = (await this.command.xinfo("GROUPS", this.key(topic)).catch(ignoreError("ERR no such key"))) as unknown[][] | undefined;
      for (const fields of groups ?? []) {
        const info = new Map<string, unknown>();
        for (let i = 0; i + 1 < fields.length; i += 2) info.set(String(fields[i]), fields[i + 1]);
        const lag = info.get("lag");
        stats.push({ topic, group: String(info.get("name")), lag: lag === null || lag === undefined ? null : Number(lag), pending: Number(info.get("pending") ?? 0) });
      }
    }
    return stats;
  }

  async trim(): Promise<number> {
    let total = 0;
    for (const topic of this.usedTopics) {
      if (this.closed) break;
      total += await this.trimTopic(this.key(topic));
    }
    return total;
  }

  private async trimTopic(key: string): Promise<number> {
    const [seconds, micros] = await this.command.time();
    // Entries younger than the retention (by Redis's clock, which made their ids) stay.
    let keepFrom = `${Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - this.retention.retentionMs + 1}-0`;
    const groups = (await this.command.xinfo("GROUPS", key).catch(ignoreError("ERR no such key"))) as unknown[][] | undefined;
    if (groups === undefined) return 0;
    for (const fields of groups) {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < fields.length; i += 2) info.set(String(fields[i]), fields[i + 1]);
      const name = String(info.get("name"));
      const lastDelivered = String(info.get("last-delivered-id"));
      // Read after last-delivered-id: whatever was delivered meanwhile is pending here.
      const [count, oldestPending] = (await this.command.xpending(key, name)) as [number, string | null];
      const needed = count > 0 && oldestPending !== null ? oldestPending : nextId(lastDelivered);
      if (compareIds(needed, keepFrom) < 0) keepFrom = needed;
    }
    return Number(await this.command.xtrim(key, "MINID", keepFrom));
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await this.command.ping();
  }

  /** Stops every consumer and tail and closes every connection. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.trimming);
    for (const stop of this.tails) stop();
    await Promise.all([...this.consumers].map((consumer) => consumer.dispose()));
    this.command.disconnect();
  }

  private async *follow(topic: string, key: string, start: Promise<string>, callerSignal?: AbortSignal): AsyncGenerator<LoggedEvent> {
    if (this.closed || callerSignal?.aborted) return;
    const reader = this.connect();
    const stop = new AbortController();
    const abort = () => {
      stop.abort();
      reader.disconnect();
    };
    callerSignal?.addEventListener("abort", abort, { once: true });
    this.tails.add(abort);
    try {
      let last = await start;
      let failures = 0;
      while (!stop.signal.aborted) {
        let entries: Entry[];
        try {
          entries = entriesOf(await reader.xread("COUNT", TAIL_BATCH_SIZE, "BLOCK", BLOCK_MS, "STREAMS", key, last));
          failures = 0;
        } catch {
          if (stop.signal.aborted) return;
          failures += 1;
          await sleep(retryDelay(failures), undefined, { signal: stop.signal }).catch(() => {});
          continue;
        }
        for (const [id, fields] of entries) {
          last = id;
          if (fields !== null) yield toLoggedEvent(topic, id, jsonOf(topic, id, fields));
        }
      }
    } finally {
      callerSignal?.removeEventListener("abort", abort);
      this.tails.delete(abort);
      reader.disconnect();
    }
  }

  private key(topic: string): string {
    return `${this.options.prefix}:events:${topic}`;
  }

  private connect(): RedisClient {
    // Named, so `CLIENT LIST` tells which deployment a connection belongs to.
    const redis = connectRedis(this.options, `${this.options.prefix}:events`);
    // Failures surface as rejected commands, which the loops retry; without a
    // listener ioredis would print every reconnection attempt.
    redis.on("error", () => {});
    return redis;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("RedisEventLog is closed");
  }
}

/** The entries of a single-stream XREAD / XREADGROUP reply (null when the block timed out). */
function entriesOf(reply: unknown): Entry[] {
  return (reply as [key: string, entries: Entry[]][] | null)?.[0]?.[1] ?? [];
}

/** The event's JSON: the entry's field `e`. */
function jsonOf(topic: string, id: string, fields: string[]): string {
  const index = fields.indexOf("e");
  const json = index === -1 ? undefined : fields[index + 1];
  if (json === undefined) throw new Error(`Stream entry ${id} of topic ${topic} has no field "e"`);
  return json;
}

function toLoggedEvent(topic: string, id: string, json: string): LoggedEvent {
  return { ...(JSON.parse(json) as NewEvent), topic, position: id };
}

/** The smallest stream id after `id`. */
function nextId(id: string): string {
  const [ms, seq = "0"] = id.split("-");
  return `${ms}-${BigInt(seq) + 1n}`;
}

function compareIds(a: string, b: string): number {
  const [aMs, aSeq = "0"] = a.split("-");
  const [bMs, bSeq = "0"] = b.split("-");
  const byMs = BigInt(aMs!) - BigInt(bMs!);
  const diff = byMs !== 0n ? byMs : BigInt(aSeq) - BigInt(bSeq);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

function isRedisError(error: unknown, code: string): boolean {
  return error instanceof Error && error.message.startsWith(code);
}

function ignoreError(code: string) {
  return (error: unknown) => {
    if (!isRedisError(error, code)) throw error;
  };
}
