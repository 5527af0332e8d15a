/**
 * Poll delivery (RFC 8936) at `/ssf/poll/<stream_id>`: acknowledgements
 * (`ack`) and errors (`setErrs`) are applied first, then up to `maxEvents`
 * SETs are returned, oldest first (per subject in order). A returned SET
 * stays queued until acknowledged or reported in `setErrs`; it is returned
 * again once `pollRedeliverMs` passed without either. `maxEvents: 0` is an
 * acknowledge-only request. Without `returnImmediately: true` an empty poll
 * is held open until a SET arrives or `pollWaitMaxMs` passed.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SsfContext } from "./ssf-context.js";
import type { DeliveryRecord, StreamRecord } from "./data/entities.js";
import { HttpError, methodNotAllowed, readJsonObject, sendJson } from "./http.js";
import type { ReceiverAuth } from "./oauth.js";
import { Scope, SET_TYP, type PollResponse } from "./protocol.js";
import { claims, type SetBody } from "./sets.js";

const DEFAULT_MAX_EVENTS = 100;
const MAX_MAX_EVENTS = 1000;
/** While a long poll waits, how often it looks for SETs queued by other replicas. */
const RECHECK_MS = 500;

interface ParsedPoll {
  maxEvents: number;
  returnImmediately: boolean;
  ack: string[];
  setErrs: Map<string, string>;
}

export class PollApi {
  constructor(
    private readonly context: SsfContext,
    private readonly auth: ReceiverAuth,
  ) {}

  async handle(request: IncomingMessage, response: ServerResponse, streamId: string): Promise<void> {
    if (request.method !== "POST") throw methodNotAllowed(["POST"]);
    const caller = await this.auth.authenticate(request, Scope.READ);
    const stream = await this.context.repository.stream(streamId);
    if (stream === null || stream.clientId !== caller.receiver.clientId) throw setError(404, "not_found", `no stream "${streamId.slice(0, 64)}" for this receiver`);
    if (stream.deliveryMethod !== "poll") throw setError(400, "invalid_request", "this stream uses push delivery");
    const poll = parse(await readJsonObject(request, this.context.maxBodyBytes, true));

    const now = Date.now();
    const acknowledged = await this.context.repository.acknowledge(stream.streamId, poll.ack, now);
    await this.context.repository.reject(stream.streamId, poll.setErrs, now);
    if (acknowledged > 0) await this.context.repository.recordOutcome(stream.streamId, { ok: true });
    for (const [jti, error] of poll.setErrs) this.context.logger.warn({ streamId: stream.streamId, jti, error }, "ssf: receiver reported a SET error");

    let result = await this.take(stream, poll.maxEvents);
    if (Object.keys(result.sets).length === 0 && poll.maxEvents > 0 && !poll.returnImmediately) {
      result = await this.wait(request, stream, poll.maxEvents);
    }
    sendJson(response, 200, result);
  }

  /** Holds the poll until SETs arrive, the wait bound passes, or the client goes away. */
  private async wait(request: IncomingMessage, stream: StreamRecord, maxEvents: number): Promise<PollResponse> {
    const deadline = Date.now() + this.context.config.pollWaitMaxMs;
    let wake: () => void = () => {};
    const unlisten = this.context.notifier.listen((streamId) => {
      if (streamId === stream.streamId) wake();
    });
    let gone = false;
    const onClose = () => {
      gone = true;
      wake();
    };
    request.socket.once("close", onClose);
    try {
      for (;;) {
        const remaining = deadline - Date.now();
        if (remaining <= 0 || gone) return { sets: {}, moreAvailable: false };
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.min(RECHECK_MS, remaining)).unref();
        });
        if (gone) return { sets: {}, moreAvailable: false };
        const current = (await this.context.repository.stream(stream.streamId)) ?? stream;
        const result = await this.take(current, maxEvents);
        if (Object.keys(result.sets).length > 0) return result;
      }
    } finally {
      unlisten();
      request.socket.off("close", onClose);
    }
  }

  /** Hands out up to `maxEvents` SETs (leasing each until it may be returned again). */
  private async take(stream: StreamRecord, maxEvents: number): Promise<PollResponse> {
    const now = Date.now();
    const enabled = stream.status === "enabled";
    const rows = await this.context.repository.pollable(stream.streamId, enabled, now, maxEvents + 1);
    const sets: Record<string, string> = {};
    let taken = 0;
    for (const row of rows) {
      if (taken === maxEvents) break;
      if (!(await this.context.repository.lease(row.sequence, row.attempts + 1, now + this.context.config.pollRedeliverMs, now))) continue;
      sets[row.jti] = await this.sign(stream, row, now);
      taken += 1;
    }
    const moreAvailable = rows.length > maxEvents || (maxEvents === 0 && rows.length > 0);
    return { sets, moreAvailable };
  }

  private sign(stream: StreamRecord, row: DeliveryRecord, now: number): Promise<string> {
    const body = JSON.parse(row.body) as SetBody;
    return this.context.keys.sign({ ...claims(body, { iss: this.context.issuer(), aud: stream.audience, jti: row.jti, now }) }, SET_TYP, now);
  }
}

function parse(body: Record<string, unknown>): ParsedPoll {
  const maxEvents = body.maxEvents ?? DEFAULT_MAX_EVENTS;
  if (typeof maxEvents !== "number" || !Number.isInteger(maxEvents) || maxEvents < 0) {
    throw setError(400, "invalid_request", `maxEvents: expected a non-negative integer; got ${JSON.stringify(maxEvents)}`);
  }
  const returnImmediately = body.returnImmediately ?? false;
  if (typeof returnImmediately !== "boolean") throw setError(400, "invalid_request", "returnImmediately: expected a boolean");
  const ack = body.ack ?? [];
  if (!Array.isArray(ack) || ack.some((jti) => typeof jti !== "string") || ack.length > 10_000) {
    throw setError(400, "invalid_request", "ack: expected an array of jti strings");
  }
  const errs = body.setErrs ?? {};
  if (typeof errs !== "object" || errs === null || Array.isArray(errs)) throw setError(400, "invalid_request", "setErrs: expected an object of jti → { err, description }");
  const setErrs = new Map<string, string>();
  for (const [jti, value] of Object.entries(errs as Record<string, unknown>)) {
    const entry = value as { err?: unknown; description?: unknown } | null;
    if (typeof entry !== "object" || entry === null || typeof entry.err !== "string") {
      throw setError(400, "invalid_request", `setErrs.${jti.slice(0, 64)}: expected { err: string, description?: string }`);
    }
    const description = typeof entry.description === "string" ? `: ${entry.description}` : "";
    setErrs.set(jti, `receiver reported ${entry.err}${description}`);
  }
  return { maxEvents: Math.min(maxEvents, MAX_MAX_EVENTS), returnImmediately, ack: ack as string[], setErrs };
}

/** RFC 8936 errors have the RFC 8935 shape `{ err, description }`. */
function setError(status: number, err: string, description: string): HttpError {
  return new HttpError(status, err, description, {}, true);
}
