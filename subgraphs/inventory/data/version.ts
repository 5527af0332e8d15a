/**
 * Sortable version keys: `versionKey(a) < versionKey(b)` (binary string order,
 * as SQLite and MySQL's `utf8mb4_bin` compare) when version `a` is lower than
 * `b` numerically, so `versionBelow` and the ordering of `appVersionCounts`
 * are plain comparisons on an indexed column.
 *
 * Format: the leading dotted numeric components (at most six) as six blocks of
 * ten digits, zero-padded (a missing component is 0, a component above ten
 * digits is clamped to 9999999999), then a marker: `~` for a bare version, or
 * `-` followed by the rest of the string lower-cased (the suffix). `-` sorts
 * before `~`, so `1.2.0-beta` < `1.2.0`, and suffixes of the same numbers
 * compare character by character. A version without leading digits is all
 * zeros plus its text as suffix; numbers after the sixth component are part of
 * the suffix.
 *
 *     versionKey("1.10")       = 0000000001 0000000010 0000000000 … ~
 *     versionKey("1.9")        = 0000000001 0000000009 0000000000 … ~
 *     versionKey("1.2.0-beta") = 0000000001 0000000002 0000000000 … --beta
 */

/** Numeric components that count. */
export const VERSION_COMPONENTS = 6;
/** Digits per component. */
export const VERSION_DIGITS = 10;
/** Longest key: the blocks, the marker and a suffix of a 64-character version lower-cased (which can double). */
export const VERSION_KEY_LENGTH = VERSION_COMPONENTS * VERSION_DIGITS + 1 + 128;

const LEADING_NUMBERS = new RegExp(`^\\d+(?:\\.\\d+){0,${VERSION_COMPONENTS - 1}}`);

export function versionKey(version: string): string {
  const trimmed = version.trim();
  const numbers = LEADING_NUMBERS.exec(trimmed)?.[0] ?? "";
  const components = numbers === "" ? [] : numbers.split(".");
  let key = "";
  for (let i = 0; i < VERSION_COMPONENTS; i++) key += block(components[i]);
  const suffix = trimmed.slice(numbers.length).toLowerCase();
  return suffix === "" ? `${key}~` : `${key}-${suffix}`;
}

function block(digits: string | undefined): string {
  const significant = (digits ?? "").replace(/^0+/, "");
  return significant.length > VERSION_DIGITS ? "9".repeat(VERSION_DIGITS) : significant.padStart(VERSION_DIGITS, "0");
}
