/** The threats subgraph's pure rules and its risk feed, without a graph. */
import { afterEach, describe, expect, it } from "vitest";
import { MemoryEventLog } from "../../lib/events/memory.js";
import type { AssessmentChangedPayload } from "../../lib/events/contracts.js";
import type { NewEvent } from "../../lib/events/types.js";
import { createLogger } from "../../lib/logger.js";
import type { ConnectorRecord } from "../../subgraphs/threats/data/entities.js";
import { assess, coveringConnector, effectiveState, riskLevel } from "../../subgraphs/threats/domain.js";
import { RiskFeed } from "../../subgraphs/threats/risk-feed.js";
import { waitFor } from "../support/wait.js";

const NOW = Date.parse("2026-11-29T12:00:00Z");

function connector(overrides: Partial<ConnectorRecord> = {}): ConnectorRecord {
  return {
    tenantId: "t",
    partner: "LOOKOUT",
    state: "ENABLED",
    enabledPlatforms: ["IOS", "ANDROID"],
    blockOnMissingPartnerData: ["IOS"],
    unresponsiveAfterMinutes: 60,
    enabledAt: new Date(NOW - 30 * 60_000),
    lastHeartbeatAt: null,
    deadlineAt: new Date(NOW + 30 * 60_000),
    unresponsiveSince: null,
    updatedAt: new Date(NOW - 30 * 60_000),
    ...overrides,
  };
}

describe("risk level", () => {
  it("is the highest ACTIVE severity, SECURED when reported with none, null before any report", () => {
    expect(riskLevel(false, [])).toBeNull();
    expect(riskLevel(true, [])).toBe("SECURED");
    expect(riskLevel(true, ["LOW", "HIGH", "MEDIUM"])).toBe("HIGH");
    expect(riskLevel(true, ["MEDIUM", "LOW"])).toBe("MEDIUM");
  });
});

describe("assessment", () => {
  const reported = { reported: true, activeSeverities: ["MEDIUM" as const] };
  const silent = { reported: false, activeSeverities: [] };

  it("NOT_CONNECTED, with no partner and no level, without an active connector covering the platform", () => {
    const none = { level: null, dataStatus: "NOT_CONNECTED", blockOnMissing: false, partner: null, unresponsiveSince: null };
    expect(assess("IOS", null, reported, NOW)).toEqual(none);
    expect(assess("IOS", connector({ state: "DISABLED" }), reported, NOW)).toEqual(none);
    expect(assess("WINDOWS", connector(), reported, NOW)).toEqual(none);
  });

  it("the covering connector is the active one that enables the platform", () => {
    const lookout = connector();
    const defender = connector({ partner: "MICROSOFT_DEFENDER", enabledPlatforms: ["WINDOWS"] });
    const disabled = connector({ partner: "ZIMPERIUM", state: "DISABLED", enabledPlatforms: ["MACOS"] });
    expect(coveringConnector([lookout, defender, disabled], "WINDOWS")).toBe(defender);
    expect(coveringConnector([lookout, defender, disabled], "IOS")).toBe(lookout);
    expect(coveringConnector([lookout, defender, disabled], "MACOS")).toBeNull();
  });

  it("REPORTED or MISSING while the partner is alive; blockOnMissing per platform", () => {
    expect(assess("IOS", connector(), reported, NOW)).toMatchObject({ level: "MEDIUM", dataStatus: "REPORTED", blockOnMissing: true });
    expect(assess("ANDROID", connector(), silent, NOW)).toMatchObject({ level: null, dataStatus: "MISSING", blockOnMissing: false });
  });

  it("PARTNER_UNRESPONSIVE past the deadline, stored or not yet, since the missed deadline", () => {
    const deadline = new Date(NOW - 1);
    const overdue = connector({ deadlineAt: deadline });
    expect(effectiveState(overdue, NOW)).toBe("UNRESPONSIVE");
    expect(effectiveState(connector({ deadlineAt: new Date(NOW) }), NOW)).toBe("ENABLED");
    expect(assess("IOS", overdue, reported, NOW)).toEqual({ level: "MEDIUM", dataStatus: "PARTNER_UNRESPONSIVE", blockOnMissing: true, partner: "LOOKOUT", unresponsiveSince: deadline });
    const marked = connector({ state: "UNRESPONSIVE", unresponsiveSince: new Date(NOW - 5000) });
    expect(assess("IOS", marked, silent, NOW)).toMatchObject({ dataStatus: "PARTNER_UNRESPONSIVE", unresponsiveSince: new Date(NOW - 5000) });
  });
});

describe("risk feed", () => {
  let log: MemoryEventLog;
  let feed: RiskFeed;
  afterEach(async () => {
    await feed.dispose();
    await log.close();
  });

  let version = 0;
  function changed(tenantId: string, deviceId: string, previousLevel: AssessmentChangedPayload["previousLevel"], level: AssessmentChangedPayload["level"]): NewEvent<AssessmentChangedPayload> {
    return {
      id: `e-${++version}`,
      type: "device.assessment.changed",
      tenantId,
      aggregateId: deviceId,
      version,
      occurredAt: new Date(NOW).toISOString(),
      payload: { deviceId, platform: "IOS", previousLevel, level, dataStatus: "REPORTED", blockOnMissing: false, partner: "LOOKOUT", unresponsiveSince: null },
    };
  }
  const listeners = (f: RiskFeed) => (f as unknown as { feed: { listeners: Set<unknown> } }).feed.listeners.size;

  it("yields the tenant's level changes only, and removes its listener on return", async () => {
    log = new MemoryEventLog();
    feed = new RiskFeed(log, createLogger("silent", "test"));
    await feed.ready();
    const iterator = feed.subscribe("contoso");
    expect(listeners(feed)).toBe(1);
    await log.publish("threats", [
      changed("fabrikam", "theirs", null, "HIGH"),
      changed("contoso", "same", "LOW", "LOW"), // the data status changed, not the level
      { ...changed("contoso", "other-type", null, "HIGH"), type: "connector.state.changed" },
      changed("contoso", "mine", "LOW", "HIGH"),
    ]);
    const first = await iterator.next();
    expect(first.value).toEqual({ deviceRiskChanged: { device: { id: "mine" }, previousLevel: "LOW", level: "HIGH", at: new Date(NOW) } });
    await iterator.return!();
    expect(listeners(feed)).toBe(0);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it("fails a subscriber that falls behind by more than its buffer, after the buffered changes", async () => {
    log = new MemoryEventLog();
    feed = new RiskFeed(log, createLogger("silent", "test"), { bufferSize: 2 });
    await feed.ready();
    const iterator = feed.subscribe("contoso");
    await log.publish("threats", [changed("contoso", "a", null, "LOW"), changed("contoso", "b", null, "LOW"), changed("contoso", "c", null, "LOW")]);
    // The third change overflows the buffer: the subscription stops listening.
    await waitFor(() => listeners(feed) === 0, 2000, "overflow");
    expect((await iterator.next()).value.deviceRiskChanged.device.id).toBe("a");
    expect((await iterator.next()).value.deviceRiskChanged.device.id).toBe("b");
    await expect(iterator.next()).rejects.toMatchObject({ extensions: { code: "SUBSCRIBER_TOO_SLOW" } });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });
});
