/**
 * The stream behind `Subscription.accessChanged`: stored changes after a
 * cursor, then live ones, with no gap and no duplicate across the seam.
 *
 * The database is the source of truth; the event log only says "something
 * new". The live feed is listened to before the stored changes are read, and
 * each live change is checked against the last sequence delivered: older ones
 * are dropped (duplicates), and a jump in the tenant's sequence (the log
 * delivered out of order, or this subscriber fell behind) is filled from the
 * database. Per tenant, sequences commit in order (evaluator.ts), so
 * everything below a committed sequence is already readable.
 *
 * A live subscription (no `afterSequence`) first yields a head marker
 * (lib/resumable.ts) with the cursor of the sequence it starts after: a client
 * that resumes after it misses nothing, even before its first change.
 */
import { abortable, waitUntil } from "../../lib/async.js";
import type { ACCESS_CHANGED } from "../../lib/events/catalog.js";
import type { AccessChangedPayload } from "../../lib/events/contracts.js";
import type { TopicFeed } from "../../lib/events/feed.js";
import { encodeCursor } from "../../lib/paging.js";
import { headMarker, type HeadMarker } from "../../lib/resumable.js";
import { carryTrace } from "../../lib/tracing.js";
import type { AccessChangeRecord } from "./data/entities.js";
import type { PolicyRepository } from "./data/repository.js";

/** Live changes buffered per subscriber before it falls back to reading the database. */
export const LIVE_BUFFER = 1_000;
const PAGE = 500;

export interface StreamOptions {
  tenantId: string;
  resources?: readonly string[];
  /** Replay changes after this sequence; undefined = live only. */
  afterSequence?: number;
}

export class AccessChangeStream {
  constructor(
    private readonly feed: TopicFeed<"policies", typeof ACCESS_CHANGED>,
    private readonly repository: PolicyRepository,
  ) {}

  subscribe(options: StreamOptions): AsyncGenerator<AccessChangeRecord | HeadMarker> {
    return abortable((signal) => this.follow(options, signal));
  }

  private async *follow(options: StreamOptions, signal: AbortSignal): AsyncGenerator<AccessChangeRecord | HeadMarker> {
    const { tenantId, resources } = options;
    const wanted = resources === undefined ? () => true : (resource: string) => resources.includes(resource);
    let live: { change: AccessChangedPayload; traceparent?: string }[] = [];
    let overflowed = false;
    let wake: (() => void) | undefined;
    const stop = this.feed.listen((event) => {
      if (event.tenantId !== tenantId) return;
      if (live.length >= LIVE_BUFFER) overflowed = true;
      else live.push({ change: event.payload, traceparent: event.traceparent });
      wake?.();
    });
    try {
      await this.feed.ready();
      const upTo = await this.repository.lastSequence(tenantId);
      let last = options.afterSequence ?? upTo;
      if (options.afterSequence === undefined) yield headMarker(encodeCursor([upTo]));
      // Stored changes up to what was committed when the feed was already listening.
      yield* this.stored(tenantId, resources, last, upTo);
      last = Math.max(last, upTo);

      while (!signal.aborted) {
        if (live.length === 0 && !overflowed) await waitUntil(signal, (resolve) => (wake = resolve));
        wake = undefined;
        if (overflowed) {
          // Too slow for the live buffer: catch up from the database, then go on live.
          overflowed = false;
          live = [];
          const upToNow = await this.repository.lastSequence(tenantId);
          yield* this.stored(tenantId, resources, last, upToNow);
          last = Math.max(last, upToNow);
          continue;
        }
        const batch = live;
        live = [];
        for (const { change, traceparent } of batch) {
          if (change.sequence <= last) continue;
          if (change.sequence > last + 1) yield* this.stored(tenantId, resources, last, change.sequence - 1);
          last = change.sequence;
          if (wanted(change.resource)) yield carryTrace(fromPayload(tenantId, change), traceparent);
        }
      }
    } finally {
      stop();
    }
  }

  /** Stored changes in (after, upTo], page by page. */
  private async *stored(tenantId: string, resources: readonly string[] | undefined, after: number, upTo: number): AsyncGenerator<AccessChangeRecord> {
    while (after < upTo) {
      const page = await this.repository.changes(tenantId, { after, upTo, resources, limit: PAGE });
      yield* page;
      if (page.length < PAGE) return;
      after = page.at(-1)!.sequence;
    }
  }
}

function fromPayload(tenantId: string, change: AccessChangedPayload): AccessChangeRecord {
  return {
    tenantId,
    sequence: change.sequence,
    deviceId: change.deviceId,
    resource: change.resource,
    allowed: change.allowed,
    reason: change.reason,
    at: new Date(change.at),
  };
}
