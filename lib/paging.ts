/**
 * Relay connections: opaque cursors and page sizes. A cursor is base64url JSON
 * of the sort key of the last row; a cursor that does not decode to such a key
 * (see `decodeCursor`) is BAD_USER_INPUT.
 */
import { badUserInput } from "./errors.js";
import { textProblem } from "./validation.js";

export const MAX_PAGE_SIZE = 500;

export function pageSize(first: number | null | undefined, fallback: number, field = "first"): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw badUserInput(field, `expected an integer from 1 to ${MAX_PAGE_SIZE}; got ${size}`);
  }
  return size;
}

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/** The longest cursor accepted (what `encodeCursor` makes of the longest keys is far shorter). */
const MAX_CURSOR_LENGTH = 1024;
/** The longest string part of a cursor: every key we page by (ids, app ids) is at most this long. */
const MAX_CURSOR_STRING = 256;

/**
 * Decodes a cursor made by `encodeCursor` with `types.length` parts of the
 * given types: a number part is a non-negative safe integer (sequences, epoch
 * ms), a string part 0-256 characters of well-formed text (lib/validation.ts).
 * Anything else, e.g. `1e400` (Infinity), `-1`, `0.5`, an object, an overlong
 * string, a NUL or a lone surrogate, is BAD_USER_INPUT before it reaches a query.
 */
export function decodeCursor<T extends readonly ("string" | "number")[]>(
  field: string,
  cursor: string,
  types: T,
): { [K in keyof T]: T[K] extends "number" ? number : string } {
  let key: unknown;
  try {
    key = cursor.length > MAX_CURSOR_LENGTH ? undefined : JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== types.length || key.some((part, i) => !isCursorPart(part, types[i]!))) {
    throw badUserInput(field, "not a cursor returned by this field");
  }
  return key as never;
}

function isCursorPart(part: unknown, type: "string" | "number"): boolean {
  if (type === "number") return typeof part === "number" && Number.isSafeInteger(part) && part >= 0;
  return typeof part === "string" && part.length <= MAX_CURSOR_STRING && textProblem(part) === undefined;
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

/** Builds a connection from `size + 1` fetched rows (the extra row only says there is a next page). */
export function toPage<T>(rows: T[], size: number, totalCount: number, cursorOf: (row: T) => string): Page<T> {
  const nodes = rows.slice(0, size);
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
  return { edges, pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null }, totalCount };
}
