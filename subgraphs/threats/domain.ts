/**
 * The MTD rules as pure functions: risk from threats, connector liveness, and a
 * device's assessment (whether and how its partner data counts).
 */
import { randomUUID } from "node:crypto";
import { THREAT_LEVELS, type MtdPartner } from "../../lib/domain-enums.js";
import { ASSESSMENT_CHANGED, CONNECTOR_STATE_CHANGED, CONNECTORS_ANNOUNCED, type CatalogNewEvent } from "../../lib/events/catalog.js";
import type { DataStatus } from "../../lib/events/contracts.js";
import { isActive as isActiveConnector } from "../../lib/partner-rule.js";
import type { ConnectorRecord, DeviceStateRecord } from "./data/entities.js";
import type { ConnectorState, Platform, ThreatLevel } from "./generated/graphql.js";

/**
 * A device's risk by one partner: the highest severity among its ACTIVE
 * threats; SECURED when the partner reported and nothing is active; null when
 * it never reported on the device.
 */
export function riskLevel(reported: boolean, activeSeverities: Iterable<ThreatLevel>): ThreatLevel | null {
  if (!reported) return null;
  let highest = 0;
  for (const severity of activeSeverities) highest = Math.max(highest, THREAT_LEVELS.indexOf(severity));
  return THREAT_LEVELS[highest]!;
}

/** Whether the connector is ENABLED or UNRESPONSIVE (it counts for the platforms it covers; lib/partner-rule.ts). */
export function isActive(connector: ConnectorRecord | null | undefined): connector is ConnectorRecord {
  return connector != null && isActiveConnector(connector);
}

/**
 * The tenant's active connector that covers `platform`, or null. Active
 * connectors never share a platform (enabling one that would is CONFLICT), so
 * there is at most one.
 */
export function coveringConnector(connectors: readonly ConnectorRecord[], platform: Platform): ConnectorRecord | null {
  return connectors.find((connector) => isActive(connector) && connector.enabledPlatforms.includes(platform)) ?? null;
}

/** The state a connector is in at `now`: an ENABLED connector past its deadline is UNRESPONSIVE, even before it is stored so. */
export function effectiveState(connector: ConnectorRecord, now: number): ConnectorState {
  if (connector.state === "ENABLED" && connector.deadlineAt !== null && now > connector.deadlineAt.getTime()) return "UNRESPONSIVE";
  return connector.state;
}

/** `(lastHeartbeatAt ?? enabledAt) + unresponsiveAfterMinutes`. */
export function deadlineOf(connector: Pick<ConnectorRecord, "lastHeartbeatAt" | "enabledAt" | "unresponsiveAfterMinutes">): Date {
  return new Date((connector.lastHeartbeatAt ?? connector.enabledAt).getTime() + connector.unresponsiveAfterMinutes * 60_000);
}

export interface Assessment {
  level: ThreatLevel | null;
  dataStatus: DataStatus;
  blockOnMissing: boolean;
  partner: MtdPartner | null;
  unresponsiveSince: Date | null;
}

/** What the partner knows about one device: whether it reported on it, and the severities of its ACTIVE threats. */
export interface PartnerData {
  reported: boolean;
  activeSeverities: ThreatLevel[];
}

/**
 * A device's assessment under the connector that covers its platform (see
 * `coveringConnector`), or null: without one there is no partner, no level,
 * and partner data is not required.
 */
export function assess(platform: Platform, connector: ConnectorRecord | null, data: PartnerData, now: number): Assessment {
  if (!isActive(connector) || !connector.enabledPlatforms.includes(platform)) {
    return { level: null, dataStatus: "NOT_CONNECTED", blockOnMissing: false, partner: null, unresponsiveSince: null };
  }
  const level = riskLevel(data.reported, data.activeSeverities);
  const partner = connector.partner;
  const blockOnMissing = connector.blockOnMissingPartnerData.includes(platform);
  if (effectiveState(connector, now) === "UNRESPONSIVE") {
    const unresponsiveSince = connector.unresponsiveSince ?? connector.deadlineAt;
    return { level, dataStatus: "PARTNER_UNRESPONSIVE", blockOnMissing, partner, unresponsiveSince };
  }
  return { level, dataStatus: data.reported ? "REPORTED" : "MISSING", blockOnMissing, partner, unresponsiveSince: null };
}

export function sameAssessment(device: DeviceStateRecord, next: Assessment): boolean {
  return (
    device.level === next.level &&
    device.dataStatus === next.dataStatus &&
    device.blockOnMissing === next.blockOnMissing &&
    device.partner === next.partner &&
    (device.unresponsiveSince?.getTime() ?? null) === (next.unresponsiveSince?.getTime() ?? null)
  );
}

/** `device.assessment.changed` for `device`, whose stored assessment is the previous one. */
export function assessmentChanged(device: DeviceStateRecord, next: Assessment, version: number, at: Date, urgent = false): CatalogNewEvent<"threats", typeof ASSESSMENT_CHANGED> {
  return {
    id: randomUUID(),
    type: ASSESSMENT_CHANGED,
    tenantId: device.tenantId,
    aggregateId: device.deviceId,
    version,
    occurredAt: at.toISOString(),
    payload: {
      deviceId: device.deviceId,
      platform: device.platform,
      previousLevel: device.assessmentVersion === 0 ? null : device.level,
      level: next.level,
      dataStatus: next.dataStatus,
      blockOnMissing: next.blockOnMissing,
      partner: next.partner,
      unresponsiveSince: next.unresponsiveSince?.toISOString() ?? null,
      ...(urgent ? { urgent } : {}),
    },
  };
}

/** `connectors.announced`: every connector of the tenant at its connector version `version`. */
export function connectorsAnnounced(tenantId: string, connectors: readonly ConnectorRecord[], version: number, at: Date): CatalogNewEvent<"threats", typeof CONNECTORS_ANNOUNCED> {
  return {
    id: randomUUID(),
    type: CONNECTORS_ANNOUNCED,
    tenantId,
    aggregateId: "connector",
    version,
    occurredAt: at.toISOString(),
    payload: { connectors: connectors.map(({ partner, state, enabledPlatforms }) => ({ partner, state, enabledPlatforms: [...enabledPlatforms] })) },
  };
}

/**
 * `connector.state.changed` of one connector (tenant + partner), versioned per
 * tenant: a consumer keyed by tenant and partner keeps the last version it
 * applied and ignores anything at or below it.
 */
export function connectorStateChanged(
  tenantId: string,
  connector: Pick<ConnectorRecord, "partner" | "enabledPlatforms">,
  previousState: ConnectorState | null,
  state: ConnectorState,
  version: number,
  at: Date,
): CatalogNewEvent<"threats", typeof CONNECTOR_STATE_CHANGED> {
  return {
    id: randomUUID(),
    type: CONNECTOR_STATE_CHANGED,
    tenantId,
    aggregateId: "connector",
    version,
    occurredAt: at.toISOString(),
    payload: { partner: connector.partner, previousState, state, enabledPlatforms: [...connector.enabledPlatforms] },
  };
}
