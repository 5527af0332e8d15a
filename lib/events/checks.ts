/**
 * Checks of event payloads, composed like the payload types they check
 * (`object<DeviceEventPayload>({ id: text(128), … })`): a shape names a check
 * for every field of the type, so a field added to a contract without a check
 * is a compile error. A check says what is wrong with a value, naming its path,
 * what was expected and what came, or null when it is fine. Fields a check
 * does not name (added by a newer producer) pass.
 */

/** A check of values of type `T`: the problem with `value` (at `path`), or null. */
export interface Check<T> {
  (value: unknown, path: string): string | null;
  /** What a valid value is, for messages (`1-128 characters`, `one of IOS, ANDROID`). */
  readonly expected: string;
  /** Compile time only: ties the check to the type it admits (invariant, so `Check<string>` is no `Check<string | null>`). */
  readonly admits?: (value: T) => T;
}

/** The checks of every field of `T`; a field that may be absent (`x?: T`) takes `optional(…)`. */
export type Shape<T> = { [K in keyof T]-?: Check<T[K]> };

function describe(value: unknown): string {
  if (typeof value === "string") return value.length > 40 ? `${value.length} characters` : JSON.stringify(value);
  if (value === undefined) return "nothing";
  const json = JSON.stringify(value);
  return json === undefined ? typeof value : json.length > 40 ? `${Array.isArray(value) ? "a list" : typeof value} of ${json.length} characters` : json;
}

function check<T>(expected: string, test: (value: unknown) => boolean): Check<T> {
  return Object.assign((value: unknown, path: string) => (test(value) ? null : `${path}: expected ${expected}, got ${describe(value)}`), { expected });
}

/** A string of `min` (default 1) to `max` characters. */
export const text = (max: number, min = 1): Check<string> =>
  check(`${min}-${max} characters`, (value) => typeof value === "string" && value.length >= min && value.length <= max);

/** Any string, the empty one included. */
export const string: Check<string> = check("a string", (value) => typeof value === "string");

/** One of `values`. */
export const oneOf = <V extends string>(values: readonly V[]): Check<V> =>
  check(`one of ${values.join(", ")}`, (value) => typeof value === "string" && (values as readonly string[]).includes(value));

export const boolean: Check<boolean> = check("a boolean", (value) => typeof value === "boolean");

/** A safe integer of at least `min`. */
export const integer = (min = 0): Check<number> => check(`an integer of at least ${min}`, (value) => Number.isSafeInteger(value) && (value as number) >= min);

/** A time as `Date.parse` reads it (ISO-8601 from every producer). */
export const time: Check<string> = check("an ISO-8601 time", (value) => typeof value === "string" && !Number.isNaN(Date.parse(value)));

/** null, or what `inner` admits. */
export function nullable<T>(inner: Check<T>): Check<T | null> {
  return Object.assign(
    (value: unknown, path: string) => {
      const problem = value === null ? null : inner(value, path);
      // The value itself is wrong (not a field inside it): say that null would do too.
      return problem?.startsWith(`${path}: `) ? `${path}: expected null or ${inner.expected}, got ${describe(value)}` : problem;
    },
    { expected: `null or ${inner.expected}` },
  );
}

/** Absent (a field older producers do not send), or what `inner` admits. */
export function optional<T>(inner: Check<T>): Check<T | undefined> {
  return Object.assign((value: unknown, path: string) => (value === undefined ? null : inner(value, path)), { expected: `nothing or ${inner.expected}` });
}

/** A list of at most `max` items, each admitted by `item`. */
export function list<T>(item: Check<T>, max = 1000): Check<T[]> {
  return Object.assign(
    (value: unknown, path: string) => {
      if (!Array.isArray(value) || value.length > max) return `${path}: expected a list of at most ${max} items, got ${describe(value)}`;
      for (const [index, entry] of value.entries()) {
        const problem = item(entry, `${path}[${index}]`);
        if (problem !== null) return problem;
      }
      return null;
    },
    { expected: `a list of ${item.expected}` },
  );
}

/** An object whose fields pass `shape`'s checks (the first problem is reported; at path "" its fields are named bare). */
export function object<T>(shape: Shape<T>): Check<T> {
  const fields = Object.entries(shape) as [string, Check<unknown>][];
  return Object.assign(
    (value: unknown, path: string) => {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return `${path}: expected an object, got ${describe(value)}`;
      for (const [name, field] of fields) {
        const problem = field((value as Record<string, unknown>)[name], path === "" ? name : `${path}.${name}`);
        if (problem !== null) return problem;
      }
      return null;
    },
    { expected: "an object" },
  );
}
