/**
 * The fleet: the platform filter goes to the graph (`devices(platform:)`);
 * name search and the compliance filter narrow what was read (the graph has
 * neither filter), and pages of 25 are cut from that.
 */
import { useMemo, useState } from "react";
import { FleetQuery } from "../graph/operations";
import { PAGE_SIZE, useAllPages } from "../graph/pages";
import { Link } from "../router";
import { ComplianceBadge, Empty, ErrorNote, Loading, PLATFORMS, platformName, RiskBadge, Table, Options } from "../ui";
import type { Platform } from "../gql/graphql";

const ROWS = 25;

export function Devices() {
  const [search, setSearch] = useState("");
  const [platform, setPlatform] = useState<Platform | "">("");
  const [compliance, setCompliance] = useState("");
  const [page, setPage] = useState(0);
  const fleet = useAllPages(FleetQuery, { first: PAGE_SIZE, platform: platform || null }, (data) => data.devices);
  const matching = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return fleet.nodes.filter(
      (device) =>
        (compliance === "" || device.complianceState === compliance) &&
        (needle === "" || [device.name, device.id, device.userPrincipalName ?? ""].some((text) => text.toLowerCase().includes(needle))),
    );
  }, [fleet.nodes, search, compliance]);
  const pages = Math.max(1, Math.ceil(matching.length / ROWS));
  const shown = Math.min(page, pages - 1);
  const rows = matching.slice(shown * ROWS, (shown + 1) * ROWS);
  const filter = (set: (value: string) => void) => (value: string) => {
    set(value);
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
          <select value={compliance} onChange={(e) => filter(setCompliance)(e.target.value)}>
            <option value="">Any compliance</option>
            <option value="COMPLIANT">Compliant</option>
            <option value="NONCOMPLIANT">Noncompliant</option>
            <option value="IN_GRACE_PERIOD">In grace period</option>
          </select>
        </label>
      </form>
      <ErrorNote error={fleet.error} />
      {fleet.loading && fleet.nodes.length === 0 ? (
        <Loading what="devices" />
      ) : (
        <>
          <p role="status" className="muted">
            {matching.length} of {fleet.totalCount} devices{fleet.truncated ? ` (searching the first ${fleet.nodes.length})` : ""}
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
            <button type="button" disabled={shown === 0} onClick={() => setPage(shown - 1)}>
              Previous page
            </button>
            <span>
              Page {shown + 1} of {pages}
            </span>
            <button type="button" disabled={shown >= pages - 1} onClick={() => setPage(shown + 1)}>
              Next page
            </button>
          </nav>
        </>
      )}
    </>
  );
}

