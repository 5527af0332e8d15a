/**
 * Push delivery (RFC 8935): a worker per replica sends each push stream's
 * queued SETs, per subject in order (the first pending SET of a subject
 * blocks the later ones), several subjects at a time.
 *
 * One attempt: claim the row (conditional UPDATE, so replicas never send the
 * same SET at once), sign it with the active key, POST it with
 * `Content-Type: application/secevent+jwt` and the stream's
 * `authorization_header` verbatim (none if none). Then:
 * - 2xx (202 per RFC 8935): delivered;
 * - network error, timeout, 5xx, 429 (honouring Retry-After), 401, 403, 404,
 *   408, 425, and 400 `invalid_key` (the receiver's JWKS may be stale):
 *   retried with exponential backoff and jitter, until `pushGiveUpSeconds`
 *   after the SET was queued, then a dead letter;
 * - 400 with any other `err` (`invalid_request`, `invalid_issuer`,
 *   `invalid_audience`, …), other 4xx, redirects: a dead letter at once
 *   (sending the same SET again cannot succeed).
 * Dead letters stay listed for admins, who may queue them again. Health and
 * dead letters record a coarse category of each failure (push-failures.ts);
 * the detail is logged. Requests go through `PushTransport`, which applies
 * the egress rules (egress.ts).
 */
import type { SsfContext } from "./ssf-context.js";
import type { DeliveryRecord, StreamRecord } from "./data/entities.js";
import type { SetBody } from "./sets.js";
import { claims } from "./sets.js";
import { SET_TYP } from "./protocol.js";
import { signingFailure, statusFailure, transportFailure, type PushFailure } from "./push-failures.js";
import type { PushResponse, PushTransport } from "./push-transport.js";

/** SETs of one stream in flight at once (distinct subjects). */
const CONCURRENCY_PER_STREAM = 8;
/** Streams drained at once. */
const STREAMS_AT_ONCE = 8;
/** How often the worker looks for SETs queued by other replicas. */
const IDLE_SCAN_MS = 1000;
/** The shortest pause after a sweep that sent nothing. */
const MIN_IDLE_MS = 20;
/** How long delivered SETs are kept (visible in health, then pruned). */
const KEEP_DELIVERED_MS = 24 * 3600_000;
/** Statuses worth retrying besides 5xx (and 400 invalid_key: the receiver's JWKS may be stale). */
const RETRIED = [401, 403, 404, 408, 425, 429];

type Outcome = { kind: "delivered" } | { kind: "retry"; failure: PushFailure; retryAfterMs?: number } | { kind: "dead"; failure: PushFailure };

export class PushWorker {
  private stopped = false;
  private wake?: () => void;
  private loop?: Promise<void>;
  private unlisten?: () => void;
  private lastPrune = 0;

  constructor(
    private readonly context: SsfContext,
    private readonly transport: PushTransport,
  ) {}

  start(): void {
    this.unlisten = this.context.notifier.listen(() => this.wake?.());
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unlisten?.();
    this.wake?.();
    await this.loop;
    this.transport.close();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let woken = false;
      const sleeping = new Promise<void>((resolve) => {
        this.wake = () => {
          woken = true;
          resolve();
        };
      });
      try {
        const attempts = await this.sweep();
        if (woken) continue;
        const next = await this.context.repository.nextDueAt();
        let wait = next === null ? IDLE_SCAN_MS : Math.max(0, Math.min(IDLE_SCAN_MS, next - Date.now()));
        // Never spin: database calls may resolve without yielding to timers and I/O (SQLite).
        if (attempts === 0) wait = Math.max(wait, MIN_IDLE_MS);
        if (wait > 0) await Promise.race([sleeping, delay(wait)]);
      } catch (error) {
        if (this.stopped) return;
        this.context.logger.warn({ err: error }, "ssf: push sweep failed; retrying");
        await Promise.race([sleeping, delay(IDLE_SCAN_MS)]);
      }
    }
  }

  /** Sends everything due, stream by stream, until nothing is due. Returns how many attempts it made. */
  private async sweep(): Promise<number> {
    const now = Date.now();
    if (now - this.lastPrune > 60_000) {
      this.lastPrune = now;
      await this.context.repository.prune(now - KEEP_DELIVERED_MS);
    }
    const streams = await this.context.repository.dueStreams(now);
    let attempts = 0;
    for (let i = 0; i < streams.length && !this.stopped; i += STREAMS_AT_ONCE) {
      const made = await Promise.all(streams.slice(i, i + STREAMS_AT_ONCE).map((streamId) => this.drain(streamId)));
      attempts += made.reduce((sum, n) => sum + n, 0);
    }
    return attempts;
  }

  private async drain(streamId: string): Promise<number> {
    let attempts = 0;
    while (!this.stopped) {
      const stream = await this.context.repository.stream(streamId);
      if (stream === null || stream.deliveryMethod !== "push" || stream.endpointUrl === null) return attempts;
      const now = Date.now();
      const heads = await this.context.repository.dueHeads(streamId, stream.status === "enabled", now, CONCURRENCY_PER_STREAM);
      if (heads.length === 0) return attempts;
      const sent = await Promise.all(heads.map((row) => this.attempt(stream, row)));
      attempts += sent.filter(Boolean).length;
      if (!sent.some(Boolean)) return attempts;
    }
    return attempts;
  }

  /** One attempt at one SET; false when another worker had it. */
  private async attempt(stream: StreamRecord, row: DeliveryRecord): Promise<boolean> {
    const { repository, config } = this.context;
    const now = Date.now();
    if (!(await repository.claim(row.sequence, now + config.pushTimeoutMs + 5000, now))) return false;
    const attempts = row.attempts + 1;
    let outcome: Outcome;
    try {
      outcome = await this.post(stream, row, now);
    } catch (error) {
      outcome = { kind: "retry", failure: signingFailure(error) };
    }
    const finishedAt = Date.now();
    if (outcome.kind === "delivered") {
      await repository.finish(row.sequence, "delivered", { attempts, now: finishedAt });
      await repository.recordOutcome(stream.streamId, { ok: true });
      return true;
    }
    const { category, detail } = outcome.failure;
    await repository.recordOutcome(stream.streamId, { ok: false, error: category });
    const givenUp = finishedAt - row.createdAt >= config.pushGiveUpSeconds * 1000;
    const logged = { streamId: stream.streamId, jti: row.jti, attempts, error: category, detail };
    if (outcome.kind === "dead" || givenUp) {
      const error = outcome.kind === "dead" ? category : `gave up after ${attempts} attempts over ${Math.round((finishedAt - row.createdAt) / 1000)} s; last: ${category}`;
      await repository.finish(row.sequence, "dead", { attempts, error, now: finishedAt });
      this.context.logger.warn(logged, "ssf: SET moved to the dead letters");
      return true;
    }
    const delayMs = Math.max(backoff(attempts, config.pushRetryBaseMs, config.pushRetryMaxMs), outcome.retryAfterMs ?? 0);
    await repository.retryLater(row.sequence, { attempts, nextAttemptAt: finishedAt + delayMs, error: category });
    this.context.logger.info(logged, "ssf: push failed; will retry");
    return true;
  }

  private async post(stream: StreamRecord, row: DeliveryRecord, now: number): Promise<Outcome> {
    const body = JSON.parse(row.body) as SetBody;
    const token = await this.context.keys.sign({ ...claims(body, { iss: this.context.issuer(), aud: stream.audience, jti: row.jti, now }) }, SET_TYP, now);
    const headers: Record<string, string> = { "content-type": "application/secevent+jwt", accept: "application/json" };
    if (stream.authorizationHeader !== null) headers.authorization = this.context.sealer.open(stream.authorizationHeader, stream.streamId);
    let response: PushResponse;
    try {
      response = await this.transport.post(stream.endpointUrl!, headers, token);
    } catch (error) {
      return { kind: "retry", failure: transportFailure(error) };
    }
    if (response.status >= 200 && response.status < 300) return { kind: "delivered" };
    const failure = statusFailure(response.status, response.body);
    if (response.status === 400) return failure.err === "invalid_key" ? { kind: "retry", failure } : { kind: "dead", failure };
    if (response.status >= 500 || RETRIED.includes(response.status)) return { kind: "retry", failure, retryAfterMs: retryAfter(response.retryAfter) };
    return { kind: "dead", failure }; // other 4xx; 3xx: redirects are not followed
  }
}

/** Exponential backoff with jitter: a random delay in [cap/2, cap], cap = min(max, base·2^(n−1)). */
export function backoff(attempt: number, baseMs: number, maxMs: number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(30, attempt - 1));
  return Math.round(cap / 2 + Math.random() * (cap / 2));
}

function retryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
