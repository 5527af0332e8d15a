/**
 * The Event Stream Management API (SSF 1.0 §8): configuration (create, read,
 * update, replace, delete), status, subjects and verification, with SSF's
 * status codes. A receiver sees only its own stream (404 for any other id);
 * we allow one stream per receiver, so a second create is 409.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isUniqueViolation } from "../../lib/db.js";
import type { Actor } from "../../lib/audit.js";
import { audited, auditedStream, endpoints, methodUri, receiverActor, type SsfContext } from "./ssf-context.js";
import { randomId } from "./crypto.js";
import { hostProblem } from "./egress.js";
import type { StreamRecord, StreamStatusName } from "./data/entities.js";
import { badRequest, HttpError, methodNotAllowed, notFound, optionalString, readJsonObject, requiredString, sendEmpty, sendJson } from "./http.js";
import type { ReceiverAuth } from "./oauth.js";
import { DELIVERY_METHODS, DeliveryMethod, EVENTS_SUPPORTED, EventType, Scope, STREAM_STATUSES, type StreamConfiguration, type StreamStatus, type SubjectIdentifier } from "./protocol.js";
import { streamUpdatedSet, verificationSet } from "./sets.js";
import { subjectKey, subjectProblem } from "./subjects.js";

const MAX_EVENTS_REQUESTED = 50;
const MAX_DESCRIPTION = 256;
/** The longest push endpoint (the `endpoint_url` column). */
const MAX_ENDPOINT_URL = 2048;
/** What an `authorization_header` may hold: one line of visible ASCII, spaces and tabs, as an HTTP field value can carry it. */
const HEADER_VALUE = /^[\t\x20-\x7e]{0,4096}$/;
/** The delivery settings of a stream, as stored. */
export interface Delivery {
  method: "push" | "poll";
  endpointUrl: string | null;
  authorizationHeader: string | null;
}

export class StreamApi {
  constructor(
    private readonly context: SsfContext,
    private readonly auth: ReceiverAuth,
  ) {}

  /** `/ssf/stream` (the configuration endpoint). */
  async configuration(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    switch (request.method) {
      case "GET":
        return this.read(request, response, url);
      case "POST":
        return this.create(request, response);
      case "PATCH":
        return this.update(request, response, "patch");
      case "PUT":
        return this.update(request, response, "put");
      case "DELETE":
        return this.remove(request, response, url);
      default:
        throw methodNotAllowed(["GET", "POST", "PATCH", "PUT", "DELETE"]);
    }
  }

  /** `/ssf/status`. */
  async status(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (request.method === "GET") {
      const caller = await this.auth.authenticate(request, Scope.READ);
      const streamId = url.searchParams.get("stream_id");
      if (streamId === null || streamId === "") throw badRequest("stream_id: required");
      const stream = await this.ownStream(caller.receiver.clientId, streamId);
      return sendJson(response, 200, statusOf(stream));
    }
    if (request.method !== "POST") throw methodNotAllowed(["GET", "POST"]);
    const caller = await this.auth.authenticate(request, Scope.MANAGE);
    const body = await readJsonObject(request, this.context.maxBodyBytes);
    const streamId = requiredString(body, "stream_id", 64);
    const status = requiredString(body, "status", 16);
    if (!STREAM_STATUSES.includes(status as StreamStatus)) throw badRequest(`status: expected one of ${STREAM_STATUSES.join(", ")}; got "${status}"`);
    const reason = optionalString(body, "reason", MAX_DESCRIPTION);
    const stream = await this.ownStream(caller.receiver.clientId, streamId);
    // Asked for by the receiver: no stream-updated event (SSF §8.1.2: only for changes the transmitter decides).
    const updated = await changeStatus(this.context, stream, status as StreamStatus, reason ?? null, { notify: false, actor: receiverActor(caller.receiver) });
    sendJson(response, 200, statusOf(updated));
  }

  /** `/ssf/subjects:add` and `/ssf/subjects:remove`. */
  async subjects(request: IncomingMessage, response: ServerResponse, state: "added" | "removed"): Promise<void> {
    if (request.method !== "POST") throw methodNotAllowed(["POST"]);
    const caller = await this.auth.authenticate(request, Scope.MANAGE);
    const body = await readJsonObject(request, this.context.maxBodyBytes);
    const streamId = requiredString(body, "stream_id", 64);
    const problem = subjectProblem(body.subject);
    if (problem !== undefined) throw badRequest(problem);
    if (state === "added" && body.verified !== undefined && typeof body.verified !== "boolean") throw badRequest("verified: expected a boolean");
    const stream = await this.ownStream(caller.receiver.clientId, streamId);
    const subject = body.subject as SubjectIdentifier;
    await this.context.repository.setSubject({ streamId: stream.streamId, subjectKey: subjectKey(subject), subject: JSON.stringify(subject), state, updatedAt: new Date() });
    if (state === "added") sendEmpty(response, 200);
    else sendEmpty(response, 204);
  }

  /** `/ssf/verify`: 204 at once; the verification SET follows through the stream's delivery. */
  async verify(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== "POST") throw methodNotAllowed(["POST"]);
    const caller = await this.auth.authenticate(request, Scope.MANAGE);
    const body = await readJsonObject(request, this.context.maxBodyBytes);
    const streamId = requiredString(body, "stream_id", 64);
    const state = optionalString(body, "state", 1024);
    const stream = await this.ownStream(caller.receiver.clientId, streamId);
    const now = Date.now();
    const intervalMs = this.context.config.minVerificationIntervalSeconds * 1000;
    const last = stream.lastVerificationAt?.getTime();
    if (last !== undefined && now - last < intervalMs) {
      const retryAfter = Math.ceil((last + intervalMs - now) / 1000);
      throw new HttpError(429, "too_many_requests", `at most one verification every ${this.context.config.minVerificationIntervalSeconds} s`, { "retry-after": String(retryAfter) });
    }
    await this.context.repository.updateStream(stream.streamId, { lastVerificationAt: new Date(now) });
    // A disabled stream transmits nothing; a paused one holds the verification like any event.
    if (stream.status !== "disabled") {
      await this.context.repository.dataSource.transaction((manager) =>
        this.context.repository.enqueue(manager, [
          { streamId: stream.streamId, jti: randomId(), eventType: EventType.VERIFICATION, orderKey: `verify:${stream.streamId}`, txn: null, deviceId: null, body: JSON.stringify(verificationSet(stream.streamId, state)), control: false },
        ]),
      );
      this.context.notifier.wake(stream.streamId);
    }
    sendEmpty(response, 204);
  }

  private async read(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const caller = await this.auth.authenticate(request, Scope.READ);
    const streamId = url.searchParams.get("stream_id");
    if (streamId === null) {
      const streams = await this.context.repository.streamsOfClient(caller.receiver.clientId);
      return sendJson(response, 200, streams.map((stream) => configurationOf(this.context, stream)));
    }
    const stream = await this.ownStream(caller.receiver.clientId, streamId);
    sendJson(response, 200, configurationOf(this.context, stream));
  }

  private async create(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const caller = await this.auth.authenticate(request, Scope.MANAGE);
    const body = await readJsonObject(request, this.context.maxBodyBytes);
    if (caller.receiver.oktaOrgUrl !== null) throw new HttpError(403, "access_denied", "an Okta receiver's stream is managed through MTD Graph");
    const eventsRequested = eventsRequestedOf(body) ?? [];
    const delivery = this.deliveryOf(body, undefined);
    const description = descriptionOf(body);
    if ((await this.context.repository.streamsOfClient(caller.receiver.clientId)).length > 0) throw conflict();
    const stream = newStream({
      tenantId: caller.receiver.tenantId,
      clientId: caller.receiver.clientId,
      audience: caller.receiver.audience,
      eventsRequested,
      deliveryMethod: delivery.method,
      endpointUrl: delivery.endpointUrl,
      authorizationHeader: null,
      description,
    });
    stream.authorizationHeader = this.sealHeader(stream.streamId, delivery.authorizationHeader);
    try {
      await audited(this.context, stream.tenantId, receiverActor(caller.receiver), async (manager) => {
        await this.context.repository.insertStream(manager, stream);
        return { result: undefined, change: { action: "ssfStream.created", targetType: "SsfStream", targetId: stream.streamId, before: null, after: auditedStream(stream) } };
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(); // a concurrent create of the same receiver won
      throw error;
    }
    sendJson(response, 201, configurationOf(this.context, stream));
  }

  private async update(request: IncomingMessage, response: ServerResponse, mode: "patch" | "put"): Promise<void> {
    const caller = await this.auth.authenticate(request, Scope.MANAGE);
    const body = await readJsonObject(request, this.context.maxBodyBytes);
    const streamId = requiredString(body, "stream_id", 64);
    const stream = await this.ownStream(caller.receiver.clientId, streamId);
    if (caller.receiver.oktaOrgUrl !== null) throw new HttpError(403, "access_denied", "an Okta receiver's stream is managed through MTD Graph");
    checkTransmitterSupplied(body, configurationOf(this.context, stream));
    const values: Partial<StreamRecord> = {};
    const requested = eventsRequestedOf(body);
    if (requested !== undefined || mode === "put") values.eventsRequested = requested ?? [];
    if (body.delivery !== undefined || mode === "put") {
      const delivery = this.deliveryOf(body, stream);
      values.deliveryMethod = delivery.method;
      values.endpointUrl = delivery.endpointUrl;
      values.authorizationHeader = this.sealHeader(stream.streamId, delivery.authorizationHeader);
    }
    if (body.description !== undefined || mode === "put") values.description = descriptionOf(body);
    const updated = { ...stream, ...values };
    await audited(this.context, stream.tenantId, receiverActor(caller.receiver), async (manager) => {
      await this.context.repository.updateStream(stream.streamId, values, manager);
      return { result: undefined, change: { action: "ssfStream.updated", targetType: "SsfStream", targetId: stream.streamId, before: auditedStream(stream), after: auditedStream(updated) } };
    });
    this.context.notifier.wake(stream.streamId);
    sendJson(response, 200, configurationOf(this.context, updated));
  }

  private async remove(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const caller = await this.auth.authenticate(request, Scope.MANAGE);
    const streamId = url.searchParams.get("stream_id");
    if (streamId === null || streamId === "") throw badRequest("stream_id: required");
    const stream = await this.ownStream(caller.receiver.clientId, streamId);
    await audited(this.context, stream.tenantId, receiverActor(caller.receiver), async (manager) => {
      await this.context.repository.deleteStream(manager, stream.streamId);
      return { result: undefined, change: { action: "ssfStream.deleted", targetType: "SsfStream", targetId: stream.streamId, before: auditedStream(stream), after: null } };
    });
    sendEmpty(response, 204);
  }

  /** The receiver's stream `streamId`; 404 for an unknown id and for another receiver's stream alike. */
  private async ownStream(clientId: string, streamId: string): Promise<StreamRecord> {
    const stream = await this.context.repository.stream(streamId);
    if (stream === null || stream.clientId !== clientId) throw notFound(`no stream "${streamId.slice(0, 64)}" for this receiver`);
    return stream;
  }

  /** `delivery` of a request: absent means poll (SSF §8.1.1.1); push needs the receiver's `endpoint_url`. */
  private deliveryOf(body: Record<string, unknown>, stream: StreamRecord | undefined): Delivery {
    const value = body.delivery;
    if (value === undefined || value === null) return { method: "poll", endpointUrl: null, authorizationHeader: null };
    if (typeof value !== "object" || Array.isArray(value)) throw badRequest("delivery: expected an object with method and endpoint_url");
    const delivery = value as Record<string, unknown>;
    const method = delivery.method ?? DeliveryMethod.POLL;
    if (typeof method !== "string" || !DELIVERY_METHODS.includes(method as DeliveryMethod)) {
      throw badRequest(`delivery.method: expected ${DELIVERY_METHODS.join(" or ")}; got ${JSON.stringify(method)}`);
    }
    if (method === DeliveryMethod.POLL) {
      // Transmitter-supplied for poll: a receiver may echo ours, nothing else.
      if (delivery.endpoint_url !== undefined && stream !== undefined && delivery.endpoint_url !== endpoints(this.context.issuer()).poll(stream.streamId)) {
        throw badRequest("delivery.endpoint_url: for poll delivery it is set by the transmitter");
      }
      return { method: "poll", endpointUrl: null, authorizationHeader: null };
    }
    const endpointUrl = delivery.endpoint_url;
    if (typeof endpointUrl !== "string" || endpointUrl === "") throw badRequest("delivery.endpoint_url: required for push delivery");
    const problem = pushUrlProblem(endpointUrl, this.context.strictEgress);
    if (problem !== undefined) throw badRequest(`delivery.endpoint_url: ${problem}`);
    const authorization = delivery.authorization_header;
    if (authorization !== undefined && authorization !== null && (typeof authorization !== "string" || !HEADER_VALUE.test(authorization))) {
      throw badRequest("delivery.authorization_header: expected one line of at most 4096 visible ASCII characters, spaces or tabs");
    }
    return { method: "push", endpointUrl, authorizationHeader: (authorization as string | null | undefined) ?? null };
  }

  private sealHeader(streamId: string, header: string | null): string | null {
    return header === null ? null : this.context.sealer.seal(header, streamId);
  }
}

/**
 * Changes a stream's status. Disabling drops what it holds ("will not hold
 * any events"). With `notify` (the transmitter decided, not the receiver) a
 * stream-updated SET goes out whatever the new status (SSF §8.1.5: sent
 * before the stream stops).
 */
export async function changeStatus(
  context: SsfContext,
  stream: StreamRecord,
  status: StreamStatus,
  reason: string | null,
  options: { notify: boolean; actor: Actor },
): Promise<StreamRecord> {
  const now = Date.now();
  const values = { status: status as StreamStatusName, statusReason: reason };
  const updated = { ...stream, ...values };
  await audited(context, stream.tenantId, options.actor, async (manager) => {
    await context.repository.updateStream(stream.streamId, values, manager);
    if (status === "disabled") await context.repository.dropPending(stream.streamId, now, manager);
    if (options.notify) {
      await context.repository.enqueue(manager, [
        {
          streamId: stream.streamId,
          jti: randomId(),
          eventType: EventType.STREAM_UPDATED,
          orderKey: `stream:${stream.streamId}`,
          txn: null,
          deviceId: null,
          body: JSON.stringify(streamUpdatedSet(stream.streamId, status, reason ?? undefined)),
          control: true,
        },
      ]);
    }
    const before = { status: stream.status, statusReason: stream.statusReason };
    return { result: undefined, change: { action: "ssfStream.statusChanged", targetType: "SsfStream", targetId: stream.streamId, before, after: values } };
  });
  context.notifier.wake(stream.streamId);
  return updated;
}

export function configurationOf(context: SsfContext, stream: StreamRecord): StreamConfiguration {
  const issuer = context.issuer();
  const delivered = EVENTS_SUPPORTED.filter((event) => stream.eventsRequested.includes(event));
  const configuration: StreamConfiguration = {
    stream_id: stream.streamId,
    iss: issuer,
    aud: stream.audience,
    events_supported: [...EVENTS_SUPPORTED],
    events_requested: stream.eventsRequested,
    events_delivered: delivered,
    delivery: { method: methodUri(stream), endpoint_url: stream.endpointUrl ?? endpoints(issuer).poll(stream.streamId) },
    min_verification_interval: context.config.minVerificationIntervalSeconds,
  };
  if (stream.description !== null) configuration.description = stream.description;
  return configuration;
}

function statusOf(stream: StreamRecord) {
  return stream.statusReason === null ? { stream_id: stream.streamId, status: stream.status } : { stream_id: stream.streamId, status: stream.status, reason: stream.statusReason };
}

function conflict(): HttpError {
  return new HttpError(409, "conflict", "this receiver already has a stream (one per receiver): read it and PATCH or PUT it");
}

function eventsRequestedOf(body: Record<string, unknown>): string[] | undefined {
  const value = body.events_requested;
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((event) => typeof event !== "string" || event.length > 256)) {
    throw badRequest("events_requested: expected an array of event type URIs");
  }
  if (value.length > MAX_EVENTS_REQUESTED) throw badRequest(`events_requested: expected at most ${MAX_EVENTS_REQUESTED} entries; got ${value.length}`);
  // Values we do not understand are ignored (SSF §8.1.1) but kept: they are the receiver's request.
  return [...new Set(value as string[])];
}

function descriptionOf(body: Record<string, unknown>): string | null {
  const value = body.description;
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw badRequest("description: expected a string");
  return value.slice(0, MAX_DESCRIPTION); // "The transmitter MAY truncate"
}

/**
 * PATCH and PUT: transmitter-supplied properties other than `stream_id` may
 * be present but must match ours (`events_delivered` as before the update).
 */
function checkTransmitterSupplied(body: Record<string, unknown>, current: StreamConfiguration): void {
  const same = (a: unknown, b: unknown) => JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
  for (const name of ["iss", "aud", "events_supported", "events_delivered", "min_verification_interval"] as const) {
    if (body[name] !== undefined && !same(body[name], current[name])) {
      throw badRequest(`${name}: transmitter-supplied and does not match (expected ${JSON.stringify(current[name])})`);
    }
  }
  if (body.inactivity_timeout !== undefined) throw badRequest("inactivity_timeout: transmitter-supplied; this transmitter sets none");
}

/** Arrays as sorted sets; a one-element `aud` array equals the string. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 1 ? value[0] : [...value].map(String).sort();
  return value;
}

/**
 * A push endpoint must be an absolute https URL (http outside production or
 * with MTD_SSF_ALLOW_HTTP) of at most 2048 characters, without credentials or fragment; when `strict`
 * its host may not be an internal or reserved address or name (egress.ts;
 * what a name resolves to is checked again when the push connects).
 */
export function pushUrlProblem(value: string, strict: boolean): string | undefined {
  if (value.length > MAX_ENDPOINT_URL) return `expected at most ${MAX_ENDPOINT_URL} characters; got ${value.length}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "expected an absolute URL";
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && !strict)) return `expected https${strict ? "" : " or http"}; got "${url.protocol}"`;
  if (url.username !== "" || url.password !== "") return "credentials in the URL are not allowed (use authorization_header)";
  if (url.hash !== "") return "a fragment is not allowed";
  return strict ? hostProblem(url.hostname) : undefined;
}

/** A new, enabled stream that has delivered nothing yet. */
export function newStream(
  fields: Pick<StreamRecord, "tenantId" | "clientId" | "audience" | "eventsRequested" | "deliveryMethod" | "endpointUrl" | "authorizationHeader" | "description">,
): StreamRecord {
  const now = new Date();
  return {
    ...fields,
    streamId: randomId(),
    status: "enabled",
    statusReason: null,
    createdAt: now,
    updatedAt: now,
    lastVerificationAt: null,
    lastDeliveredAt: null,
    lastErrorAt: null,
    lastError: null,
    consecutiveFailures: 0,
  };
}
