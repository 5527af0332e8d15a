/**
 * Input checks of the threats mutations. Each error is BAD_USER_INPUT naming
 * the field path the client sent (`input.threats[3].severity: …`); checks run
 * before anything is stored.
 */
import { PLATFORMS } from "../../lib/domain-enums.js";
import { badUserInput } from "../../lib/errors.js";
import { identifier, text } from "../../lib/validation.js";
import type { ConnectorSettings } from "./data/connectors.js";
import type { Report } from "./data/reports.js";
import type { EnableMtdConnectorInput, Platform, ReportThreatsInput } from "./generated/graphql.js";

export const MAX_THREATS_PER_REPORT = 500;
export const MAX_REPORTS_PER_BATCH = 500;
/** How far in the future `observedAt` may be (clock skew). */
export const MAX_OBSERVED_AHEAD_MS = 5 * 60_000;
export const UNRESPONSIVE_AFTER_MINUTES = { min: 1, max: 10_080, fallback: 1440 } as const;

export function connectorSettings(input: EnableMtdConnectorInput, field = "input"): ConnectorSettings {
  const enabledPlatforms = distinctPlatforms(`${field}.enabledPlatforms`, input.enabledPlatforms);
  if (enabledPlatforms.length === 0) throw badUserInput(`${field}.enabledPlatforms`, "expected at least one platform; got none");
  const blockOnMissingPartnerData = distinctPlatforms(`${field}.blockOnMissingPartnerData`, input.blockOnMissingPartnerData ?? []);
  const notEnabled = blockOnMissingPartnerData.filter((platform) => !enabledPlatforms.includes(platform));
  if (notEnabled.length > 0) {
    throw badUserInput(`${field}.blockOnMissingPartnerData`, `expected platforms of enabledPlatforms (${enabledPlatforms.join(", ")}); got ${notEnabled.join(", ")}`);
  }
  const minutes = input.unresponsiveAfterMinutes ?? UNRESPONSIVE_AFTER_MINUTES.fallback;
  if (!Number.isInteger(minutes) || minutes < UNRESPONSIVE_AFTER_MINUTES.min || minutes > UNRESPONSIVE_AFTER_MINUTES.max) {
    throw badUserInput(`${field}.unresponsiveAfterMinutes`, `expected an integer from ${UNRESPONSIVE_AFTER_MINUTES.min} to ${UNRESPONSIVE_AFTER_MINUTES.max}; got ${minutes}`);
  }
  return { partner: input.partner, enabledPlatforms, blockOnMissingPartnerData, unresponsiveAfterMinutes: minutes };
}

function distinctPlatforms(field: string, platforms: readonly Platform[]): Platform[] {
  const seen = new Set<Platform>();
  platforms.forEach((platform, i) => {
    if (seen.has(platform)) throw badUserInput(`${field}[${i}]`, `expected distinct platforms; got ${platform} twice`);
    seen.add(platform);
  });
  // In the contract's order: settings are stored canonically, so equal settings compare equal.
  return PLATFORMS.filter((platform) => seen.has(platform));
}

/** A checked report; `now` is the server's clock (epoch ms). */
export function report(input: ReportThreatsInput, now: number, field = "input"): Report {
  const reportId = identifier(`${field}.reportId`, input.reportId);
  const deviceId = identifier(`${field}.deviceId`, input.deviceId);
  const observedAt = input.observedAt;
  if (!(observedAt instanceof Date) || Number.isNaN(observedAt.getTime())) throw badUserInput(`${field}.observedAt`, "expected an ISO-8601 date-time");
  if (observedAt.getTime() > now + MAX_OBSERVED_AHEAD_MS) {
    throw badUserInput(`${field}.observedAt`, `expected at most 5 minutes in the future; got ${observedAt.toISOString()} (server time ${new Date(now).toISOString()})`);
  }
  if (input.threats.length > MAX_THREATS_PER_REPORT) {
    throw badUserInput(`${field}.threats`, `expected at most ${MAX_THREATS_PER_REPORT} threats; got ${input.threats.length}`);
  }
  const firstIndex = new Map<string, number>();
  const threats = input.threats.map((threat, i) => {
    const path = `${field}.threats[${i}]`;
    const externalId = text(`${path}.externalId`, threat.externalId, { max: 256 });
    const earlier = firstIndex.get(externalId);
    if (earlier !== undefined) throw badUserInput(`${path}.externalId`, `expected distinct externalIds; got ${JSON.stringify(externalId)}, also at threats[${earlier}]`);
    firstIndex.set(externalId, i);
    if (threat.severity === "SECURED") throw badUserInput(`${path}.severity`, "expected LOW, MEDIUM or HIGH; got SECURED (not a threat severity)");
    return {
      externalId,
      category: threat.category,
      severity: threat.severity,
      title: text(`${path}.title`, threat.title, { max: 512 }),
      status: threat.status,
    };
  });
  return { reportId, deviceId, observedAt, threats };
}
