/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query ConsoleFleetCounts {\n    deviceCountsByRisk { level count }\n    deviceCountsByCompliance { state count }\n    devices(first: 1) { totalCount }\n  }\n": typeof types.ConsoleFleetCountsDocument,
    "\n  fragment ConsoleDeviceRows on DeviceConnection {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id name platform userPrincipalName riskLevel complianceState } }\n  }\n": typeof types.ConsoleDeviceRowsFragmentDoc,
    "\n  query ConsoleDevicesPage($first: Int!, $after: String, $platform: Platform, $search: String) {\n    devices(first: $first, after: $after, platform: $platform, search: $search) {\n      ...ConsoleDeviceRows\n    }\n    all: devices(first: 1, platform: $platform) { totalCount }\n  }\n": typeof types.ConsoleDevicesPageDocument,
    "\n  query ConsoleComplianceDevices($state: ComplianceState!, $first: Int!, $after: String, $platform: Platform) {\n    devicesByCompliance(state: $state, first: $first, after: $after, platform: $platform) {\n      ...ConsoleDeviceRows\n    }\n    all: devices(first: 1, platform: $platform) { totalCount }\n  }\n": typeof types.ConsoleComplianceDevicesDocument,
    "\n  query ConsoleAccessHistory($first: Int!, $after: String) {\n    accessChanges(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { ...AccessChangeRow } }\n    }\n  }\n": typeof types.ConsoleAccessHistoryDocument,
    "\n  fragment AccessChangeRow on AccessChange {\n    cursor\n    sequence\n    resource\n    allowed\n    reason\n    at\n    device { id name }\n  }\n": typeof types.AccessChangeRowFragmentDoc,
    "\n  subscription ConsoleAccessChanged($after: String) {\n    accessChanged(after: $after) { ...AccessChangeRow }\n  }\n": typeof types.ConsoleAccessChangedDocument,
    "\n  query ConsoleAuditLog($first: Int!, $after: String) {\n    auditLog(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id at actor actorRole service action targetType targetId } }\n    }\n  }\n": typeof types.ConsoleAuditLogDocument,
    "\n  mutation ConsoleGrantAccessException($input: GrantAccessExceptionInput!) {\n    grantAccessException(input: $input) { id }\n  }\n": typeof types.ConsoleGrantAccessExceptionDocument,
    "\n  mutation ConsoleRevokeAccessException($id: ID!) {\n    revokeAccessException(id: $id) { id }\n  }\n": typeof types.ConsoleRevokeAccessExceptionDocument,
    "\n  query ConsoleDevice($id: ID!) {\n    device(id: $id) {\n      id\n      name\n      platform\n      osVersion\n      ownership\n      userPrincipalName\n      enrolledAt\n      retiredAt\n      riskLevel\n      complianceState\n      complianceDeadline\n      accessExceptions { id resources reason expiresAt grantedBy }\n      threats { id title category severity status detectedAt resolvedAt partner }\n      access { resource allowed reason decidedAt }\n      apps(first: 100) {\n        totalCount\n        edges { node { appId name version shortVersion managed validated } }\n      }\n    }\n  }\n": typeof types.ConsoleDeviceDocument,
    "\n  query ConsoleInventorySettings {\n    appInventorySettings { iosAppSyncEnabled includePersonalDevices }\n  }\n": typeof types.ConsoleInventorySettingsDocument,
    "\n  mutation ConsoleSetInventorySettings($input: SetAppInventorySettingsInput!) {\n    setAppInventorySettings(input: $input) { iosAppSyncEnabled includePersonalDevices }\n  }\n": typeof types.ConsoleSetInventorySettingsDocument,
    "\n  query ConsoleApps($filter: AppFilter, $first: Int!) {\n    apps(filter: $filter, first: $first) {\n      totalCount\n      edges { node { appId name version managed validated reportedAt device { id name } } }\n    }\n  }\n": typeof types.ConsoleAppsDocument,
    "\n  query ConsoleAppVersionCounts($appId: String!) {\n    appVersionCounts(appId: $appId) { version devices }\n  }\n": typeof types.ConsoleAppVersionCountsDocument,
    "\n  query ConsoleConnectors {\n    mtdConnectors { partner state enabledPlatforms blockOnMissingPartnerData unresponsiveAfterMinutes lastHeartbeatAt }\n  }\n": typeof types.ConsoleConnectorsDocument,
    "\n  mutation ConsoleEnableConnector($input: EnableMtdConnectorInput!) {\n    enableMtdConnector(input: $input) { partner state enabledPlatforms blockOnMissingPartnerData unresponsiveAfterMinutes lastHeartbeatAt }\n  }\n": typeof types.ConsoleEnableConnectorDocument,
    "\n  mutation ConsoleDisableConnector($partner: MtdPartner) {\n    disableMtdConnector(partner: $partner) { partner state }\n  }\n": typeof types.ConsoleDisableConnectorDocument,
    "\n  query ConsolePolicies {\n    compliancePolicies { id name platform maxThreatLevel gracePeriodMinutes }\n    conditionalAccessPolicies { id name resources platforms enabled mode impact { wouldBlock } }\n  }\n": typeof types.ConsolePoliciesDocument,
    "\n  mutation ConsoleSetCompliancePolicy($input: SetCompliancePolicyInput!) {\n    setCompliancePolicy(input: $input) { id name platform maxThreatLevel gracePeriodMinutes }\n  }\n": typeof types.ConsoleSetCompliancePolicyDocument,
    "\n  mutation ConsoleSetConditionalAccessPolicy($input: SetConditionalAccessPolicyInput!) {\n    setConditionalAccessPolicy(input: $input) { id name resources platforms enabled mode }\n  }\n": typeof types.ConsoleSetConditionalAccessPolicyDocument,
};
const documents: Documents = {
    "\n  query ConsoleFleetCounts {\n    deviceCountsByRisk { level count }\n    deviceCountsByCompliance { state count }\n    devices(first: 1) { totalCount }\n  }\n": types.ConsoleFleetCountsDocument,
    "\n  fragment ConsoleDeviceRows on DeviceConnection {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id name platform userPrincipalName riskLevel complianceState } }\n  }\n": types.ConsoleDeviceRowsFragmentDoc,
    "\n  query ConsoleDevicesPage($first: Int!, $after: String, $platform: Platform, $search: String) {\n    devices(first: $first, after: $after, platform: $platform, search: $search) {\n      ...ConsoleDeviceRows\n    }\n    all: devices(first: 1, platform: $platform) { totalCount }\n  }\n": types.ConsoleDevicesPageDocument,
    "\n  query ConsoleComplianceDevices($state: ComplianceState!, $first: Int!, $after: String, $platform: Platform) {\n    devicesByCompliance(state: $state, first: $first, after: $after, platform: $platform) {\n      ...ConsoleDeviceRows\n    }\n    all: devices(first: 1, platform: $platform) { totalCount }\n  }\n": types.ConsoleComplianceDevicesDocument,
    "\n  query ConsoleAccessHistory($first: Int!, $after: String) {\n    accessChanges(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { ...AccessChangeRow } }\n    }\n  }\n": types.ConsoleAccessHistoryDocument,
    "\n  fragment AccessChangeRow on AccessChange {\n    cursor\n    sequence\n    resource\n    allowed\n    reason\n    at\n    device { id name }\n  }\n": types.AccessChangeRowFragmentDoc,
    "\n  subscription ConsoleAccessChanged($after: String) {\n    accessChanged(after: $after) { ...AccessChangeRow }\n  }\n": types.ConsoleAccessChangedDocument,
    "\n  query ConsoleAuditLog($first: Int!, $after: String) {\n    auditLog(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id at actor actorRole service action targetType targetId } }\n    }\n  }\n": types.ConsoleAuditLogDocument,
    "\n  mutation ConsoleGrantAccessException($input: GrantAccessExceptionInput!) {\n    grantAccessException(input: $input) { id }\n  }\n": types.ConsoleGrantAccessExceptionDocument,
    "\n  mutation ConsoleRevokeAccessException($id: ID!) {\n    revokeAccessException(id: $id) { id }\n  }\n": types.ConsoleRevokeAccessExceptionDocument,
    "\n  query ConsoleDevice($id: ID!) {\n    device(id: $id) {\n      id\n      name\n      platform\n      osVersion\n      ownership\n      userPrincipalName\n      enrolledAt\n      retiredAt\n      riskLevel\n      complianceState\n      complianceDeadline\n      accessExceptions { id resources reason expiresAt grantedBy }\n      threats { id title category severity status detectedAt resolvedAt partner }\n      access { resource allowed reason decidedAt }\n      apps(first: 100) {\n        totalCount\n        edges { node { appId name version shortVersion managed validated } }\n      }\n    }\n  }\n": types.ConsoleDeviceDocument,
    "\n  query ConsoleInventorySettings {\n    appInventorySettings { iosAppSyncEnabled includePersonalDevices }\n  }\n": types.ConsoleInventorySettingsDocument,
    "\n  mutation ConsoleSetInventorySettings($input: SetAppInventorySettingsInput!) {\n    setAppInventorySettings(input: $input) { iosAppSyncEnabled includePersonalDevices }\n  }\n": types.ConsoleSetInventorySettingsDocument,
    "\n  query ConsoleApps($filter: AppFilter, $first: Int!) {\n    apps(filter: $filter, first: $first) {\n      totalCount\n      edges { node { appId name version managed validated reportedAt device { id name } } }\n    }\n  }\n": types.ConsoleAppsDocument,
    "\n  query ConsoleAppVersionCounts($appId: String!) {\n    appVersionCounts(appId: $appId) { version devices }\n  }\n": types.ConsoleAppVersionCountsDocument,
    "\n  query ConsoleConnectors {\n    mtdConnectors { partner state enabledPlatforms blockOnMissingPartnerData unresponsiveAfterMinutes lastHeartbeatAt }\n  }\n": types.ConsoleConnectorsDocument,
    "\n  mutation ConsoleEnableConnector($input: EnableMtdConnectorInput!) {\n    enableMtdConnector(input: $input) { partner state enabledPlatforms blockOnMissingPartnerData unresponsiveAfterMinutes lastHeartbeatAt }\n  }\n": types.ConsoleEnableConnectorDocument,
    "\n  mutation ConsoleDisableConnector($partner: MtdPartner) {\n    disableMtdConnector(partner: $partner) { partner state }\n  }\n": types.ConsoleDisableConnectorDocument,
    "\n  query ConsolePolicies {\n    compliancePolicies { id name platform maxThreatLevel gracePeriodMinutes }\n    conditionalAccessPolicies { id name resources platforms enabled mode impact { wouldBlock } }\n  }\n": types.ConsolePoliciesDocument,
    "\n  mutation ConsoleSetCompliancePolicy($input: SetCompliancePolicyInput!) {\n    setCompliancePolicy(input: $input) { id name platform maxThreatLevel gracePeriodMinutes }\n  }\n": types.ConsoleSetCompliancePolicyDocument,
    "\n  mutation ConsoleSetConditionalAccessPolicy($input: SetConditionalAccessPolicyInput!) {\n    setConditionalAccessPolicy(input: $input) { id name resources platforms enabled mode }\n  }\n": types.ConsoleSetConditionalAccessPolicyDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleFleetCounts {\n    deviceCountsByRisk { level count }\n    deviceCountsByCompliance { state count }\n    devices(first: 1) { totalCount }\n  }\n"): (typeof documents)["\n  query ConsoleFleetCounts {\n    deviceCountsByRisk { level count }\n    deviceCountsByCompliance { state count }\n    devices(first: 1) { totalCount }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ConsoleDeviceRows on DeviceConnection {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id name platform userPrincipalName riskLevel complianceState } }\n  }\n"): (typeof documents)["\n  fragment ConsoleDeviceRows on DeviceConnection {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id name platform userPrincipalName riskLevel complianceState } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleDevicesPage($first: Int!, $after: String, $platform: Platform, $search: String) {\n    devices(first: $first, after: $after, platform: $platform, search: $search) {\n      ...ConsoleDeviceRows\n    }\n    all: devices(first: 1, platform: $platform) { totalCount }\n  }\n"): (typeof documents)["\n  query ConsoleDevicesPage($first: Int!, $after: String, $platform: Platform, $search: String) {\n    devices(first: $first, after: $after, platform: $platform, search: $search) {\n      ...ConsoleDeviceRows\n    }\n    all: devices(first: 1, platform: $platform) { totalCount }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleComplianceDevices($state: ComplianceState!, $first: Int!, $after: String, $platform: Platform) {\n    devicesByCompliance(state: $state, first: $first, after: $after, platform: $platform) {\n      ...ConsoleDeviceRows\n    }\n    all: devices(first: 1, platform: $platform) { totalCount }\n  }\n"): (typeof documents)["\n  query ConsoleComplianceDevices($state: ComplianceState!, $first: Int!, $after: String, $platform: Platform) {\n    devicesByCompliance(state: $state, first: $first, after: $after, platform: $platform) {\n      ...ConsoleDeviceRows\n    }\n    all: devices(first: 1, platform: $platform) { totalCount }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleAccessHistory($first: Int!, $after: String) {\n    accessChanges(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { ...AccessChangeRow } }\n    }\n  }\n"): (typeof documents)["\n  query ConsoleAccessHistory($first: Int!, $after: String) {\n    accessChanges(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { ...AccessChangeRow } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AccessChangeRow on AccessChange {\n    cursor\n    sequence\n    resource\n    allowed\n    reason\n    at\n    device { id name }\n  }\n"): (typeof documents)["\n  fragment AccessChangeRow on AccessChange {\n    cursor\n    sequence\n    resource\n    allowed\n    reason\n    at\n    device { id name }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ConsoleAccessChanged($after: String) {\n    accessChanged(after: $after) { ...AccessChangeRow }\n  }\n"): (typeof documents)["\n  subscription ConsoleAccessChanged($after: String) {\n    accessChanged(after: $after) { ...AccessChangeRow }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleAuditLog($first: Int!, $after: String) {\n    auditLog(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id at actor actorRole service action targetType targetId } }\n    }\n  }\n"): (typeof documents)["\n  query ConsoleAuditLog($first: Int!, $after: String) {\n    auditLog(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id at actor actorRole service action targetType targetId } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleGrantAccessException($input: GrantAccessExceptionInput!) {\n    grantAccessException(input: $input) { id }\n  }\n"): (typeof documents)["\n  mutation ConsoleGrantAccessException($input: GrantAccessExceptionInput!) {\n    grantAccessException(input: $input) { id }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleRevokeAccessException($id: ID!) {\n    revokeAccessException(id: $id) { id }\n  }\n"): (typeof documents)["\n  mutation ConsoleRevokeAccessException($id: ID!) {\n    revokeAccessException(id: $id) { id }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleDevice($id: ID!) {\n    device(id: $id) {\n      id\n      name\n      platform\n      osVersion\n      ownership\n      userPrincipalName\n      enrolledAt\n      retiredAt\n      riskLevel\n      complianceState\n      complianceDeadline\n      accessExceptions { id resources reason expiresAt grantedBy }\n      threats { id title category severity status detectedAt resolvedAt partner }\n      access { resource allowed reason decidedAt }\n      apps(first: 100) {\n        totalCount\n        edges { node { appId name version shortVersion managed validated } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ConsoleDevice($id: ID!) {\n    device(id: $id) {\n      id\n      name\n      platform\n      osVersion\n      ownership\n      userPrincipalName\n      enrolledAt\n      retiredAt\n      riskLevel\n      complianceState\n      complianceDeadline\n      accessExceptions { id resources reason expiresAt grantedBy }\n      threats { id title category severity status detectedAt resolvedAt partner }\n      access { resource allowed reason decidedAt }\n      apps(first: 100) {\n        totalCount\n        edges { node { appId name version shortVersion managed validated } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleInventorySettings {\n    appInventorySettings { iosAppSyncEnabled includePersonalDevices }\n  }\n"): (typeof documents)["\n  query ConsoleInventorySettings {\n    appInventorySettings { iosAppSyncEnabled includePersonalDevices }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleSetInventorySettings($input: SetAppInventorySettingsInput!) {\n    setAppInventorySettings(input: $input) { iosAppSyncEnabled includePersonalDevices }\n  }\n"): (typeof documents)["\n  mutation ConsoleSetInventorySettings($input: SetAppInventorySettingsInput!) {\n    setAppInventorySettings(input: $input) { iosAppSyncEnabled includePersonalDevices }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleApps($filter: AppFilter, $first: Int!) {\n    apps(filter: $filter, first: $first) {\n      totalCount\n      edges { node { appId name version managed validated reportedAt device { id name } } }\n    }\n  }\n"): (typeof documents)["\n  query ConsoleApps($filter: AppFilter, $first: Int!) {\n    apps(filter: $filter, first: $first) {\n      totalCount\n      edges { node { appId name version managed validated reportedAt device { id name } } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleAppVersionCounts($appId: String!) {\n    appVersionCounts(appId: $appId) { version devices }\n  }\n"): (typeof documents)["\n  query ConsoleAppVersionCounts($appId: String!) {\n    appVersionCounts(appId: $appId) { version devices }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsoleConnectors {\n    mtdConnectors { partner state enabledPlatforms blockOnMissingPartnerData unresponsiveAfterMinutes lastHeartbeatAt }\n  }\n"): (typeof documents)["\n  query ConsoleConnectors {\n    mtdConnectors { partner state enabledPlatforms blockOnMissingPartnerData unresponsiveAfterMinutes lastHeartbeatAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleEnableConnector($input: EnableMtdConnectorInput!) {\n    enableMtdConnector(input: $input) { partner state enabledPlatforms blockOnMissingPartnerData unresponsiveAfterMinutes lastHeartbeatAt }\n  }\n"): (typeof documents)["\n  mutation ConsoleEnableConnector($input: EnableMtdConnectorInput!) {\n    enableMtdConnector(input: $input) { partner state enabledPlatforms blockOnMissingPartnerData unresponsiveAfterMinutes lastHeartbeatAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleDisableConnector($partner: MtdPartner) {\n    disableMtdConnector(partner: $partner) { partner state }\n  }\n"): (typeof documents)["\n  mutation ConsoleDisableConnector($partner: MtdPartner) {\n    disableMtdConnector(partner: $partner) { partner state }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ConsolePolicies {\n    compliancePolicies { id name platform maxThreatLevel gracePeriodMinutes }\n    conditionalAccessPolicies { id name resources platforms enabled mode impact { wouldBlock } }\n  }\n"): (typeof documents)["\n  query ConsolePolicies {\n    compliancePolicies { id name platform maxThreatLevel gracePeriodMinutes }\n    conditionalAccessPolicies { id name resources platforms enabled mode impact { wouldBlock } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleSetCompliancePolicy($input: SetCompliancePolicyInput!) {\n    setCompliancePolicy(input: $input) { id name platform maxThreatLevel gracePeriodMinutes }\n  }\n"): (typeof documents)["\n  mutation ConsoleSetCompliancePolicy($input: SetCompliancePolicyInput!) {\n    setCompliancePolicy(input: $input) { id name platform maxThreatLevel gracePeriodMinutes }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConsoleSetConditionalAccessPolicy($input: SetConditionalAccessPolicyInput!) {\n    setConditionalAccessPolicy(input: $input) { id name resources platforms enabled mode }\n  }\n"): (typeof documents)["\n  mutation ConsoleSetConditionalAccessPolicy($input: SetConditionalAccessPolicyInput!) {\n    setConditionalAccessPolicy(input: $input) { id name resources platforms enabled mode }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;