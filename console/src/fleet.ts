/** The overview's chart: access changes per time bucket. */

export interface Bucket {
  start: number;
  end: number;
  revoked: number;
  restored: number;
}

const MINUTE = 60_000;
const STEPS = [MINUTE, 5 * MINUTE, 15 * MINUTE, 60 * MINUTE, 6 * 60 * MINUTE, 24 * 60 * MINUTE];

/**
 * `count` equal buckets ending at `now` (rounded up to the bucket size), the
 * size the smallest step that reaches back to the oldest change.
 */
export function bucketChanges(changes: readonly { at: string; allowed: boolean }[], now: number, count = 24): Bucket[] {
  const oldest = changes.reduce((min, change) => Math.min(min, Date.parse(change.at)), now);
  const step = STEPS.find((size) => size * count >= now - oldest) ?? STEPS.at(-1)!;
  const end = Math.ceil(now / step) * step;
  const buckets: Bucket[] = Array.from({ length: count }, (_, i) => ({ start: end - (count - i) * step, end: end - (count - i - 1) * step, revoked: 0, restored: 0 }));
  for (const change of changes) {
    const index = Math.floor((Date.parse(change.at) - buckets[0]!.start) / step);
    const bucket = buckets[index];
    if (bucket === undefined) continue;
    if (change.allowed) bucket.restored += 1;
    else bucket.revoked += 1;
  }
  return buckets;
}
