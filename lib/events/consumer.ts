/**
 * The consumer boundary: every service reads the event log through these,
 * naming the topic and the event types it applies (catalog.ts). Events of
 * other types pass it by unseen. An event of a type it asked for is checked
 * against the catalog before the consumer sees it; a malformed one (a
 * producer's bug, or something written to the stream by hand) is refused the
 * same way for every consumer: counted (`mtd_events_refused_total`, by topic,
 * consumer and type), logged at error with its id, position and what is
 * wrong, and skipped (acknowledged with its batch: it would fail on every
 * attempt and hold up the events after it). Nothing of it is applied, so it
 * leaves no half-written effect. Everything else that fails a handler (the
 * database away, a deadlock) leaves the event or batch pending, to be handed
 * over again.
 */
import type { Logger } from "../logger.js";
import { metrics } from "../metrics.js";
import { eventProblem, type CatalogEvent, type CatalogTopic, type EventType } from "./catalog.js";
import type { ConsumeOptions, Disposable, EventLog, LoggedEvent } from "./types.js";

/** The checked events of `types` on `topic`, for `consumer` (a consumer group, or a feed's name); null for any other event. */
export function boundary<T extends CatalogTopic, K extends EventType<T>>(topic: T, types: readonly K[], consumer: string, logger: Logger): (event: LoggedEvent) => CatalogEvent<T, K> | null {
  const wanted: ReadonlySet<string> = new Set(types);
  return (event) => {
    if (!wanted.has(event.type)) return null;
    const problem = eventProblem(topic, event as LoggedEvent & { type: K });
    if (problem === null) return event as CatalogEvent<T, K>;
    metrics.eventsRefused.inc({ topic, consumer, type: event.type });
    logger.error({ eventId: event.id, type: event.type, topic, consumer, position: event.position, problem }, "event refused: it does not match the event catalog; skipped");
    return null;
  };
}

/** `EventLog.consume` of the events of `types` on `topic`, each checked (see above). */
export function consumeEvents<T extends CatalogTopic, K extends EventType<T>>(
  log: EventLog,
  topic: T,
  types: readonly K[],
  options: ConsumeOptions & { logger: Logger },
  handler: (event: CatalogEvent<T, K>) => Promise<void>,
): Disposable {
  const { logger, ...consume } = options;
  const accept = boundary(topic, types, consume.group, logger);
  return log.consume(topic, consume, async (event) => {
    const checked = accept(event);
    if (checked !== null) await handler(checked);
  });
}

/** `EventLog.consumeBatches` of the events of `types` on `topic`, each checked; a batch with none of them is acknowledged unseen. */
export function consumeEventBatches<T extends CatalogTopic, K extends EventType<T>>(
  log: EventLog,
  topic: T,
  types: readonly K[],
  options: ConsumeOptions & { logger: Logger },
  handler: (events: CatalogEvent<T, K>[]) => Promise<void>,
): Disposable {
  const { logger, ...consume } = options;
  const accept = boundary(topic, types, consume.group, logger);
  return log.consumeBatches(topic, consume, async (batch) => {
    const checked = batch.flatMap((event) => accept(event) ?? []);
    if (checked.length > 0) await handler(checked);
  });
}
