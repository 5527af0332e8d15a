/**
 * Durable deadlines with real processes on MariaDB + Redis Streams: a grace
 * period ending and an access exception expiring while both policies replicas
 * are down (kill -9) each revoke once, on time, after they start again —
 * whichever replica claims them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScaleOutStack } from "../gateway/scale-out-helpers.js";
import { Service } from "../support/service-process.js";
import { redisPrefix, REDIS_TEST_URL, requireService } from "../support/services.js";
import { waitFor } from "../support/wait.js";

const enabled = requireService("mysql") && requireService("redis");
const DEVICE = `query { device(id: "dl-1") { complianceState complianceDeadline } }`;
const EXCEPTED = `query { device(id: "dl-2") { complianceState accessExceptions { id } access { allowed reason } } }`;
const CHANGES = `query { accessChanges { totalCount edges { node { resource allowed reason device { id } } } } }`;

describe.skipIf(!enabled)("deadlines across kill -9 and restart, two policies replicas", () => {
  const redis = redisPrefix();
  const stack = new ScaleOutStack({ url: REDIS_TEST_URL, prefix: redis.prefix });
  let second: Service;

  beforeAll(async () => {
    await stack.start();
    second = new Service("policies-b", ["subgraph", "policies"], stack.env);
    await second.start();
  }, 120_000);
  afterAll(async () => {
    await second?.stop();
    await stack.stop();
    await redis.cleanup();
  }, 60_000);

  it("a grace deadline and an exception expiry crossed while every policies replica is dead revoke exactly once after they restart", async () => {
    const { query, token } = stack;
    const admin = await token({ tenantId: "deadlines", role: "admin" });
    const lookout = await token({ tenantId: "deadlines", role: "partner", partner: "LOOKOUT" });
    const ok = async (document: string, variables?: Record<string, unknown>) => {
      const result: any = await query(admin, document, variables);
      expect(result.errors).toBeUndefined();
      return result.data;
    };
    await ok(`mutation { setCompliancePolicy(input: { platform: IOS, name: "iOS", maxThreatLevel: LOW, gracePeriodMinutes: 1 }) { id } }`);
    // Android without a grace period: dl-2 is revoked at once, then held open by an exception.
    await ok(`mutation { setCompliancePolicy(input: { platform: ANDROID, name: "Android", maxThreatLevel: LOW }) { id } }`);
    await ok(`mutation { setConditionalAccessPolicy(input: { name: "Mail", resources: ["exchange"], platforms: [IOS, ANDROID], enabled: true }) { id } }`);
    await ok(`mutation { enableMtdConnector(input: { partner: LOOKOUT, enabledPlatforms: [IOS, ANDROID] }) { state } }`);
    await ok(`mutation { enrollDevice(input: { id: "dl-1", name: "phone", platform: IOS, osVersion: "17", ownership: CORPORATE }) { id } }`);
    await ok(`mutation { enrollDevice(input: { id: "dl-2", name: "tablet", platform: ANDROID, osVersion: "14", ownership: CORPORATE }) { id } }`);
    const report = (device: string) =>
      `mutation($id: ID!) { reportThreats(input: { reportId: $id, deviceId: "${device}", observedAt: "${new Date().toISOString()}", threats: [{ externalId: "m", category: APP, severity: HIGH, title: "malware", status: ACTIVE }] }) { duplicate } }`;
    let attempt = 0;
    for (const device of ["dl-1", "dl-2"]) {
      await waitFor(async () => ((await query(lookout, report(device), { id: `r-${++attempt}` })) as any).errors === undefined, 20_000, `${device} known to threats`);
    }
    await waitFor(async () => (await ok(DEVICE)).device?.complianceState === "IN_GRACE_PERIOD", 20_000, "in grace");
    await waitFor(async () => (await ok(CHANGES)).accessChanges.totalCount === 1, 20_000, "dl-2 revoked");
    const deadline = Date.parse((await ok(DEVICE)).device.complianceDeadline);
    const expiresAt = new Date(Date.now() + 20_000).toISOString();
    await ok(`mutation { grantAccessException(input: { deviceId: "dl-2", resources: ["exchange"], reason: "ticket 7", expiresAt: "${expiresAt}" }) { id } }`);
    expect((await ok(CHANGES)).accessChanges.totalCount).toBe(2);

    await stack.subgraphs.policies.kill();
    await second.kill();
    await waitFor(() => Date.now() > Math.max(deadline, Date.parse(expiresAt)) + 1000, 120_000, "the deadline and the expiry passed while policies was down");
    await Promise.all([stack.subgraphs.policies.start(), second.start()]);

    await waitFor(async () => (await ok(CHANGES)).accessChanges.totalCount === 4, 30_000, "revocations after restart");
    const revokedAt = Date.now();
    expect(revokedAt - deadline).toBeLessThan(60_000); // on time: within the restart plus a poll
    // Both replicas keep polling (every second): still one revocation each several polls later.
    await waitFor(() => Date.now() > revokedAt + 3000, 5000, "three more polls");
    const changes = (await ok(CHANGES)).accessChanges;
    expect(changes.totalCount).toBe(4);
    const nodes = changes.edges.map((edge: any) => edge.node);
    expect(nodes.slice(0, 2).map((node: any) => [node.device.id, node.allowed])).toEqual([["dl-2", false], ["dl-2", true]]);
    const byDevice = Object.fromEntries(nodes.slice(2).map((node: any) => [node.device.id, node]));
    expect(byDevice["dl-1"]).toMatchObject({ resource: "exchange", allowed: false });
    expect(byDevice["dl-1"].reason).toContain(`grace period ended ${new Date(deadline).toISOString()}`);
    expect(byDevice["dl-2"]).toMatchObject({ resource: "exchange", allowed: false, reason: expect.stringMatching(/^noncompliant: risk HIGH from LOOKOUT/) });
    expect((await ok(DEVICE)).device).toEqual({ complianceState: "NONCOMPLIANT", complianceDeadline: null });
    expect((await ok(EXCEPTED)).device).toMatchObject({ complianceState: "NONCOMPLIANT", accessExceptions: [], access: [{ allowed: false }] });
  }, 240_000);
});
