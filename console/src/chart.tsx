import type { Bucket } from "./fleet";

/** Stacked bars of revocations and restorations per bucket, with a text equivalent for screen readers. */
export function ChangesChart({ buckets }: { buckets: Bucket[] }) {
  const max = Math.max(1, ...buckets.map((b) => b.revoked + b.restored));
  const width = 480;
  const height = 120;
  const slot = width / buckets.length;
  const total = buckets.reduce((sum, b) => sum + b.revoked + b.restored, 0);
  const from = new Date(buckets[0]!.start);
  const summary = `${total} access changes since ${from.toLocaleString()}: ${buckets.reduce((s, b) => s + b.revoked, 0)} revoked, ${buckets.reduce((s, b) => s + b.restored, 0)} restored.`;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height + 4}`} role="img" aria-label={summary} preserveAspectRatio="none">
        {buckets.map((bucket, i) => {
          const revoked = (bucket.revoked / max) * height;
          const restored = (bucket.restored / max) * height;
          return (
            <g key={bucket.start}>
              <title>{`${new Date(bucket.start).toLocaleTimeString()}: ${bucket.revoked} revoked, ${bucket.restored} restored`}</title>
              <rect className="bar-revoked" x={i * slot + 1} y={height - revoked} width={slot - 2} height={revoked} />
              <rect className="bar-restored" x={i * slot + 1} y={height - revoked - restored} width={slot - 2} height={restored} />
            </g>
          );
        })}
        <line className="axis" x1={0} x2={width} y1={height + 1} y2={height + 1} />
      </svg>
      <figcaption>
        {summary} <span className="key key-revoked">Revoked</span> <span className="key key-restored">Restored</span>
      </figcaption>
    </figure>
  );
}
