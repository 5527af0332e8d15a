/**
 * Input checks of the devices mutations: BAD_USER_INPUT naming the field path
 * the client sent (`inputs[3].name: …`), before anything is stored.
 */
import { randomUUID } from "node:crypto";
import { identifier, optionalText, text } from "../../lib/validation.js";
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
