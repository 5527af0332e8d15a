/** Durations as operators write them in the environment: `90s`, `15m`, `12h`, `30d`. */

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,9})(s|m|h|d)$/;

/** Milliseconds of `text`, or undefined when it is not `<integer><s|m|h|d>`. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
