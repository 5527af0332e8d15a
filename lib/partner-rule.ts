/**
 * The partner rule, the same in every subgraph: a partner principal (role
 * `partner`) is valid only for a partner whose connector in the tenant is
 * ENABLED or UNRESPONSIVE; any other partner token is FORBIDDEN, whatever it
 * asks. Subgraphs run `admitPrincipal` when they build a request's or a
 * graphql-ws operation's context (subgraphs/serve.ts), so no resolver sees a
 * partner the rule refuses; the threats subgraph runs `authorizePartner`
 * again inside its ingest and heartbeat transactions, on the connectors it
 * reads there.
 *
 * Where the tenant's connectors come from is a `ConnectorDirectory`: the
 * threats subgraph, which owns them, reads its own table; every other
 * subgraph reads its view of the connector events (lib/connector-view.ts).
 */
import { GraphQLError } from "graphql";
import type { Identity } from "./auth.js";
import type { MtdPartner } from "./domain-enums.js";
import { ErrorCode } from "./errors.js";

export type ConnectorStateName = "ENABLED" | "UNRESPONSIVE" | "DISABLED";

/** What the rule needs of a connector. */
export interface PartnerConnector {
  partner: MtdPartner;
  state: ConnectorStateName;
}

/** A tenant's connectors, as one subgraph knows them. */
export interface ConnectorDirectory {
  connectors(tenantId: string): Promise<readonly PartnerConnector[]>;
}

/** ENABLED or UNRESPONSIVE (an UNRESPONSIVE partner is still the tenant's partner: its data is ignored, its heartbeat revives it). */
export function isActive(connector: PartnerConnector): boolean {
  return connector.state !== "DISABLED";
}

/** FORBIDDEN (HTTP 403) unless `partner` has an ENABLED or UNRESPONSIVE connector among the tenant's `connectors`; returns that connector. */
export function authorizePartner<T extends PartnerConnector>(connectors: readonly T[], partner: MtdPartner | undefined): T {
  const active = connectors.filter(isActive);
  if (active.length === 0) throw refused("no MTD connector is enabled for this tenant: enableMtdConnector first");
  const own = active.find((connector) => connector.partner === partner);
  if (own === undefined) throw refused(`partner ${partner} is not one of the tenant's enabled MTD connectors (${active.map((c) => c.partner).join(", ")})`);
  return own;
}

/** Admits any principal but a partner the rule refuses (see `authorizePartner`). */
export async function admitPrincipal(identity: Identity, directory: ConnectorDirectory): Promise<void> {
  if (identity.role !== "partner") return;
  authorizePartner(await directory.connectors(identity.tenantId), identity.partner);
}

function refused(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.FORBIDDEN, http: { status: 403 } } });
}
