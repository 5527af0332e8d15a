/**
 * Issue 13, hardening: the OAuth token endpoint is rate-limited per client id
 * and per source address (HTTP 429 + Retry-After), in memory and in Redis,
 * where signals replicas share the buckets. Requests come from distinct
 * loopback addresses (127.0.0.x), each one source.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMysqlDatabase, redisPrefix, REDIS_TEST_URL, requireService } from "../support/services.js";
import { startSignals, type Signals } from "./signals-alone.js";
import type { SsfClient } from "./support.js";

/** One token back a minute: nothing refills during a test. */
const LIMITS = {
  MTD_SSF_TOKEN_RATE_LIMIT_CLIENT_PER_MINUTE: "1",
  MTD_SSF_TOKEN_RATE_LIMIT_CLIENT_BURST: "5",
  MTD_SSF_TOKEN_RATE_LIMIT_ADDRESS_PER_MINUTE: "1",
  MTD_SSF_TOKEN_RATE_LIMIT_ADDRESS_BURST: "8",
};

interface TokenAnswer {
  status: number;
  retryAfter?: string;
  body: { error?: string; access_token?: string };
}

/** `POST /oauth/token` with HTTP Basic credentials, sent from `from` (a loopback address). */
function token(origin: string, from: string, clientId: string, secret: string): Promise<TokenAnswer> {
  return new Promise((resolve, reject) => {
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64");
    const sent = request(
      `${origin}/oauth/token`,
      { method: "POST", localAddress: from, agent: false, headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${basic}` } },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode!, retryAfter: response.headers["retry-after"], body: JSON.parse(text) }));
      },
    );
    sent.on("error", reject);
    sent.end("grant_type=client_credentials");
  });
}

async function burst(count: number, send: (index: number) => Promise<TokenAnswer>): Promise<TokenAnswer[]> {
  const answers: TokenAnswer[] = [];
  for (let i = 0; i < count; i += 1) answers.push(await send(i));
  return answers;
}

const ENGINES = [
  { name: "memory", enabled: true, redis: false },
  { name: "Redis", enabled: requireService("redis"), redis: true },
];

for (const engine of ENGINES) {
  describe.skipIf(!engine.enabled)(`OAuth token endpoint rate limits (${engine.name})`, () => {
    let signals: Signals;
    let prefix: ReturnType<typeof redisPrefix> | undefined;
    let victim: SsfClient;
    let other: SsfClient;

    beforeAll(async () => {
      prefix = engine.redis ? redisPrefix() : undefined;
      signals = await startSignals({ env: { ...LIMITS, ...(prefix === undefined ? {} : { REDIS_URL: REDIS_TEST_URL, MTD_REDIS_PREFIX: prefix.prefix }) } });
      const admin = await signals.admin();
      victim = await signals.receiver(admin);
      other = await signals.receiver(admin);
    });
    afterAll(async () => {
      await signals?.stop();
      await prefix?.cleanup();
    });

    it("a burst of wrong secrets for one client is 429 with Retry-After once its bucket is empty; another client from another address is not blocked", async () => {
      const answers = await burst(9, () => token(signals.origin, "127.0.0.2", victim.clientId, "wrong-secret"));
      expect(answers.map((answer) => answer.status)).toEqual([401, 401, 401, 401, 401, 429, 429, 429, 429]);
      for (const refused of answers.slice(5)) {
        expect(refused.body.error).toBe("too_many_requests");
        expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
      }
      // The client's bucket is its own wherever the requests come from; nobody else's is touched.
      expect((await token(signals.origin, "127.0.0.5", victim.clientId, victim.clientSecret)).status).toBe(429);
      const fine = await token(signals.origin, "127.0.0.5", other.clientId, other.clientSecret);
      expect(fine.status).toBe(200);
      expect(fine.body.access_token).toEqual(expect.any(String));
    });

    it("a burst from one address over many client ids is 429 once the address's bucket is empty; the same client from another address gets its token", async () => {
      const answers = await burst(10, (i) => token(signals.origin, "127.0.0.3", `ssf-guess-${i}`, "guess"));
      expect(answers.map((answer) => answer.status)).toEqual([401, 401, 401, 401, 401, 401, 401, 401, 429, 429]);
      expect(Number(answers[9]!.retryAfter)).toBeGreaterThanOrEqual(1);
      expect((await token(signals.origin, "127.0.0.3", other.clientId, other.clientSecret)).status).toBe(429);
      expect((await token(signals.origin, "127.0.0.4", other.clientId, other.clientSecret)).status).toBe(200);
    });
  });
}

describe.skipIf(!(requireService("mysql") && requireService("redis")))("OAuth token endpoint rate limits across signals replicas (MariaDB + Redis)", () => {
  const replicas: Signals[] = [];
  let cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    const database = await createMysqlDatabase();
    const prefix = redisPrefix();
    cleanup = [database.drop, prefix.cleanup];
    const env = { ...LIMITS, DATABASE_URL: database.url, REDIS_URL: REDIS_TEST_URL, MTD_REDIS_PREFIX: prefix.prefix, MTD_SSF_KEY_ENCRYPTION_KEY: "r".repeat(32) };
    replicas.push(await startSignals({ env }));
    replicas.push(await startSignals({ env }));
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.stop();
    for (const step of cleanup) await step();
  });

  it("a client's bucket spent at one replica is spent at the other", async () => {
    const [a, b] = replicas as [Signals, Signals];
    const client = await a.receiver(await a.admin());
    const atA = await burst(5, () => token(a.origin, "127.0.0.6", client.clientId, "wrong-secret"));
    expect(atA.map((answer) => answer.status)).toEqual([401, 401, 401, 401, 401]);
    const atB = await token(b.origin, "127.0.0.7", client.clientId, "wrong-secret");
    expect(atB.status).toBe(429);
    expect(Number(atB.retryAfter)).toBeGreaterThanOrEqual(1);
  });
});
