/** Token verification: the HS256 secret or the JWKS URL, and the development secret. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { DEFAULT_MAX_TOKEN_LIFETIME } from "../auth.js";
import type { ConfigReader } from "./reader.js";
import { nodeEnvOf, type Environment } from "./server.js";

export interface AuthConfig {
  /**
   * `MTD_JWT_SECRET` (HS256) or `MTD_JWKS_URL` (asymmetric). Default: a development secret under `dataDir`.
   * `MTD_JWT_ISSUER` / `MTD_JWT_AUDIENCE`: required `iss` / `aud` when set.
   * `MTD_JWT_MAX_LIFETIME` (`maxLifetimeMs`): longest token lifetime accepted (`exp` no further ahead, nor `exp - iat` longer), from 1m to 30d. Default `24h`.
   */
  auth: { secret?: string; jwksUrl?: string; issuer?: string; audience?: string; maxLifetimeMs: number };
}

export function readAuth(reader: ConfigReader): AuthConfig {
  const secret = reader.read("MTD_JWT_SECRET");
  const jwksUrl = reader.read("MTD_JWKS_URL");
  if (secret !== undefined && secret.length < 32) {
    reader.problem(`MTD_JWT_SECRET must be at least 32 characters; got ${secret.length}`);
  }
  if (jwksUrl !== undefined) reader.checkUrl(jwksUrl, "MTD_JWKS_URL", ["https:", "http:"]);
  if (secret !== undefined && jwksUrl !== undefined) {
    reader.problem("set MTD_JWT_SECRET or MTD_JWKS_URL, not both");
  }
  if (nodeEnvOf(reader) === "production" && secret === undefined && jwksUrl === undefined) {
    reader.problem("NODE_ENV=production requires MTD_JWT_SECRET or MTD_JWKS_URL (the development secret is refused)");
  }
  const maxLifetimeMs = reader.duration("MTD_JWT_MAX_LIFETIME", DEFAULT_MAX_TOKEN_LIFETIME, 60_000, 30 * 86_400_000);
  return { auth: { secret, jwksUrl, issuer: reader.read("MTD_JWT_ISSUER"), audience: reader.read("MTD_JWT_AUDIENCE"), maxLifetimeMs } };
}

/**
 * The HS256 secret in effect: the configured one, or in development a random
 * secret created once under the data directory (shared by `npm start` and
 * `npm run token`).
 */
export function developmentSecret(config: AuthConfig & { dataDir: string; env: Environment }): string | undefined {
  if (config.auth.secret !== undefined || config.auth.jwksUrl !== undefined) return config.auth.secret;
  if (config.env === "production") return undefined;
  const file = join(config.dataDir, "dev-jwt-secret");
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600, flag: "wx" });
  }
  return readFileSync(file, "utf8").trim();
}
