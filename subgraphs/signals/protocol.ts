/**
 * The protocol, as types and constants: OpenID Shared Signals Framework 1.0
 * (stream management, metadata), CAEP 1.0 (event types and their claims),
 * RFC 8417 (Security Event Tokens), RFC 8935 (push) and RFC 8936 (poll),
 * RFC 9493 (subject identifiers). Nothing here does I/O.
 */

/** `spec_version` of the transmitter metadata: SSF 1.0 final. */
export const SPEC_VERSION = "1_0";

/** `typ` of every SET (RFC 8417 §2.3, SSF §4.1.1). */
export const SET_TYP = "secevent+jwt";
/** `typ` of the access tokens of our token endpoint (RFC 9068): never confused with a SET. */
export const ACCESS_TOKEN_TYP = "at+jwt";
export const SIGNING_ALG = "RS256";

export const DeliveryMethod = {
  /** RFC 8935 push: we POST each SET to the receiver's `endpoint_url`. */
  PUSH: "urn:ietf:rfc:8935",
  /** RFC 8936 poll: the receiver POSTs to our `endpoint_url` for SETs. */
  POLL: "urn:ietf:rfc:8936",
} as const;
export type DeliveryMethod = (typeof DeliveryMethod)[keyof typeof DeliveryMethod];
export const DELIVERY_METHODS: readonly DeliveryMethod[] = [DeliveryMethod.PUSH, DeliveryMethod.POLL];

/** `authorization_schemes[].spec_urn`: OAuth 2.0 (client credentials against our token endpoint). */
export const OAUTH_SPEC_URN = "urn:ietf:rfc:6749";

export const EventType = {
  DEVICE_COMPLIANCE_CHANGE: "https://schemas.openid.net/secevent/caep/event-type/device-compliance-change",
  SESSION_REVOKED: "https://schemas.openid.net/secevent/caep/event-type/session-revoked",
  VERIFICATION: "https://schemas.openid.net/secevent/ssf/event-type/verification",
  STREAM_UPDATED: "https://schemas.openid.net/secevent/ssf/event-type/stream-updated",
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** `events_supported` of every stream. Verification and stream-updated are sent regardless (SSF §8.1.4, §8.1.5). */
export const EVENTS_SUPPORTED: readonly string[] = [EventType.DEVICE_COMPLIANCE_CHANGE, EventType.SESSION_REVOKED];

export const StreamStatus = { ENABLED: "enabled", PAUSED: "paused", DISABLED: "disabled" } as const;
export type StreamStatus = (typeof StreamStatus)[keyof typeof StreamStatus];
export const STREAM_STATUSES: readonly StreamStatus[] = ["enabled", "paused", "disabled"];

/** OAuth scopes of our token endpoint. `ssf.manage` includes `ssf.read`. */
export const Scope = { MANAGE: "ssf.manage", READ: "ssf.read" } as const;
export type Scope = (typeof Scope)[keyof typeof Scope];
export const SCOPES: readonly Scope[] = ["ssf.manage", "ssf.read"];

/** CAEP 1.0 §2 `initiating_entity`. */
export type InitiatingEntity = "admin" | "user" | "policy" | "system";
/** CAEP 1.0 §3.5 compliance status. */
export type ComplianceStatus = "compliant" | "not-compliant";

/** RFC 9493 subject identifier (simple), or an SSF §3.3 complex subject. */
export type SubjectIdentifier = { format: string } & Record<string, unknown>;

/** CAEP event claims common to every CAEP event (CAEP 1.0 §2). */
export interface CaepCommon {
  event_timestamp: number;
  initiating_entity?: InitiatingEntity;
  /** Language tag → message for administrators; at least one entry. */
  reason_admin?: Record<string, string>;
  reason_user?: Record<string, string>;
  /** Okta mode only: the subject inside the event, beside the top-level `sub_id`. */
  subject?: Record<string, SubjectIdentifier>;
}

export interface DeviceComplianceChange extends CaepCommon {
  previous_status: ComplianceStatus;
  current_status: ComplianceStatus;
}

/** The claims of a SET as we issue it: `sub_id` always, never `sub` nor `exp`. */
export interface SetClaims {
  iss: string;
  aud: string | string[];
  iat: number;
  jti: string;
  txn?: string;
  sub_id: SubjectIdentifier;
  /** Exactly one event. */
  events: Record<string, Record<string, unknown>>;
}

/** A stream's configuration as the management API reads and writes it (SSF §8.1.1). */
export interface StreamConfiguration {
  stream_id: string;
  iss: string;
  aud: string | string[];
  events_supported: string[];
  events_requested: string[];
  events_delivered: string[];
  delivery: { method: DeliveryMethod; endpoint_url: string; authorization_header?: string };
  min_verification_interval: number;
  description?: string;
}

/** RFC 8935 §2.3 / RFC 8936 §2.4.4 error codes a receiver reports for a SET. */
export type SetErrorCode =
  | "invalid_request"
  | "invalid_key"
  | "invalid_issuer"
  | "invalid_audience"
  | "authentication_failed"
  | "access_denied"
  | (string & {});

/** RFC 8936 §2.4 poll request. */
export interface PollRequest {
  maxEvents?: number;
  returnImmediately?: boolean;
  ack?: string[];
  setErrs?: Record<string, { err: SetErrorCode; description?: string }>;
}

/** RFC 8936 §2.5 poll response. */
export interface PollResponse {
  sets: Record<string, string>;
  moreAvailable: boolean;
}
