/** The signals service's own configuration: the `MTD_SSF_*` variables, read with the rest by `loadServiceConfig`. */
import type { ConfigReader } from "../../lib/config/reader.js";
import { nodeEnvOf } from "../../lib/config/server.js";
import type { BucketLimit } from "../../lib/rate-limit/index.js";

export interface SsfConfig {
  /**
   * `MTD_SSF_ISSUER`: the transmitter's issuer (the `iss` of every SET; metadata at
   * `/.well-known/ssf-configuration`), an https URL without query or fragment.
   * Unset: `http://<host>:<signals port>` outside production; in production the transmitter is off.
   */
  issuer?: string;
  /** `MTD_SSF_ALLOW_HTTP`: accept plain http issuer and receiver URLs with `NODE_ENV=production` (never in a real deployment). Default false; development and test always accept http. */
  allowHttp: boolean;
  /**
   * `MTD_SSF_KEY_ENCRYPTION_KEY`: secret (at least 32 characters) that encrypts the private signing keys and
   * receivers' push authorization headers at rest. Required in production with `MTD_SSF_ISSUER`.
   * Unset: a development secret created under `MTD_DATA_DIR`.
   */
  keyEncryptionKey?: string;
  /** `MTD_SSF_KEY_ROTATION_SECONDS`: how long a signing key signs before the next one takes over. Default 2592000 (30 days). */
  keyRotationSeconds: number;
  /** `MTD_SSF_KEY_PUBLISH_AHEAD_SECONDS`: a new key is in the JWKS this long before it signs (less than the rotation period). Default 86400 (1 day). */
  keyPublishAheadSeconds: number;
  /** `MTD_SSF_KEY_RETAIN_SECONDS`: a retired key stays in the JWKS this long after its successor took over. Default 604800 (7 days). */
  keyRetainSeconds: number;
  /** `MTD_SSF_TOKEN_TTL_SECONDS`: lifetime of the access tokens receivers get from `/oauth/token`. Default 3600. */
  tokenTtlSeconds: number;
  /** `MTD_SSF_PUSH_RETRY_BASE_MS`: delay before the first retry of a failed push; doubles per attempt (each delay drawn between half and all of it). Default 1000. */
  pushRetryBaseMs: number;
  /** `MTD_SSF_PUSH_RETRY_MAX_MS`: longest delay between two push attempts. Default 300000 (5 minutes). */
  pushRetryMaxMs: number;
  /** `MTD_SSF_PUSH_GIVE_UP_SECONDS`: a SET still not accepted this long after it was queued becomes a dead letter. Default 86400 (1 day). */
  pushGiveUpSeconds: number;
  /** `MTD_SSF_PUSH_TIMEOUT_MS`: how long one push request may take. Default 10000. */
  pushTimeoutMs: number;
  /** `MTD_SSF_POLL_WAIT_MAX_MS`: longest a long poll (`returnImmediately: false`) is held open. Default 25000. */
  pollWaitMaxMs: number;
  /** `MTD_SSF_POLL_REDELIVER_MS`: a polled SET not acknowledged is returned again by polls after this long. Default 60000. */
  pollRedeliverMs: number;
  /** `MTD_SSF_MIN_VERIFICATION_INTERVAL_SECONDS`: a stream's `min_verification_interval`; verification requests more frequent than this get 429. Default 30. */
  minVerificationIntervalSeconds: number;
  /**
   * Token buckets of `/oauth/token` (`token-limits.ts`), refilled per minute (a receiver needs a token an hour); 0 per minute turns one off:
   * `MTD_SSF_TOKEN_RATE_LIMIT_CLIENT_PER_MINUTE` / `_BURST`, requests naming one client id, default 30/min, burst 10;
   * `MTD_SSF_TOKEN_RATE_LIMIT_ADDRESS_PER_MINUTE` / `_BURST`, requests from one source address, default 300/min, burst 30.
   */
  tokenRateLimits: { client: BucketLimit; address: BucketLimit };
}

export function readSsf(reader: ConfigReader): SsfConfig {
  const nodeEnv = nodeEnvOf(reader);
  const int = (name: string, min: number, max: number, fallback: number) => reader.integerOr(name, min, max, fallback);
  const allowHttp = reader.boolean("MTD_SSF_ALLOW_HTTP") ?? false;
  const issuer = reader.read("MTD_SSF_ISSUER");
  if (issuer !== undefined) {
    const http = nodeEnv !== "production" || allowHttp;
    reader.checkUrl(issuer, "MTD_SSF_ISSUER", http ? ["https:", "http:"] : ["https:"]);
    if (/[?#]/.test(issuer)) reader.problem(`MTD_SSF_ISSUER must have no query or fragment; got "${issuer}"`);
  }
  const keyEncryptionKey = reader.read("MTD_SSF_KEY_ENCRYPTION_KEY");
  if (keyEncryptionKey !== undefined && keyEncryptionKey.length < 32) {
    reader.problem(`MTD_SSF_KEY_ENCRYPTION_KEY must be at least 32 characters; got ${keyEncryptionKey.length}`);
  }
  if (nodeEnv === "production" && issuer !== undefined && keyEncryptionKey === undefined) {
    reader.problem("NODE_ENV=production with MTD_SSF_ISSUER requires MTD_SSF_KEY_ENCRYPTION_KEY (signing keys are stored encrypted)");
  }
  const keyRotationSeconds = int("MTD_SSF_KEY_ROTATION_SECONDS", 2, 10 * 365 * 86_400, 30 * 86_400);
  const keyPublishAheadSeconds = int("MTD_SSF_KEY_PUBLISH_AHEAD_SECONDS", 1, 365 * 86_400, 86_400);
  if (keyPublishAheadSeconds >= keyRotationSeconds) {
    reader.problem(`MTD_SSF_KEY_PUBLISH_AHEAD_SECONDS must be less than MTD_SSF_KEY_ROTATION_SECONDS (${keyRotationSeconds}); got ${keyPublishAheadSeconds}`);
  }
  const bucket = (scope: string, perMinute: number, burst: number): BucketLimit => ({
    perSecond: int(`MTD_SSF_TOKEN_RATE_LIMIT_${scope}_PER_MINUTE`, 0, 1_000_000, perMinute) / 60,
    burst: int(`MTD_SSF_TOKEN_RATE_LIMIT_${scope}_BURST`, 1, 1_000_000, burst),
  });
  const pushRetryBaseMs = int("MTD_SSF_PUSH_RETRY_BASE_MS", 1, 3_600_000, 1000);
  const pushRetryMaxMs = int("MTD_SSF_PUSH_RETRY_MAX_MS", 1, 86_400_000, 300_000);
  if (pushRetryMaxMs < pushRetryBaseMs) {
    reader.problem(`MTD_SSF_PUSH_RETRY_MAX_MS must be at least MTD_SSF_PUSH_RETRY_BASE_MS (${pushRetryBaseMs}); got ${pushRetryMaxMs}`);
  }
  return {
    issuer: issuer?.replace(/\/+$/, ""),
    allowHttp,
    keyEncryptionKey,
    keyRotationSeconds,
    keyPublishAheadSeconds,
    keyRetainSeconds: int("MTD_SSF_KEY_RETAIN_SECONDS", 0, 365 * 86_400, 7 * 86_400),
    tokenTtlSeconds: int("MTD_SSF_TOKEN_TTL_SECONDS", 60, 86_400, 3600),
    pushRetryBaseMs,
    pushRetryMaxMs,
    pushGiveUpSeconds: int("MTD_SSF_PUSH_GIVE_UP_SECONDS", 1, 30 * 86_400, 86_400),
    pushTimeoutMs: int("MTD_SSF_PUSH_TIMEOUT_MS", 100, 120_000, 10_000),
    pollWaitMaxMs: int("MTD_SSF_POLL_WAIT_MAX_MS", 0, 120_000, 25_000),
    pollRedeliverMs: int("MTD_SSF_POLL_REDELIVER_MS", 100, 86_400_000, 60_000),
    minVerificationIntervalSeconds: int("MTD_SSF_MIN_VERIFICATION_INTERVAL_SECONDS", 0, 86_400, 30),
    tokenRateLimits: { client: bucket("CLIENT", 30, 10), address: bucket("ADDRESS", 300, 30) },
  };
}
