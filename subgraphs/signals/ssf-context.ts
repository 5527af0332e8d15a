/** What the transmitter's parts share: configuration, storage, keys, the issuer, and a wake-up signal. */
import type { EntityManager } from "typeorm";
import type { Actor, AuditTrail, Change } from "../../lib/audit.js";
import type { Outbox } from "../../lib/events/outbox.js";
import type { Logger } from "../../lib/logger.js";
import type { SsfConfig } from "./config.js";
import type { Sealer } from "./crypto.js";
import type { SsfRepository } from "./data/repository.js";
import type { KeyStore } from "./keys.js";
import { DeliveryMethod } from "./protocol.js";
import type { ReceiverRecord, StreamRecord } from "./data/entities.js";

export interface SsfContext {
  config: SsfConfig;
  /** Production without MTD_SSF_ALLOW_HTTP: https only, and the egress rules (egress.ts) at registration and at connect time. */
  strictEgress: boolean;
  maxBodyBytes: number;
  repository: SsfRepository;
  keys: KeyStore;
  sealer: Sealer;
  logger: Logger;
  notifier: Notifier;
  /** The issuer in effect (configured, or the signals service's own origin once it listens). */
  issuer(): string;
  /** The signals service's audit trail and the outbox that publishes its entries. */
  audit?: { trail: AuditTrail; outbox: Pick<Outbox, "flush"> };
}

/**
 * A configuration change and its audit entry in one transaction (the
 * entry's `audit.recorded` event is published after the commit). `work`
 * returns the result and the change to record (null: nothing to record).
 */
export async function audited<T>(
  context: SsfContext,
  tenantId: string,
  actor: Actor,
  work: (manager: EntityManager) => Promise<{ result: T; change: Change | null }>,
): Promise<T> {
  const result = await context.repository.dataSource.transaction(async (manager) => {
    const { result, change } = await work(manager);
    if (change !== null && context.audit !== undefined) await context.audit.trail.record(manager, tenantId, actor, change);
    return result;
  });
  void context.audit?.outbox.flush();
  return result;
}

/** What the audit trail keeps of a receiver (never its secret). */
export function auditedReceiver(receiver: ReceiverRecord) {
  return { clientId: receiver.clientId, name: receiver.name, audience: receiver.audience, oktaOrgUrl: receiver.oktaOrgUrl };
}

/** What the audit trail keeps of a stream (whether it has an authorization header, never the header). */
export function auditedStream(stream: StreamRecord) {
  return {
    streamId: stream.streamId,
    clientId: stream.clientId,
    deliveryMethod: stream.deliveryMethod,
    endpointUrl: stream.endpointUrl,
    authorizationHeader: stream.authorizationHeader === null ? null : "(set)",
    eventsRequested: stream.eventsRequested,
    description: stream.description,
    status: stream.status,
    statusReason: stream.statusReason,
  };
}

/** A receiver acting through the management API, as an audit actor. */
export function receiverActor(receiver: ReceiverRecord): Actor {
  return { subject: receiver.clientId, role: "ssf-receiver" };
}

/** In-process wake-ups: new SETs for a stream (push workers and long polls listen). Other replicas find them by polling the table. */
export class Notifier {
  private readonly listeners = new Set<(streamId: string) => void>();

  wake(streamId: string): void {
    for (const listener of [...this.listeners]) listener(streamId);
  }

  listen(listener: (streamId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The endpoint URLs of the transmitter, from the issuer. */
export function endpoints(issuer: string) {
  return {
    metadata: wellKnown(issuer),
    jwks: `${issuer}/ssf/jwks.json`,
    configuration: `${issuer}/ssf/stream`,
    status: `${issuer}/ssf/status`,
    addSubject: `${issuer}/ssf/subjects:add`,
    removeSubject: `${issuer}/ssf/subjects:remove`,
    verification: `${issuer}/ssf/verify`,
    token: `${issuer}/oauth/token`,
    poll: (streamId: string) => `${issuer}/ssf/poll/${encodeURIComponent(streamId)}`,
  };
}

/** SSF §7.2: `/.well-known/ssf-configuration` inserted between the host and the issuer's path. */
export function wellKnown(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.origin}/.well-known/ssf-configuration${path}`;
}

export function methodUri(stream: StreamRecord): DeliveryMethod {
  return stream.deliveryMethod === "push" ? DeliveryMethod.PUSH : DeliveryMethod.POLL;
}
