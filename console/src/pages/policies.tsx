/** Compliance per platform and the conditional-access policies; admins edit them, analysts read them. */
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { useConsole } from "../console-context";
import { graphql } from "../gql";
import type { ConditionalAccessMode, Platform, ThreatLevel } from "../gql/graphql";
import { Badge, Empty, ErrorNote, Loading, PLATFORMS, platformName, Table, THREAT_LEVELS, words, Options } from "../ui";
import { PlatformChoice } from "./platform-choice";

const PoliciesQuery = graphql(`
  query ConsolePolicies {
    compliancePolicies { id name platform maxThreatLevel gracePeriodMinutes }
    conditionalAccessPolicies { id name resources platforms enabled mode impact { wouldBlock } }
  }
`);

const SetCompliance = graphql(`
  mutation ConsoleSetCompliancePolicy($input: SetCompliancePolicyInput!) {
    setCompliancePolicy(input: $input) { id name platform maxThreatLevel gracePeriodMinutes }
  }
`);

const SetConditionalAccess = graphql(`
  mutation ConsoleSetConditionalAccessPolicy($input: SetConditionalAccessPolicyInput!) {
    setConditionalAccessPolicy(input: $input) { id name resources platforms enabled mode }
  }
`);

type AccessPolicy = { id: string; name: string; resources: string[]; platforms: Platform[]; enabled: boolean; mode: ConditionalAccessMode; impact: { wouldBlock: number } };
type CompliancePolicy = { name: string; maxThreatLevel: ThreatLevel; gracePeriodMinutes: number };

const MODES: ConditionalAccessMode[] = ["ENFORCED", "REPORT_ONLY"];
const modeName = (mode: string) => (mode === "REPORT_ONLY" ? "Report only" : "Enforced");

export function Policies() {
  const { editable } = useConsole();
  const [{ data, error, fetching }, refetch] = useQuery({ query: PoliciesQuery });
  const reload = () => refetch({ requestPolicy: "network-only" });
  const [editing, setEditing] = useState<AccessPolicy | "new" | undefined>();
  if (fetching && !data) return <Loading what="policies" />;
  const byPlatform = new Map(data?.compliancePolicies.map((policy) => [policy.platform, policy]));

  return (
    <>
      <h1>Policies</h1>
      <ErrorNote error={error} />
      <h2>Compliance per platform</h2>
      <p className="muted">A device is compliant while its risk level is at or under its platform's maximum. No policy: compliant. Over it, the device keeps its access for the grace period, then loses it.</p>
      <Table caption="Compliance policies" head={["Platform", "Policy", "Highest allowed risk", "Grace period (minutes)", ...(editable ? [""] : [])]}>
        {PLATFORMS.map((platform) => (
          <ComplianceRow key={platform} platform={platform} policy={byPlatform.get(platform)} editable={editable} onSaved={reload} />
        ))}
      </Table>

      <h2>Conditional access</h2>
      <Table caption="Conditional-access policies" head={["Name", "Resources", "Platforms", "Mode", "Would block now", "State", ...(editable ? [""] : [])]}>
        {data?.conditionalAccessPolicies.length === 0 && <Empty columns={editable ? 7 : 6}>No conditional-access policy yet.</Empty>}
        {data?.conditionalAccessPolicies.map((policy) => (
          <AccessPolicyRow key={policy.id} policy={policy} editable={editable} onEdit={() => setEditing(policy)} onSaved={reload} />
        ))}
      </Table>
      {editable && editing === undefined && (
        <button type="button" onClick={() => setEditing("new")}>
          New conditional-access policy
        </button>
      )}
      {editable && editing !== undefined && (
        <AccessPolicyForm
          key={editing === "new" ? "new" : editing.id}
          policy={editing === "new" ? undefined : editing}
          onDone={() => {
            setEditing(undefined);
            reload();
          }}
        />
      )}
    </>
  );
}

function ComplianceRow({ platform, policy, editable, onSaved }: { platform: Platform; policy?: CompliancePolicy; editable: boolean; onSaved(): void }) {
  const [level, setLevel] = useState<ThreatLevel>(policy?.maxThreatLevel ?? "LOW");
  const [name, setName] = useState(policy?.name ?? `${platformName(platform)} compliance`);
  const [grace, setGrace] = useState(String(policy?.gracePeriodMinutes ?? 0));
  const [result, save] = useMutation(SetCompliance);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await save({ input: { platform, name, maxThreatLevel: level, gracePeriodMinutes: Number(grace) } });
    if (!saved.error) onSaved();
  };
  const formId = `compliance-${platform}`;
  if (!editable)
    return (
      <tr>
        <th scope="row">{platformName(platform)}</th>
        <td>{policy?.name ?? <span className="muted">No policy</span>}</td>
        <td>{policy ? words(policy.maxThreatLevel) : <span className="muted">Any</span>}</td>
        <td>{policy ? policy.gracePeriodMinutes : "—"}</td>
      </tr>
    );
  return (
    <tr>
      <th scope="row">{platformName(platform)}</th>
      <td>
        <input form={formId} aria-label={`${platformName(platform)} policy name`} value={name} onChange={(e) => setName(e.target.value)} required />
      </td>
      <td>
        <select form={formId} aria-label={`${platformName(platform)} highest allowed risk`} value={level} onChange={(e) => setLevel(e.target.value as ThreatLevel)}>
          <Options values={THREAT_LEVELS} name={words} />
        </select>
      </td>
      <td>
        <input form={formId} type="number" min={0} max={43200} aria-label={`${platformName(platform)} grace period in minutes`} value={grace} onChange={(e) => setGrace(e.target.value)} />
      </td>
      <td>
        <form id={formId} onSubmit={submit}>
          <button type="submit" disabled={result.fetching} aria-label={`Save ${platformName(platform)} compliance policy`}>
            Save
          </button>
        </form>
        <ErrorNote error={result.error} />
        {result.data && !result.fetching && <span role="status" className="muted small">Saved</span>}
      </td>
    </tr>
  );
}

function AccessPolicyRow({ policy, editable, onEdit, onSaved }: { policy: AccessPolicy; editable: boolean; onEdit(): void; onSaved(): void }) {
  const [result, save] = useMutation(SetConditionalAccess);
  const toggle = async () => {
    const { id, name, resources, platforms, enabled, mode } = policy;
    const saved = await save({ input: { id, name, resources, platforms, mode, enabled: !enabled } });
    if (!saved.error) onSaved();
  };
  return (
    <tr>
      <td>{policy.name}</td>
      <td>{policy.resources.join(", ")}</td>
      <td>{policy.platforms.map(platformName).join(", ")}</td>
      <td>{modeName(policy.mode)}</td>
      <td>{policy.impact.wouldBlock}</td>
      <td>
        <Badge tone={policy.enabled ? "good" : "none"}>{policy.enabled ? "Enabled" : "Disabled"}</Badge>
      </td>
      {editable && (
        <td className="actions">
          <button type="button" onClick={onEdit} aria-label={`Edit ${policy.name}`}>
            Edit
          </button>
          <button type="button" onClick={toggle} disabled={result.fetching} aria-label={`${policy.enabled ? "Disable" : "Enable"} ${policy.name}`}>
            {policy.enabled ? "Disable" : "Enable"}
          </button>
          <ErrorNote error={result.error} />
        </td>
      )}
    </tr>
  );
}

function AccessPolicyForm({ policy, onDone }: { policy?: AccessPolicy; onDone(): void }) {
  const [name, setName] = useState(policy?.name ?? "");
  const [resources, setResources] = useState(policy?.resources.join(", ") ?? "");
  const [platforms, setPlatforms] = useState<Platform[]>(policy?.platforms ?? []);
  const [enabled, setEnabled] = useState(policy?.enabled ?? true);
  const [mode, setMode] = useState<ConditionalAccessMode>(policy?.mode ?? "ENFORCED");
  const [result, save] = useMutation(SetConditionalAccess);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const list = resources.split(",").map((r) => r.trim()).filter((r) => r !== "");
    const saved = await save({ input: { id: policy?.id, name, resources: list, platforms, enabled, mode } });
    if (!saved.error) onDone();
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="policy-form-title">
      <h3 id="policy-form-title">{policy ? `Edit ${policy.name}` : "New conditional-access policy"}</h3>
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Resources (comma-separated)
        <input value={resources} onChange={(e) => setResources(e.target.value)} placeholder="exchange, sharepoint" />
      </label>
      <PlatformChoice legend="Platforms" value={platforms} onChange={setPlatforms} />
      <label>
        Mode
        <select value={mode} onChange={(e) => setMode(e.target.value as ConditionalAccessMode)}>
          <Options values={MODES} name={modeName} />
        </select>
      </label>
      <label className="check">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        Enabled
      </label>
      <ErrorNote error={result.error} />
      <div className="actions">
        <button type="submit" disabled={result.fetching}>
          {policy ? "Save policy" : "Create policy"}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
