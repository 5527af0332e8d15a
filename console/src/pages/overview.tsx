import { useMemo } from "react";
import { ChangesChart } from "../chart";
import { bucketChanges, countBy } from "../fleet";
import { AccessHistoryQuery, FleetQuery } from "../graph/operations";
import { PAGE_SIZE, useAllPages } from "../graph/pages";
import { Link } from "../router";
import { ErrorNote, Loading, riskName, THREAT_LEVELS, words } from "../ui";

const RISKS = [...THREAT_LEVELS, null];
const COMPLIANCE = ["COMPLIANT", "IN_GRACE_PERIOD", "NONCOMPLIANT"];

export function Overview() {
  const fleet = useAllPages(FleetQuery, { first: PAGE_SIZE }, (data) => data.devices);
  const history = useAllPages(AccessHistoryQuery, { first: PAGE_SIZE }, (data) => data.accessChanges);
  const risks = useMemo(() => countBy(fleet.nodes, (d) => d.riskLevel, RISKS), [fleet.nodes]);
  const compliance = useMemo(() => countBy(fleet.nodes, (d) => d.complianceState, COMPLIANCE), [fleet.nodes]);
  const buckets = useMemo(() => bucketChanges(history.nodes, Date.now()), [history.nodes]);

  return (
    <>
      <h1>Overview</h1>
      <ErrorNote error={fleet.error ?? history.error} />
      {fleet.loading ? (
        <Loading what="devices" />
      ) : (
        <div className="cards">
          <section className="card" aria-labelledby="by-risk">
            <h2 id="by-risk">Devices by risk</h2>
            <dl className="counts">
              {[...risks].map(([level, count]) => (
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
              {[...compliance].map(([state, count]) => (
                <div key={state}>
                  <dt>{words(state ?? "")}</dt>
                  <dd>{count}</dd>
                </div>
              ))}
            </dl>
            <p className="muted">
              {fleet.totalCount} devices{fleet.truncated ? ` (the first ${fleet.nodes.length} counted)` : ""}. <Link to="/devices">See all devices</Link>
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
