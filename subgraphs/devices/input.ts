/**
 * Input checks of the devices mutations and the `devices` search: BAD_USER_INPUT naming the field path
 * the client sent (`inputs[3].name: …`), before anything is stored.
 */
import { randomUUID } from "node:crypto";
import { identifier, optionalText, text, wellFormed } from "../../lib/validation.js";
import type { EnrollValues } from "./data/repository.js";
import type { EnrollDeviceInput } from "./generated/graphql.js";

/** Enrolments per `enrollDevicesBatch`. */
export const MAX_DEVICES_PER_BATCH = 1000;

/** A checked enrolment; an omitted id is generated. */
export function enrollValues(input: EnrollDeviceInput, field = "input"): EnrollValues {
  return {
    id: input.id == null ? randomUUID() : identifier(`${field}.id`, input.id),
    name: text(`${field}.name`, input.name, { max: 256 }),
    platform: input.platform,
    osVersion: text(`${field}.osVersion`, input.osVersion, { max: 64 }),
    ownership: input.ownership,
    userPrincipalName: optionalText(`${field}.userPrincipalName`, input.userPrincipalName, { max: 320 }),
  };
}

/** The `search` of `devices`: trimmed, 0-256 characters of well-formed text without control characters; omitted: undefined. */
export function searchTerm(value: string | null | undefined, field = "search"): string | undefined {
  return value == null ? undefined : wellFormed(field, text(field, value, { min: 0, max: 256 }));
}
