/** Every configuration change of the tenant, newest first, a page at a time. */
import { useState } from "react";
import { useQuery } from "urql";
import { graphql } from "../gql";
import { Empty, ErrorNote, Loading, Table, Time } from "../ui";

const AuditQuery = graphql(`
  query ConsoleAuditLog($first: Int!, $after: String) {
    auditLog(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id at actor actorRole service action targetType targetId } }
    }
  }
`);

const ROWS = 25;

export function AuditLog() {
  // The cursors of the pages before this one: "Previous page" pops one.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors.at(-1) ?? null;
  const [{ data, error, fetching }] = useQuery({ query: AuditQuery, variables: { first: ROWS, after }, requestPolicy: "network-only" });
  const log = data?.auditLog;
  return (
    <>
      <h1>Audit log</h1>
      <ErrorNote error={error} />
      {fetching && !log ? (
        <Loading what="the audit log" />
      ) : (
        log && (
          <>
            <p role="status" className="muted">{log.totalCount} entries</p>
            <Table caption="Audit log, newest first" head={["Time", "Actor", "Service", "Action", "Target"]}>
              {log.edges.length === 0 && <Empty columns={5}>No configuration change yet.</Empty>}
              {log.edges.map(({ node: entry }) => (
                <tr key={entry.id}>
                  <td><Time at={entry.at} /></td>
                  <td>{entry.actor}<div className="muted small">{entry.actorRole}</div></td>
                  <td>{entry.service}</td>
                  <td><code>{entry.action}</code></td>
                  <td>{entry.targetType}<div className="muted small">{entry.targetId}</div></td>
                </tr>
              ))}
            </Table>
            <nav className="pager" aria-label="Audit log pages">
              <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
                Previous page
              </button>
              <span>Page {cursors.length}</span>
              <button type="button" disabled={!log.pageInfo.hasNextPage} onClick={() => setCursors([...cursors, log.pageInfo.endCursor ?? null])}>
                Next page
              </button>
            </nav>
          </>
        )
      )}
    </>
  );
}
