/** The operations shared by several views; each view declares the rest next to itself. */
import { graphql } from "../gql";

export const FleetQuery = graphql(`
  query ConsoleFleet($first: Int!, $after: String, $platform: Platform) {
    devices(first: $first, after: $after, platform: $platform) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name platform userPrincipalName riskLevel complianceState } }
    }
  }
`);

export const AccessHistoryQuery = graphql(`
  query ConsoleAccessHistory($first: Int!, $after: String) {
    accessChanges(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { ...AccessChangeRow } }
    }
  }
`);

export const AccessChangeRowFragment = graphql(`
  fragment AccessChangeRow on AccessChange {
    cursor
    sequence
    resource
    allowed
    reason
    at
    device { id name }
  }
`);
