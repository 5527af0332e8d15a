/**
 * Fixtures for tests that feed the policies evaluator straight from the event
 * log: the iOS baseline a tenant starts with, an assessment event, and every
 * stored access change of a tenant, page after page.
 */
import { randomUUID } from "node:crypto";
import type { ThreatLevel } from "../../lib/domain-enums.js";
import type { AssessmentChangedPayload } from "../../lib/events/contracts.js";
import type { NewEvent } from "../../lib/events/types.js";
import type { TestGraph } from "./graph.js";

/** IOS devices above LOW lose exchange and sharepoint: the two mutations and their inputs. */
export const IOS_BASELINE = [
  {
    query: `mutation($input: SetCompliancePolicyInput!) { setCompliancePolicy(input: $input) { id } }`,
    variables: { input: { platform: "IOS", name: "iOS baseline", maxThreatLevel: "LOW" } },
  },
  {
    query: `mutation($input: SetConditionalAccessPolicyInput!) { setConditionalAccessPolicy(input: $input) { id } }`,
    variables: { input: { name: "Mail and files", resources: ["exchange", "sharepoint"], platforms: ["IOS"], enabled: true } },
  },
] as const;

/** A new tenant (id `<prefix>-…`) with the iOS baseline, and its admin's token. */
export async function baselineTenant(graph: TestGraph, prefix: string): Promise<{ tenantId: string; admin: string }> {
  const tenantId = `${prefix}-${randomUUID().slice(0, 8)}`;
  const admin = await graph.token({ tenantId, role: "admin" });
  for (const { query, variables } of IOS_BASELINE) {
    const { errors } = await graph.query(admin, query, variables);
    if (errors !== undefined) throw new Error(`the iOS baseline of ${tenantId}: ${JSON.stringify(errors)}`);
  }
  return { tenantId, admin };
}

/** A partner's assessment of an IOS device, as the threats subgraph publishes it. */
export function assessmentEvent(tenantId: string, deviceId: string, version: number, level: ThreatLevel, id: string = randomUUID()): NewEvent<AssessmentChangedPayload> {
  return {
    id,
    type: "device.assessment.changed",
    tenantId,
    aggregateId: deviceId,
    version,
    occurredAt: new Date().toISOString(),
    payload: { deviceId, platform: "IOS", previousLevel: null, level, dataStatus: "REPORTED", blockOnMissing: false, partner: "LOOKOUT", unresponsiveSince: null },
  };
}

export const ACCESS_CHANGES = `query($after: String) { accessChanges(after: $after, first: 500) { pageInfo { hasNextPage endCursor } edges { node { sequence resource allowed device { id } } } } }`;

export interface StoredChange {
  sequence: number;
  resource: string;
  allowed: boolean;
  device: { id: string };
}

export interface ChangesPage {
  edges: { node: StoredChange }[];
  pageInfo: { hasNextPage: boolean; endCursor: string };
}

/** Every access change `page` returns, following `endCursor` (`page` runs ACCESS_CHANGES with `after`). */
export async function allChanges(page: (after: string | null) => Promise<ChangesPage>): Promise<StoredChange[]> {
  const all: StoredChange[] = [];
  for (let after: string | null = null; ; ) {
    const { edges, pageInfo } = await page(after);
    all.push(...edges.map((edge) => edge.node));
    if (!pageInfo.hasNextPage) return all;
    after = pageInfo.endCursor;
  }
}
