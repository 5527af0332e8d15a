import { useMemo } from "react";
import { useQuery } from "urql";
import { ChangesChart } from "../chart";
import { bucketChanges } from "../fleet";
import { AccessHistoryQuery, FleetCountsQuery } from "../graph/operations";
import { PAGE_SIZE, useAllPages } from "../graph/pages";
import { Link } from "../router";
import { ErrorNote, Loading, riskName, words } from "../ui";

/** Counts by risk and compliance as the graph counts them (exact at any fleet size), and the access history's chart. */
export function Overview() {
  const [counts] = useQuery({ query: FleetCountsQuery, requestPolicy: "network-only" });
  const history = useAllPages(AccessHistoryQuery, { first: PAGE_SIZE }, (data) => data.accessChanges);
  const buckets = useMemo(() => bucketChanges(history.nodes, Date.now()), [history.nodes]);

  return (
    <>
      <h1>Overview</h1>
      <ErrorNote error={counts.error ?? history.error} />
      {!counts.data ? (
        counts.fetching && <Loading what="devices" />
      ) : (
        <div className="cards">
          <section className="card" aria-labelledby="by-risk">
            <h2 id="by-risk">Devices by risk</h2>
            <dl className="counts">
              {counts.data.deviceCountsByRisk.map(({ level, count }) => (
                <div key={level ?? "none"}>
                  <dt>{riskName(level)}</dt>
                  <dd>{count}</dd>
                </div>
              ))}
            </dl>
          </section>
          <section className="card" aria-labelledby="by-compliance">
            <h2 id="by-compliance">Devices by compliance</h2>
            <dl className="counts">
              {counts.data.deviceCountsByCompliance.map(({ state, count }) => (
                <div key={state}>
                  <dt>{words(state)}</dt>
                  <dd>{count}</dd>
                </div>
              ))}
            </dl>
            <p className="muted">
              {counts.data.devices.totalCount} devices. <Link to="/devices">See all devices</Link>
            </p>
          </section>
        </div>
      )}
      <section aria-labelledby="changes-over-time">
        <h2 id="changes-over-time">Access changes over time</h2>
        {history.loading ? <Loading what="access changes" /> : <ChangesChart buckets={buckets} />}
      </section>
    </>
  );
}
