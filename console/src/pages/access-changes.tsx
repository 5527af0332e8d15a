/**
 * Every revocation and restoration, newest first: the stored ones (read page
 * by page), then live over `accessChanged(after:)` from the last stored
 * cursor, so nothing falls between the two. On a reconnect the client resumes
 * after the last change it showed (graph/client.ts), so none is shown twice.
 */
import { useMemo } from "react";
import { useSubscription } from "urql";
import { useConsole } from "../console-context";
import { graphql } from "../gql";
import type { AccessChangeRowFragment } from "../gql/graphql";
import type { ResumableContext } from "../graph/client";
import { AccessHistoryQuery } from "../graph/operations";
import { PAGE_SIZE, useAllPages } from "../graph/pages";
import { Link } from "../router";
import { Badge, Empty, ErrorNote, Loading, Table, Time } from "../ui";

const AccessChangedSubscription = graphql(`
  subscription ConsoleAccessChanged($after: String) {
    accessChanged(after: $after) { ...AccessChangeRow }
  }
`);

const SHOWN = 500;
const resumable: ResumableContext = { resumeCursor: (data) => (data as { accessChanged?: { cursor: string } } | undefined)?.accessChanged?.cursor };

export function AccessChanges() {
  const { connection } = useConsole();
  const history = useAllPages(AccessHistoryQuery, { first: PAGE_SIZE }, (data) => data.accessChanges);
  const [live] = useSubscription(
    { query: AccessChangedSubscription, variables: { after: history.endCursor }, pause: history.loading, context: useMemo(() => resumable, []) },
    (previous: AccessChangeRowFragment[] = [], data) => [data.accessChanged, ...previous].slice(0, SHOWN),
  );
  const changes = useMemo(() => [...(live.data ?? []), ...history.nodes.slice(-SHOWN).reverse()].slice(0, SHOWN), [live.data, history.nodes]);

  return (
    <>
      <h1>Access changes</h1>
      <p role="status" className={`live live-${connection}`}>
        {connection === "live" ? "Live" : connection === "connecting" ? "Connecting…" : "Reconnecting…"}
      </p>
      <ErrorNote error={history.error ?? live.error} />
      {history.loading ? <Loading what="access changes" /> : <ChangeRows caption="Access changes, newest first" changes={changes} />}
    </>
  );
}

export function ChangeRows({ caption, changes }: { caption: string; changes: readonly AccessChangeRowFragment[] }) {
  return (
    <Table caption={caption} head={["Time", "Device", "Resource", "Change", "Reason"]}>
      {changes.length === 0 && <Empty columns={5}>No access changes yet.</Empty>}
      {changes.map((change) => (
        <tr key={change.sequence}>
          <td><Time at={change.at} /></td>
          <td><Link to={`/devices/${encodeURIComponent(change.device.id)}`}>{change.device.name}</Link></td>
          <td>{change.resource}</td>
          <td><Badge tone={change.allowed ? "good" : "bad"}>{change.allowed ? "Restored" : "Revoked"}</Badge></td>
          <td>{change.reason}</td>
        </tr>
      ))}
    </Table>
  );
}
