/** App inventory: what is shared with the partner (admins switch it), app search with version filters, version counts per app. */
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { useConsole } from "../console-context";
import { graphql } from "../gql";
import type { AppFilter } from "../gql/graphql";
import { Empty, ErrorNote, Loading, Table, Time } from "../ui";
import { Link } from "../router";

const SettingsQuery = graphql(`
  query ConsoleInventorySettings {
    appInventorySettings { iosAppSyncEnabled includePersonalDevices }
  }
`);

const SetSettings = graphql(`
  mutation ConsoleSetInventorySettings($input: SetAppInventorySettingsInput!) {
    setAppInventorySettings(input: $input) { iosAppSyncEnabled includePersonalDevices }
  }
`);

const AppsQuery = graphql(`
  query ConsoleApps($filter: AppFilter, $first: Int!) {
    apps(filter: $filter, first: $first) {
      totalCount
      edges { node { appId name version managed validated reportedAt device { id name } } }
    }
  }
`);

const VersionCountsQuery = graphql(`
  query ConsoleAppVersionCounts($appId: String!) {
    appVersionCounts(appId: $appId) { version devices }
  }
`);

export function Inventory() {
  const [filter, setFilter] = useState<AppFilter>({});
  const [counting, setCounting] = useState<string | undefined>();
  return (
    <>
      <h1>Inventory</h1>
      <Sharing />
      <h2>Apps</h2>
      <AppSearch onSearch={setFilter} />
      <AppResults filter={filter} onCount={setCounting} />
      {counting !== undefined && <VersionCounts appId={counting} />}
    </>
  );
}

function Sharing() {
  const { editable } = useConsole();
  const [{ data, error }] = useQuery({ query: SettingsQuery });
  const [result, save] = useMutation(SetSettings);
  // Shown at once when switched; back to the graph's answer if it refuses.
  const [draft, setDraft] = useState<{ iosAppSyncEnabled: boolean; includePersonalDevices: boolean }>();
  const settings = draft ?? result.data?.setAppInventorySettings ?? data?.appInventorySettings;
  if (!settings) return error ? <ErrorNote error={error} /> : <Loading what="sharing settings" />;
  const set = async (change: Partial<typeof settings>) => {
    const next = { iosAppSyncEnabled: settings.iosAppSyncEnabled, includePersonalDevices: settings.includePersonalDevices, ...change };
    setDraft(next);
    await save({ input: next });
    setDraft(undefined);
  };
  return (
    <section className="card" aria-labelledby="sharing">
      <h2 id="sharing">Sharing with the partner</h2>
      {editable ? (
        <fieldset className="choice" disabled={result.fetching}>
          <legend>What the MTD partner may read</legend>
          <label className="check">
            <input type="checkbox" checked={settings.iosAppSyncEnabled} onChange={(e) => void set({ iosAppSyncEnabled: e.target.checked })} />
            iOS app sync
          </label>
          <label className="check">
            <input type="checkbox" checked={settings.includePersonalDevices} onChange={(e) => void set({ includePersonalDevices: e.target.checked })} />
            Include personal devices
          </label>
        </fieldset>
      ) : (
        <dl className="facts">
          <div><dt>iOS app sync</dt><dd>{settings.iosAppSyncEnabled ? "On" : "Off"}</dd></div>
          <div><dt>Include personal devices</dt><dd>{settings.includePersonalDevices ? "On" : "Off"}</dd></div>
        </dl>
      )}
      <ErrorNote error={result.error ?? error} />
    </section>
  );
}

function AppSearch({ onSearch }: { onSearch(filter: AppFilter): void }) {
  const [fields, setFields] = useState({ nameContains: "", appId: "", version: "", versionBelow: "" });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSearch(Object.fromEntries(Object.entries(fields).filter(([, value]) => value.trim() !== "")));
  };
  const field = (key: keyof typeof fields, label: string) => (
    <label>
      {label}
      <input value={fields[key]} onChange={(e) => setFields({ ...fields, [key]: e.target.value })} />
    </label>
  );
  return (
    <form className="filters" role="search" aria-label="Apps" onSubmit={submit}>
      {field("nameContains", "App name contains")}
      {field("appId", "App id")}
      {field("version", "Version")}
      {field("versionBelow", "Version below")}
      <button type="submit">Search apps</button>
    </form>
  );
}

function AppResults({ filter, onCount }: { filter: AppFilter; onCount(appId: string): void }) {
  const [{ data, error, fetching }] = useQuery({ query: AppsQuery, variables: { filter, first: 50 } });
  if (fetching && !data) return <Loading what="apps" />;
  const apps = data?.apps;
  return (
    <>
      <ErrorNote error={error} />
      {apps && (
        <>
          <p role="status" className="muted">{apps.totalCount} installations{apps.totalCount > apps.edges.length ? ` (first ${apps.edges.length} shown)` : ""}</p>
          <Table caption="Installed apps" head={["App", "Version", "Device", "Managed", "Reported", ""]}>
            {apps.edges.length === 0 && <Empty columns={6}>No app matches.</Empty>}
            {apps.edges.map(({ node: app }) => (
              <tr key={`${app.device.id} ${app.appId}`}>
                <td>{app.name}<div className="muted small">{app.appId}</div></td>
                <td>{app.version}</td>
                <td><Link to={`/devices/${encodeURIComponent(app.device.id)}`}>{app.device.name}</Link></td>
                <td>{app.managed ? "Yes" : "No"}</td>
                <td><Time at={app.reportedAt} /></td>
                <td>
                  <button type="button" className="secondary" onClick={() => onCount(app.appId)} aria-label={`Versions of ${app.name}`}>
                    Versions
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        </>
      )}
    </>
  );
}

function VersionCounts({ appId }: { appId: string }) {
  const [{ data, error, fetching }] = useQuery({ query: VersionCountsQuery, variables: { appId } });
  return (
    <section aria-labelledby="versions">
      <h2 id="versions">Versions of {appId}</h2>
      <ErrorNote error={error} />
      {fetching && !data ? (
        <Loading what="version counts" />
      ) : (
        <Table caption={`Devices per version of ${appId}`} head={["Version", "Devices"]}>
          {data?.appVersionCounts.map((count) => (
            <tr key={count.version}>
              <td>{count.version || <span className="muted">(empty)</span>}</td>
              <td>{count.devices}</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
