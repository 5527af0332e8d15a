/**
 * Input checks of the policies mutations: BAD_USER_INPUT naming the field,
 * before anything is stored.
 */
import { badUserInput } from "../../lib/errors.js";
import { identifier, text } from "../../lib/validation.js";
import type { ExceptionGrant } from "./data/exceptions.js";
import type { GrantAccessExceptionInput } from "./generated/graphql.js";

const MAX_RESOURCES = 50;
const RESOURCE_NAME = /^[A-Za-z0-9._:/-]{1,128}$/;
/** 30 days, the longest grace period. */
export const MAX_GRACE_PERIOD_MINUTES = 43_200;
/** How far ahead an exception may expire: 30 days. */
export const MAX_EXCEPTION_MS = 30 * 24 * 3_600_000;

/** Resource names: 1-128 characters of `[A-Za-z0-9._:/-]`, distinct, at most 50. */
export function resourceList(field: string, resources: readonly string[], allowEmpty = false): string[] {
  if (!allowEmpty && resources.length === 0) throw badUserInput(field, "expected at least one resource");
  if (resources.length > MAX_RESOURCES) throw badUserInput(field, `expected at most ${MAX_RESOURCES} resources; got ${resources.length}`);
  const seen = new Set<string>();
  resources.forEach((resource, index) => {
    if (!RESOURCE_NAME.test(resource)) throw badUserInput(`${field}[${index}]`, `expected 1-128 characters of [A-Za-z0-9._:/-]; got ${JSON.stringify(resource.slice(0, 40))}`);
    if (seen.has(resource)) throw badUserInput(`${field}[${index}]`, `duplicate resource "${resource}"`);
    seen.add(resource);
  });
  return [...seen];
}

/** 0 (the default) to 43,200 minutes. */
export function gracePeriodMinutes(field: string, minutes: number | null | undefined): number {
  const value = minutes ?? 0;
  if (!Number.isInteger(value) || value < 0 || value > MAX_GRACE_PERIOD_MINUTES) {
    throw badUserInput(field, `expected an integer from 0 to ${MAX_GRACE_PERIOD_MINUTES} (30 days); got ${value}`);
  }
  return value;
}

/** A checked exception; `now` is the server's clock (epoch ms). */
export function exceptionGrant(input: GrantAccessExceptionInput, now: number, field = "input"): ExceptionGrant {
  const expiresAt = input.expiresAt as Date;
  if (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime())) throw badUserInput(`${field}.expiresAt`, "expected an ISO-8601 date-time");
  if (expiresAt.getTime() <= now) throw badUserInput(`${field}.expiresAt`, `expected a time in the future; got ${expiresAt.toISOString()} (server time ${new Date(now).toISOString()})`);
  if (expiresAt.getTime() > now + MAX_EXCEPTION_MS) {
    throw badUserInput(`${field}.expiresAt`, `expected at most 30 days ahead (${new Date(now + MAX_EXCEPTION_MS).toISOString()}); got ${expiresAt.toISOString()}`);
  }
  return {
    deviceId: identifier(`${field}.deviceId`, input.deviceId),
    resources: resourceList(`${field}.resources`, input.resources),
    reason: text(`${field}.reason`, input.reason, { max: 512 }),
    expiresAt,
  };
}
