/**
 * `Subscription.deviceRiskChanged`: one tail of topic `threats` per subgraph
 * process, fanned out to every subscriber, each seeing the level changes of
 * its own tenant through a bounded buffer.
 */
import { GraphQLError } from "graphql";
import { ASSESSMENT_CHANGED, type CatalogEvent } from "../../lib/events/catalog.js";
import { TopicFeed } from "../../lib/events/feed.js";
import type { EventLog } from "../../lib/events/types.js";
import type { Logger } from "../../lib/logger.js";
import type { DeviceReference } from "./data/entities.js";
import type { ThreatLevel } from "./generated/graphql.js";

export interface DeviceRiskChange {
  device: DeviceReference;
  previousLevel: ThreatLevel | null;
  level: ThreatLevel | null;
  at: Date;
}

export interface RiskFeedOptions {
  /** Undelivered changes a subscriber may have before its subscription fails. Default 1000. */
  bufferSize?: number;
}

export class RiskFeed {
  private readonly feed: TopicFeed<"threats", typeof ASSESSMENT_CHANGED>;
  private readonly bufferSize: number;

  constructor(events: EventLog, logger: Logger, options: RiskFeedOptions = {}) {
    this.feed = new TopicFeed(events, { topic: "threats", types: [ASSESSMENT_CHANGED], name: "threats.risk-feed", logger });
    this.bufferSize = options.bufferSize ?? 1000;
  }

  /** Resolves once the tail is positioned: a subscription made after it misses nothing published later. */
  ready(): Promise<void> {
    return this.feed.ready();
  }

  /**
   * The tenant's risk changes from now on. `beforeEach` runs before each change
   * is handed out (fresh DataLoaders per event). Returning (the client
   * unsubscribes) removes the listener; overflowing the buffer fails the
   * subscription after the buffered changes.
   */
  subscribe(tenantId: string, beforeEach?: () => void): AsyncIterableIterator<{ deviceRiskChanged: DeviceRiskChange }> {
    type Item = { deviceRiskChanged: DeviceRiskChange };
    const buffer: Item[] = [];
    let waiting: ((result: IteratorResult<Item>) => void) | undefined;
    let failure: GraphQLError | undefined;
    let finished = false;
    const limit = this.bufferSize;

    const finish = () => {
      if (finished) return;
      finished = true;
      stop();
      waiting?.({ value: undefined, done: true });
      waiting = undefined;
    };
    const stop = this.feed.listen((event) => {
      const change = riskChange(event, tenantId);
      if (change === undefined || finished) return;
      const item = { deviceRiskChanged: change };
      if (waiting !== undefined) {
        const resolve = waiting;
        waiting = undefined;
        beforeEach?.();
        resolve({ value: item, done: false });
      } else if (buffer.length >= limit) {
        failure = new GraphQLError(`deviceRiskChanged: the subscriber fell behind by more than ${limit} changes; subscribe again`, {
          extensions: { code: "SUBSCRIBER_TOO_SLOW" },
        });
        finish();
      } else {
        buffer.push(item);
      }
    });

    const iterator: AsyncIterableIterator<Item> = {
      next: () => {
        const item = buffer.shift();
        if (item !== undefined) {
          beforeEach?.();
          return Promise.resolve({ value: item, done: false });
        }
        if (failure !== undefined) {
          const error = failure;
          failure = undefined;
          return Promise.reject(error);
        }
        if (finished) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (waiting = resolve));
      },
      return: () => {
        buffer.length = 0;
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
      throw: (error: unknown) => {
        buffer.length = 0;
        finish();
        return Promise.reject(error);
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  async dispose(): Promise<void> {
    await this.feed.dispose();
  }
}

/** The change a `device.assessment.changed` event of `tenantId` makes to the device's risk level, if any. */
function riskChange(event: CatalogEvent<"threats", typeof ASSESSMENT_CHANGED>, tenantId: string): DeviceRiskChange | undefined {
  if (event.tenantId !== tenantId) return undefined;
  const { payload } = event;
  if (payload.previousLevel === payload.level) return undefined;
  return { device: { id: payload.deviceId }, previousLevel: payload.previousLevel, level: payload.level, at: new Date(event.occurredAt) };
}
