/** One device: what the graph knows of it, why it may or may not reach each resource, its apps and its access history. */
import { useQuery } from "urql";
import { graphql } from "../gql";
import { AccessHistoryQuery } from "../graph/operations";
import { PAGE_SIZE, useAllPages } from "../graph/pages";
import { Link } from "../router";
import { Badge, ComplianceBadge, Empty, ErrorNote, Loading, platformName, RiskBadge, Table, Time, words } from "../ui";
import { ChangeRows } from "./access-changes";
import { AccessExceptions } from "./device-exceptions";

const DeviceQuery = graphql(`
  query ConsoleDevice($id: ID!) {
    device(id: $id) {
      id
      name
      platform
      osVersion
      ownership
      userPrincipalName
      enrolledAt
      retiredAt
      riskLevel
      complianceState
      complianceDeadline
      accessExceptions { id resources reason expiresAt grantedBy }
      threats { id title category severity status detectedAt resolvedAt partner }
      access { resource allowed reason decidedAt }
      apps(first: 100) {
        totalCount
        edges { node { appId name version shortVersion managed validated } }
      }
    }
  }
`);

export function DevicePage({ id }: { id: string }) {
  const [{ data, error, fetching }, refetch] = useQuery({ query: DeviceQuery, variables: { id } });
  const history = useAllPages(AccessHistoryQuery, { first: PAGE_SIZE }, (d) => d.accessChanges);
  const device = data?.device;
  const changes = history.nodes.filter((change) => change.device.id === id).reverse();

  if (fetching && !data) return <Loading what="the device" />;
  if (!device)
    return (
      <>
        <h1>Device</h1>
        <ErrorNote error={error ?? `No device ${id} in this tenant.`} />
        <Link to="/devices">Back to devices</Link>
      </>
    );
  return (
    <>
      <p>
        <Link to="/devices">← Devices</Link>
      </p>
      <h1>{device.name}</h1>
      <ErrorNote error={error} />
      <dl className="facts">
        <div><dt>Id</dt><dd>{device.id}</dd></div>
        <div><dt>Platform</dt><dd>{platformName(device.platform)} {device.osVersion}</dd></div>
        <div><dt>Ownership</dt><dd>{words(device.ownership)}</dd></div>
        <div><dt>User</dt><dd>{device.userPrincipalName ?? "—"}</dd></div>
        <div><dt>Enrolled</dt><dd><Time at={device.enrolledAt} /></dd></div>
        {device.retiredAt && <div><dt>Retired</dt><dd><Time at={device.retiredAt} /></dd></div>}
        <div><dt>Risk level</dt><dd><RiskBadge level={device.riskLevel} /></dd></div>
        <div><dt>Compliance</dt><dd><ComplianceBadge state={device.complianceState} /></dd></div>
        {device.complianceDeadline && <div><dt>Loses access at</dt><dd><Time at={device.complianceDeadline} /></dd></div>}
      </dl>

      <h2>Threats</h2>
      <Table caption="Threats" head={["Title", "Category", "Severity", "Status", "Detected", "Partner"]}>
        {device.threats.length === 0 && <Empty columns={6}>No threats reported.</Empty>}
        {device.threats.map((threat) => (
          <tr key={threat.id}>
            <td>{threat.title}</td>
            <td>{words(threat.category)}</td>
            <td><RiskBadge level={threat.severity} /></td>
            <td>{words(threat.status)}{threat.resolvedAt && <> (<Time at={threat.resolvedAt} />)</>}</td>
            <td><Time at={threat.detectedAt} /></td>
            <td>{words(threat.partner)}</td>
          </tr>
        ))}
      </Table>

      <h2>Access decisions</h2>
      <Table caption="Access decisions" head={["Resource", "Access", "Reason", "Decided"]}>
        {device.access.length === 0 && <Empty columns={4}>No conditional-access policy covers this device.</Empty>}
        {device.access.map((decision) => (
          <tr key={decision.resource}>
            <td>{decision.resource}</td>
            <td><Badge tone={decision.allowed ? "good" : "bad"}>{decision.allowed ? "Allowed" : "Blocked"}</Badge></td>
            <td>{decision.reason}</td>
            <td><Time at={decision.decidedAt} /></td>
          </tr>
        ))}
      </Table>

      <AccessExceptions deviceId={device.id} exceptions={device.accessExceptions} onChanged={() => refetch({ requestPolicy: "network-only" })} />

      <h2>App inventory</h2>
      <p className="muted">{device.apps.totalCount} apps{device.apps.totalCount > device.apps.edges.length ? ` (first ${device.apps.edges.length} shown)` : ""}</p>
      <Table caption="App inventory" head={["App", "Version", "Managed", "Validated"]}>
        {device.apps.edges.length === 0 && <Empty columns={4}>No inventory reported.</Empty>}
        {device.apps.edges.map(({ node: app }) => (
          <tr key={app.appId}>
            <td>{app.name}<div className="muted small">{app.appId}</div></td>
            <td>{app.version}{app.shortVersion && ` (${app.shortVersion})`}</td>
            <td>{app.managed ? "Yes" : "No"}</td>
            <td>{app.validated ? "Yes" : "No"}</td>
          </tr>
        ))}
      </Table>

      <h2>Access history</h2>
      <ErrorNote error={history.error} />
      {history.loading ? <Loading what="access history" /> : <ChangeRows caption="Access history" changes={changes} />}
    </>
  );
}
