/**
 * A Shared Signals receiver for tests, written from the specifications, not
 * from our transmitter: it verifies every SET it gets (RFC 8417, SSF 1.0 §4,
 * CAEP 1.0), dedupes by `jti`, and serves an RFC 8935 push endpoint that can
 * be scripted to answer 503, 429 or 400, or to go away entirely.
 *
 * Verification of a SET:
 * - JWS signed RS256 by a key of the transmitter's JWKS, found by `kid`; an
 *   unknown `kid` makes the receiver fetch the JWKS again (key rotation);
 * - header `typ: secevent+jwt`;
 * - `iss` = the issuer, `aud` = our audience, `iat` present and not in the
 *   future (jose does not check that), `jti` present;
 * - no `sub`, no `exp`; `sub_id` present with a `format`;
 * - exactly one event; CAEP and SSF event claims valid.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createLocalJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from "jose";

export const CAEP = {
  DEVICE_COMPLIANCE_CHANGE: "https://schemas.openid.net/secevent/caep/event-type/device-compliance-change",
  SESSION_REVOKED: "https://schemas.openid.net/secevent/caep/event-type/session-revoked",
} as const;
export const SSF = {
  VERIFICATION: "https://schemas.openid.net/secevent/ssf/event-type/verification",
  STREAM_UPDATED: "https://schemas.openid.net/secevent/ssf/event-type/stream-updated",
} as const;

const CLOCK_SKEW_SECONDS = 5;
const COMPLIANCE = ["compliant", "not-compliant"];
const INITIATING = ["admin", "user", "policy", "system"];
const STATUSES = ["enabled", "paused", "disabled"];

export interface ReceivedSet {
  jti: string;
  kid: string;
  claims: JWTPayload & { sub_id: Record<string, unknown>; events: Record<string, Record<string, unknown>>; txn?: string };
  /** The single event type and its claims. */
  type: string;
  event: Record<string, unknown>;
  receivedAt: number;
}

export class SetRejected extends Error {
  constructor(
    readonly err: "invalid_request" | "invalid_key" | "invalid_issuer" | "invalid_audience",
    message: string,
  ) {
    super(message);
  }
}

/** Verifies SETs of one transmitter for one audience; refetches the JWKS when it meets an unknown `kid`. */
export class SetVerifier {
  private jwks: JSONWebKeySet = { keys: [] };
  /** How many times the JWKS was fetched. */
  jwksFetches = 0;
  readonly kidsSeen = new Set<string>();

  constructor(
    readonly issuer: string,
    readonly audience: string,
    private readonly jwksUri: string,
  ) {}

  async refresh(): Promise<void> {
    const response = await fetch(this.jwksUri);
    if (response.status !== 200) throw new Error(`JWKS ${this.jwksUri}: ${response.status}`);
    if (!(response.headers.get("content-type") ?? "").startsWith("application/json")) throw new Error("JWKS must be application/json");
    this.jwks = (await response.json()) as JSONWebKeySet;
    this.jwksFetches += 1;
  }

  async verify(token: string): Promise<ReceivedSet> {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new SetRejected("invalid_request", "not a JWS");
    }
    if (header.typ !== "secevent+jwt") throw new SetRejected("invalid_request", `typ must be secevent+jwt; got ${String(header.typ)}`);
    if (header.alg !== "RS256") throw new SetRejected("invalid_request", `alg must be RS256; got ${String(header.alg)}`);
    if (typeof header.kid !== "string") throw new SetRejected("invalid_key", "kid missing");
    if (!this.jwks.keys.some((key) => key.kid === header.kid)) await this.refresh();
    if (!this.jwks.keys.some((key) => key.kid === header.kid)) throw new SetRejected("invalid_key", `unknown kid ${header.kid}`);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, createLocalJWKSet(this.jwks), { algorithms: ["RS256"], typ: "secevent+jwt", issuer: this.issuer, audience: this.audience }));
    } catch (error) {
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === "iss") throw new SetRejected("invalid_issuer", error.message);
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === "aud") throw new SetRejected("invalid_audience", error.message);
      throw new SetRejected("invalid_key", error instanceof Error ? error.message : String(error));
    }
    this.kidsSeen.add(header.kid);
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.iat !== "number") throw new SetRejected("invalid_request", "iat missing");
    if (payload.iat > now + CLOCK_SKEW_SECONDS) throw new SetRejected("invalid_request", `iat ${payload.iat} is in the future (now ${now})`);
    if (typeof payload.jti !== "string" || payload.jti === "") throw new SetRejected("invalid_request", "jti missing");
    if ("sub" in payload) throw new SetRejected("invalid_request", "a SET must not carry sub (SSF §4.1.2)");
    if ("exp" in payload) throw new SetRejected("invalid_request", "a SET must not carry exp (SSF §4.1.6)");
    const subId = payload.sub_id as Record<string, unknown> | undefined;
    if (typeof subId !== "object" || subId === null || typeof subId.format !== "string") throw new SetRejected("invalid_request", "sub_id missing or without format");
    const events = payload.events as Record<string, Record<string, unknown>> | undefined;
    if (typeof events !== "object" || events === null) throw new SetRejected("invalid_request", "events missing");
    const types = Object.keys(events);
    if (types.length !== 1) throw new SetRejected("invalid_request", `exactly one event per SET; got ${types.length}`);
    const type = types[0]!;
    const event = events[type]!;
    checkEvent(type, event, subId);
    return { jti: payload.jti, kid: header.kid, claims: payload as ReceivedSet["claims"], type, event, receivedAt: Date.now() };
  }
}

function checkEvent(type: string, event: Record<string, unknown>, subId: Record<string, unknown>): void {
  const fail = (why: string) => {
    throw new SetRejected("invalid_request", `${type}: ${why}`);
  };
  const caep = () => {
    if (!Number.isInteger(event.event_timestamp)) fail("event_timestamp must be a NumericDate");
    if (event.initiating_entity !== undefined && !INITIATING.includes(event.initiating_entity as string)) fail(`initiating_entity ${String(event.initiating_entity)}`);
    const reason = event.reason_admin as Record<string, unknown> | undefined;
    if (typeof reason !== "object" || reason === null || Object.keys(reason).length === 0) fail("reason_admin must be a non-empty object");
    for (const [tag, text] of Object.entries(reason!)) {
      if (!/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]+)*$/.test(tag) || typeof text !== "string" || text.trim() === "") fail(`reason_admin.${tag} must be non-empty text`);
    }
    if (subId.format !== "complex" || typeof subId.device !== "object") fail("sub_id must be a complex subject with a device");
  };
  switch (type) {
    case CAEP.DEVICE_COMPLIANCE_CHANGE:
      if (!COMPLIANCE.includes(event.previous_status as string)) fail(`previous_status ${String(event.previous_status)}`);
      if (!COMPLIANCE.includes(event.current_status as string)) fail(`current_status ${String(event.current_status)}`);
      caep();
      return;
    case CAEP.SESSION_REVOKED:
      caep();
      return;
    case SSF.VERIFICATION:
      if (event.state !== undefined && typeof event.state !== "string") fail("state must be a string");
      if (subId.format !== "opaque" || typeof subId.id !== "string") fail("sub_id must be the opaque stream id");
      return;
    case SSF.STREAM_UPDATED:
      if (!STATUSES.includes(event.status as string)) fail(`status ${String(event.status)}`);
      if (subId.format !== "opaque" || typeof subId.id !== "string") fail("sub_id must be the opaque stream id");
      return;
    default:
      fail("unexpected event type");
  }
}

/** What the push endpoint answers next, instead of 202. */
export type Scripted = { status: 503 } | { status: 429; retryAfter?: number } | { status: 400; err: string; description?: string };

export interface PushReceiverOptions {
  /** Set it later (`receiver.verifier = …`) when the audience depends on the receiver's own URL (Okta). */
  verifier?: SetVerifier;
  /** The `Authorization` header the transmitter must send verbatim; unset: none expected. */
  authorization?: string;
  /** Path of the push endpoint. Default `/events`. */
  path?: string;
}

export interface PushAttempt {
  at: number;
  authorization: string | undefined;
  contentType: string | undefined;
  status: number;
}

/** An RFC 8935 push endpoint on port 0. */
export class PushReceiver {
  /** Accepted SETs, each `jti` once, in arrival order. */
  readonly sets: ReceivedSet[] = [];
  readonly attempts: PushAttempt[] = [];
  readonly rejected: { err: string; description: string }[] = [];
  duplicates = 0;
  private readonly seen = new Set<string>();
  private readonly script: Scripted[] = [];
  private server: Server;
  private readonly sockets = new Set<Socket>();
  private listeners: (() => void)[] = [];
  port = 0;
  verifier: SetVerifier | undefined;

  constructor(private readonly options: PushReceiverOptions) {
    this.verifier = options.verifier;
    this.server = this.createServer();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}${this.options.path ?? "/events"}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(this.port, "127.0.0.1", () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Answers the next pushes with these responses, in order. */
  respondWith(...responses: Scripted[]): void {
    this.script.push(...responses);
  }

  /** Goes away: the port refuses connections until `up()`. */
  async down(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server = this.createServer();
  }

  async up(): Promise<void> {
    await this.start();
  }

  /** Resolves once `predicate` holds for the received SETs (checked on every change; no polling). */
  until(predicate: (sets: ReceivedSet[]) => boolean, timeoutMs = 10_000, what = "SETs"): Promise<ReceivedSet[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(this.sets)) return false;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((listener) => listener !== check);
        resolve(this.sets);
        return true;
      };
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((listener) => listener !== check);
        reject(new Error(`receiver: ${what} not received within ${timeoutMs} ms (have ${this.sets.length}: ${this.sets.map((set) => set.type.split("/").at(-1)).join(", ")}; rejected ${JSON.stringify(this.rejected)})`));
      }, timeoutMs);
      if (!check()) this.listeners.push(check);
    });
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private createServer(): Server {
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.writeHead(500);
        response.end(String(error));
      });
    });
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    return server;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const attempt: PushAttempt = { at: Date.now(), authorization: request.headers.authorization, contentType: request.headers["content-type"], status: 0 };
    this.attempts.push(attempt);
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      attempt.status = status;
      response.writeHead(status, body === undefined ? headers : { "content-type": "application/json", ...headers });
      response.end(body === undefined ? undefined : JSON.stringify(body));
      for (const listener of [...this.listeners]) listener();
    };
    if (request.method !== "POST" || request.url !== (this.options.path ?? "/events")) return reply(404);
    // RFC 8935 §2.4: authentication failures are reported as authentication_failed.
    if (request.headers.authorization !== this.options.authorization) {
      return reply(400, { err: "authentication_failed", description: "wrong or missing Authorization" });
    }
    if (request.headers["content-type"] !== "application/secevent+jwt") {
      return reply(400, { err: "invalid_request", description: "content-type must be application/secevent+jwt" });
    }
    const scripted = this.script.shift();
    if (scripted !== undefined) {
      if (scripted.status === 429) return reply(429, undefined, scripted.retryAfter === undefined ? {} : { "retry-after": String(scripted.retryAfter) });
      if (scripted.status === 400) return reply(400, { err: scripted.err, description: scripted.description ?? "scripted" });
      return reply(503);
    }
    let set: ReceivedSet;
    try {
      if (this.verifier === undefined) throw new Error("receiver: no verifier set");
      set = await this.verifier.verify(Buffer.concat(chunks).toString("utf8"));
    } catch (error) {
      if (!(error instanceof SetRejected)) throw error;
      this.rejected.push({ err: error.err, description: error.message });
      return reply(400, { err: error.err, description: error.message });
    }
    if (this.seen.has(set.jti)) {
      this.duplicates += 1;
    } else {
      this.seen.add(set.jti);
      this.sets.push(set);
    }
    reply(202);
  }
}

/** An RFC 8936 poll client: POSTs the poll body, verifies every SET returned, dedupes by `jti`. */
export class PollClient {
  readonly sets: ReceivedSet[] = [];
  duplicates = 0;
  private readonly seen = new Set<string>();

  constructor(
    private readonly verifier: SetVerifier,
    private readonly endpoint: string,
    private readonly token: () => Promise<string>,
  ) {}

  async poll(body: Record<string, unknown>): Promise<{ status: number; body: any; fresh: ReceivedSet[] }> {
    const response = await fetch(this.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${await this.token()}` },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as { sets?: Record<string, string>; moreAvailable?: boolean };
    const fresh: ReceivedSet[] = [];
    if (response.status === 200) {
      for (const [jti, token] of Object.entries(json.sets ?? {})) {
        const set = await this.verifier.verify(token);
        if (set.jti !== jti) throw new Error(`poll: sets key ${jti} is not the SET's jti ${set.jti}`);
        if (this.seen.has(jti)) {
          this.duplicates += 1;
          continue;
        }
        this.seen.add(jti);
        this.sets.push(set);
        fresh.push(set);
      }
    }
    return { status: response.status, body: json, fresh };
  }
}
