/** The partner rule in tests: wait until every subgraph's view of the connector events admits (or refuses) a partner token. */
import type { TestGraph } from "./graph.js";
import { waitFor } from "./wait.js";

/** Whether each subgraph admits `token` now: `{ __typename }` on each one directly, by name. */
export async function partnerAdmission(graph: TestGraph, token: string): Promise<Record<string, boolean>> {
  const entries = await Promise.all(
    Object.entries(graph.subgraphs).map(async ([name, subgraph]) => {
      const result = await graph.query(token, "{ __typename }", undefined, subgraph.url);
      return [name, result.errors === undefined] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** Resolves once every subgraph admits `token` (`admitted`), or refuses it (`!admitted`). */
export async function waitForPartnerRule(graph: TestGraph, token: string, admitted = true, timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => Object.values(await partnerAdmission(graph, token)).every((yes) => yes === admitted), timeoutMs, `every subgraph ${admitted ? "admits" : "refuses"} the partner`);
}

/**
 * Enables `partner`'s connector for `platforms` with `admin` (a token of the
 * tenant) and waits until every subgraph admits `partnerToken`: what a test
 * does before a partner token of a tenant may be used.
 */
export async function enablePartner(graph: TestGraph, admin: string, partnerToken: string, partner = "LOOKOUT", platforms = ["IOS"]): Promise<void> {
  const enabled = await graph.query(admin, `mutation($input: EnableMtdConnectorInput!) { enableMtdConnector(input: $input) { state } }`, { input: { partner, enabledPlatforms: platforms } });
  if (enabled.errors !== undefined) throw new Error(`enableMtdConnector(${partner}) failed: ${JSON.stringify(enabled.errors)}`);
  await waitForPartnerRule(graph, partnerToken);
}
