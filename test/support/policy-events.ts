/**
 * Fixtures for tests that feed the policies evaluator straight from the event
 * log: the iOS baseline a tenant starts with, an assessment event, and every
 * stored access change of a tenant, page after page.
 */
import { randomUUID } from "node:crypto";
import type { ThreatLevel } from "../../lib/domain-enums.js";
import type { AssessmentChangedPayload } from "../../lib/events/contracts.js";
import type { NewEvent } from "../../lib/events/types.js";

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
