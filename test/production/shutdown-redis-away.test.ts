/**
 * Shutdown while Redis is away: a subgraph whose event log is unreachable
 * still exits promptly on SIGTERM (its last publish gets a deadline), and
 * what it committed but could not publish stays in its outbox, published by
 * the next start once Redis is back.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { signToken } from "../../lib/auth.js";
import { RedisServer, redisServerInstalled } from "../support/redis-server.js";
import { Service } from "../support/service-process.js";
import { waitFor } from "../support/wait.js";

const ENROLL = /* GraphQL */ `mutation Enroll($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`;

describe.skipIf(!redisServerInstalled)("SIGTERM while Redis is away", () => {
  const redis = new RedisServer();
  const dataDir = mkdtempSync(join(tmpdir(), "mtd-shutdown-redis-"));
  const secret = randomBytes(32).toString("base64url");
  let devices: Service;

  afterAll(async () => {
    await devices?.kill();
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("exits within a few seconds, and the next start publishes what the outbox kept", async () => {
    await redis.start();
    devices = new Service("devices", ["subgraph", "devices"], { NODE_ENV: "production", MTD_HOST: "127.0.0.1", MTD_DATA_DIR: dataDir, REDIS_URL: redis.url, MTD_JWT_SECRET: secret, MTD_REDIS_PREFIX: "away" });
    await devices.start();
    const admin = await signToken(secret, { tenantId: "away", role: "admin" });
    const enroll = async (id: string) => {
      const response = await fetch(devices.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
        body: JSON.stringify({ query: ENROLL, variables: { input: { id, name: id, platform: "IOS", osVersion: "17", ownership: "CORPORATE" } } }),
      });
      return (await response.json()) as { data?: unknown; errors?: unknown[] };
    };
    expect((await enroll("before")).errors).toBeUndefined();

    await redis.kill();
    // Committed in the database and its outbox; the publish after commit cannot reach Redis.
    expect((await enroll("while-away")).errors).toBeUndefined();

    const started = Date.now();
    await devices.stop();
    const tookMs = Date.now() - started;
    expect(devices.child!.signalCode).toBeNull(); // exited by itself, not killed by stop()'s 10 s SIGKILL
    expect(tookMs).toBeLessThan(8_000);

    await redis.start();
    await devices.start();
    const reader = new Redis(redis.url);
    try {
      await waitFor(
        async () => {
          const entries = await reader.xrange("away:events:devices", "-", "+");
          return entries.some(([, fields]) => fields[1]!.includes('"while-away"'));
        },
        15_000,
        "the kept event published after the restart",
      );
    } finally {
      reader.disconnect();
    }
  }, 60_000);
});
