/**
 * What the evaluator refuses to apply: an event whose shape it cannot store
 * (a poison event — a producer's bug, or something written to the stream by
 * hand). Such an event would fail its batch on every attempt and hold up every
 * later event of the topic, so it is skipped instead: logged at error with its
 * id, type and what is wrong, and acknowledged with its batch. Everything else
 * that fails a batch (the database unreachable, a deadlock) fails it whole,
 * and it is handed over again.
 *
 * The checks are the limits of the columns the event lands in and the values
 * the rules know; anything past them is rejected here rather than truncated or
 * refused by one engine and not the other.
 */
import { PLATFORMS, THREAT_LEVELS } from "../../lib/domain-enums.js";
import { DATA_STATUSES, type AssessmentChangedPayload, type DeviceEventPayload } from "../../lib/events/contracts.js";
import type { LoggedEvent } from "../../lib/events/types.js";
import type { PolicyChangedPayload } from "./data/repository.js";


type Check = string | null;

const isString = (value: unknown, max: number): value is string => typeof value === "string" && value.length >= 1 && value.length <= max;
const oneOf = (values: readonly string[], value: unknown) => typeof value === "string" && values.includes(value);
const isTime = (value: unknown) => typeof value === "string" && !Number.isNaN(Date.parse(value));

function common(event: LoggedEvent): Check {
  if (!isString(event.tenantId, 64)) return "tenantId: expected 1-64 characters";
  if (event.version !== undefined && !(Number.isSafeInteger(event.version) && event.version >= 0)) return `version: expected a non-negative integer, got ${JSON.stringify(event.version)}`;
  if (typeof event.payload !== "object" || event.payload === null) return "payload: expected an object";
  return null;
}

/** Why a device event cannot be applied, or null. */
export function deviceEventProblem(event: LoggedEvent<DeviceEventPayload>): Check {
  const { payload } = event;
  return (
    common(event) ??
    (!isString(payload.id, 128) ? "payload.id: expected 1-128 characters" : null) ??
    (!oneOf(PLATFORMS, payload.platform) ? `payload.platform: expected one of ${PLATFORMS.join(", ")}, got ${JSON.stringify(payload.platform)}` : null) ??
    (payload.userPrincipalName !== null && !isString(payload.userPrincipalName, 320) ? "payload.userPrincipalName: expected null or 1-320 characters" : null) ??
    (payload.retiredAt !== null && !isTime(payload.retiredAt) ? "payload.retiredAt: expected null or an ISO-8601 time" : null)
  );
}

/** Why an assessment cannot be applied, or null. */
export function assessmentProblem(event: LoggedEvent<AssessmentChangedPayload>): Check {
  const { payload } = event;
  return (
    common(event) ??
    (!isString(payload.deviceId, 128) ? "payload.deviceId: expected 1-128 characters" : null) ??
    (!oneOf(PLATFORMS, payload.platform) ? `payload.platform: expected one of ${PLATFORMS.join(", ")}, got ${JSON.stringify(payload.platform)}` : null) ??
    (payload.level !== null && !oneOf(THREAT_LEVELS, payload.level) ? `payload.level: expected null or one of ${THREAT_LEVELS.join(", ")}, got ${JSON.stringify(payload.level)}` : null) ??
    (!oneOf(DATA_STATUSES, payload.dataStatus) ? `payload.dataStatus: expected one of ${DATA_STATUSES.join(", ")}, got ${JSON.stringify(payload.dataStatus)}` : null) ??
    (typeof payload.blockOnMissing !== "boolean" ? "payload.blockOnMissing: expected a boolean" : null) ??
    (payload.partner !== null && !isString(payload.partner, 64) ? "payload.partner: expected null or 1-64 characters" : null) ??
    (payload.unresponsiveSince !== null && !isTime(payload.unresponsiveSince) ? "payload.unresponsiveSince: expected null or an ISO-8601 time" : null)
  );
}

/** Why a policy change cannot be applied, or null. */
export function policyChangeProblem(event: LoggedEvent<PolicyChangedPayload>): Check {
  const { payload } = event;
  return (
    common(event) ??
    (!Array.isArray(payload.platforms) || !payload.platforms.every((platform) => oneOf(PLATFORMS, platform)) ? "payload.platforms: expected a list of platforms" : null)
  );
}
