/**
 * Traces across the event log (`lib/tracing.ts`): a publish is a producer
 * span; a consumer handles each event in a span continuing the trace of the
 * transaction that wrote it (the event's `traceparent`), with the event's type,
 * topic, group and lag; a batch in one span linked to the trace of each of its
 * events (continuing it when they all share one). With tracing off, all call
 * straight through.
 */
import { continueFrom, inSpan, linkedTo, SpanKind } from "../tracing.js";
import type { EventLog } from "./types.js";

export function traced(log: EventLog): EventLog {
  return {
    publish: (topic, events) =>
      inSpan(`publish ${topic}`, { "messaging.destination.name": topic, "messaging.batch.message_count": events.length }, () => log.publish(topic, events), SpanKind.PRODUCER),
    consume: (topic, options, handler) =>
      log.consume(topic, options, (event) =>
        continueFrom(
          event.traceparent,
          `consume ${event.type}`,
          {
            "messaging.destination.name": topic,
            "messaging.consumer.group.name": options.group,
            "mtd.event.type": event.type,
            "mtd.event.lag_ms": Math.max(0, Date.now() - Date.parse(event.occurredAt)),
          },
          () => handler(event),
        ),
      ),
    consumeBatches: (topic, options, handler) =>
      log.consumeBatches(topic, options, (events) => {
        const types = new Set(events.map((event) => event.type));
        return linkedTo(
          events.map((event) => event.traceparent),
          types.size === 1 ? `consume ${events[0]!.type}` : `consume ${topic} batch`,
          {
            "messaging.destination.name": topic,
            "messaging.consumer.group.name": options.group,
            "messaging.batch.message_count": events.length,
            "mtd.event.type": [...types].join(","),
            "mtd.event.lag_ms": Math.max(0, Date.now() - Date.parse(events[0]!.occurredAt)),
          },
          () => handler(events),
        );
      }),
    position: (topic) => log.position(topic),
    tail: (topic, options) => log.tail(topic, options),
    consumerGroups: () => log.consumerGroups(),
    trim: () => log.trim(),
    ping: () => log.ping(),
    close: () => log.close(),
  };
}
