/** A device's access exceptions: allowed on some resources whatever its compliance, until they expire. Admins grant and revoke them. */
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { useConsole } from "../console-context";
import { graphql } from "../gql";
import { Empty, ErrorNote, Table, Time } from "../ui";

const GrantException = graphql(`
  mutation ConsoleGrantAccessException($input: GrantAccessExceptionInput!) {
    grantAccessException(input: $input) { id }
  }
`);

const RevokeException = graphql(`
  mutation ConsoleRevokeAccessException($id: ID!) {
    revokeAccessException(id: $id) { id }
  }
`);

interface AccessException {
  id: string;
  resources: string[];
  reason: string;
  expiresAt: string;
  grantedBy: string;
}

export function AccessExceptions({ deviceId, exceptions, onChanged }: { deviceId: string; exceptions: readonly AccessException[]; onChanged(): void }) {
  const { editable } = useConsole();
  const [revoked, revoke] = useMutation(RevokeException);
  return (
    <>
      <h2>Access exceptions</h2>
      <Table caption="Access exceptions" head={["Resources", "Reason", "Expires", "Granted by", ...(editable ? [""] : [])]}>
        {exceptions.length === 0 && <Empty columns={editable ? 5 : 4}>No exception.</Empty>}
        {exceptions.map((exception) => (
          <tr key={exception.id}>
            <td>{exception.resources.join(", ")}</td>
            <td>{exception.reason}</td>
            <td><Time at={exception.expiresAt} /></td>
            <td>{exception.grantedBy}</td>
            {editable && (
              <td>
                <button type="button" className="secondary" disabled={revoked.fetching} onClick={async () => !(await revoke({ id: exception.id })).error && onChanged()}>
                  Revoke exception
                </button>
              </td>
            )}
          </tr>
        ))}
      </Table>
      <ErrorNote error={revoked.error} />
      {editable && <GrantForm deviceId={deviceId} onGranted={onChanged} />}
    </>
  );
}

function GrantForm({ deviceId, onGranted }: { deviceId: string; onGranted(): void }) {
  const [resources, setResources] = useState("");
  const [reason, setReason] = useState("");
  const [hours, setHours] = useState("24");
  const [result, grant] = useMutation(GrantException);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const list = resources.split(",").map((r) => r.trim()).filter((r) => r !== "");
    const expiresAt = new Date(Date.now() + Number(hours) * 3_600_000).toISOString();
    const granted = await grant({ input: { deviceId, resources: list, reason, expiresAt } });
    if (granted.error) return;
    setResources("");
    setReason("");
    onGranted();
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="grant-title">
      <h3 id="grant-title">Grant an exception</h3>
      <label>
        Exception resources (comma-separated)
        <input value={resources} onChange={(e) => setResources(e.target.value)} placeholder="exchange" />
      </label>
      <label>
        Reason
        <input value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
      <label>
        Expires in (hours)
        <input type="number" min={1} max={720} value={hours} onChange={(e) => setHours(e.target.value)} />
      </label>
      <ErrorNote error={result.error} />
      <button type="submit" disabled={result.fetching}>
        Grant exception
      </button>
    </form>
  );
}
