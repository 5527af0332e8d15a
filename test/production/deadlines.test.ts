/**
 * Durable deadlines with real processes on MariaDB + Redis Streams: a grace
 * period whose deadline passes while both policies replicas are down (kill -9)
 * revokes once, on time, after they start again — whichever replica claims it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScaleOutStack } from "../gateway/scale-out-helpers.js";
import { Service } from "../support/service-process.js";
import { redisPrefix, REDIS_TEST_URL, requireService } from "../support/services.js";
import { waitFor } from "../support/wait.js";

const enabled = requireService("mysql") && requireService("redis");
const DEVICE = `query { device(id: "dl-1") { complianceState complianceDeadline } }`;
const CHANGES = `query { accessChanges { totalCount edges { node { resource allowed reason } } } }`;

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

  it("a grace deadline crossed while every policies replica is dead revokes exactly once after they restart", async () => {
    const { query, token } = stack;
    const admin = await token({ tenantId: "deadlines", role: "admin" });
    const lookout = await token({ tenantId: "deadlines", role: "partner", partner: "LOOKOUT" });
    const ok = async (document: string, variables?: Record<string, unknown>) => {
      const result: any = await query(admin, document, variables);
      expect(result.errors).toBeUndefined();
      return result.data;
    };
    await ok(`mutation { setCompliancePolicy(input: { platform: IOS, name: "iOS", maxThreatLevel: LOW, gracePeriodMinutes: 1 }) { id } }`);
    await ok(`mutation { setConditionalAccessPolicy(input: { name: "Mail", resources: ["exchange"], platforms: [IOS], enabled: true }) { id } }`);
    await ok(`mutation { enableMtdConnector(input: { partner: LOOKOUT, enabledPlatforms: [IOS] }) { state } }`);
    await ok(`mutation { enrollDevice(input: { id: "dl-1", name: "phone", platform: IOS, osVersion: "17", ownership: CORPORATE }) { id } }`);
    const report = `mutation($id: ID!) { reportThreats(input: { reportId: $id, deviceId: "dl-1", observedAt: "${new Date().toISOString()}", threats: [{ externalId: "m", category: APP, severity: HIGH, title: "malware", status: ACTIVE }] }) { duplicate } }`;
    let attempt = 0;
    await waitFor(async () => ((await query(lookout, report, { id: `r-${++attempt}` })) as any).errors === undefined, 20_000, "device known to threats");
    await waitFor(async () => (await ok(DEVICE)).device?.complianceState === "IN_GRACE_PERIOD", 20_000, "in grace");
    const deadline = Date.parse((await ok(DEVICE)).device.complianceDeadline);

    await stack.subgraphs.policies.kill();
    await second.kill();
    await waitFor(() => Date.now() > deadline + 1000, 120_000, "the deadline passed while policies was down");
    await Promise.all([stack.subgraphs.policies.start(), second.start()]);

    await waitFor(async () => (await ok(CHANGES)).accessChanges.totalCount > 0, 30_000, "revocation after restart");
    const revokedAt = Date.now();
    expect(revokedAt - deadline).toBeLessThan(60_000); // on time: within the restart plus a poll
    // Both replicas keep polling (every second): still one revocation several polls later.
    await waitFor(() => Date.now() > revokedAt + 3000, 5000, "three more polls");
    const changes = (await ok(CHANGES)).accessChanges;
    expect(changes.totalCount).toBe(1);
    expect(changes.edges[0].node).toMatchObject({ resource: "exchange", allowed: false });
    expect(changes.edges[0].node.reason).toContain(`grace period ended ${new Date(deadline).toISOString()}`);
    expect((await ok(DEVICE)).device).toEqual({ complianceState: "NONCOMPLIANT", complianceDeadline: null });
  }, 240_000);
});
