/**
 * Reading the environment: every helper records what is wrong in `problems`
 * and returns undefined (or the fallback), so `loadConfig` reports every
 * invalid variable at once.
 */
import { parseDuration } from "../duration.js";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export class ConfigReader {
  readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The variable, trimmed; undefined when unset or blank. */
  read(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === "" ? undefined : value;
  }

  problem(text: string): void {
    this.problems.push(text);
  }

  /** An integer from `min` to `max`; undefined when unset or invalid. */
  integer(name: string, min: number, max: number): number | undefined {
    const value = this.read(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problem(`${name} must be an integer from ${min} to ${max}; got "${value}"`);
      return undefined;
    }
    return n;
  }

  /** An integer from `min` to `max`, `fallback` when unset or invalid. */
  integerOr(name: string, min: number, max: number, fallback: number): number {
    return this.integer(name, min, max) ?? fallback;
  }

  /** `true`/`1`/`on` or `false`/`0`/`off`; undefined when unset or invalid. */
  boolean(name: string): boolean | undefined {
    const value = this.read(name);
    if (value === undefined) return undefined;
    if (["true", "1", "on"].includes(value.toLowerCase())) return true;
    if (["false", "0", "off"].includes(value.toLowerCase())) return false;
    this.problem(`${name} must be true or false; got "${value}"`);
    return undefined;
  }

  /** Milliseconds of a duration (`90s`, `15m`, `12h`, `30d`) from `min` to `max`, `fallback` when unset or invalid. */
  duration(name: string, fallback: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const text = this.read(name) ?? fallback;
    const ms = parseDuration(text);
    if (ms === undefined || ms < min || ms > max) {
      this.problem(`${name} must be a duration like 90s, 15m, 12h or 30d, from ${min / 1000}s${max < Number.MAX_SAFE_INTEGER ? ` to ${max / 1000}s` : ""}; got "${text}"`);
    }
    return ms ?? parseDuration(fallback)!;
  }

  /** Records a problem unless `value` is a URL with one of `protocols` (`"https:"`). */
  checkUrl(value: string, name: string, protocols: string[]): void {
    try {
      const url = new URL(value);
      if (!protocols.includes(url.protocol)) this.problem(`${name} must use ${protocols.join(" or ")}; got "${url.protocol}"`);
    } catch {
      this.problem(`${name} must be a URL; got "${value}"`);
    }
  }
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
