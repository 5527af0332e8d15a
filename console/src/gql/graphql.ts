/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/**
 * Every condition given must hold. String conditions are trimmed. Fast with
 * `appId` (an index range); `nameContains` first searches the tenant's distinct
 * app names, then looks the matching app ids up by index.
 */
export type AppFilter = {
  /** Exactly this app id (1-256 characters). */
  appId?: string | null | undefined;
  /** Only managed (true) or only unmanaged (false) apps. */
  managed?: boolean | null | undefined;
  /** The name contains this text, case-insensitively (1-256 characters; `%` and `_` are plain characters). */
  nameContains?: string | null | undefined;
  /** Only apps on devices of this ownership. */
  ownership?: Ownership | null | undefined;
  /** Only apps on devices of this platform. */
  platform?: Platform | null | undefined;
  /** Only apps whose signature the MDM validated (true), or only those it did not (false). */
  validated?: boolean | null | undefined;
  /** Exactly this version string (up to 64 characters). */
  version?: string | null | undefined;
  /**
   * The version is numerically lower than this one (up to 64 characters):
   * dotted numeric components compare as numbers (`1.9` < `1.10`), missing
   * components count as 0 (`1.2` = `1.2.0`), only the first six count. A suffix
   * after the numbers (`1.2.0-beta`, `2.1 (450)`) sorts before the bare
   * version (`1.2.0-beta` < `1.2.0`) and suffixes among themselves compare
   * character by character, case-insensitively. A version that does not
   * start with a digit counts as 0 plus its text as suffix.
   */
  versionBelow?: string | null | undefined;
};

export type ComplianceState =
  | 'COMPLIANT'
  /** Over the threshold, access unchanged until `Device.complianceDeadline`; then NONCOMPLIANT unless resolved first. */
  | 'IN_GRACE_PERIOD'
  | 'NONCOMPLIANT';

/** ENFORCED decides access. REPORT_ONLY never changes access: it only shows whom it would block (`impact`). */
export type ConditionalAccessMode =
  | 'ENFORCED'
  | 'REPORT_ONLY';

export type ConnectorState =
  | 'DISABLED'
  | 'ENABLED'
  | 'UNRESPONSIVE';

export type EnableMtdConnectorInput = {
  blockOnMissingPartnerData?: Array<Platform> | null | undefined;
  enabledPlatforms: Array<Platform>;
  partner: MtdPartner;
  /** 1-10080 minutes. Default 1440 (a day). */
  unresponsiveAfterMinutes?: number | null | undefined;
};

export type GrantAccessExceptionInput = {
  deviceId: string | number;
  /** In the future, at most 30 days ahead. */
  expiresAt: string;
  /** 1-512 characters: why (shown in the decision's reason and the audit trail). */
  reason: string;
  /** 1-50 distinct resource names, as in conditional-access policies. */
  resources: Array<string>;
};

export type MtdPartner =
  | 'BETTER_MOBILE'
  | 'CHECK_POINT_SANDBLAST_MOBILE'
  | 'LOOKOUT'
  | 'MICROSOFT_DEFENDER'
  | 'PRADEO'
  | 'SOPHOS_MOBILE'
  | 'SYMANTEC_ENDPOINT_PROTECTION_MOBILE'
  | 'WANDERA'
  | 'ZIMPERIUM';

export type Ownership =
  | 'CORPORATE'
  | 'PERSONAL';

export type Platform =
  | 'ANDROID'
  | 'IOS'
  | 'MACOS'
  | 'WINDOWS';

export type SetAppInventorySettingsInput = {
  /** See `AppInventorySettings.includePersonalDevices`. */
  includePersonalDevices: boolean;
  /** See `AppInventorySettings.iosAppSyncEnabled`. */
  iosAppSyncEnabled: boolean;
};

export type SetCompliancePolicyInput = {
  /** 0-43200 (30 days). Default 0: NONCOMPLIANT at once. A change applies to devices entering grace afterwards. */
  gracePeriodMinutes?: number | null | undefined;
  maxThreatLevel: ThreatLevel;
  /** 1-256 characters. */
  name: string;
  platform: Platform;
};

export type SetConditionalAccessPolicyInput = {
  enabled: boolean;
  /** Omitted: a new policy. Given: updates that policy (NOT_FOUND if it does not exist). */
  id?: string | number | null | undefined;
  /** Default ENFORCED. */
  mode?: ConditionalAccessMode | null | undefined;
  /** 1-256 characters. */
  name: string;
  /** At least one, distinct. */
  platforms: Array<Platform>;
  /** 1-50 distinct resource names of 1-128 characters, e.g. `exchange`. */
  resources: Array<string>;
};

export type ThreatCategory =
  | 'APP'
  | 'CONFIGURATION'
  | 'DEVICE'
  | 'NETWORK'
  | 'OS'
  | 'WEB';

export type ThreatLevel =
  | 'HIGH'
  | 'LOW'
  | 'MEDIUM'
  | 'SECURED';

export type ThreatStatus =
  | 'ACTIVE'
  | 'RESOLVED';

export type ConsoleFleetCountsQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleFleetCountsQuery = { deviceCountsByRisk: Array<{ level: ThreatLevel | null, count: number }>, deviceCountsByCompliance: Array<{ state: ComplianceState, count: number }>, devices: { totalCount: number } };

export type ConsoleDeviceRowsFragment = { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, name: string, platform: Platform, userPrincipalName: string | null, riskLevel: ThreatLevel | null, complianceState: ComplianceState } }> };

export type ConsoleDevicesPageQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
  platform?: Platform | null | undefined;
  search?: string | null | undefined;
}>;


export type ConsoleDevicesPageQuery = { devices: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, name: string, platform: Platform, userPrincipalName: string | null, riskLevel: ThreatLevel | null, complianceState: ComplianceState } }> }, all: { totalCount: number } };

export type ConsoleComplianceDevicesQueryVariables = Exact<{
  state: ComplianceState;
  first: number;
  after?: string | null | undefined;
  platform?: Platform | null | undefined;
}>;


export type ConsoleComplianceDevicesQuery = { devicesByCompliance: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, name: string, platform: Platform, userPrincipalName: string | null, riskLevel: ThreatLevel | null, complianceState: ComplianceState } }> }, all: { totalCount: number } };

export type ConsoleAccessHistoryQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
}>;


export type ConsoleAccessHistoryQuery = { accessChanges: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { cursor: string, sequence: number, resource: string, allowed: boolean, reason: string, at: string, device: { id: string, name: string } } }> } };

export type AccessChangeRowFragment = { cursor: string, sequence: number, resource: string, allowed: boolean, reason: string, at: string, device: { id: string, name: string } };

export type ConsoleAccessChangedSubscriptionVariables = Exact<{
  after?: string | null | undefined;
}>;


export type ConsoleAccessChangedSubscription = { accessChanged: { cursor: string, sequence: number, resource: string, allowed: boolean, reason: string, at: string, device: { id: string, name: string } } };

export type ConsoleAuditLogQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
}>;


export type ConsoleAuditLogQuery = { auditLog: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, at: string, actor: string, actorRole: string, service: string, action: string, targetType: string, targetId: string } }> } };

export type ConsoleGrantAccessExceptionMutationVariables = Exact<{
  input: GrantAccessExceptionInput;
}>;


export type ConsoleGrantAccessExceptionMutation = { grantAccessException: { id: string } };

export type ConsoleRevokeAccessExceptionMutationVariables = Exact<{
  id: string | number;
}>;


export type ConsoleRevokeAccessExceptionMutation = { revokeAccessException: { id: string } };

export type ConsoleDeviceQueryVariables = Exact<{
  id: string | number;
}>;


export type ConsoleDeviceQuery = { device: { id: string, name: string, platform: Platform, osVersion: string, ownership: Ownership, userPrincipalName: string | null, enrolledAt: string, retiredAt: string | null, riskLevel: ThreatLevel | null, complianceState: ComplianceState, complianceDeadline: string | null, accessExceptions: Array<{ id: string, resources: Array<string>, reason: string, expiresAt: string, grantedBy: string }>, threats: Array<{ id: string, title: string, category: ThreatCategory, severity: ThreatLevel, status: ThreatStatus, detectedAt: string, resolvedAt: string | null, partner: MtdPartner }>, access: Array<{ resource: string, allowed: boolean, reason: string, decidedAt: string }>, apps: { totalCount: number, edges: Array<{ node: { appId: string, name: string, version: string, shortVersion: string | null, managed: boolean, validated: boolean } }> } } | null };

export type ConsoleInventorySettingsQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleInventorySettingsQuery = { appInventorySettings: { iosAppSyncEnabled: boolean, includePersonalDevices: boolean } };

export type ConsoleSetInventorySettingsMutationVariables = Exact<{
  input: SetAppInventorySettingsInput;
}>;


export type ConsoleSetInventorySettingsMutation = { setAppInventorySettings: { iosAppSyncEnabled: boolean, includePersonalDevices: boolean } };

export type ConsoleAppsQueryVariables = Exact<{
  filter?: AppFilter | null | undefined;
  first: number;
}>;


export type ConsoleAppsQuery = { apps: { totalCount: number, edges: Array<{ node: { appId: string, name: string, version: string, managed: boolean, validated: boolean, reportedAt: string, device: { id: string, name: string } } }> } };

export type ConsoleAppVersionCountsQueryVariables = Exact<{
  appId: string;
}>;


export type ConsoleAppVersionCountsQuery = { appVersionCounts: Array<{ version: string, devices: number }> };

export type ConsoleConnectorsQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleConnectorsQuery = { mtdConnectors: Array<{ partner: MtdPartner, state: ConnectorState, enabledPlatforms: Array<Platform>, blockOnMissingPartnerData: Array<Platform>, unresponsiveAfterMinutes: number, lastHeartbeatAt: string | null }> };

export type ConsoleEnableConnectorMutationVariables = Exact<{
  input: EnableMtdConnectorInput;
}>;


export type ConsoleEnableConnectorMutation = { enableMtdConnector: { partner: MtdPartner, state: ConnectorState, enabledPlatforms: Array<Platform>, blockOnMissingPartnerData: Array<Platform>, unresponsiveAfterMinutes: number, lastHeartbeatAt: string | null } };

export type ConsoleDisableConnectorMutationVariables = Exact<{
  partner?: MtdPartner | null | undefined;
}>;


export type ConsoleDisableConnectorMutation = { disableMtdConnector: { partner: MtdPartner, state: ConnectorState } | null };

export type ConsolePoliciesQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsolePoliciesQuery = { compliancePolicies: Array<{ id: string, name: string, platform: Platform, maxThreatLevel: ThreatLevel, gracePeriodMinutes: number }>, conditionalAccessPolicies: Array<{ id: string, name: string, resources: Array<string>, platforms: Array<Platform>, enabled: boolean, mode: ConditionalAccessMode, impact: { wouldBlock: number } }> };

export type ConsoleSetCompliancePolicyMutationVariables = Exact<{
  input: SetCompliancePolicyInput;
}>;


export type ConsoleSetCompliancePolicyMutation = { setCompliancePolicy: { id: string, name: string, platform: Platform, maxThreatLevel: ThreatLevel, gracePeriodMinutes: number } };

export type ConsoleSetConditionalAccessPolicyMutationVariables = Exact<{
  input: SetConditionalAccessPolicyInput;
}>;


export type ConsoleSetConditionalAccessPolicyMutation = { setConditionalAccessPolicy: { id: string, name: string, resources: Array<string>, platforms: Array<Platform>, enabled: boolean, mode: ConditionalAccessMode } };

export const ConsoleDeviceRowsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ConsoleDeviceRows"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DeviceConnection"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"platform"}},{"kind":"Field","name":{"kind":"Name","value":"userPrincipalName"}},{"kind":"Field","name":{"kind":"Name","value":"riskLevel"}},{"kind":"Field","name":{"kind":"Name","value":"complianceState"}}]}}]}}]}}]} as unknown as DocumentNode<ConsoleDeviceRowsFragment, unknown>;
export const AccessChangeRowFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"AccessChangeRow"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"AccessChange"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"sequence"}},{"kind":"Field","name":{"kind":"Name","value":"resource"}},{"kind":"Field","name":{"kind":"Name","value":"allowed"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"at"}},{"kind":"Field","name":{"kind":"Name","value":"device"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<AccessChangeRowFragment, unknown>;
export const ConsoleFleetCountsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleFleetCounts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"deviceCountsByRisk"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"level"}},{"kind":"Field","name":{"kind":"Name","value":"count"}}]}},{"kind":"Field","name":{"kind":"Name","value":"deviceCountsByCompliance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"count"}}]}},{"kind":"Field","name":{"kind":"Name","value":"devices"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"1"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}}]}}]}}]} as unknown as DocumentNode<ConsoleFleetCountsQuery, ConsoleFleetCountsQueryVariables>;
export const ConsoleDevicesPageDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleDevicesPage"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"platform"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Platform"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"search"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"devices"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"platform"},"value":{"kind":"Variable","name":{"kind":"Name","value":"platform"}}},{"kind":"Argument","name":{"kind":"Name","value":"search"},"value":{"kind":"Variable","name":{"kind":"Name","value":"search"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ConsoleDeviceRows"}}]}},{"kind":"Field","alias":{"kind":"Name","value":"all"},"name":{"kind":"Name","value":"devices"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"1"}},{"kind":"Argument","name":{"kind":"Name","value":"platform"},"value":{"kind":"Variable","name":{"kind":"Name","value":"platform"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ConsoleDeviceRows"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DeviceConnection"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"platform"}},{"kind":"Field","name":{"kind":"Name","value":"userPrincipalName"}},{"kind":"Field","name":{"kind":"Name","value":"riskLevel"}},{"kind":"Field","name":{"kind":"Name","value":"complianceState"}}]}}]}}]}}]} as unknown as DocumentNode<ConsoleDevicesPageQuery, ConsoleDevicesPageQueryVariables>;
export const ConsoleComplianceDevicesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleComplianceDevices"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"state"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ComplianceState"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"platform"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Platform"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"devicesByCompliance"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"state"},"value":{"kind":"Variable","name":{"kind":"Name","value":"state"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"platform"},"value":{"kind":"Variable","name":{"kind":"Name","value":"platform"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ConsoleDeviceRows"}}]}},{"kind":"Field","alias":{"kind":"Name","value":"all"},"name":{"kind":"Name","value":"devices"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"1"}},{"kind":"Argument","name":{"kind":"Name","value":"platform"},"value":{"kind":"Variable","name":{"kind":"Name","value":"platform"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ConsoleDeviceRows"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"DeviceConnection"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"platform"}},{"kind":"Field","name":{"kind":"Name","value":"userPrincipalName"}},{"kind":"Field","name":{"kind":"Name","value":"riskLevel"}},{"kind":"Field","name":{"kind":"Name","value":"complianceState"}}]}}]}}]}}]} as unknown as DocumentNode<ConsoleComplianceDevicesQuery, ConsoleComplianceDevicesQueryVariables>;
export const ConsoleAccessHistoryDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleAccessHistory"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"accessChanges"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"AccessChangeRow"}}]}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"AccessChangeRow"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"AccessChange"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"sequence"}},{"kind":"Field","name":{"kind":"Name","value":"resource"}},{"kind":"Field","name":{"kind":"Name","value":"allowed"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"at"}},{"kind":"Field","name":{"kind":"Name","value":"device"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<ConsoleAccessHistoryQuery, ConsoleAccessHistoryQueryVariables>;
export const ConsoleAccessChangedDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"ConsoleAccessChanged"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"accessChanged"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"AccessChangeRow"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"AccessChangeRow"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"AccessChange"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"sequence"}},{"kind":"Field","name":{"kind":"Name","value":"resource"}},{"kind":"Field","name":{"kind":"Name","value":"allowed"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"at"}},{"kind":"Field","name":{"kind":"Name","value":"device"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<ConsoleAccessChangedSubscription, ConsoleAccessChangedSubscriptionVariables>;
export const ConsoleAuditLogDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleAuditLog"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"auditLog"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"at"}},{"kind":"Field","name":{"kind":"Name","value":"actor"}},{"kind":"Field","name":{"kind":"Name","value":"actorRole"}},{"kind":"Field","name":{"kind":"Name","value":"service"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"targetType"}},{"kind":"Field","name":{"kind":"Name","value":"targetId"}}]}}]}}]}}]}}]} as unknown as DocumentNode<ConsoleAuditLogQuery, ConsoleAuditLogQueryVariables>;
export const ConsoleGrantAccessExceptionDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleGrantAccessException"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"GrantAccessExceptionInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"grantAccessException"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}}]}}]} as unknown as DocumentNode<ConsoleGrantAccessExceptionMutation, ConsoleGrantAccessExceptionMutationVariables>;
export const ConsoleRevokeAccessExceptionDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleRevokeAccessException"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"revokeAccessException"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}}]}}]} as unknown as DocumentNode<ConsoleRevokeAccessExceptionMutation, ConsoleRevokeAccessExceptionMutationVariables>;
export const ConsoleDeviceDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleDevice"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"device"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"platform"}},{"kind":"Field","name":{"kind":"Name","value":"osVersion"}},{"kind":"Field","name":{"kind":"Name","value":"ownership"}},{"kind":"Field","name":{"kind":"Name","value":"userPrincipalName"}},{"kind":"Field","name":{"kind":"Name","value":"enrolledAt"}},{"kind":"Field","name":{"kind":"Name","value":"retiredAt"}},{"kind":"Field","name":{"kind":"Name","value":"riskLevel"}},{"kind":"Field","name":{"kind":"Name","value":"complianceState"}},{"kind":"Field","name":{"kind":"Name","value":"complianceDeadline"}},{"kind":"Field","name":{"kind":"Name","value":"accessExceptions"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"resources"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"expiresAt"}},{"kind":"Field","name":{"kind":"Name","value":"grantedBy"}}]}},{"kind":"Field","name":{"kind":"Name","value":"threats"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"category"}},{"kind":"Field","name":{"kind":"Name","value":"severity"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"detectedAt"}},{"kind":"Field","name":{"kind":"Name","value":"resolvedAt"}},{"kind":"Field","name":{"kind":"Name","value":"partner"}}]}},{"kind":"Field","name":{"kind":"Name","value":"access"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resource"}},{"kind":"Field","name":{"kind":"Name","value":"allowed"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"decidedAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"apps"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"100"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"appId"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"shortVersion"}},{"kind":"Field","name":{"kind":"Name","value":"managed"}},{"kind":"Field","name":{"kind":"Name","value":"validated"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<ConsoleDeviceQuery, ConsoleDeviceQueryVariables>;
export const ConsoleInventorySettingsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleInventorySettings"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"appInventorySettings"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"iosAppSyncEnabled"}},{"kind":"Field","name":{"kind":"Name","value":"includePersonalDevices"}}]}}]}}]} as unknown as DocumentNode<ConsoleInventorySettingsQuery, ConsoleInventorySettingsQueryVariables>;
export const ConsoleSetInventorySettingsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleSetInventorySettings"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"SetAppInventorySettingsInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"setAppInventorySettings"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"iosAppSyncEnabled"}},{"kind":"Field","name":{"kind":"Name","value":"includePersonalDevices"}}]}}]}}]} as unknown as DocumentNode<ConsoleSetInventorySettingsMutation, ConsoleSetInventorySettingsMutationVariables>;
export const ConsoleAppsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleApps"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"AppFilter"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"apps"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"appId"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"managed"}},{"kind":"Field","name":{"kind":"Name","value":"validated"}},{"kind":"Field","name":{"kind":"Name","value":"reportedAt"}},{"kind":"Field","name":{"kind":"Name","value":"device"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<ConsoleAppsQuery, ConsoleAppsQueryVariables>;
export const ConsoleAppVersionCountsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleAppVersionCounts"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"appId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"appVersionCounts"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"appId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"appId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"devices"}}]}}]}}]} as unknown as DocumentNode<ConsoleAppVersionCountsQuery, ConsoleAppVersionCountsQueryVariables>;
export const ConsoleConnectorsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleConnectors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"mtdConnectors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"partner"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"enabledPlatforms"}},{"kind":"Field","name":{"kind":"Name","value":"blockOnMissingPartnerData"}},{"kind":"Field","name":{"kind":"Name","value":"unresponsiveAfterMinutes"}},{"kind":"Field","name":{"kind":"Name","value":"lastHeartbeatAt"}}]}}]}}]} as unknown as DocumentNode<ConsoleConnectorsQuery, ConsoleConnectorsQueryVariables>;
export const ConsoleEnableConnectorDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleEnableConnector"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"EnableMtdConnectorInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"enableMtdConnector"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"partner"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"enabledPlatforms"}},{"kind":"Field","name":{"kind":"Name","value":"blockOnMissingPartnerData"}},{"kind":"Field","name":{"kind":"Name","value":"unresponsiveAfterMinutes"}},{"kind":"Field","name":{"kind":"Name","value":"lastHeartbeatAt"}}]}}]}}]} as unknown as DocumentNode<ConsoleEnableConnectorMutation, ConsoleEnableConnectorMutationVariables>;
export const ConsoleDisableConnectorDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleDisableConnector"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"partner"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"MtdPartner"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"disableMtdConnector"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"partner"},"value":{"kind":"Variable","name":{"kind":"Name","value":"partner"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"partner"}},{"kind":"Field","name":{"kind":"Name","value":"state"}}]}}]}}]} as unknown as DocumentNode<ConsoleDisableConnectorMutation, ConsoleDisableConnectorMutationVariables>;
export const ConsolePoliciesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsolePolicies"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"compliancePolicies"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"platform"}},{"kind":"Field","name":{"kind":"Name","value":"maxThreatLevel"}},{"kind":"Field","name":{"kind":"Name","value":"gracePeriodMinutes"}}]}},{"kind":"Field","name":{"kind":"Name","value":"conditionalAccessPolicies"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"resources"}},{"kind":"Field","name":{"kind":"Name","value":"platforms"}},{"kind":"Field","name":{"kind":"Name","value":"enabled"}},{"kind":"Field","name":{"kind":"Name","value":"mode"}},{"kind":"Field","name":{"kind":"Name","value":"impact"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"wouldBlock"}}]}}]}}]}}]} as unknown as DocumentNode<ConsolePoliciesQuery, ConsolePoliciesQueryVariables>;
export const ConsoleSetCompliancePolicyDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleSetCompliancePolicy"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"SetCompliancePolicyInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"setCompliancePolicy"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"platform"}},{"kind":"Field","name":{"kind":"Name","value":"maxThreatLevel"}},{"kind":"Field","name":{"kind":"Name","value":"gracePeriodMinutes"}}]}}]}}]} as unknown as DocumentNode<ConsoleSetCompliancePolicyMutation, ConsoleSetCompliancePolicyMutationVariables>;
export const ConsoleSetConditionalAccessPolicyDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleSetConditionalAccessPolicy"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"SetConditionalAccessPolicyInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"setConditionalAccessPolicy"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"resources"}},{"kind":"Field","name":{"kind":"Name","value":"platforms"}},{"kind":"Field","name":{"kind":"Name","value":"enabled"}},{"kind":"Field","name":{"kind":"Name","value":"mode"}}]}}]}}]} as unknown as DocumentNode<ConsoleSetConditionalAccessPolicyMutation, ConsoleSetConditionalAccessPolicyMutationVariables>;