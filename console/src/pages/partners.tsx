/** The tenant's MTD partner connectors (one partner per platform): state, platforms, fail-closed platforms, heartbeat; admins enable, update or disable them. */
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { useConsole } from "../console-context";
import { graphql } from "../gql";
import type { MtdPartner, Platform } from "../gql/graphql";
import { Badge, ErrorNote, Loading, platformName, Time, words, Options } from "../ui";
import { PlatformChoice } from "./platform-choice";

const ConnectorsQuery = graphql(`
  query ConsoleConnectors {
    mtdConnectors { partner state enabledPlatforms blockOnMissingPartnerData unresponsiveAfterMinutes lastHeartbeatAt }
  }
`);

const EnableConnector = graphql(`
  mutation ConsoleEnableConnector($input: EnableMtdConnectorInput!) {
    enableMtdConnector(input: $input) { partner state enabledPlatforms blockOnMissingPartnerData unresponsiveAfterMinutes lastHeartbeatAt }
  }
`);

const DisableConnector = graphql(`
  mutation ConsoleDisableConnector($partner: MtdPartner) {
    disableMtdConnector(partner: $partner) { partner state }
  }
`);

const PARTNERS: MtdPartner[] = ["LOOKOUT", "SYMANTEC_ENDPOINT_PROTECTION_MOBILE", "CHECK_POINT_SANDBLAST_MOBILE", "ZIMPERIUM", "PRADEO", "BETTER_MOBILE", "SOPHOS_MOBILE", "WANDERA", "MICROSOFT_DEFENDER"];

export function Partners() {
  const { editable } = useConsole();
  const [{ data, error, fetching }, refetch] = useQuery({ query: ConnectorsQuery });
  const reload = () => refetch({ requestPolicy: "network-only" });
  if (fetching && !data) return <Loading what="partner connectors" />;
  const connectors = data?.mtdConnectors ?? [];

  return (
    <>
      <h1>Partners</h1>
      <ErrorNote error={error} />
      {connectors.length === 0 && <p className="muted">No partner reports threats for this tenant yet.</p>}
      <div className="cards">
        {connectors.map((connector) => (
          <ConnectorCard key={connector.partner} connector={connector} editable={editable} onChanged={reload} />
        ))}
      </div>
      {editable && <ConnectorForm connectors={connectors} onSaved={reload} />}
    </>
  );
}

function ConnectorCard({ connector, editable, onChanged }: { connector: Connector & { state: string; lastHeartbeatAt?: string | null }; editable: boolean; onChanged(): void }) {
  const [result, disable] = useMutation(DisableConnector);
  const name = words(connector.partner);
  return (
    <section className="card" aria-label={name}>
      <h2>{name}</h2>
      <dl className="facts">
        <div><dt>State</dt><dd><Badge tone={connector.state === "ENABLED" ? "good" : connector.state === "UNRESPONSIVE" ? "bad" : "none"}>{words(connector.state)}</Badge></dd></div>
        <div><dt>Platforms</dt><dd>{connector.enabledPlatforms.map(platformName).join(", ") || "none"}</dd></div>
        <div><dt>Blocks on missing data</dt><dd>{connector.blockOnMissingPartnerData.map(platformName).join(", ") || "none"}</dd></div>
        <div><dt>Unresponsive after</dt><dd>{connector.unresponsiveAfterMinutes} minutes without a heartbeat</dd></div>
        <div><dt>Last heartbeat</dt><dd><Time at={connector.lastHeartbeatAt} /></dd></div>
      </dl>
      {editable && connector.state !== "DISABLED" && (
        <button type="button" className="danger" disabled={result.fetching} onClick={async () => !(await disable({ partner: connector.partner })).error && onChanged()}>
          Disable {name}
        </button>
      )}
      <ErrorNote error={result.error} />
    </section>
  );
}

interface Connector {
  partner: MtdPartner;
  enabledPlatforms: Platform[];
  blockOnMissingPartnerData: Platform[];
  unresponsiveAfterMinutes: number;
}

function ConnectorForm({ connectors, onSaved }: { connectors: readonly Connector[]; onSaved(): void }) {
  const [partner, setPartner] = useState<MtdPartner>(connectors[0]?.partner ?? "LOOKOUT");
  const current = connectors.find((c) => c.partner === partner);
  return <ConnectorSettings key={`${partner} ${JSON.stringify(current)}`} partner={partner} onPartner={setPartner} current={current} onSaved={onSaved} />;
}

function ConnectorSettings({ partner, onPartner, current, onSaved }: { partner: MtdPartner; onPartner(partner: MtdPartner): void; current?: Connector; onSaved(): void }) {
  const [platforms, setPlatforms] = useState<Platform[]>(current?.enabledPlatforms ?? []);
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
      <h2 id="enable-title">Enable or update a connector</h2>
      <label>
        Partner
        <select value={partner} onChange={(e) => onPartner(e.target.value as MtdPartner)}>
          <Options values={PARTNERS} name={words} />
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
