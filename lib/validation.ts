/** Input checks shared by every subgraph. Each names the field it rejects. */
import { badUserInput } from "./errors.js";

const IDENTIFIER = /^[A-Za-z0-9._:-]{1,128}$/;

/** Ids clients choose (device ids, report ids): 1-128 characters of `[A-Za-z0-9._:-]`. */
export function identifier(field: string, value: string): string {
  if (!IDENTIFIER.test(value)) {
    throw badUserInput(field, `expected 1-128 characters of [A-Za-z0-9._:-]; got ${describe(value)}`);
  }
  return value;
}

/** A trimmed string of `min`..`max` characters. */
export function text(field: string, value: string, limits: { min?: number; max: number }): string {
  const trimmed = value.trim();
  const min = limits.min ?? 1;
  if (trimmed.length < min || trimmed.length > limits.max) {
    throw badUserInput(field, `expected ${min}-${limits.max} characters; got ${trimmed.length}`);
  }
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw badUserInput(field, "control characters are not allowed");
  return trimmed;
}

/** `null`/`undefined` stay null; otherwise as `text`. */
export function optionalText(field: string, value: string | null | undefined, limits: { min?: number; max: number }): string | null {
  return value == null ? null : text(field, value, limits);
}

/** Lone surrogates (a high one not followed by a low one, a low one not preceded by a high one) and NUL. */
const MALFORMED = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\u0000/;

/**
 * Text a utf8mb4 column can store and any client can decode: well-formed
 * UTF-16 (no lone surrogate) and no NUL. Every string a request carries is
 * checked before anything runs (lib/request-input.ts for GraphQL, the
 * signals service's JSON bodies), and so is every string decoded from a cursor.
 */
export function wellFormed(field: string, value: string): string {
  const problem = textProblem(value);
  if (problem !== undefined) throw badUserInput(field, problem);
  return value;
}

/** What makes `value` not well-formed text, or undefined when it is. */
export function textProblem(value: string): string | undefined {
  const at = value.search(MALFORMED);
  if (at === -1) return undefined;
  // The same words as `text` for NUL, which is a control character.
  if (value.charCodeAt(at) === 0) return "control characters are not allowed";
  return `expected well-formed Unicode text; got a lone surrogate at position ${at}`;
}

/**
 * The first string of a JSON value (in arrays and objects, member names
 * included) that is not well-formed text: where it is (`path`, then
 * `.name` and `[i]`; a member name is named by its own path) and why.
 */
export function malformedText(path: string, value: unknown): { field: string; problem: string } | undefined {
  if (typeof value === "string") {
    const problem = textProblem(value);
    return problem === undefined ? undefined : { field: path, problem };
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = malformedText(`${path}[${index}]`, item);
      if (found !== undefined) return found;
    }
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const member = path === "" ? key : `${path}.${key}`;
      const found = malformedText(member, key) ?? malformedText(member, item);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function describe(value: string): string {
  return value.length > 40 ? `${value.length} characters` : JSON.stringify(value);
}
