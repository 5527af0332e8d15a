/**
 * Grace periods, access exceptions and report-only policies through the
 * gateway. Deadlines are crossed by policies replicas whose clock runs ahead
 * (same database and log), the way a deadline passes for a real replica.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AssessmentChangedPayload, ComplianceChangedPayload } from "../../lib/events/contracts.js";
import type { ThreatLevel } from "../../lib/domain-enums.js";
import type { LoggedEvent } from "../../lib/events/types.js";
import { createLogger } from "../../lib/logger.js";
import { REEVALUATION_SLICE } from "../../subgraphs/policies/evaluator.js";
import { start as startPolicies, type RunningPolicies } from "../../subgraphs/policies/server.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";

const ENROLL = `mutation($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`;
const RETIRE = `mutation($id: ID!) { retireDevice(id: $id) { id } }`;
const SET_COMPLIANCE = `mutation($input: SetCompliancePolicyInput!) { setCompliancePolicy(input: $input) { id gracePeriodMinutes } }`;
const SET_CA = `mutation($input: SetConditionalAccessPolicyInput!) { setConditionalAccessPolicy(input: $input) { id mode } }`;
const DEVICE = `query($id: ID!) { device(id: $id) { complianceState complianceDeadline access { resource allowed reason } accessExceptions { id resources reason expiresAt grantedBy } } }`;
const CHANGES = `query { accessChanges(first: 500) { edges { node { resource allowed reason device { id } } } } }`;
const GRANT = `mutation($input: GrantAccessExceptionInput!) { grantAccessException(input: $input) { id resources reason expiresAt grantedBy } }`;
const REVOKE = `mutation($id: ID!) { revokeAccessException(id: $id) { id } }`;
const IMPACT = `query { conditionalAccessPolicies { id mode impact { wouldBlock devices(first: 10) { totalCount edges { node { id } } } } } }`;
const ENROLL_BATCH = `mutation($inputs: [EnrollDeviceInput!]!) { enrollDevicesBatch(inputs: $inputs) { id error { code } } }`;
const AUDIT = `query { auditLog(first: 100) { edges { node { action targetType targetId } } } }`;

const MINUTE = 60_000;

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`grace periods, exceptions and report-only policies on ${engine.name}`, () => {
    let graph: TestGraph;
    const compliance: LoggedEvent<ComplianceChangedPayload>[] = [];
    const tailing = new AbortController();
    let tail: Promise<void>;
    let version = 10_000;

    beforeAll(async () => {
      graph = await startGraph(engine);
      const seen = new Set<string>();
      tail = (async () => {
        for await (const event of graph.events.tail("policies", { after: "0", signal: tailing.signal })) {
          if (event.type === "compliance.changed" && !seen.has(event.id)) compliance.push(event as LoggedEvent<ComplianceChangedPayload>);
          seen.add(event.id);
        }
      })();
    });
    afterAll(async () => {
      tailing.abort();
      await tail?.catch(() => {});
      await graph?.stop();
    });

    /** A tenant with an IOS policy at LOW (`grace` minutes) and an ENFORCED policy on exchange. */
    async function tenant(grace = 0) {
      const tenantId = `g-${randomUUID().slice(0, 8)}`;
      const admin = await graph.token({ tenantId, role: "admin" });
      expect((await graph.query(admin, SET_COMPLIANCE, { input: { platform: "IOS", name: "iOS", maxThreatLevel: "LOW", gracePeriodMinutes: grace } })).errors).toBeUndefined();
      expect((await graph.query(admin, SET_CA, { input: { name: "Mail", resources: ["exchange"], platforms: ["IOS"], enabled: true } })).errors).toBeUndefined();
      return { tenantId, admin };
    }
    const device = async (token: string, id: string) => (await graph.query(token, DEVICE, { id })).data!.device;
    /** The tenant's audit entries on `targetType`, newest first. */
    const audited = async (token: string, targetType: string) =>
      ((await graph.query(token, AUDIT)).data!.auditLog.edges.map((e: any) => e.node) as { action: string; targetType: string; targetId: string }[]).filter((entry) => entry.targetType === targetType);
    const changes = async (token: string) => (await graph.query(token, CHANGES)).data!.accessChanges.edges.map((e: any) => e.node) as { resource: string; allowed: boolean; reason: string; device: { id: string } }[];

    async function enroll(admin: string, tenantId: string, id: string) {
      expect((await graph.query(admin, ENROLL, { input: { id, name: id, platform: "IOS", osVersion: "17", ownership: "CORPORATE" } })).errors).toBeUndefined();
      await assess(tenantId, id, "SECURED");
    }
    /** What the threats subgraph publishes; waits until policies has applied it. */
    async function assess(tenantId: string, deviceId: string, level: ThreatLevel) {
      const payload: AssessmentChangedPayload = { deviceId, platform: "IOS", previousLevel: null, level, dataStatus: "REPORTED", blockOnMissing: false, partner: "LOOKOUT", unresponsiveSince: null };
      await graph.events.publish("threats", [{ id: randomUUID(), type: "device.assessment.changed", tenantId, aggregateId: deviceId, version: ++version, occurredAt: new Date().toISOString(), payload }]);
      const admin = await graph.token({ tenantId, role: "admin" });
      await waitFor(async () => (await device(admin, deviceId))?.access?.[0]?.reason?.includes(`risk ${level} `) === true, 10_000, `${deviceId} at ${level}`);
    }
    /** Policies replicas whose clocks run `aheadMs` ahead, polling deadlines every 25 ms. */
    async function ahead(aheadMs: number, count = 1): Promise<RunningPolicies[]> {
      const replicas: RunningPolicies[] = [];
      for (let i = 0; i < count; i++) {
        replicas.push(await startPolicies({ config: { ...graph.config, port: 0 }, logger: createLogger("silent", "test"), events: graph.events }, { now: () => Date.now() + aheadMs, deadlinePollMs: 25 }));
      }
      return replicas;
    }
    const stopAll = (replicas: RunningPolicies[]) => Promise.all(replicas.map((replica) => replica.dispose()));

    describe("grace periods", () => {
      it("over the threshold: IN_GRACE_PERIOD with access kept; a higher level keeps the deadline; at the deadline two replicas revoke once", async () => {
        const { tenantId, admin } = await tenant(1);
        await enroll(admin, tenantId, "g-1");
        await assess(tenantId, "g-1", "MEDIUM");
        const inGrace = await device(admin, "g-1");
        expect(inGrace.complianceState).toBe("IN_GRACE_PERIOD");
        const deadline = inGrace.complianceDeadline as string;
        expect(Date.parse(deadline)).toBeGreaterThan(Date.now() + 30_000);
        expect(inGrace.access).toEqual([{ resource: "exchange", allowed: true, reason: expect.stringMatching(new RegExp(`^in grace period until ${deadline}: risk MEDIUM from LOOKOUT exceeds`)) }]);

        await assess(tenantId, "g-1", "HIGH");
        expect((await device(admin, "g-1")).complianceDeadline).toBe(deadline);
        expect(await changes(admin)).toEqual([]);

        const replicas = await ahead(2 * MINUTE, 2);
        try {
          await waitFor(async () => (await changes(admin)).length > 0, 10_000, "revocation at the deadline");
          await Promise.all(replicas.map((replica) => replica.fireDeadlines()));
        } finally {
          await stopAll(replicas);
        }
        const revoked = await changes(admin);
        expect(revoked).toHaveLength(1);
        expect(revoked[0]).toMatchObject({ resource: "exchange", allowed: false });
        expect(revoked[0]!.reason).toContain(`grace period ended ${deadline}`);
        expect(await device(admin, "g-1")).toMatchObject({ complianceState: "NONCOMPLIANT", complianceDeadline: null });

        await waitFor(() => compliance.filter((e) => e.tenantId === tenantId).length === 2, 5000, "compliance events");
        expect(compliance.filter((e) => e.tenantId === tenantId).map((e) => [e.payload.previous, e.payload.current, e.payload.previousState, e.payload.state, e.payload.complianceDeadline])).toEqual([
          ["COMPLIANT", "COMPLIANT", "COMPLIANT", "IN_GRACE_PERIOD", deadline],
          ["COMPLIANT", "NONCOMPLIANT", "IN_GRACE_PERIOD", "NONCOMPLIANT", null],
        ]);
      });

      it("resolved within the period: COMPLIANT again, and the deadline passes with no access change", async () => {
        const { tenantId, admin } = await tenant(1);
        await enroll(admin, tenantId, "g-2");
        await assess(tenantId, "g-2", "HIGH");
        expect((await device(admin, "g-2")).complianceState).toBe("IN_GRACE_PERIOD");
        await assess(tenantId, "g-2", "LOW");
        expect(await device(admin, "g-2")).toMatchObject({ complianceState: "COMPLIANT", complianceDeadline: null });
        const [replica] = await ahead(2 * MINUTE);
        try {
          await replica!.fireDeadlines();
        } finally {
          await replica!.dispose();
        }
        expect(await changes(admin)).toEqual([]);
        expect((await device(admin, "g-2")).access[0].allowed).toBe(true);
      });

      it("a change of the period mid-grace keeps the running deadline; devices entering grace afterwards get the new period", async () => {
        const { tenantId, admin } = await tenant(60);
        for (const id of ["g-3", "g-4"]) await enroll(admin, tenantId, id);
        await assess(tenantId, "g-3", "MEDIUM");
        const deadline = (await device(admin, "g-3")).complianceDeadline as string;
        expect(Date.parse(deadline)).toBeGreaterThan(Date.now() + 50 * MINUTE);

        // Tighter threshold and a 1-minute period: g-3 is re-evaluated (its reason names the new maximum) and keeps its deadline.
        expect((await graph.query(admin, SET_COMPLIANCE, { input: { platform: "IOS", name: "iOS", maxThreatLevel: "SECURED", gracePeriodMinutes: 1 } })).errors).toBeUndefined();
        await waitFor(async () => (await device(admin, "g-3")).access[0].reason.includes("policy maximum SECURED"), 10_000, "g-3 re-evaluated");
        expect(await device(admin, "g-3")).toMatchObject({ complianceState: "IN_GRACE_PERIOD", complianceDeadline: deadline });
        await assess(tenantId, "g-4", "LOW");
        const shorter = Date.parse((await device(admin, "g-4")).complianceDeadline);
        expect(shorter).toBeLessThanOrEqual(Date.now() + MINUTE);

        const [replica] = await ahead(2 * MINUTE);
        try {
          await waitFor(async () => (await changes(admin)).length > 0, 10_000, "g-4 revoked at its deadline");
          await replica!.fireDeadlines();
        } finally {
          await replica!.dispose();
        }
        expect((await changes(admin)).map((c) => [c.device.id, c.allowed])).toEqual([["g-4", false]]);
        expect(await device(admin, "g-3")).toMatchObject({ complianceState: "IN_GRACE_PERIOD", complianceDeadline: deadline });

        // A looser threshold ends g-3's grace with no access change.
        await graph.query(admin, SET_COMPLIANCE, { input: { platform: "IOS", name: "iOS", maxThreatLevel: "HIGH", gracePeriodMinutes: 1 } });
        await waitFor(async () => (await device(admin, "g-3")).complianceState === "COMPLIANT", 10_000, "g-3 compliant");
        expect((await device(admin, "g-3")).complianceDeadline).toBeNull();
        await waitFor(async () => (await changes(admin)).length === 2, 10_000, "g-4 restored");
        expect((await changes(admin)).map((c) => [c.device.id, c.allowed])).toEqual([["g-4", false], ["g-4", true]]);
      });

      it("retiring a device is NONCOMPLIANT at once, in grace or not: no grace period starts, none is left to fire", async () => {
        const { tenantId, admin } = await tenant(1);
        for (const id of ["g-5", "g-6"]) await enroll(admin, tenantId, id);
        await assess(tenantId, "g-6", "HIGH");
        expect((await device(admin, "g-6")).complianceState).toBe("IN_GRACE_PERIOD");
        for (const id of ["g-5", "g-6"]) await graph.query(admin, RETIRE, { id });
        await waitFor(async () => (await changes(admin)).length === 2, 10_000, "both retired");
        for (const id of ["g-5", "g-6"]) {
          expect(await device(admin, id)).toMatchObject({ complianceState: "NONCOMPLIANT", complianceDeadline: null, access: [{ allowed: false, reason: "device retired; all access revoked" }] });
        }
        const [replica] = await ahead(2 * MINUTE);
        try {
          await replica!.fireDeadlines();
        } finally {
          await replica!.dispose();
        }
        expect((await changes(admin)).map((c) => [c.device.id, c.allowed])).toEqual([["g-5", false], ["g-6", false]]);
        await waitFor(() => compliance.filter((e) => e.tenantId === tenantId).length >= 3, 5000, "compliance events");
        expect(compliance.filter((e) => e.tenantId === tenantId).map((e) => [e.payload.deviceId, e.payload.previousState, e.payload.state])).toEqual([
          ["g-6", "COMPLIANT", "IN_GRACE_PERIOD"],
          ["g-5", "COMPLIANT", "NONCOMPLIANT"],
          ["g-6", "IN_GRACE_PERIOD", "NONCOMPLIANT"],
        ]);
      });
    });

    describe("access exceptions", () => {
      it("keep a device allowed when it becomes noncompliant under them: no access change, the reason says exception:, and expiry revokes once", async () => {
        const { tenantId, admin } = await tenant(0);
        await enroll(admin, tenantId, "x-4");
        const expiresAt = new Date(Date.now() + MINUTE).toISOString();
        const exception = (await graph.query(admin, GRANT, { input: { deviceId: "x-4", resources: ["exchange"], reason: "travelling", expiresAt } })).data!.grantAccessException;
        expect((await device(admin, "x-4")).access[0]).toMatchObject({ allowed: true, reason: expect.stringMatching(/^exception: travelling .*device COMPLIANT: /) });
        await assess(tenantId, "x-4", "HIGH");
        expect(await device(admin, "x-4")).toMatchObject({
          complianceState: "NONCOMPLIANT",
          access: [{ resource: "exchange", allowed: true, reason: expect.stringMatching(new RegExp(`^exception: travelling \\(exception ${exception.id} granted by .* until ${expiresAt}; device NONCOMPLIANT: risk HIGH from LOOKOUT`)) }],
        });
        expect(await changes(admin)).toEqual([]);
        const replicas = await ahead(2 * MINUTE, 2);
        try {
          await waitFor(async () => (await changes(admin)).length > 0, 10_000, "revocation at expiry");
          await Promise.all(replicas.map((replica) => replica.fireDeadlines()));
        } finally {
          await stopAll(replicas);
        }
        expect((await changes(admin)).map((c) => [c.allowed, c.reason.startsWith("noncompliant: risk HIGH")])).toEqual([[false, true]]);
      });

      it("overlapping: the first to expire hands over to the other with no access change; the last expiry revokes once", async () => {
        const { tenantId, admin } = await tenant(0);
        await enroll(admin, tenantId, "x-5");
        await assess(tenantId, "x-5", "HIGH");
        await waitFor(async () => (await changes(admin)).length === 1, 5000, "revoked");
        const grant = async (reason: string, minutes: number) =>
          (await graph.query(admin, GRANT, { input: { deviceId: "x-5", resources: ["exchange"], reason, expiresAt: new Date(Date.now() + minutes * MINUTE).toISOString() } })).data!.grantAccessException;
        const first = await grant("first", 1);
        const second = await grant("second", 3);
        expect((await device(admin, "x-5")).accessExceptions.map((e: { id: string }) => e.id)).toEqual([first.id, second.id]);
        expect((await device(admin, "x-5")).access[0].reason).toContain(`exception ${first.id} `);
        expect((await changes(admin)).map((c) => c.allowed)).toEqual([false, true]);

        const [soon] = await ahead(2 * MINUTE);
        try {
          await waitFor(async () => (await device(admin, "x-5")).access[0].reason.startsWith("exception: second"), 10_000, "handed over to the second");
        } finally {
          await soon!.dispose();
        }
        expect((await changes(admin)).map((c) => c.allowed)).toEqual([false, true]);
        const [later] = await ahead(4 * MINUTE);
        try {
          await waitFor(async () => (await changes(admin)).length === 3, 10_000, "revoked at the second's expiry");
          await later!.fireDeadlines();
        } finally {
          await later!.dispose();
        }
        expect((await changes(admin)).map((c) => c.allowed)).toEqual([false, true, false]);
      });


      it("restore a noncompliant device on their resources with an exception: reason, expire on time once, and revoke", async () => {
        const { tenantId, admin } = await tenant(0);
        await enroll(admin, tenantId, "x-1");
        await assess(tenantId, "x-1", "HIGH");
        await waitFor(async () => (await changes(admin)).length === 1, 5000, "revoked");

        const expiresAt = new Date(Date.now() + MINUTE).toISOString();
        const granted = await graph.query(admin, GRANT, { input: { deviceId: "x-1", resources: ["exchange"], reason: "CEO travelling, ticket 4711", expiresAt } });
        expect(granted.errors).toBeUndefined();
        const exception = granted.data!.grantAccessException;
        expect(exception).toMatchObject({ resources: ["exchange"], reason: "CEO travelling, ticket 4711", expiresAt });
        const restored = await changes(admin);
        expect(restored.map((c) => c.allowed)).toEqual([false, true]);
        expect(restored[1]!.reason).toMatch(/^exception: CEO travelling, ticket 4711 \(exception .* until .*; device NONCOMPLIANT: risk HIGH from LOOKOUT exceeds/);
        expect((await device(admin, "x-1")).accessExceptions).toEqual([exception]);

        const replicas = await ahead(2 * MINUTE, 2);
        try {
          await waitFor(async () => (await changes(admin)).length === 3, 10_000, "revocation at expiry");
          await Promise.all(replicas.map((replica) => replica.fireDeadlines()));
        } finally {
          await stopAll(replicas);
        }
        expect((await changes(admin)).map((c) => c.allowed)).toEqual([false, true, false]);

        const again = (await graph.query(admin, GRANT, { input: { deviceId: "x-1", resources: ["exchange"], reason: "one more day", expiresAt: new Date(Date.now() + 24 * 60 * MINUTE).toISOString() } })).data!.grantAccessException;
        // This replica's clock has not reached the first exception's expiry: revoke it too.
        for (const id of [exception.id, again.id, again.id]) expect((await graph.query(admin, REVOKE, { id })).errors).toBeUndefined(); // the last: unchanged
        expect((await changes(admin)).map((c) => c.allowed)).toEqual([false, true, false, true, false]);
        const actions = (await graph.query(admin, AUDIT)).data!.auditLog.edges.map((e: any) => e.node.action);
        await waitFor(async () => (await graph.query(admin, AUDIT)).data!.auditLog.edges.filter((e: any) => e.node.targetType === "AccessException").length === 4, 5000, "audit entries");
        expect(actions).toEqual(expect.arrayContaining(["compliancePolicy.created", "conditionalAccessPolicy.created"]));
      });

      it("are refused for analysts, partners and enforcement, and for another tenant's device or exception", async () => {
        const { tenantId, admin } = await tenant(0);
        await enroll(admin, tenantId, "x-2");
        const input = { deviceId: "x-2", resources: ["exchange"], reason: "r", expiresAt: new Date(Date.now() + MINUTE).toISOString() };
        const exception = (await graph.query(admin, GRANT, { input })).data!.grantAccessException;
        for (const role of ["analyst", "partner", "enforcement"] as const) {
          const token = await graph.token({ tenantId, role, ...(role === "partner" ? { partner: "LOOKOUT" as const } : {}) });
          for (const [document, variables] of [
            [GRANT, { input }],
            [REVOKE, { id: exception.id }],
            [SET_COMPLIANCE, { input: { platform: "IOS", name: "x", maxThreatLevel: "HIGH", gracePeriodMinutes: 10 } }],
            [SET_CA, { input: { name: "x", resources: ["x"], platforms: ["IOS"], enabled: true, mode: "REPORT_ONLY" } }],
          ] as const) {
            expect((await graph.query(token, document, variables)).errors![0]!.extensions!.code, `${role}`).toBe("FORBIDDEN");
          }
        }
        const other = await graph.token({ tenantId: `${tenantId}-other`, role: "admin" });
        expect((await graph.query(other, GRANT, { input })).errors![0]!.extensions!.code).toBe("NOT_FOUND");
        expect((await graph.query(other, REVOKE, { id: exception.id })).errors![0]!.extensions!.code).toBe("NOT_FOUND");
        expect((await device(admin, "x-2")).accessExceptions).toHaveLength(1);
      });

      it.each([
        ["an expiry in the past", { expiresAt: new Date(Date.now() - 1000).toISOString() }, "input.expiresAt"],
        ["an expiry beyond 30 days", { expiresAt: new Date(Date.now() + 31 * 24 * 60 * MINUTE).toISOString() }, "input.expiresAt"],
        ["no resource", { resources: [] }, "input.resources"],
        ["a resource name with spaces", { resources: ["ex change"] }, "input.resources[0]"],
        ["a resource twice", { resources: ["exchange", "exchange"] }, "input.resources[1]"],
        ["an empty reason", { reason: "  " }, "input.reason"],
        ["a null in the resource list", { resources: ["exchange", null] }, "$input"],
        ["a list of lists", { resources: [["exchange"]] }, "$input"],
        ["a number for a resource", { resources: [42] }, "$input"],
        ["an object for the resource list", { resources: { exchange: true } }, "$input"],
        ["an expiry that is no date-time", { expiresAt: "tomorrow" }, "$input"],
      ])("an exception with %s is BAD_USER_INPUT and stores nothing, audit included", async (_name, override, field) => {
        const { tenantId, admin } = await tenant(0);
        await enroll(admin, tenantId, "x-3");
        const input = { deviceId: "x-3", resources: ["exchange"], reason: "r", expiresAt: new Date(Date.now() + MINUTE).toISOString() };
        const result = await graph.query(admin, GRANT, { input: { ...input, ...override } });
        expect(result.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
        expect(result.errors![0]!.message.startsWith(field.startsWith("$") ? `Variable "${field}"` : `${field}: `), result.errors![0]!.message).toBe(true);
        expect(await device(admin, "x-3")).toMatchObject({ accessExceptions: [], access: [{ allowed: true, reason: expect.stringMatching(/^compliant: /) }] });
        // A valid grant after it: once its entry is in the audit trail, the refused one would be too.
        const granted = (await graph.query(admin, GRANT, { input })).data!.grantAccessException;
        await waitFor(async () => (await audited(admin, "AccessException")).length > 0, 5000, "the valid grant audited");
        expect(await audited(admin, "AccessException")).toEqual([{ action: "accessException.granted", targetType: "AccessException", targetId: granted.id }]);
      });

      it.each([[-1], [43_201], [60 * 24 * 31]])("a grace period of %i minutes is BAD_USER_INPUT and stores nothing, audit included", async (minutes) => {
        const { admin } = await tenant(5);
        const result = await graph.query(admin, SET_COMPLIANCE, { input: { platform: "IOS", name: "iOS", maxThreatLevel: "LOW", gracePeriodMinutes: minutes } });
        expect(result.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
        expect(result.errors![0]!.message).toMatch(/^input\.gracePeriodMinutes: expected an integer from 0 to 43200/);
        expect((await graph.query(admin, `query { compliancePolicies { gracePeriodMinutes } }`)).data!.compliancePolicies).toEqual([{ gracePeriodMinutes: 5 }]);
        await graph.query(admin, SET_COMPLIANCE, { input: { platform: "IOS", name: "iOS", maxThreatLevel: "LOW", gracePeriodMinutes: 6 } });
        await waitFor(async () => (await audited(admin, "CompliancePolicy")).length === 2, 5000, "the valid change audited");
        expect((await audited(admin, "CompliancePolicy")).map((entry) => entry.action)).toEqual(["compliancePolicy.updated", "compliancePolicy.created"]);
      });

      it.each([
        ["an unknown mode", { mode: "SHADOW" }],
        ["a null in the resource list", { resources: ["files", null] }],
        ["a list of lists", { resources: [["files"]] }],
      ])("a conditional-access policy with %s is BAD_USER_INPUT and stores nothing, audit included", async (_name, override) => {
        const { admin } = await tenant(0);
        const result = await graph.query(admin, SET_CA, { input: { name: "Files", resources: ["files"], platforms: ["IOS"], enabled: true, mode: "REPORT_ONLY", ...override } });
        expect(result.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
        expect((await graph.query(admin, IMPACT)).data!.conditionalAccessPolicies.map((p: { mode: string }) => p.mode)).toEqual(["ENFORCED"]);
        await graph.query(admin, SET_CA, { input: { name: "Files", resources: ["files"], platforms: ["IOS"], enabled: true, mode: "REPORT_ONLY" } });
        await waitFor(async () => (await audited(admin, "ConditionalAccessPolicy")).length === 2, 5000, "the valid policy audited");
        expect((await audited(admin, "ConditionalAccessPolicy")).map((entry) => entry.action)).toEqual(["conditionalAccessPolicy.created", "conditionalAccessPolicy.created"]);
      });
    });

    describe("report-only policies", () => {
      it("never revoke; their impact follows devices as they come, recover and retire; ENFORCED then revokes like any policy", async () => {
        const { tenantId, admin } = await tenant(0);
        const files = (await graph.query(admin, SET_CA, { input: { name: "Files", resources: ["files"], platforms: ["IOS"], enabled: true, mode: "REPORT_ONLY" } })).data!.setConditionalAccessPolicy;
        expect(files.mode).toBe("REPORT_ONLY");
        const impact = async () => (await graph.query(admin, IMPACT)).data!.conditionalAccessPolicies.find((p: { id: string }) => p.id === files.id).impact;
        for (const id of ["r-1", "r-2", "r-3"]) await enroll(admin, tenantId, id);
        for (const id of ["r-1", "r-2", "r-3"]) await assess(tenantId, id, "HIGH");
        expect(await impact()).toEqual({ wouldBlock: 3, devices: { totalCount: 3, edges: [{ node: { id: "r-1" } }, { node: { id: "r-2" } }, { node: { id: "r-3" } }] } });
        expect((await changes(admin)).every((c) => c.resource === "exchange")).toBe(true);
        expect((await device(admin, "r-1")).access.map((a: { resource: string }) => a.resource)).toEqual(["exchange"]);

        await assess(tenantId, "r-2", "SECURED");
        await graph.query(admin, RETIRE, { id: "r-3" });
        await waitFor(async () => (await impact()).wouldBlock === 1, 10_000, "impact after recovery and retirement");
        expect((await impact()).devices.edges).toEqual([{ node: { id: "r-1" } }]);

        const before = (await changes(admin)).length;
        await graph.query(admin, SET_CA, { input: { id: files.id, name: "Files", resources: ["files"], platforms: ["IOS"], enabled: true, mode: "ENFORCED" } });
        await waitFor(async () => (await changes(admin)).some((c) => c.resource === "files"), 10_000, "files enforced");
        const enforced = (await changes(admin)).slice(before);
        expect(enforced.map((c) => [c.resource, c.allowed, c.device.id])).toEqual([["files", false, "r-1"]]);
        expect((await impact()).wouldBlock).toBe(1); // ENFORCED: the devices it blocks
      });

      it("with a fleet over several re-evaluation slices: wouldBlock counts exactly the blocked devices (exceptions and grace left out), pages through them, and ENFORCED revokes exactly those, once", async () => {
        const { tenantId, admin } = await tenant(0);
        const files = (await graph.query(admin, SET_CA, { input: { name: "Files", resources: ["files"], platforms: ["IOS"], enabled: true, mode: "REPORT_ONLY" } })).data!.setConditionalAccessPolicy;
        const FLEET = 2 * REEVALUATION_SLICE + 50;
        const ids = Array.from({ length: FLEET }, (_, i) => `f-${String(i).padStart(4, "0")}`);
        const enrolled = await graph.query(admin, ENROLL_BATCH, { inputs: ids.map((id) => ({ id, name: id, platform: "IOS", osVersion: "17", ownership: "CORPORATE" })) });
        expect(enrolled.errors).toBeUndefined();
        // Every third device HIGH, the others SECURED; one HIGH device holds an exception on files.
        const high = new Set(ids.filter((_, i) => i % 3 === 0));
        const at = new Date().toISOString();
        await graph.events.publish("threats", ids.map((deviceId) => {
          const payload: AssessmentChangedPayload = { deviceId, platform: "IOS", previousLevel: null, level: high.has(deviceId) ? "HIGH" : "SECURED", dataStatus: "REPORTED", blockOnMissing: false, partner: "LOOKOUT", unresponsiveSince: null };
          return { id: randomUUID(), type: "device.assessment.changed", tenantId, aggregateId: deviceId, version: ++version, occurredAt: at, payload };
        }));
        const impact = async (after?: string) =>
          (await graph.query(admin, `query($after: String) { conditionalAccessPolicies { id impact { wouldBlock devices(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } } }`, { after }))
            .data!.conditionalAccessPolicies.find((p: { id: string }) => p.id === files.id).impact;
        await waitFor(async () => (await impact()).wouldBlock === high.size, 30_000, "impact of the fleet");
        const excepted = [...high][1]!;
        await graph.query(admin, GRANT, { input: { deviceId: excepted, resources: ["files"], reason: "pilot", expiresAt: new Date(Date.now() + 60 * MINUTE).toISOString() } });
        const blocked = [...high].filter((id) => id !== excepted);
        expect((await impact()).wouldBlock).toBe(blocked.length);
        const paged: string[] = [];
        for (let after: string | undefined; ; ) {
          const page = (await impact(after)).devices;
          expect(page.totalCount).toBe(blocked.length);
          paged.push(...page.edges.map((edge: { node: { id: string } }) => edge.node.id));
          if (!page.pageInfo.hasNextPage) break;
          after = page.pageInfo.endCursor;
        }
        expect(paged).toEqual(blocked);
        await waitFor(async () => (await changes(admin)).length === high.size, 30_000, "exchange revoked on the HIGH devices");
        expect((await changes(admin)).every((c) => c.resource === "exchange" && !c.allowed)).toBe(true);

        const filesChanges = async () =>
          (await graph.query(admin, `query { accessChanges(resource: "files", first: 500) { totalCount edges { node { allowed reason device { id } } } } }`)).data!.accessChanges.edges.map((e: any) => e.node) as { allowed: boolean; reason: string; device: { id: string } }[];
        const setFiles = (mode: string) => graph.query(admin, SET_CA, { input: { id: files.id, name: "Files", resources: ["files"], platforms: ["IOS"], enabled: true, mode } });
        await setFiles("ENFORCED");
        await waitFor(async () => (await filesChanges()).length >= blocked.length, 30_000, "files enforced on the fleet");
        const revoked = await filesChanges();
        expect(revoked.map((c) => c.device.id)).toEqual(blocked);
        expect(revoked.every((c) => !c.allowed && c.reason.includes(`conditional-access policy "Files"`))).toBe(true);
        expect((await device(admin, excepted)).access).toEqual([
          { resource: "exchange", allowed: false, reason: expect.stringMatching(/^noncompliant: /) },
          { resource: "files", allowed: true, reason: expect.stringMatching(/^exception: pilot /) },
        ]);
        expect((await impact()).wouldBlock).toBe(blocked.length);

        // Back to report-only: it decides nothing again, so what it revoked is restored, once each.
        await setFiles("REPORT_ONLY");
        await waitFor(async () => (await filesChanges()).length >= 2 * blocked.length, 30_000, "files restored");
        const restored = (await filesChanges()).slice(blocked.length);
        expect(restored.map((c) => [c.device.id, c.allowed, c.reason])).toEqual(blocked.map((id) => [id, true, "no conditional-access policy requires compliance for files"]));
        expect((await device(admin, blocked[0]!)).access.map((a: { resource: string }) => a.resource)).toEqual(["exchange"]);
        expect((await impact()).wouldBlock).toBe(blocked.length);
      });
    });
  });
}
