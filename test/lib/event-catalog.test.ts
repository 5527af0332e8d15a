/**
 * The event catalog and the consumer boundary (lib/events/catalog.ts,
 * consumer.ts, feed.ts): every type's payload checked, and a malformed event
 * refused the same way by every kind of consumer — counted, logged, skipped —
 * while the events around it go on.
 */
import { afterEach, describe, expect, it } from "vitest";
import { eventProblem, listed } from "../../lib/events/catalog.js";
import { consumeEventBatches, consumeEvents } from "../../lib/events/consumer.js";
import { TopicFeed } from "../../lib/events/feed.js";
import { MemoryEventLog } from "../../lib/events/memory.js";
import type { LoggedEvent } from "../../lib/events/types.js";
import { createLogger } from "../../lib/logger.js";
import { metrics } from "../../lib/metrics.js";
import { CATALOGUED, SAMPLES, sampleEvent } from "../support/catalog-samples.js";
import { waitFor } from "../support/wait.js";

const logged = (event: ReturnType<typeof sampleEvent>): LoggedEvent => ({ ...event, topic: "test", position: "1" });

/** The refusals counted for `consumer` so far. */
async function refused(consumer: string): Promise<number> {
  return (await metrics.eventsRefused.get()).values.filter(({ labels }) => labels.consumer === consumer).reduce((sum, { value }) => sum + value, 0);
}

/** A logger whose error lines are kept. */
function capturing() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger("error", "test", { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe("the event catalog", () => {
  it.each(CATALOGUED)("$topic $type: the valid payload passes, the malformed one is refused naming its field", ({ topic, type, valid, malformed }) => {
    expect(listed(topic, type)).toBe(true);
    expect(eventProblem(topic, logged(sampleEvent(type, "t-1", valid)) as never)).toBeNull();
    expect(eventProblem(topic, logged(sampleEvent(type, "t-1", malformed.payload)) as never)).toMatch(new RegExp(`^${malformed.field.replace(/[[\].]/g, "\\$&")}: expected `));
  });

  it("checks the envelope of every event before its payload", () => {
    const valid = SAMPLES.devices["device.enrolled"].valid;
    const problem = (fields: Record<string, unknown>) => eventProblem("devices", logged(sampleEvent("device.enrolled", "t-1", valid, fields as never)) as never);
    expect(problem({})).toBeNull();
    expect(problem({ tenantId: "t".repeat(65) })).toBe("tenantId: expected 1-64 characters, got 65 characters");
    expect(problem({ id: "" })).toBe('id: expected 1-64 characters, got ""');
    expect(problem({ version: -1 })).toBe("version: expected an integer of at least 0, got -1");
    expect(problem({ version: undefined })).toBeNull();
    expect(problem({ occurredAt: "soon" })).toBe('occurredAt: expected an ISO-8601 time, got "soon"');
    expect(eventProblem("devices", logged(sampleEvent("device.enrolled", "t-1", null)) as never)).toBe("payload: expected an object, got null");
  });

  it("lets fields it does not know pass (a newer producer adds fields), and says what null-or-value fields expect", () => {
    const valid = SAMPLES.threats["device.assessment.changed"].valid;
    expect(eventProblem("threats", logged(sampleEvent("device.assessment.changed", "t-1", { ...valid, addedLater: 1 })) as never)).toBeNull();
    expect(eventProblem("threats", logged(sampleEvent("device.assessment.changed", "t-1", { ...valid, partner: "NOKIA" })) as never)).toMatch(
      /^payload\.partner: expected null or one of LOOKOUT, .*, got "NOKIA"$/,
    );
    expect(listed("threats", "device.enrolled")).toBe(false);
  });
});

describe("the consumer boundary", () => {
  let log: MemoryEventLog;
  afterEach(() => log?.close());

  it("a batch consumer gets only checked events of its types; a malformed one is counted, logged at error and skipped, the events after it go on", async () => {
    log = new MemoryEventLog();
    const { logger, lines } = capturing();
    const seen: string[] = [];
    consumeEventBatches(log, "threats", ["device.assessment.changed"], { group: "test.batches", consumer: "c", logger }, async (batch) => void seen.push(...batch.map((event) => event.aggregateId)));
    const { valid, malformed } = SAMPLES.threats["device.assessment.changed"];
    await log.publish("threats", [
      sampleEvent("device.assessment.changed", "t-1", valid, { aggregateId: "before" }),
      sampleEvent("device.assessment.changed", "t-1", malformed.payload, { aggregateId: "bad", id: "bad-event" }),
      sampleEvent("connector.state.changed", "t-1", { not: "checked" }, { aggregateId: "other type" }),
      sampleEvent("device.assessment.changed", "t-1", valid, { aggregateId: "after" }),
    ]);
    await log.publish("threats", [sampleEvent("device.assessment.changed", "t-1", malformed.payload, { aggregateId: "alone" })]);
    await log.publish("threats", [sampleEvent("device.assessment.changed", "t-1", valid, { aggregateId: "last" })]);
    await waitFor(() => seen.includes("last"), 5000, "the last event");
    expect(seen).toEqual(["before", "after", "last"]);
    expect(await refused("test.batches")).toBe(2);
    expect(lines[0]).toMatchObject({ level: 50, eventId: "bad-event", topic: "threats", consumer: "test.batches", type: "device.assessment.changed", problem: 'payload.level: expected null or one of SECURED, LOW, MEDIUM, HIGH, got "CRITICAL"' });
    expect(lines[0]!.msg).toMatch(/refused/);
  });

  it("an event-at-a-time consumer refuses the same way", async () => {
    log = new MemoryEventLog();
    const { logger, lines } = capturing();
    const seen: string[] = [];
    consumeEvents(log, "audit", ["audit.recorded"], { group: "test.single", consumer: "c", logger }, async (event) => void seen.push(event.payload.id));
    const { valid, malformed } = SAMPLES.audit["audit.recorded"];
    await log.publish("audit", [sampleEvent("audit.recorded", "t-1", malformed.payload), sampleEvent("audit.recorded", "t-1", valid)]);
    await waitFor(() => seen.length === 1, 5000, "the valid entry");
    expect(seen).toEqual([valid.id]);
    expect(await refused("test.single")).toBe(1);
    expect(lines).toHaveLength(1);
  });

  it("a feed checks each event once for all its listeners and hands them only valid events of its types", async () => {
    log = new MemoryEventLog();
    const { logger } = capturing();
    const feed = new TopicFeed(log, { topic: "policies", types: ["access.changed"], name: "test.feed", logger });
    const first: number[] = [];
    const second: number[] = [];
    feed.listen((event) => first.push(event.payload.sequence));
    feed.listen((event) => second.push(event.payload.sequence));
    await feed.ready();
    const { valid, malformed } = SAMPLES.policies["access.changed"];
    await log.publish("policies", [
      sampleEvent("access.changed", "t-1", malformed.payload),
      sampleEvent("compliance.changed", "t-1", SAMPLES.policies["compliance.changed"].malformed.payload),
      sampleEvent("access.changed", "t-1", { ...valid, sequence: 2 }),
    ]);
    await waitFor(() => second.length === 1, 5000, "the valid change");
    expect(first).toEqual([2]);
    expect(second).toEqual([2]);
    expect(await refused("test.feed")).toBe(1);
    await feed.dispose();
  });
});
