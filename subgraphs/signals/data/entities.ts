/**
 * The Shared Signals transmitter's tables, all prefixed `ssf_`, in the signals
 * service's database. Times the delivery workers compare are epoch
 * milliseconds (numbers); the rest are Dates through `timestampColumn`.
 */
import { EntitySchema } from "typeorm";
import { integerColumn, timestampColumn } from "../../../lib/db.js";

/** A signing key. Generation n+1 takes over from n at its `activatesAt`; see `../keys.ts`. */
export interface SigningKeyRecord {
  /** RFC 7638 JWK thumbprint (SHA-256) of the public key. */
  kid: string;
  generation: number;
  /** Public JWK (JSON). */
  publicJwk: string;
  /** Private JWK, sealed (`../crypto.ts`) with the kid as context. */
  privateJwk: string;
  createdAt: Date;
  activatesAt: Date;
}

/** A receiver registered by a tenant admin: an OAuth client of our token endpoint, or an Okta org. */
export interface ReceiverRecord {
  clientId: string;
  tenantId: string;
  name: string;
  /** The `aud` of every SET to this receiver. */
  audience: string;
  /** SHA-256 of the client secret; null for Okta receivers, which do not call our API. */
  secretHash: string | null;
  /** Okta mode: the org URL (push to `<org>/security/api/v1/security-events`, `aud` = org URL). */
  oktaOrgUrl: string | null;
  createdAt: Date;
}

export type DeliveryMethodName = "push" | "poll";
export type StreamStatusName = "enabled" | "paused" | "disabled";

export interface StreamRecord {
  streamId: string;
  tenantId: string;
  /** The receiver; one stream per receiver (a second create is 409). */
  clientId: string;
  audience: string;
  eventsRequested: string[];
  deliveryMethod: DeliveryMethodName;
  /** Push: the receiver's URL. Poll: null (ours, derived from the issuer). */
  endpointUrl: string | null;
  /** Push: the `authorization_header` sent verbatim, sealed with the stream id as context. */
  authorizationHeader: string | null;
  description: string | null;
  status: StreamStatusName;
  statusReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** Last verification requested by the receiver (for `min_verification_interval`). */
  lastVerificationAt: Date | null;
  lastDeliveredAt: Date | null;
  lastErrorAt: Date | null;
  lastError: string | null;
  consecutiveFailures: number;
}

/** A subject the receiver added or removed (SSF §8.1.3). With `default_subjects: ALL`, only removals filter. */
export interface SubjectRecord {
  streamId: string;
  /** SHA-256 of the canonical subject JSON. */
  subjectKey: string;
  subject: string;
  state: "added" | "removed";
  updatedAt: Date;
}

export type DeliveryStatus = "pending" | "delivered" | "dead" | "dropped";

/** One SET for one stream: the durable per-stream outbox of push and poll delivery. */
export interface DeliveryRecord {
  /** Insertion order; per `orderKey`, delivery order. */
  sequence: number;
  streamId: string;
  jti: string;
  eventType: string;
  /** Per-subject order: the device id, or `stream:<id>` for verification and stream-updated. */
  orderKey: string;
  /** The compliance change this SET reports (the SET's `txn`). */
  txn: string | null;
  /** The device, for dead-letter listings. */
  deviceId: string | null;
  /** JSON `{ sub_id, events, txn? }`; `iss`, `aud`, `iat` and `jti` are added when it is signed. */
  body: string;
  /** Stream-updated: delivered whatever the stream's status ("before stopping the stream", SSF §8.1.5). */
  control: boolean;
  status: DeliveryStatus;
  attempts: number;
  /** Epoch ms: push, when the next attempt is due; poll, when a returned SET may be returned again. */
  nextAttemptAt: number;
  /** Epoch ms until which a push worker holds the row (another replica leaves it alone). */
  claimedUntil: number | null;
  createdAt: number;
  /** Epoch ms of acceptance (push 2xx, poll ack) or of the final failure. */
  finishedAt: number | null;
  lastError: string | null;
}

/** The last compliance change fanned out per device: per-device order across consumers (see `../fanout.ts`). */
export interface DeviceStateRecord {
  tenantId: string;
  deviceId: string;
  current: "COMPLIANT" | "NONCOMPLIANT";
  /** Epoch ms of the change (`ComplianceChangedPayload.at`). */
  at: number;
  eventId: string;
}

export interface SsfProcessedEventRecord {
  consumerGroup: string;
  eventId: string;
  processedAt: Date;
}

const json = <T>() => ({
  to: (value: T) => JSON.stringify(value),
  from: (value: string) => JSON.parse(value) as T,
});

const ms = (name: string, nullable = false) => integerColumn({ name, big: true, nullable });

export const SigningKeyEntity = new EntitySchema<SigningKeyRecord>({
  name: "SsfSigningKey",
  tableName: "ssf_signing_keys",
  columns: {
    kid: { type: "varchar", length: 64, primary: true },
    generation: { ...integerColumn({ name: "generation" }), unique: true },
    publicJwk: { type: "text", name: "public_jwk" },
    privateJwk: { type: "text", name: "private_jwk" },
    createdAt: timestampColumn({ name: "created_at" }),
    activatesAt: timestampColumn({ name: "activates_at" }),
  },
});

export const ReceiverEntity = new EntitySchema<ReceiverRecord>({
  name: "SsfReceiver",
  tableName: "ssf_receivers",
  columns: {
    clientId: { type: "varchar", length: 64, primary: true, name: "client_id" },
    tenantId: { type: "varchar", length: 64, name: "tenant_id" },
    name: { type: "varchar", length: 256 },
    audience: { type: "varchar", length: 512 },
    secretHash: { type: "varchar", length: 128, name: "secret_hash", nullable: true },
    oktaOrgUrl: { type: "varchar", length: 512, name: "okta_org_url", nullable: true },
    createdAt: timestampColumn({ name: "created_at" }),
  },
});

export const StreamEntity = new EntitySchema<StreamRecord>({
  name: "SsfStream",
  tableName: "ssf_streams",
  columns: {
    streamId: { type: "varchar", length: 64, primary: true, name: "stream_id" },
    tenantId: { type: "varchar", length: 64, name: "tenant_id" },
    clientId: { type: "varchar", length: 64, name: "client_id", unique: true },
    audience: { type: "varchar", length: 512 },
    eventsRequested: { type: "text", name: "events_requested", transformer: json<string[]>() },
    deliveryMethod: { type: "varchar", length: 8, name: "delivery_method" },
    endpointUrl: { type: "varchar", length: 2048, name: "endpoint_url", nullable: true },
    authorizationHeader: { type: "text", name: "authorization_header", nullable: true },
    description: { type: "varchar", length: 256, nullable: true },
    status: { type: "varchar", length: 16 },
    statusReason: { type: "varchar", length: 256, name: "status_reason", nullable: true },
    createdAt: timestampColumn({ name: "created_at" }),
    updatedAt: timestampColumn({ name: "updated_at" }),
    lastVerificationAt: timestampColumn({ name: "last_verification_at", nullable: true }),
    lastDeliveredAt: timestampColumn({ name: "last_delivered_at", nullable: true }),
    lastErrorAt: timestampColumn({ name: "last_error_at", nullable: true }),
    lastError: { type: "varchar", length: 512, name: "last_error", nullable: true },
    consecutiveFailures: integerColumn({ name: "consecutive_failures" }),
  },
});

export const SubjectEntity = new EntitySchema<SubjectRecord>({
  name: "SsfSubject",
  tableName: "ssf_subjects",
  columns: {
    streamId: { type: "varchar", length: 64, primary: true, name: "stream_id" },
    subjectKey: { type: "varchar", length: 64, primary: true, name: "subject_key" },
    subject: { type: "text" },
    state: { type: "varchar", length: 8 },
    updatedAt: timestampColumn({ name: "updated_at" }),
  },
});

export const DeliveryEntity = new EntitySchema<DeliveryRecord>({
  name: "SsfDelivery",
  tableName: "ssf_deliveries",
  columns: {
    sequence: { ...integerColumn({ name: "sequence", big: true }), primary: true, generated: "increment" },
    streamId: { type: "varchar", length: 64, name: "stream_id" },
    jti: { type: "varchar", length: 64, unique: true },
    eventType: { type: "varchar", length: 128, name: "event_type" },
    orderKey: { type: "varchar", length: 200, name: "order_key" },
    txn: { type: "varchar", length: 64, nullable: true },
    deviceId: { type: "varchar", length: 128, name: "device_id", nullable: true },
    body: { type: "text" },
    control: { type: "boolean" },
    status: { type: "varchar", length: 16 },
    attempts: integerColumn({ name: "attempts" }),
    nextAttemptAt: ms("next_attempt_at"),
    claimedUntil: ms("claimed_until", true),
    createdAt: ms("created_at"),
    finishedAt: ms("finished_at", true),
    lastError: { type: "varchar", length: 512, name: "last_error", nullable: true },
  },
});

export const DeviceStateEntity = new EntitySchema<DeviceStateRecord>({
  name: "SsfDeviceState",
  tableName: "ssf_device_states",
  columns: {
    tenantId: { type: "varchar", length: 64, primary: true, name: "tenant_id" },
    deviceId: { type: "varchar", length: 128, primary: true, name: "device_id" },
    current: { type: "varchar", length: 16, name: "compliance" },
    at: ms("at"),
    eventId: { type: "varchar", length: 64, name: "event_id" },
  },
});

export const SsfProcessedEventEntity = new EntitySchema<SsfProcessedEventRecord>({
  name: "SsfProcessedEvent",
  tableName: "ssf_processed_events",
  columns: {
    consumerGroup: { type: "varchar", length: 64, primary: true, name: "consumer_group" },
    eventId: { type: "varchar", length: 64, primary: true, name: "event_id" },
    processedAt: timestampColumn({ name: "processed_at" }),
  },
  // Retention prunes the records by age, like every service's processed events (lib/retention.ts).
  indices: [{ name: "ssf_processed_events_at", columns: ["processedAt"] }],
});

export const SSF_ENTITIES = [SigningKeyEntity, ReceiverEntity, StreamEntity, SubjectEntity, DeliveryEntity, DeviceStateEntity, SsfProcessedEventEntity];
