/**
 * What a tenant admin does through the graph: register receivers (an OAuth
 * client, or an Okta org whose stream we create), see streams with their
 * delivery health and dead letters, pause or disable a stream (a
 * transmitter-initiated change: stream-updated is sent), requeue dead letters.
 */
import { badUserInput, notFound } from "../../lib/errors.js";
import type { Actor } from "../../lib/audit.js";
import { audited, auditedReceiver, auditedStream, endpoints, wellKnown, type SsfContext } from "./ssf-context.js";
import { hashSecret, newSecret, randomId } from "./crypto.js";
import type { DeliveryRecord, ReceiverRecord, StreamRecord } from "./data/entities.js";
import type { StreamHealthCounts } from "./data/repository.js";
import { EventType, type StreamStatus } from "./protocol.js";
import { changeStatus, newStream, pushUrlProblem } from "./streams.js";

/** Okta's SET intake, relative to the org URL. */
export const OKTA_SECURITY_EVENTS_PATH = "/security/api/v1/security-events";

export interface RegisterReceiverInput {
  name: string;
  audience?: string;
  okta?: { orgUrl: string; sessionRevoked?: boolean };
}

export interface Registration {
  receiver: ReceiverRecord;
  /** Shown once. Null for Okta receivers (Okta does not call our API). */
  clientSecret: string | null;
  issuer: string;
  tokenEndpoint: string;
  configurationUrl: string;
}

export interface StreamHealth extends StreamHealthCounts {
  lastDeliveredAt: Date | null;
  lastErrorAt: Date | null;
  lastError: string | null;
  consecutiveFailures: number;
}

export class SsfAdmin {
  constructor(private readonly context: SsfContext) {}

  async registerReceiver(tenantId: string, input: RegisterReceiverInput, actor: Actor): Promise<Registration> {
    const clientId = `ssf-${randomId(12)}`;
    const now = new Date();
    if (input.okta !== undefined) {
      const orgUrl = input.okta.orgUrl.trim().replace(/\/+$/, "");
      const problem = pushUrlProblem(orgUrl, this.context.strictEgress);
      if (problem !== undefined) throw badUserInput("input.okta.orgUrl", problem);
      if (new URL(orgUrl).pathname !== "/" && new URL(orgUrl).pathname !== "") throw badUserInput("input.okta.orgUrl", "expected the org URL only, e.g. https://acme.okta.com");
      const receiver: ReceiverRecord = { clientId, tenantId, name: input.name, audience: orgUrl, secretHash: null, oktaOrgUrl: orgUrl, createdAt: now };
      const stream = newStream({
        tenantId,
        clientId,
        audience: orgUrl,
        eventsRequested: input.okta.sessionRevoked ? [EventType.DEVICE_COMPLIANCE_CHANGE, EventType.SESSION_REVOKED] : [EventType.DEVICE_COMPLIANCE_CHANGE],
        deliveryMethod: "push",
        endpointUrl: `${orgUrl}${OKTA_SECURITY_EVENTS_PATH}`,
        authorizationHeader: null, // Okta authenticates the SET by its signature (the provider's JWKS), no header
        description: `Okta org ${orgUrl}`,
      });
      return audited(this.context, tenantId, actor, async (manager) => {
        await this.context.repository.insertReceiver(manager, receiver, stream);
        const change = { action: "ssfReceiver.registered", targetType: "SsfReceiver", targetId: clientId, before: null, after: { ...auditedReceiver(receiver), stream: auditedStream(stream) } };
        return { result: this.registration(receiver, null), change };
      });
    }
    const audience = input.audience?.trim() || clientId;
    if (audience.length > 512) throw badUserInput("input.audience", `expected at most 512 characters; got ${audience.length}`);
    const secret = newSecret();
    const receiver: ReceiverRecord = { clientId, tenantId, name: input.name, audience, secretHash: hashSecret(secret), oktaOrgUrl: null, createdAt: now };
    return audited(this.context, tenantId, actor, async (manager) => {
      await this.context.repository.insertReceiver(manager, receiver);
      return { result: this.registration(receiver, secret), change: { action: "ssfReceiver.registered", targetType: "SsfReceiver", targetId: clientId, before: null, after: auditedReceiver(receiver) } };
    });
  }

  /** A new client secret; the old one stops working at once (tokens already issued run out). */
  async rotateSecret(tenantId: string, clientId: string, actor: Actor): Promise<Registration> {
    const receiver = await this.ownReceiver(tenantId, clientId);
    if (receiver.oktaOrgUrl !== null) throw badUserInput("clientId", "an Okta receiver has no client secret");
    const secret = newSecret();
    return audited(this.context, tenantId, actor, async (manager) => {
      await this.context.repository.updateSecret(manager, clientId, hashSecret(secret));
      // The entry says that the secret changed, never what it is.
      const change = { action: "ssfReceiver.secretRotated", targetType: "SsfReceiver", targetId: clientId, before: { secret: "(previous)" }, after: { secret: "(new)" } };
      return { result: this.registration(receiver, secret), change };
    });
  }

  async removeReceiver(tenantId: string, clientId: string, actor: Actor): Promise<void> {
    const receiver = await this.ownReceiver(tenantId, clientId);
    const streams = await this.context.repository.streamsOfClient(clientId);
    await audited(this.context, tenantId, actor, async (manager) => {
      await this.context.repository.deleteReceiver(manager, clientId);
      const before = { ...auditedReceiver(receiver), streams: streams.map(auditedStream) };
      return { result: undefined, change: { action: "ssfReceiver.removed", targetType: "SsfReceiver", targetId: clientId, before, after: null } };
    });
  }

  receivers(tenantId: string): Promise<ReceiverRecord[]> {
    return this.context.repository.receivers(tenantId);
  }

  async receiversByIds(tenantId: string, clientIds: readonly string[]): Promise<(ReceiverRecord | null)[]> {
    const found = new Map((await this.context.repository.receiversByIds(tenantId, clientIds)).map((receiver) => [receiver.clientId, receiver]));
    return clientIds.map((id) => found.get(id) ?? null);
  }

  streams(tenantId: string): Promise<StreamRecord[]> {
    return this.context.repository.streamsOfTenant(tenantId);
  }

  async health(streams: readonly StreamRecord[]): Promise<StreamHealth[]> {
    const counts = await this.context.repository.health(streams.map((stream) => stream.streamId));
    return streams.map((stream) => ({
      ...counts.get(stream.streamId)!,
      lastDeliveredAt: stream.lastDeliveredAt,
      lastErrorAt: stream.lastErrorAt,
      lastError: stream.lastError,
      consecutiveFailures: stream.consecutiveFailures,
    }));
  }

  /** The tenant's dead letters (of one stream, or all), newest first. */
  async deadLetters(tenantId: string, options: { streamId?: string; before?: number; limit: number }): Promise<{ rows: DeliveryRecord[]; totalCount: number }> {
    const streams = await this.context.repository.streamsOfTenant(tenantId);
    const ids = streams.map((stream) => stream.streamId).filter((id) => options.streamId === undefined || id === options.streamId);
    const [rows, totalCount] = await Promise.all([
      this.context.repository.deadLetters(ids, { before: options.before, limit: options.limit }),
      this.context.repository.countDeadLetters(ids),
    ]);
    return { rows, totalCount };
  }

  async setStreamStatus(tenantId: string, streamId: string, status: StreamStatus, reason: string | null, actor: Actor): Promise<StreamRecord> {
    const stream = await this.ownStream(tenantId, streamId);
    return changeStatus(this.context, stream, status, reason, { notify: true, actor });
  }

  async redeliverDeadLetters(tenantId: string, streamId: string, actor: Actor): Promise<number> {
    const stream = await this.ownStream(tenantId, streamId);
    const count = await audited(this.context, tenantId, actor, async (manager) => {
      const count = await this.context.repository.redeliver(stream.streamId, Date.now(), manager);
      const change = count === 0 ? null : { action: "ssfStream.deadLettersRequeued", targetType: "SsfStream", targetId: streamId, before: { deadLetters: count }, after: { deadLetters: 0 } };
      return { result: count, change };
    });
    this.context.notifier.wake(stream.streamId);
    return count;
  }

  async streamOf(tenantId: string, streamId: string): Promise<StreamRecord | null> {
    const stream = await this.context.repository.stream(streamId);
    return stream !== null && stream.tenantId === tenantId ? stream : null;
  }

  endpointUrl(stream: StreamRecord): string {
    return stream.endpointUrl ?? endpoints(this.context.issuer()).poll(stream.streamId);
  }

  private registration(receiver: ReceiverRecord, clientSecret: string | null): Registration {
    const issuer = this.context.issuer();
    return { receiver, clientSecret, issuer, tokenEndpoint: endpoints(issuer).token, configurationUrl: wellKnown(issuer) };
  }

  private async ownReceiver(tenantId: string, clientId: string): Promise<ReceiverRecord> {
    const receiver = await this.context.repository.receiver(clientId);
    if (receiver === null || receiver.tenantId !== tenantId) throw notFound("SsfReceiver", clientId);
    return receiver;
  }

  private async ownStream(tenantId: string, streamId: string): Promise<StreamRecord> {
    const stream = await this.streamOf(tenantId, streamId);
    if (stream === null) throw notFound("SsfStream", streamId);
    return stream;
  }
}
