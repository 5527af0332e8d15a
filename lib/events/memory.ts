/**
 * In-process event log: the embedded default for development and single-process
 * runs. Nothing survives a restart.
 *
 * Positions are decimal strings of a 1-based counter per topic (`"1"`, `"2"`, …;
 * `"0"` is before the first event). Compare them numerically, never as strings.
 *
 * The heap holds only what is still needed (`RetentionOptions`): events every
 * group has acknowledged go once older than `retentionMs`, and a topic keeps at
 * most `maxEntries`. Positions do not change when older events go; a tail or a
 * group that starts before the oldest kept event starts at it.
 *
 * Consumer groups process a topic strictly in order: one event (`consume`) or
 * one batch of the events there are, up to `batchSize` (`consumeBatches`), at a
 * time per group, whichever consumer of the group handles it. An event or batch
 * whose handler throws is retried (50 ms doubling up to 2 s) and blocks the
 * later events of that group until it succeeds. One held longer than
 * `reclaimAfterMs` by a consumer (slow, or disposed mid-handling) is taken over
 * by another consumer.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { retentionOf, screen, type ConsumeOptions, type ConsumerGroupStats, type Disposable, type EventLog, type LoggedEvent, type NewEvent, type RetentionOptions, type TailOptions, type Topic } from "./types.js";

const DEFAULT_RECLAIM_AFTER_MS = 30_000;
const DEFAULT_BATCH_SIZE = 100;

/** Delay before retrying after the n-th consecutive failure: 50 ms doubling, at most 2 s. */
const retryDelay = (failures: number) => Math.min(50 * 2 ** (failures - 1), 2000);

interface TopicState {
  /** `events[i]` has position `String(dropped + i + 1)`. */
  events: LoggedEvent[];
  /** When each event was appended (epoch ms), `appendedAt[i]` for `events[i]`. */
  appendedAt: number[];
  /** Each event's JSON as published, `json[i]` for `events[i]`: what a consumer's screen tests, as Redis's stored entry is. */
  json: string[];
  /** Events dropped from the front so far. */
  dropped: number;
  groups: Map<string, GroupState>;
  /** Readers waiting for a change of the topic (a publish, or a group moving on). */
  waiters: Set<() => void>;
}

interface GroupState {
  /** Index (from the topic's first event ever, dropped ones included) of the event the group handles next; every earlier event is acknowledged. */
  next: number;
  /** Who is handling the `count` events from `events[next]` on, and since when (epoch ms). */
  claim?: { owner: object; since: number; count: number };
}

export class MemoryEventLog implements EventLog {
  private readonly topics = new Map<string, TopicState>();
  private closed = false;
  /** Running consumers and tails, stopped by `close()`. */
  private readonly consumers = new Set<Disposable>();
  private readonly tails = new Set<() => void>();
  private readonly retention: Required<RetentionOptions>;
  private readonly trimming: NodeJS.Timeout;

  constructor(retention: RetentionOptions = {}) {
    this.retention = retentionOf(retention);
    this.trimming = setInterval(() => void this.trim(), this.retention.trimEveryMs);
    this.trimming.unref();
  }

  async publish(topic: Topic, events: readonly NewEvent[]): Promise<void> {
    this.assertOpen();
    const state = this.topic(topic);
    for (const event of events) {
      // A JSON round trip, as through Redis: readers get their own copies and
      // payloads that would not survive serialisation fail in development too.
      const json = JSON.stringify(event);
      state.events.push({ ...(JSON.parse(json) as NewEvent), topic, position: String(end(state) + 1) });
      state.appendedAt.push(Date.now());
      state.json.push(json);
    }
    if (state.events.length > this.retention.maxEntries) drop(state, state.events.length - this.retention.maxEntries);
    if (events.length > 0) notify(state);
  }

  consume(topic: Topic, options: ConsumeOptions, handler: (event: LoggedEvent) => Promise<void>): Disposable {
    return this.subscribe(topic, options, 1, (events) => handler(events[0]!));
  }

  consumeBatches(topic: Topic, options: ConsumeOptions, handler: (events: LoggedEvent[]) => Promise<void>): Disposable {
    return this.subscribe(topic, options, options.batchSize ?? DEFAULT_BATCH_SIZE, handler);
  }

  /** A consumer of the group handing the handler up to `size` events at a time. */
  private subscribe(topic: Topic, options: ConsumeOptions, size: number, handler: (events: LoggedEvent[]) => Promise<void>): Disposable {
    this.assertOpen();
    const state = this.topic(topic);
    const group = state.groups.get(options.group) ?? { next: options.startAt === "$" ? end(state) : state.dropped };
    state.groups.set(options.group, group);
    const reclaimAfterMs = options.reclaimAfterMs ?? DEFAULT_RECLAIM_AFTER_MS;
    const wanted = screen(options.mentions);
    // The events the screen lets through, by their JSON (those it holds back are acknowledged with the rest).
    const handle = async (events: LoggedEvent[], json: string[]) => {
      const handed = options.mentions === undefined ? events : events.filter((_, i) => wanted(json[i]!));
      if (handed.length > 0) await handler(handed);
    };
    const stop = new AbortController();
    const signal = stop.signal;
    const me = {};
    let handling = false;

    const run = async () => {
      let failures = 0;
      while (!signal.aborted) {
        const index = group.next;
        const from = index - state.dropped;
        const events = state.events.slice(from, from + size);
        const claim = group.claim;
        const heldForMs = claim !== undefined && claim.owner !== me ? Date.now() - claim.since : Infinity;
        if (events.length === 0 || heldForMs < reclaimAfterMs) {
          // Nothing to do until a publish, the holder moving on, or the holder's claim expiring.
          await changed(state, signal, events.length === 0 ? undefined : reclaimAfterMs - heldForMs);
          continue;
        }
        group.claim = { owner: me, since: Date.now(), count: events.length };
        handling = true;
        const succeeded = await Promise.resolve()
          .then(() => handle(events, state.json.slice(from, from + events.length)))
          .then(
            () => true,
            () => false,
          );
        handling = false;
        if (succeeded) {
          failures = 0;
          // Unless another consumer reclaimed them and finished first.
          if (group.next === index) {
            group.next += events.length;
            group.claim = undefined;
            notify(state);
          }
        } else {
          failures += 1;
          await sleep(retryDelay(failures), undefined, { signal }).catch(() => {});
        }
      }
    };

    const done = run();
    const consumer: Disposable = {
      dispose: async () => {
        stop.abort();
        this.consumers.delete(consumer);
        // A handler that never settles must not hang shutdown: its events stay
        // claimed and another consumer takes them over after `reclaimAfterMs`.
        if (!handling) await done;
      },
    };
    this.consumers.add(consumer);
    return consumer;
  }

  async position(topic: Topic): Promise<string> {
    this.assertOpen();
    return String(end(this.topic(topic)));
  }

  tail(topic: Topic, options: TailOptions = {}): AsyncIterable<LoggedEvent> {
    this.assertOpen();
    const state = this.topic(topic);
    // Resolved now, not at the first `next()`, so nothing published in between is missed.
    const start = options.after === undefined || options.after === "$" ? end(state) : parsePosition(options.after);
    return this.follow(state, start, options.signal);
  }

  async consumerGroups(): Promise<ConsumerGroupStats[]> {
    const stats: ConsumerGroupStats[] = [];
    for (const [topic, state] of this.topics) {
      for (const [group, { next, claim }] of state.groups) {
        const pending = claim === undefined ? 0 : Math.min(claim.count, end(state) - next);
        stats.push({ topic, group, lag: end(state) - next - pending, pending });
      }
    }
    return stats;
  }

  async trim(): Promise<number> {
    const cutoff = Date.now() - this.retention.retentionMs;
    let total = 0;
    for (const state of this.topics.values()) {
      // Every group has acknowledged the events before the one the slowest group handles next.
      let acknowledged = end(state);
      for (const group of state.groups.values()) acknowledged = Math.min(acknowledged, group.next);
      let count = 0;
      while (count < acknowledged - state.dropped && state.appendedAt[count]! <= cutoff) count += 1;
      if (count > 0) drop(state, count);
      total += count;
    }
    return total;
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.trimming);
    for (const stop of this.tails) stop();
    await Promise.all([...this.consumers].map((consumer) => consumer.dispose()));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("MemoryEventLog is closed");
  }

  /** Yields the events from index `start` on, then waits for more; ends on `close()` or when `callerSignal` aborts. */
  private async *follow(state: TopicState, start: number, callerSignal?: AbortSignal): AsyncGenerator<LoggedEvent> {
    // Our own signal, not AbortSignal.any(): on Node 20 every any() leaves a
    // WeakRef on its sources forever, and tails come and go all day.
    const stop = new AbortController();
    const abort = () => stop.abort();
    callerSignal?.addEventListener("abort", abort, { once: true });
    this.tails.add(abort);
    try {
      if (this.closed || callerSignal?.aborted) return;
      let index = start;
      while (!stop.signal.aborted) {
        // Dropped meanwhile (or before the tail started): go on from the oldest kept event.
        index = Math.max(index, state.dropped);
        const event = state.events[index - state.dropped];
        if (event === undefined) {
          await changed(state, stop.signal);
        } else {
          index += 1;
          yield event;
        }
      }
    } finally {
      callerSignal?.removeEventListener("abort", abort);
      this.tails.delete(abort);
    }
  }

  private topic(topic: string): TopicState {
    let state = this.topics.get(topic);
    if (state === undefined) {
      state = { events: [], appendedAt: [], json: [], dropped: 0, groups: new Map(), waiters: new Set() };
      this.topics.set(topic, state);
    }
    return state;
  }
}

/** Resolves at the next change of the topic, when `signal` aborts, or after `timeoutMs`. */
function changed(state: TopicState, signal: AbortSignal, timeoutMs?: number): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      state.waiters.delete(wake);
      signal.removeEventListener("abort", wake);
      clearTimeout(timer);
      resolve();
    };
    const timer = timeoutMs === undefined ? undefined : setTimeout(wake, timeoutMs);
    state.waiters.add(wake);
    signal.addEventListener("abort", wake, { once: true });
    if (signal.aborted) wake();
  });
}

/** How many events the topic has had: the index after its last event. */
function end(state: TopicState): number {
  return state.dropped + state.events.length;
}

/** Drops the `count` oldest events; a group that had not handled them goes on after them. */
function drop(state: TopicState, count: number): void {
  state.events.splice(0, count);
  state.appendedAt.splice(0, count);
  state.json.splice(0, count);
  state.dropped += count;
  for (const group of state.groups.values()) {
    if (group.next >= state.dropped) continue;
    group.next = state.dropped;
    group.claim = undefined;
  }
}

function notify(state: TopicState): void {
  for (const wake of [...state.waiters]) wake();
}

function parsePosition(position: string): number {
  if (!/^\d+$/.test(position)) throw new TypeError(`Expected a position like "42" or "$", got "${position}"`);
  return Number(position);
}
