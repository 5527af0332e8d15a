/** The tenant's MTD partner connector: state, platforms, fail-closed platforms, heartbeat; admins enable or disable it. */
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { useConsole } from "../app";
import { graphql } from "../gql";
import type { MtdPartner, Platform } from "../gql/graphql";
import { Badge, ErrorNote, Loading, platformName, Time, words } from "../ui";
import { PlatformChoice } from "./platform-choice";

const ConnectorQuery = graphql(`
  query ConsoleConnector {
    mtdConnector { partner state enabledPlatforms blockOnMissingPartnerData unresponsiveAfterMinutes lastHeartbeatAt }
  }
`);

const EnableConnector = graphql(`
  mutation ConsoleEnableConnector($input: EnableMtdConnectorInput!) {
    enableMtdConnector(input: $input) { partner state enabledPlatforms blockOnMissingPartnerData unresponsiveAfterMinutes lastHeartbeatAt }
  }
`);

const DisableConnector = graphql(`
  mutation ConsoleDisableConnector {
    disableMtdConnector { partner state enabledPlatforms blockOnMissingPartnerData unresponsiveAfterMinutes lastHeartbeatAt }
  }
`);

const PARTNERS: MtdPartner[] = ["LOOKOUT", "SYMANTEC_ENDPOINT_PROTECTION_MOBILE", "CHECK_POINT_SANDBLAST_MOBILE", "ZIMPERIUM", "PRADEO", "BETTER_MOBILE", "SOPHOS_MOBILE", "WANDERA", "MICROSOFT_DEFENDER"];

export function Partners() {
  const { editable } = useConsole();
  const [{ data, error, fetching }, refetch] = useQuery({ query: ConnectorQuery });
  const [disabled, disable] = useMutation(DisableConnector);
  const reload = () => refetch({ requestPolicy: "network-only" });
  if (fetching && !data) return <Loading what="the partner connector" />;
  const connector = data?.mtdConnector;
  const active = connector != null && connector.state !== "DISABLED";

  return (
    <>
      <h1>Partners</h1>
      <ErrorNote error={error} />
      <section className="card" aria-labelledby="connector">
        <h2 id="connector">{connector ? words(connector.partner) : "No partner connector"}</h2>
        {connector ? (
          <dl className="facts">
            <div><dt>State</dt><dd><Badge tone={connector.state === "ENABLED" ? "good" : connector.state === "UNRESPONSIVE" ? "bad" : "none"}>{words(connector.state)}</Badge></dd></div>
            <div><dt>Platforms</dt><dd>{connector.enabledPlatforms.map(platformName).join(", ") || "none"}</dd></div>
            <div><dt>Blocks on missing data</dt><dd>{connector.blockOnMissingPartnerData.map(platformName).join(", ") || "none"}</dd></div>
            <div><dt>Unresponsive after</dt><dd>{connector.unresponsiveAfterMinutes} minutes without a heartbeat</dd></div>
            <div><dt>Last heartbeat</dt><dd><Time at={connector.lastHeartbeatAt} /></dd></div>
          </dl>
        ) : (
          <p className="muted">No partner reports threats for this tenant yet.</p>
        )}
        {editable && active && (
          <button type="button" className="danger" disabled={disabled.fetching} onClick={async () => !(await disable({})).error && reload()}>
            Disable connector
          </button>
        )}
        <ErrorNote error={disabled.error} />
      </section>
      {editable && <ConnectorForm key={JSON.stringify(connector)} current={connector ?? undefined} onSaved={reload} />}
    </>
  );
}

interface Connector {
  partner: MtdPartner;
  enabledPlatforms: Platform[];
  blockOnMissingPartnerData: Platform[];
  unresponsiveAfterMinutes: number;
}

function ConnectorForm({ current, onSaved }: { current?: Connector; onSaved(): void }) {
  const [partner, setPartner] = useState<MtdPartner>(current?.partner ?? "LOOKOUT");
  const [platforms, setPlatforms] = useState<Platform[]>(current?.enabledPlatforms ?? ["IOS", "ANDROID"]);
  const [blocking, setBlocking] = useState<Platform[]>(current?.blockOnMissingPartnerData ?? []);
  const [minutes, setMinutes] = useState(String(current?.unresponsiveAfterMinutes ?? 1440));
  const [result, enable] = useMutation(EnableConnector);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await enable({ input: { partner, enabledPlatforms: platforms, blockOnMissingPartnerData: blocking, unresponsiveAfterMinutes: Number(minutes) } });
    if (!saved.error) onSaved();
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="enable-title">
      <h2 id="enable-title">Enable a connector</h2>
      <label>
        Partner
        <select value={partner} onChange={(e) => setPartner(e.target.value as MtdPartner)}>
          {PARTNERS.map((p) => (
            <option key={p} value={p}>
              {words(p)}
            </option>
          ))}
        </select>
      </label>
      <PlatformChoice legend="Platforms whose partner data counts" value={platforms} onChange={setPlatforms} />
      <PlatformChoice legend="Block compliance when partner data is missing" value={blocking} onChange={setBlocking} />
      <label>
        Unresponsive after (minutes)
        <input type="number" min={1} max={10080} value={minutes} onChange={(e) => setMinutes(e.target.value)} />
      </label>
      <ErrorNote error={result.error} />
      <button type="submit" disabled={result.fetching}>
        Enable connector
      </button>
    </form>
  );
}
