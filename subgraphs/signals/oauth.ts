/**
 * Receivers authenticate to the management API and the poll endpoint with
 * OAuth 2.0 bearer tokens (RFC 6750) from our token endpoint, client
 * credentials grant (RFC 6749 §4.4), client authentication by HTTP Basic
 * (`client_secret_basic`, §2.3.1) or form parameters (`client_secret_post`).
 *
 * Access tokens are JWTs (RFC 9068, `typ: at+jwt`) signed with the
 * transmitter's key: any replica verifies them without a lookup table; the
 * receiver is still looked up on every request, so removing it (or rotating
 * its secret does not, by design) cuts it off at once.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { errors as joseErrors, importJWK, jwtVerify, decodeProtectedHeader } from "jose";
import type { SsfContext } from "./ssf-context.js";
import type { ReceiverRecord } from "./data/entities.js";
import { badRequest, HttpError, readForm, sendJson, type Handler } from "./http.js";
import { ACCESS_TOKEN_TYP, SCOPES, SIGNING_ALG, Scope } from "./protocol.js";
import { secretMatches } from "./crypto.js";
import type { TokenEndpointLimits } from "./token-limits.js";

export interface Caller {
  receiver: ReceiverRecord;
  scopes: Scope[];
}

const CLOCK_TOLERANCE_SECONDS = 30;

export class ReceiverAuth {
  constructor(
    private readonly context: SsfContext,
    private readonly limits: TokenEndpointLimits,
  ) {}

  /** `POST /oauth/token`: rate-limited per source address and per client id before the secret is checked. */
  readonly token: Handler = async (request, response) => {
    if (request.method !== "POST") throw new HttpError(405, "invalid_request", "expected POST", { allow: "POST" });
    await this.limits.address(request);
    const form = await readForm(request, 16 * 1024);
    const basic = basicCredentials(request);
    const clientId = basic?.clientId ?? form.get("client_id") ?? undefined;
    const clientSecret = basic?.clientSecret ?? form.get("client_secret") ?? undefined;
    const challenge: Record<string, string> = basic === undefined ? {} : { "www-authenticate": 'Basic realm="ssf"' };
    if (clientId === undefined || clientSecret === undefined) {
      throw new HttpError(401, "invalid_client", "client authentication required (HTTP Basic or client_id and client_secret)", { "www-authenticate": 'Basic realm="ssf"' });
    }
    await this.limits.client(clientId);
    const receiver = await this.context.repository.receiver(clientId);
    if (receiver === null || receiver.secretHash === null || !secretMatches(clientSecret, receiver.secretHash)) {
      throw new HttpError(401, "invalid_client", "unknown client or wrong secret", challenge);
    }
    const grantType = form.get("grant_type");
    if (grantType === null) throw badRequest("grant_type: required");
    if (grantType !== "client_credentials") throw new HttpError(400, "unsupported_grant_type", `expected client_credentials; got "${grantType}"`);
    const requested = (form.get("scope") ?? SCOPES.join(" ")).split(" ").filter((scope) => scope !== "");
    const unknown = requested.filter((scope) => !SCOPES.includes(scope as Scope));
    if (unknown.length > 0 || requested.length === 0) {
      throw new HttpError(400, "invalid_scope", `expected scopes among ${SCOPES.join(", ")}; got "${unknown.join(" ") || "none"}"`);
    }
    const ttl = this.context.config.tokenTtlSeconds;
    const now = Math.floor(Date.now() / 1000);
    const issuer = this.context.issuer();
    const accessToken = await this.context.keys.sign(
      { iss: issuer, aud: issuer, sub: receiver.clientId, client_id: receiver.clientId, tid: receiver.tenantId, scope: requested.join(" "), iat: now, exp: now + ttl, jti: randomUUID() },
      ACCESS_TOKEN_TYP,
    );
    sendJson(response, 200, { access_token: accessToken, token_type: "Bearer", expires_in: ttl, scope: requested.join(" ") });
  };

  /** The receiver calling, with a token carrying `scope` (`ssf.manage` includes `ssf.read`); 401/403 otherwise. */
  async authenticate(request: IncomingMessage, scope: Scope): Promise<Caller> {
    const header = request.headers.authorization;
    if (header === undefined) throw new HttpError(401, "invalid_token", "missing Authorization: Bearer <token>", { "www-authenticate": 'Bearer realm="ssf"' });
    const match = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(header.trim());
    const invalid = (why: string) => new HttpError(401, "invalid_token", why, { "www-authenticate": `Bearer realm="ssf", error="invalid_token", error_description="${why}"` });
    if (match === null) throw invalid("Authorization must be Bearer <JWT>");
    const token = match[1]!;
    let payload;
    try {
      let kid: string | undefined;
      try {
        ({ kid } = decodeProtectedHeader(token));
      } catch {
        throw invalid("not a JWT");
      }
      const jwk = this.context.keys.publicKey(kid);
      if (jwk === undefined) throw invalid("token signed by an unknown key");
      const issuer = this.context.issuer();
      ({ payload } = await jwtVerify(token, await importJWK(jwk, SIGNING_ALG), {
        algorithms: [SIGNING_ALG],
        typ: ACCESS_TOKEN_TYP,
        issuer,
        audience: issuer,
        requiredClaims: ["exp", "sub", "client_id", "scope"],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (error) {
      if (error instanceof HttpError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw invalid("token expired");
      if (error instanceof joseErrors.JOSEError) throw invalid(`token rejected: ${error.code}`);
      throw error;
    }
    const receiver = await this.context.repository.receiver(String(payload.client_id));
    if (receiver === null || receiver.tenantId !== payload.tid) throw invalid("the client no longer exists");
    const scopes = String(payload.scope).split(" ") as Scope[];
    const allowed = scopes.includes(Scope.MANAGE) || (scope === Scope.READ && scopes.includes(Scope.READ));
    if (!allowed) {
      throw new HttpError(403, "insufficient_scope", `requires scope ${scope}`, { "www-authenticate": `Bearer realm="ssf", error="insufficient_scope", scope="${scope}"` });
    }
    return { receiver, scopes };
  }
}

function basicCredentials(request: IncomingMessage): { clientId: string; clientSecret: string } | undefined {
  const header = request.headers.authorization;
  if (header === undefined || !/^Basic\s+/i.test(header)) return undefined;
  const decoded = Buffer.from(header.replace(/^Basic\s+/i, ""), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  // RFC 6749 §2.3.1: both are form-urlencoded before Base64.
  const decode = (value: string) => {
    try {
      return decodeURIComponent(value.replace(/\+/g, " "));
    } catch {
      return value;
    }
  };
  return { clientId: decode(decoded.slice(0, colon)), clientSecret: decode(decoded.slice(colon + 1)) };
}
