/**
 * Identity: every service verifies the caller's bearer token itself. Nothing is
 * trusted because it came through the gateway.
 */
import { createRemoteJWKSet, jwtVerify, SignJWT, errors as joseErrors, type JWTVerifyGetKey } from "jose";
import { MTD_PARTNERS, type MtdPartner } from "./domain-enums.js";
import { parseDuration } from "./duration.js";
import { forbidden, unauthenticated } from "./errors.js";

export const ROLES = ["admin", "analyst", "partner", "enforcement"] as const;
export type Role = (typeof ROLES)[number];

export interface Identity {
  readonly subject: string;
  readonly tenantId: string;
  readonly role: Role;
  /** Set for the partner role only. */
  readonly partner?: MtdPartner;
  /** Token expiry, seconds since the epoch. */
  readonly expiresAt: number;
  /** The verified `Authorization` header value, forwarded to subgraphs. */
  readonly authorization: string;
}

export interface TokenKeys {
  /** HS256 shared secret. */
  secret?: string;
  /** JWKS endpoint for asymmetric tokens (RS256, ES256, EdDSA). */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /**
   * Longest lifetime a token may have, in milliseconds (`MTD_JWT_MAX_LIFETIME`):
   * refused when its `exp` lies further ahead than now + this, or, with an `iat`,
   * when `exp - iat` exceeds it (a long-lived token stays refused for its whole
   * life, not only until it is close enough to expiry). Default 24 hours.
   */
  maxLifetimeMs?: number;
}

/** `MTD_JWT_MAX_LIFETIME`'s default. */
export const DEFAULT_MAX_TOKEN_LIFETIME = "24h";

export type TokenVerifier = (authorization: string | undefined) => Promise<Identity>;

const TENANT_ID = /^[A-Za-z0-9._-]{1,64}$/;
const CLOCK_TOLERANCE_SECONDS = 30;

/** Verified tokens remembered per verifier (an identity costs a map lookup, not an HMAC or signature check). */
const VERIFIED_CACHE_SIZE = 10_000;
/**
 * How long a verified token is remembered at most. Under the JWKS cache's own
 * lifetime (jose refreshes keys at least every 10 minutes), so a key removed
 * from the JWKS stops a token it signed within about as long as before.
 */
const VERIFIED_MAX_AGE_MS = 5 * 60_000;

export function createTokenVerifier(keys: TokenKeys): TokenVerifier {
  const maxLifetimeSeconds = (keys.maxLifetimeMs ?? parseDuration(DEFAULT_MAX_TOKEN_LIFETIME)!) / 1000;
  let key: Promise<CryptoKey> | JWTVerifyGetKey;
  let algorithms: string[];
  if (keys.jwksUrl !== undefined) {
    key = createRemoteJWKSet(new URL(keys.jwksUrl));
    algorithms = ["RS256", "PS256", "ES256", "EdDSA"];
  } else if (keys.secret !== undefined) {
    // Imported once: given raw bytes, jose would import the key on every verification.
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(keys.secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    algorithms = ["HS256"];
  } else {
    throw new Error("token verification needs a secret or a JWKS URL");
  }
  /** Verified tokens by the token itself, oldest first, with when they were verified. */
  const verified = new Map<string, { identity: Identity; at: number }>();

  const check = async (token: string): Promise<Identity> => {
    let payload;
    try {
      const options = {
        algorithms,
        issuer: keys.issuer,
        audience: keys.audience,
        requiredClaims: ["exp", "sub"],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      };
      ({ payload } = typeof key === "function" ? await jwtVerify(token, key, options) : await jwtVerify(token, await key, options));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthenticated("token expired");
      if (error instanceof joseErrors.JOSEError) throw unauthenticated(`token rejected: ${error.code}`);
      throw error;
    }
    if (typeof payload.iat === "number" && payload.iat > Date.now() / 1000 + CLOCK_TOLERANCE_SECONDS) {
      throw unauthenticated("token issued in the future");
    }
    const exp = payload.exp!;
    const lifetime = typeof payload.iat === "number" ? exp - payload.iat : undefined;
    if (exp > Date.now() / 1000 + maxLifetimeSeconds + CLOCK_TOLERANCE_SECONDS || (lifetime !== undefined && lifetime > maxLifetimeSeconds)) {
      throw unauthenticated(`token lifetime exceeds the maximum of ${maxLifetimeSeconds} s (MTD_JWT_MAX_LIFETIME): request a shorter-lived token`);
    }
    const { sub, tid, role, partner } = payload as Record<string, unknown>;
    if (typeof sub !== "string" || sub === "") throw unauthenticated("token claim sub must be a non-empty string");
    if (typeof tid !== "string" || !TENANT_ID.test(tid)) throw unauthenticated("token claim tid must be a tenant id ([A-Za-z0-9._-], 1-64 chars)");
    if (!ROLES.includes(role as Role)) throw unauthenticated(`token claim role must be one of ${ROLES.join(", ")}`);
    if (role === "partner" && !MTD_PARTNERS.includes(partner as MtdPartner)) {
      throw unauthenticated(`partner tokens need a partner claim, one of ${MTD_PARTNERS.join(", ")}`);
    }
    return {
      subject: sub,
      tenantId: tid,
      role: role as Role,
      partner: role === "partner" ? (partner as MtdPartner) : undefined,
      expiresAt: exp,
      authorization: `Bearer ${token}`,
    };
  };

  return async (authorization) => {
    if (authorization === undefined || authorization === "") throw unauthenticated("missing Authorization: Bearer <token>");
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization.trim());
    if (match === null) throw unauthenticated("Authorization must be \"Bearer <JWT>\"");
    const token = match[1]!;
    const now = Date.now();
    const remembered = verified.get(token);
    if (remembered !== undefined) {
      // Still what jose would say: not expired (with the same tolerance), and not remembered for too long.
      if (remembered.identity.expiresAt + CLOCK_TOLERANCE_SECONDS > now / 1000 && now - remembered.at < VERIFIED_MAX_AGE_MS) return remembered.identity;
      verified.delete(token);
    }
    const identity = await check(token);
    verified.set(token, { identity, at: now });
    if (verified.size > VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
    return identity;
  };
}

export interface TokenClaims {
  subject?: string;
  tenantId: string;
  role: Role;
  partner?: MtdPartner;
  /** Lifetime in seconds. Default 12 hours. */
  expiresIn?: number;
}

/** Signs an HS256 token: development tokens (`npm run token`) and tests. */
export async function signToken(secret: string, claims: TokenClaims): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const body: Record<string, unknown> = { tid: claims.tenantId, role: claims.role };
  if (claims.partner !== undefined) body.partner = claims.partner;
  return new SignJWT(body)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.subject ?? `${claims.role}@${claims.tenantId}`)
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.expiresIn ?? 12 * 3600))
    .sign(new TextEncoder().encode(secret));
}

/** Throws FORBIDDEN unless the caller has one of `roles`. Returns the identity for chaining. */
export function requireRole(identity: Identity, ...roles: Role[]): Identity {
  if (!roles.includes(identity.role)) {
    throw forbidden(`role ${identity.role} may not do this; requires ${roles.join(" or ")}`);
  }
  return identity;
}
