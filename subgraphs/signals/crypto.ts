/**
 * Secrets at rest: private signing keys and receivers' push authorization
 * headers are sealed with AES-256-GCM under a key derived (HKDF-SHA256) from
 * `MTD_SSF_KEY_ENCRYPTION_KEY`, bound to their row by the additional data.
 * Client secrets are random 256-bit values, stored as SHA-256 hashes.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ServiceConfig } from "../config.js";

const VERSION = "v1";

export class Sealer {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync("sha256", secret, "mtd-graph", "ssf secrets at rest v1", 32));
  }

  /** `v1.<iv>.<tag>.<ciphertext>` (base64url), authenticated together with `context` (e.g. the row's key). */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [VERSION, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ciphertext.toString("base64url")].join(".");
  }

  open(sealed: string, context: string): string {
    const [version, iv, tag, ciphertext] = sealed.split(".");
    if (version !== VERSION || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new Error(`sealed value: expected format ${VERSION}.<iv>.<tag>.<ciphertext>`);
    }
    const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
  }
}

/**
 * The key-encryption secret in effect: the configured one, or outside
 * production a random secret created once under the data directory (like the
 * development token secret). Changing it makes the stored private keys
 * unreadable: the transmitter refuses to start until it is restored (or the
 * `ssf_signing_keys` rows are deleted, which publishes new keys).
 */
export function keyEncryptionSecret(config: Pick<ServiceConfig, "env" | "dataDir" | "ssf">): string {
  if (config.ssf.keyEncryptionKey !== undefined) return config.ssf.keyEncryptionKey;
  if (config.env === "production") throw new Error("MTD_SSF_KEY_ENCRYPTION_KEY is required in production");
  const file = join(config.dataDir, "dev-ssf-key-encryption-key");
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600, flag: "wx" });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  return readFileSync(file, "utf8").trim();
}

/** A new client secret: 256 random bits, base64url. */
export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("base64url");
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, hash: string): boolean {
  const presented = Buffer.from(hashSecret(secret));
  const stored = Buffer.from(hash);
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** A random identifier (stream ids, jti, client ids): 128 bits, hex (RFC 3986 unreserved characters). */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString("hex");
}
