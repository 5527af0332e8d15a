/** The operations shared by several views; each view declares the rest next to itself. */
import { graphql } from "../gql";

/** The overview's exact counts, from the subgraphs that own each fact (threats: risk; policies: compliance). */
export const FleetCountsQuery = graphql(`
  query ConsoleFleetCounts {
    deviceCountsByRisk { level count }
    deviceCountsByCompliance { state count }
    devices(first: 1) { totalCount }
  }
`);

/** A page of device rows, as the Devices page lists them whichever filter found them. */
export const DeviceRowsFragment = graphql(`
  fragment ConsoleDeviceRows on DeviceConnection {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name platform userPrincipalName riskLevel complianceState } }
  }
`);

/** The Devices page's pages of 25, searched by the graph (`devices(search:)`); `all` counts the devices of the platform. */
export const DevicesPageQuery = graphql(`
  query ConsoleDevicesPage($first: Int!, $after: String, $platform: Platform, $search: String) {
    devices(first: $first, after: $after, platform: $platform, search: $search) {
      ...ConsoleDeviceRows
    }
    all: devices(first: 1, platform: $platform) { totalCount }
  }
`);

/** The same pages in one compliance state (`devicesByCompliance`). */
export const ComplianceDevicesQuery = graphql(`
  query ConsoleComplianceDevices($state: ComplianceState!, $first: Int!, $after: String, $platform: Platform) {
    devicesByCompliance(state: $state, first: $first, after: $after, platform: $platform) {
      ...ConsoleDeviceRows
    }
    all: devices(first: 1, platform: $platform) { totalCount }
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
