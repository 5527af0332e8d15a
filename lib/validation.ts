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
 * checked before anything runs (lib/request-input.ts).
 */
export function wellFormed(field: string, value: string): string {
  const at = value.search(MALFORMED);
  if (at === -1) return value;
  // The same words as `text` for NUL, which is a control character.
  if (value.charCodeAt(at) === 0) throw badUserInput(field, "control characters are not allowed");
  throw badUserInput(field, `expected well-formed Unicode text; got a lone surrogate at position ${at}`);
}

function describe(value: string): string {
  return value.length > 40 ? `${value.length} characters` : JSON.stringify(value);
}
