/**
 * The batched evaluator as it runs in production: the policies subgraph as its
 * own `bin/start.ts` process (one, then two replicas) on MariaDB and Redis
 * Streams, fed assessments straight into its stream. A kill -9 while a process
 * holds a batch loses and duplicates nothing; two replicas consuming the same
 * group at once keep every tenant's sequences strictly increasing and gap-free
 * and every device's changes in the order of its versions.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signToken } from "../../lib/auth.js";
import { RedisEventLog } from "../../lib/events/redis.js";
import { ACCESS_CHANGES, allChanges, assessmentEvent, IOS_BASELINE, type StoredChange } from "../support/policy-events.js";
import { Service } from "../support/service-process.js";
import { createMysqlDatabase, redisPrefix, REDIS_TEST_URL, requireService } from "../support/services.js";
import { waitFor } from "../support/wait.js";

const enabled = requireService("mysql") && requireService("redis");
const GROUP = "policies.assessments";

describe.skipIf(!enabled)("policies replicas as processes on MariaDB + Redis Streams: batches across kill -9 and concurrency", () => {
  const redis = redisPrefix();
  const secret = randomBytes(32).toString("base64url");
  const dataDir = mkdtempSync(join(tmpdir(), "mtd-policies-replicas-"));
  const stream = `${redis.prefix}:events:threats`;
  let env: Record<string, string>;
  let drop: () => Promise<void>;
  let publisher: RedisEventLog;
  let client: Redis;
  const replicas: Service[] = [];

  beforeAll(async () => {
    const database = await createMysqlDatabase();
    drop = database.drop;
    env = {
      NODE_ENV: "test",
      LOG_LEVEL: "warn",
      MTD_HOST: "127.0.0.1",
      MTD_DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      REDIS_URL: REDIS_TEST_URL,
      MTD_REDIS_PREFIX: redis.prefix,
      MTD_JWT_SECRET: secret,
    };
    publisher = new RedisEventLog({ url: REDIS_TEST_URL, prefix: redis.prefix });
    client = new Redis(REDIS_TEST_URL);
    replicas.push(new Service("policies-a", ["subgraph", "policies"], env));
    await replicas[0]!.start();
  }, 120_000);

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await publisher?.close();
    client?.disconnect();
    await drop?.();
    await redis.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  async function query(token: string, document: string, variables?: Record<string, unknown>): Promise<any> {
    const response = await fetch(replicas[0]!.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query: document, variables }) });
    const body = (await response.json()) as { data?: unknown; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    return body.data;
  }

  /** A tenant whose IOS devices above LOW lose exchange and sharepoint. */
  async function tenant() {
    const tenantId = `r-${randomUUID().slice(0, 8)}`;
    const admin = await signToken(secret, { tenantId, role: "admin" });
    for (const { query: document, variables } of IOS_BASELINE) await query(admin, document, variables);
    return { tenantId, admin };
  }

  const changes = (admin: string) => allChanges(async (after) => (await query(admin, ACCESS_CHANGES, { after })).accessChanges);

  /** Consumers of the evaluator's assessments group holding entries they were given and have not acknowledged. */
  async function holders(): Promise<Map<string, number>> {
    const [, , , consumers] = (await client.xpending(stream, GROUP)) as [number, string | null, string | null, [string, string][] | null];
    return new Map((consumers ?? []).map(([name, count]) => [name, Number(count)]));
  }

  /** The group has been given everything in the stream and acknowledged it. */
  async function drained(): Promise<boolean> {
    const groups = (await client.xinfo("GROUPS", stream)) as unknown[][];
    const fields = groups.map((list) => new Map(list.flatMap((value, i) => (i % 2 === 0 ? [[String(value), list[i + 1]] as const] : []))));
    const group = fields.find((info) => info.get("name") === GROUP);
    return group !== undefined && Number(group.get("pending")) === 0 && Number(group.get("lag")) === 0;
  }

  /** Sequences 1..n, in order, no gap, no repeat. */
  function expectGapFree(all: StoredChange[]) {
    expect(all.map((change) => change.sequence)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
  }

  it("kill -9 while the process holds a batch, then a restart: every revocation is stored once, sequences gap-free", async () => {
    const tenants = [await tenant(), await tenant()];
    const devices = 1000;
    const ids = Array.from({ length: devices }, (_, i) => `k-${String(i).padStart(4, "0")}`);
    for (let start = 0; start < devices; start += 250) {
      for (const { tenantId } of tenants) await publisher.publish("threats", ids.slice(start, start + 250).map((id) => assessmentEvent(tenantId, id, 1, "HIGH")));
    }
    // Mid-batch: the process has been handed a batch and not acknowledged it.
    await waitFor(async () => [...(await holders()).values()].some((count) => count > 0), 60_000, "the process to hold a batch");
    const held = await holders();
    await replicas[0]!.kill();
    expect([...held.values()].some((count) => count > 0)).toBe(true);

    await replicas[0]!.start();
    // The dead consumer's batch is reclaimed once it has been idle for the reclaim period (30 s).
    await waitFor(async () => (await drained()) && (await holders()).size === 0, 120_000, "the dead consumer's batch reclaimed and every event applied");
    for (const { admin } of tenants) {
      const all = await changes(admin);
      expect(all).toHaveLength(devices * 2);
      expectGapFree(all);
      expect(new Set(all.map((change) => `${change.device.id}/${change.resource}`)).size).toBe(devices * 2);
      expect(all.every((change) => !change.allowed)).toBe(true);
    }
  }, 240_000);

  it("two replicas consuming at once: per tenant strictly increasing, gap-free sequences; each device's changes alternate and end as its last version says", async () => {
    replicas.push(new Service("policies-b", ["subgraph", "policies"], env));
    await replicas[1]!.start();
    const tenants = [await tenant(), await tenant(), await tenant()];
    const devices = 400;
    const ids = Array.from({ length: devices }, (_, i) => `c-${String(i).padStart(4, "0")}`);
    // Every device HIGH (v1); every third then SECURED (v2) and HIGH again (v3), in later chunks, so its versions
    // may be in batches the two replicas apply at the same time.
    const events = tenants.flatMap(({ tenantId }) => [
      ...ids.map((id) => assessmentEvent(tenantId, id, 1, "HIGH")),
      ...ids.filter((_, i) => i % 3 === 0).map((id) => assessmentEvent(tenantId, id, 2, "SECURED")),
      ...ids.filter((_, i) => i % 3 === 0).map((id) => assessmentEvent(tenantId, id, 3, "HIGH")),
    ]);
    // Interleave the tenants as their partners would, 100 events per publish.
    events.sort((a, b) => a.version! - b.version! || a.aggregateId.localeCompare(b.aggregateId));
    const busy = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const [name, count] of await holders()) if (count > 0) busy.add(name);
        await sleep(20); // a sampling interval, not a wait for an outcome
      }
    })();
    for (let start = 0; start < events.length; start += 100) await publisher.publish("threats", events.slice(start, start + 100));
    await waitFor(drained, 120_000, "every event applied");
    sampling = false;
    await sampler;
    expect(busy.size, "both replicas held batches").toBeGreaterThanOrEqual(2);

    for (const { admin } of tenants) {
      const all = await changes(admin);
      expectGapFree(all);
      const byKey = new Map<string, boolean[]>();
      for (const change of all) byKey.set(`${change.device.id}/${change.resource}`, [...(byKey.get(`${change.device.id}/${change.resource}`) ?? []), change.allowed]);
      expect(byKey.size).toBe(devices * 2);
      for (const [key, flips] of byKey) {
        // Revoked first, then alternating; v1 and v3 are HIGH, so a device ends revoked whether or not a concurrent
        // batch's later version made an earlier one stale.
        expect(flips.every((allowed, i) => allowed === (i % 2 === 1)), key).toBe(true);
        expect(flips.at(-1), key).toBe(false);
        expect(flips.length === 1 || (flips.length === 3 && Number(key.slice(2, 6)) % 3 === 0), `${key}: ${flips.join(",")}`).toBe(true);
      }
    }
  }, 240_000);
});
