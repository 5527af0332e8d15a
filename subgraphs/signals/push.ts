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
 * Dead letters stay listed for admins, who may queue them again.
 */
import type { SsfContext } from "./ssf-context.js";
import type { DeliveryRecord, StreamRecord } from "./data/entities.js";
import type { SetBody } from "./sets.js";
import { claims } from "./sets.js";
import { SET_TYP } from "./protocol.js";

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
const MAX_ERROR_BODY = 2048;

type Outcome = { kind: "delivered" } | { kind: "retry"; error: string; retryAfterMs?: number } | { kind: "dead"; error: string };

export class PushWorker {
  private stopped = false;
  private wake?: () => void;
  private loop?: Promise<void>;
  private unlisten?: () => void;
  private lastPrune = 0;

  constructor(private readonly context: SsfContext) {}

  start(): void {
    this.unlisten = this.context.notifier.listen(() => this.wake?.());
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unlisten?.();
    this.wake?.();
    await this.loop;
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
      outcome = { kind: "retry", error: `signing failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    const finishedAt = Date.now();
    if (outcome.kind === "delivered") {
      await repository.finish(row.sequence, "delivered", { attempts, now: finishedAt });
      await repository.recordOutcome(stream.streamId, { ok: true });
      return true;
    }
    await repository.recordOutcome(stream.streamId, { ok: false, error: outcome.error });
    const givenUp = finishedAt - row.createdAt >= config.pushGiveUpSeconds * 1000;
    if (outcome.kind === "dead" || givenUp) {
      const error = outcome.kind === "dead" ? outcome.error : `gave up after ${attempts} attempts over ${Math.round((finishedAt - row.createdAt) / 1000)} s; last: ${outcome.error}`;
      await repository.finish(row.sequence, "dead", { attempts, error, now: finishedAt });
      this.context.logger.warn({ streamId: stream.streamId, jti: row.jti, error }, "ssf: SET moved to the dead letters");
      return true;
    }
    const delayMs = Math.max(backoff(attempts, config.pushRetryBaseMs, config.pushRetryMaxMs), outcome.retryAfterMs ?? 0);
    await repository.retryLater(row.sequence, { attempts, nextAttemptAt: finishedAt + delayMs, error: outcome.error });
    return true;
  }

  private async post(stream: StreamRecord, row: DeliveryRecord, now: number): Promise<Outcome> {
    const body = JSON.parse(row.body) as SetBody;
    const token = await this.context.keys.sign({ ...claims(body, { iss: this.context.issuer(), aud: stream.audience, jti: row.jti, now }) }, SET_TYP, now);
    const headers: Record<string, string> = { "content-type": "application/secevent+jwt", accept: "application/json" };
    if (stream.authorizationHeader !== null) headers.authorization = this.context.sealer.open(stream.authorizationHeader, stream.streamId);
    let response: Response;
    try {
      response = await fetch(stream.endpointUrl!, {
        method: "POST",
        headers,
        body: token,
        redirect: "manual",
        signal: AbortSignal.timeout(this.context.config.pushTimeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return { kind: "retry", error: `network: ${cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error))}` };
    }
    const text = await readLimited(response);
    if (response.status >= 200 && response.status < 300) return { kind: "delivered" };
    if (response.status === 400) {
      const { err, description } = setError(text);
      const error = `400 ${err ?? "(no err)"}${description === undefined ? "" : `: ${description}`}`;
      return err === "invalid_key" ? { kind: "retry", error } : { kind: "dead", error };
    }
    const error = `${response.status}${text === "" ? "" : `: ${text.slice(0, 200)}`}`;
    if (response.status === 429 || response.status >= 500 || [401, 403, 404, 408, 425].includes(response.status)) {
      return { kind: "retry", error, retryAfterMs: retryAfter(response.headers.get("retry-after")) };
    }
    return { kind: "dead", error: response.status >= 300 && response.status < 400 ? `${response.status} redirect not followed` : error };
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

function setError(text: string): { err?: string; description?: string } {
  try {
    const body = JSON.parse(text) as { err?: unknown; description?: unknown };
    return { err: typeof body.err === "string" ? body.err : undefined, description: typeof body.description === "string" ? body.description.slice(0, 300) : undefined };
  } catch {
    return {};
  }
}

/** The response body, at most MAX_ERROR_BODY bytes of it. */
async function readLimited(response: Response): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ERROR_BODY) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // a body cut short says nothing more
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).toString("utf8").slice(0, MAX_ERROR_BODY);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
