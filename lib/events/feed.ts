/**
 * One tail of a topic per process, fanned out to every local listener: a
 * thousand subscriptions cost one Redis reader, not a thousand.
 */
import type { EventLog, LoggedEvent, Topic } from "./types.js";

export type FeedListener = (event: LoggedEvent) => void;

export class TopicFeed {
  private readonly listeners = new Set<FeedListener>();
  private readonly controller = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    private readonly log: EventLog,
    private readonly topic: Topic,
  ) {}

  /**
   * Calls `listener` with every event published to the topic from now on, in
   * log order, until the returned function is called. The tail starts with the
   * first listener and keeps running until `dispose`.
   */
  listen(listener: FeedListener): () => void {
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
        for (const listener of this.listeners) listener(event);
      }
    } catch (error) {
      this.markStarted();
      if (!this.controller.signal.aborted) throw error;
    }
  }
}
