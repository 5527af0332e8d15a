/**
 * End to end: a partner's threat report flips a device's compliance; every
 * enabled stream of the tenant gets exactly one `device-compliance-change`
 * per flip, in order, and no other tenant gets anything. The ground truth is
 * the `compliance.changed` events the policies evaluator published.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ComplianceChangedPayload } from "../../lib/events/contracts.js";
import type { LoggedEvent } from "../../lib/events/types.js";
import { engines } from "../support/engines.js";
import type { TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";
import { CAEP, type PushReceiver, type ReceivedSet } from "./receiver.js";
import { pushStream, register, startSsfGraph, tenant, type Tenant } from "./support.js";

const ENROLL = /* GraphQL */ `mutation($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`;
const ENABLE = /* GraphQL */ `mutation($input: EnableMtdConnectorInput!) { enableMtdConnector(input: $input) { state } }`;
const POLICY = /* GraphQL */ `mutation($input: SetCompliancePolicyInput!) { setCompliancePolicy(input: $input) { id } }`;
const REPORT = /* GraphQL */ `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { duplicate device { id riskLevel } } }`;
const COMPLIANCE = /* GraphQL */ `query($id: ID!) { device(id: $id) { complianceState } }`;

const deviceOf = (set: ReceivedSet) => (set.claims.sub_id.device as { id: string }).id;
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`compliance flips to Shared Signals receivers on ${engine.name}`, () => {
    let graph: TestGraph;
    /** Every `compliance.changed` of the run, once each. */
    const changes: LoggedEvent<ComplianceChangedPayload>[] = [];
    const tailing = new AbortController();
    let tail: Promise<void>;

    beforeAll(async () => {
      graph = await startSsfGraph(engine);
      const after = await graph.events.position("policies");
      tail = (async () => {
        const seen = new Set<string>();
        for await (const event of graph.events.tail("policies", { after, signal: tailing.signal })) {
          if (event.type === "compliance.changed" && !seen.has(event.id)) {
            seen.add(event.id);
            changes.push(event as LoggedEvent<ComplianceChangedPayload>);
          }
        }
      })();
    });
    afterAll(async () => {
      tailing.abort();
      await tail;
      await graph?.stop();
    });

    /** A tenant with LOOKOUT enabled on iOS and an iOS policy at LOW, and its partner token. */
    async function mtdTenant(prefix: string): Promise<Tenant & { partner: string }> {
      const t = await tenant(graph, prefix);
      const enabled = await graph.query(t.admin, ENABLE, { input: { partner: "LOOKOUT", enabledPlatforms: ["IOS"] } });
      expect(enabled.errors).toBeUndefined();
      const policy = await graph.query(t.admin, POLICY, { input: { platform: "IOS", name: "iOS baseline", maxThreatLevel: "LOW" } });
      expect(policy.errors).toBeUndefined();
      return { ...t, partner: await graph.token({ tenantId: t.tenantId, role: "partner", partner: "LOOKOUT" }) };
    }

    async function enroll(t: Tenant & { partner: string }, id: string) {
      const result = await graph.query(t.admin, ENROLL, { input: { id, name: `phone ${id}`, platform: "IOS", osVersion: "17.4", ownership: "CORPORATE", userPrincipalName: `${id}@example.com` } });
      expect(result.errors).toBeUndefined();
      // The threats subgraph learns devices from events: the first report may come before it did.
      await waitFor(async () => (await report(t, id, "SECURED", false)).errors === undefined, 10_000, `threats knows ${id}`);
    }

    let reports = 0;
    /** HIGH opens the threat (not compliant under a LOW policy), SECURED resolves it (compliant). */
    function report(t: { partner: string }, deviceId: string, level: "HIGH" | "SECURED", check = true) {
      reports += 1;
      const threat = { externalId: "t-1", category: "APP", severity: "HIGH", title: "malicious app", status: level === "HIGH" ? "ACTIVE" : "RESOLVED" };
      const input = { reportId: `r-${reports}-${Date.now()}`, deviceId, observedAt: new Date(Date.now() + reports).toISOString(), threats: [threat] };
      return graph.query(t.partner, REPORT, { input }).then((result) => {
        if (check) expect(result.errors).toBeUndefined();
        return result;
      });
    }

    const flipsOf = (tenantId: string, deviceId?: string) =>
      changes.filter((change) => change.tenantId === tenantId && (deviceId === undefined || change.payload.deviceId === deviceId));

    it("a reported threat flips compliance: exactly one ordered device-compliance-change per flip to every enabled stream of the tenant, none elsewhere", async () => {
      const a = await mtdTenant("flip-a");
      const b = await mtdTenant("flip-b");
      const first = await pushStream(await register(graph, a.admin, { name: "Okta-like A1" }));
      const second = await pushStream(await register(graph, a.admin, { name: "A2" }), { authorization: "Bearer a2" });
      const disabled = await pushStream(await register(graph, a.admin, { name: "A3 disabled" }));
      const pollRegistered = await register(graph, a.admin, { name: "A4 poll" });
      const pollStream = await pollRegistered.client.createStream({ events_requested: [CAEP.DEVICE_COMPLIANCE_CHANGE] });
      const poller = pollRegistered.client.pollClient(pollRegistered.audience, pollStream.delivery.endpoint_url);
      const other = await pushStream(await register(graph, b.admin, { name: "B1" }));
      const receivers: PushReceiver[] = [first.receiver, second.receiver, disabled.receiver, other.receiver];
      try {
        const status = await graph.query(a.admin, `mutation($id: ID!) { setSsfStreamStatus(id: $id, status: DISABLED) { status } }`, { id: disabled.stream.stream_id });
        expect(status.errors).toBeUndefined();

        await enroll(a, "a-phone");
        await enroll(a, "a-tablet");
        await enroll(b, "b-phone");
        // b's device flips too: its receiver gets its own SETs, never a's.
        await report(b, "b-phone", "HIGH");

        // Flips in quick succession, two devices interleaved, no waiting in between.
        const sequence: [string, "HIGH" | "SECURED"][] = [];
        for (let i = 0; i < 6; i += 1) {
          sequence.push(["a-phone", i % 2 === 0 ? "HIGH" : "SECURED"]);
          sequence.push(["a-tablet", i % 2 === 0 ? "HIGH" : "SECURED"]);
        }
        for (const [device, level] of sequence) await report(a, device, level);
        await waitFor(() => flipsOf(a.tenantId).length === 12, 20_000, "12 compliance flips of tenant a");
        await waitFor(() => flipsOf(b.tenantId).length === 1, 10_000, "1 compliance flip of tenant b");

        const expected = flipsOf(a.tenantId);
        for (const receiver of [first.receiver, second.receiver]) {
          await receiver.until((sets) => sets.length === expected.length, 15_000, `${expected.length} SETs`);
          for (const device of ["a-phone", "a-tablet"]) {
            const got = receiver.sets.filter((set) => deviceOf(set) === device);
            const want = flipsOf(a.tenantId, device);
            expect(got.map((set) => set.claims.txn)).toEqual(want.map((change) => change.payload.changeId));
            expect(got.map((set) => set.event.current_status)).toEqual(want.map((change) => (change.payload.current === "COMPLIANT" ? "compliant" : "not-compliant")));
            expect(got.map((set) => set.event.current_status)).toEqual(["not-compliant", "compliant", "not-compliant", "compliant", "not-compliant", "compliant"]);
          }
          expect(receiver.sets.every((set) => set.type === CAEP.DEVICE_COMPLIANCE_CHANGE)).toBe(true);
          expect(receiver.duplicates).toBe(0);
          expect(receiver.rejected).toEqual([]);
        }
        const reason = first.receiver.sets[0]!.event.reason_admin as { en: string };
        expect(reason.en).toMatch(/^Device a-(phone|tablet) is not compliant: risk HIGH from LOOKOUT exceeds IOS policy maximum LOW\. MTD partner: LOOKOUT; risk: HIGH; compliance policy: "iOS baseline" \(IOS, maximum LOW\)\.$/);
        expect(first.receiver.sets[0]!.claims.sub_id).toMatchObject({ format: "complex", user: { format: "email", email: expect.stringMatching(/^a-(phone|tablet)@example\.com$/) } });
        expect(second.receiver.attempts.every((attempt) => attempt.authorization === "Bearer a2")).toBe(true);

        // The poll stream gets the same SETs.
        await waitFor(async () => (await poller.poll({ returnImmediately: true, ack: poller.sets.map((set) => set.jti) }), poller.sets.length === 12), 10_000, "12 polled SETs");
        expect(poller.sets.map((set) => set.claims.txn).sort()).toEqual(expected.map((change) => change.payload.changeId).sort());

        // Tenant b: its flip only.
        await other.receiver.until((sets) => sets.length === 1);
        expect(other.receiver.sets.map(deviceOf)).toEqual(["b-phone"]);
        // The disabled stream got the stream-updated of its disabling, and no flip.
        await disabled.receiver.until((sets) => sets.length === 1);
        expect(disabled.receiver.sets.map((set) => [set.type, set.event.status])).toEqual([["https://schemas.openid.net/secevent/ssf/event-type/stream-updated", "disabled"]]);
        expect(disabled.receiver.attempts).toHaveLength(1);
        const health = await graph.query(a.admin, `query { ssfStreams { status health { pending deadLetters } } }`);
        const disabledHealth = health.data!.ssfStreams.find((stream: { status: string }) => stream.status === "DISABLED");
        expect(disabledHealth.health).toEqual({ pending: 0, deadLetters: 0 });
      } finally {
        for (const receiver of receivers) await receiver.stop().catch(() => {});
      }
    });

    it("measures flip → SET latency (report accepted → SET received by a push receiver)", async () => {
      const t = await mtdTenant("latency");
      const { receiver } = await pushStream(await register(graph, t.admin));
      try {
        await enroll(t, "lat-1");
        const latencies: number[] = [];
        const flips = 20;
        for (let i = 0; i < flips; i += 1) {
          const level = i % 2 === 0 ? "HIGH" : "SECURED";
          const sent = Date.now();
          await report(t, "lat-1", level);
          const [set] = (await receiver.until((sets) => sets.length === i + 1, 10_000)).slice(i);
          expect(set!.event.current_status).toBe(level === "HIGH" ? "not-compliant" : "compliant");
          latencies.push(set!.receivedAt - sent);
        }
        const summary = { flips, p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: Math.max(...latencies) };
        console.log(`[ssf latency ${engine.name}] reportThreats sent → SET received: ${JSON.stringify(summary)} ms`);
        expect(summary.p50).toBeLessThan(2000);
        const state = await graph.query(t.admin, COMPLIANCE, { id: "lat-1" });
        expect(state.data!.device.complianceState).toBe("COMPLIANT");
      } finally {
        await receiver.stop();
      }
    });
  });
}
