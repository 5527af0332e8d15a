/**
 * Rate limits of the OAuth token endpoint (`POST /oauth/token`), checked
 * before the client's secret is: token buckets (`lib/rate-limit/`, in Redis
 * when the event log is, so every signals replica shares them) per source
 * address, `ssf-token:address:<ip>`, taken by every request, and per client
 * id, `ssf-token:client:<id>`, taken by every request naming that client. An
 * empty bucket is HTTP 429 `too_many_requests` with `Retry-After`. A
 * receiver needs a token per `MTD_SSF_TOKEN_TTL_SECONDS`, so the defaults
 * leave it ample room and cut a guessing burst short. When the store cannot
 * answer the request goes through (as at the gateway) and is counted.
 */
import type { IncomingMessage } from "node:http";
import type { Logger } from "../../lib/logger.js";
import { metrics } from "../../lib/metrics.js";
import type { TokenBuckets } from "../../lib/rate-limit/index.js";
import type { SsfConfig } from "./config.js";
import { HttpError } from "./http.js";

type TokenRateLimits = SsfConfig["tokenRateLimits"];

export class TokenEndpointLimits {
  constructor(
    private readonly buckets: TokenBuckets,
    private readonly limits: TokenRateLimits,
    private readonly logger: Logger,
  ) {}

  /** Takes a token for the request's source address; 429 when there is none. */
  address(request: IncomingMessage): Promise<void> {
    const address = (request.socket.remoteAddress ?? "unknown").replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
    return this.take("address", address);
  }

  /** Takes a token for the client id the request names; 429 when there is none. */
  client(clientId: string): Promise<void> {
    return this.take("client", clientId);
  }

  close(): Promise<void> {
    return this.buckets.close();
  }

  private async take(scope: keyof TokenRateLimits, key: string): Promise<void> {
    const limit = this.limits[scope];
    if (limit.perSecond === 0) return;
    let decision;
    try {
      decision = await this.buckets.take(`ssf-token:${scope}:${key}`, limit);
    } catch (error) {
      metrics.rateLimitErrors.inc();
      this.logger.warn({ err: error, scope }, "ssf: token endpoint rate-limit store unavailable; request let through");
      return;
    }
    if (decision.allowed) return;
    metrics.rateLimited.inc({ scope: `ssf-token-${scope}` });
    throw new HttpError(429, "too_many_requests", `too many token requests for this ${scope === "client" ? "client" : "address"}; retry after ${decision.retryAfterSeconds} s`, {
      "retry-after": String(decision.retryAfterSeconds),
    });
  }
}
