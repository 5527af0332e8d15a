/**
 * The devices subgraph asked directly, for a device a partner reports on that
 * the threats subgraph has not learnt from the `devices` topic yet (its
 * enrolment is acknowledged, its event still on the way): the owner of the
 * devices says whether it exists in the caller's tenant, with the caller's own
 * token (so the devices subgraph applies its tenant and partner rules), and at
 * which version, so that the enrolment event arriving afterwards is one the
 * threats subgraph already has.
 *
 * One request for every unknown device of a report batch: `_entities` with a
 * representation per device; `Device.version` is `@inaccessible` (in the
 * subgraph's schema, not in the public graph).
 */
import type { Ownership } from "../../lib/domain-enums.js";
import type { Platform } from "./generated/graphql.js";

/** What the threats subgraph keeps of a device (`threat_devices`), as the devices subgraph has it now. */
export interface DirectoryDevice {
  id: string;
  platform: Platform;
  ownership: Ownership;
  retiredAt: string | null;
  version: number;
}

const QUERY = /* GraphQL */ `query ThreatsResolveDevices($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Device { id platform ownership retiredAt version } }
}`;

/** How long the devices subgraph may take to answer. */
const TIMEOUT_MS = 5000;

export class DeviceDirectory {
  constructor(private readonly url: string) {}

  /**
   * The devices of `ids` that exist in the tenant of `authorization` (the
   * caller's verified `Authorization` header); the others are left out.
   * Rejects when the devices subgraph cannot answer (unreachable, an error).
   */
  async find(authorization: string, ids: readonly string[]): Promise<DirectoryDevice[]> {
    if (ids.length === 0) return [];
    const response = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization },
      body: JSON.stringify({ query: QUERY, variables: { representations: ids.map((id) => ({ __typename: "Device", id })) } }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const body = (await response.json().catch(() => ({}))) as { data?: { _entities?: (DirectoryDevice | null)[] }; errors?: { message: string }[] };
    const found = body.data?._entities;
    if (!response.ok || body.errors !== undefined || !Array.isArray(found)) {
      throw new Error(`the devices subgraph did not resolve ${ids.length} device(s): HTTP ${response.status} ${body.errors?.[0]?.message ?? ""}`.trim());
    }
    return found.filter((device): device is DirectoryDevice => device !== null);
  }
}
