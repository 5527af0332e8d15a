/**
 * One tail of a topic per process, fanned out to every local listener: a
 * thousand subscriptions cost one Redis reader, not a thousand. Listeners get
 * the events of the feed's types only, each checked against the catalog once
 * for all of them (consumer.ts: a malformed one is refused, counted under the
 * feed's name, and reaches no listener).
 */
import type { Logger } from "../logger.js";
import type { CatalogEvent, CatalogTopic, EventType } from "./catalog.js";
import { boundary } from "./consumer.js";
import type { EventLog, LoggedEvent } from "./types.js";

export interface FeedOptions<T extends CatalogTopic, K extends EventType<T>> {
  topic: T;
  /** The event types listeners get. */
  types: readonly K[];
  /** Who reads it, for refusals (`policies.access-feed`). */
  name: string;
  logger: Logger;
}

export class TopicFeed<T extends CatalogTopic = CatalogTopic, K extends EventType<T> = EventType<T>> {
  private readonly listeners = new Set<(event: CatalogEvent<T, K>) => void>();
  private readonly controller = new AbortController();
  private running: Promise<void> | undefined;
  private readonly topic: T;
  private readonly accept: (event: LoggedEvent) => CatalogEvent<T, K> | null;

  constructor(
    private readonly log: EventLog,
    options: FeedOptions<T, K>,
  ) {
    this.topic = options.topic;
    this.accept = boundary(options.topic, options.types, options.name, options.logger);
  }

  /**
   * Calls `listener` with every event published to the topic from now on, in
   * log order, until the returned function is called. The tail starts with the
   * first listener and keeps running until `dispose`.
   */
  listen(listener: (event: CatalogEvent<T, K>) => void): () => void {
    this.listeners.add(listener);
    this.running ??= this.follow();
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the tail is positioned: every event published after this is seen. */
  async ready(): Promise<void> {
    this.running ??= this.follow();
    await this.started;
  }

  async dispose(): Promise<void> {
    this.controller.abort();
    await this.running;
  }

  private markStarted!: () => void;
  private readonly started = new Promise<void>((resolve) => (this.markStarted = resolve));

  private async follow(): Promise<void> {
    try {
      const after = await this.log.position(this.topic);
      this.markStarted();
      for await (const event of this.log.tail(this.topic, { after, signal: this.controller.signal })) {
        const checked = this.accept(event);
        if (checked !== null) for (const listener of this.listeners) listener(checked);
      }
    } catch (error) {
      this.markStarted();
      if (!this.controller.signal.aborted) throw error;
    }
  }
}
