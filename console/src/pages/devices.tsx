/**
 * The fleet, 25 a page: the graph filters (`devices(platform:, search:)`,
 * `devicesByCompliance(state:, platform:)`) and pages by cursor. A search
 * together with a compliance filter reads the search's matches (100 a page, at
 * most 20 pages) and narrows them by compliance here: the two filters live in
 * different subgraphs.
 */
import { useDeferredValue, useState } from "react";
import { useQuery } from "urql";
import { ComplianceDevicesQuery, DevicesPageQuery } from "../graph/operations";
import { PAGE_SIZE, useAllPages } from "../graph/pages";
import { Link } from "../router";
import { ComplianceBadge, Empty, ErrorNote, Loading, PLATFORMS, platformName, RiskBadge, Table, Options } from "../ui";
import type { ComplianceState, Platform } from "../gql/graphql";

const ROWS = 25;

export function Devices() {
  const [search, setSearch] = useState("");
  const term = useDeferredValue(search.trim());
  const [platform, setPlatform] = useState<Platform | "">("");
  const [compliance, setCompliance] = useState<ComplianceState | "">("");
  /** The cursor each page seen so far starts after; the last is the page shown (server paging). */
  const [starts, setStarts] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState(0);
  const both = term !== "" && compliance !== "";
  const common = { first: ROWS, after: starts.at(-1) ?? null, platform: platform || null };
  const searchVariables = { ...common, search: term || null };
  const stateVariables = { ...common, state: compliance || "COMPLIANT" };
  const [bySearch] = useQuery({ query: DevicesPageQuery, variables: searchVariables, pause: compliance !== "" && !both, requestPolicy: "cache-and-network" });
  const [byState] = useQuery({ query: ComplianceDevicesQuery, variables: stateVariables, pause: compliance === "" || both, requestPolicy: "cache-and-network" });
  const narrowed = useAllPages(DevicesPageQuery, { first: PAGE_SIZE, platform: platform || null, search: term }, (data) => data.devices, !both);

  const served = compliance === "" ? bySearch : byState;
  const connection = compliance === "" ? bySearch.data?.devices : byState.data?.devicesByCompliance;
  const matching = narrowed.nodes.filter((device) => device.complianceState === compliance);
  const count = both ? matching.length : (connection?.totalCount ?? 0);
  const all = (compliance !== "" && !both ? byState.data?.all : bySearch.data?.all)?.totalCount ?? 0;
  const pages = Math.max(1, Math.ceil(count / ROWS));
  const shown = both ? Math.min(page, pages - 1) : starts.length - 1;
  const rows = both ? matching.slice(shown * ROWS, (shown + 1) * ROWS) : (connection?.edges.map((edge) => edge.node) ?? []);
  // Until the page asked for arrives, not the previous one under the new page's number.
  const asked = compliance === "" ? searchVariables : stateVariables;
  const arrived = served.operation !== undefined && Object.entries(asked).every(([name, value]) => (served.operation!.variables as Record<string, unknown>)[name] === value);
  const loading = both ? narrowed.loading && narrowed.nodes.length === 0 : connection === undefined || (!arrived && served.error === undefined);
  const error = both ? narrowed.error : served.error;
  const hasNext = both ? shown < pages - 1 : connection?.pageInfo.hasNextPage === true;
  const next = () => (both ? setPage(shown + 1) : setStarts([...starts, connection?.pageInfo.endCursor ?? null]));
  const previous = () => (both ? setPage(shown - 1) : setStarts(starts.slice(0, -1)));
  const filter = (set: (value: string) => void) => (value: string) => {
    set(value);
    setStarts([null]);
    setPage(0);
  };

  return (
    <>
      <h1>Devices</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" value={search} onChange={(e) => filter(setSearch)(e.target.value)} placeholder="Name, id or user" />
        </label>
        <label>
          Platform
          <select value={platform} onChange={(e) => filter((v) => setPlatform(v as Platform | ""))(e.target.value)}>
            <option value="">All platforms</option>
            <Options values={PLATFORMS} name={platformName} />
          </select>
        </label>
        <label>
          Compliance
          <select value={compliance} onChange={(e) => filter((v) => setCompliance(v as ComplianceState | ""))(e.target.value)}>
            <option value="">Any compliance</option>
            <option value="COMPLIANT">Compliant</option>
            <option value="NONCOMPLIANT">Noncompliant</option>
            <option value="IN_GRACE_PERIOD">In grace period</option>
          </select>
        </label>
      </form>
      <ErrorNote error={error} />
      {loading ? (
        <Loading what="devices" />
      ) : (
        <>
          <p role="status" className="muted">
            {count} of {all} devices{both && narrowed.truncated ? ` (narrowing the first ${narrowed.nodes.length} matches by compliance)` : ""}
          </p>
          <Table caption="Devices" head={["Name", "Platform", "Risk level", "Compliance"]}>
            {rows.length === 0 && <Empty columns={4}>No device matches.</Empty>}
            {rows.map((device) => (
              <tr key={device.id}>
                <td>
                  <Link to={`/devices/${encodeURIComponent(device.id)}`}>{device.name}</Link>
                  <div className="muted small">{device.userPrincipalName ?? device.id}</div>
                </td>
                <td>{platformName(device.platform)}</td>
                <td>
                  <RiskBadge level={device.riskLevel} />
                </td>
                <td>
                  <ComplianceBadge state={device.complianceState} />
                </td>
              </tr>
            ))}
          </Table>
          <nav className="pager" aria-label="Device pages">
            <button type="button" disabled={shown === 0} onClick={previous}>
              Previous page
            </button>
            <span>
              Page {shown + 1} of {pages}
            </span>
            <button type="button" disabled={!hasNext} onClick={next}>
              Next page
            </button>
          </nav>
        </>
      )}
    </>
  );
}

