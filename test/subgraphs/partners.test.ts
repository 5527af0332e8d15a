/** Several MTD partners per tenant, one per platform: conflicts, the platform rule on reports, per-platform risk and liveness. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MtdPartner } from "../../lib/domain-enums.js";
import type { AssessmentChangedPayload, ConnectorStateChangedPayload } from "../../lib/events/contracts.js";
import type { LoggedEvent } from "../../lib/events/types.js";
import { createLogger } from "../../lib/logger.js";
import { start as startThreats } from "../../subgraphs/threats/server.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { partnerAdmission, waitForPartnerRule } from "../support/partners.js";
import { waitFor } from "../support/wait.js";

const ENROLL = `mutation($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`;
const ENABLE = `mutation($input: EnableMtdConnectorInput!) { enableMtdConnector(input: $input) { partner state enabledPlatforms } }`;
const DISABLE = `mutation($partner: MtdPartner) { disableMtdConnector(partner: $partner) { partner state } }`;
const CONNECTORS = `query { mtdConnectors { partner state enabledPlatforms } mtdConnector { partner } }`;
const REPORT = `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { device { id riskLevel } } }`;
const RISK = `query($id: ID!) { device(id: $id) { riskLevel threats { partner } } }`;

let counter = 0;
const report = (deviceId: string, severity = "HIGH") => ({
  reportId: `p-${++counter}-${Date.now()}`,
  deviceId,
  observedAt: new Date().toISOString(),
  threats: [{ externalId: `x-${counter}`, category: "APP", severity, title: "threat", status: "ACTIVE" }],
});

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`partners per platform on ${engine.name}`, () => {
    let graph: TestGraph;
    const events: LoggedEvent[] = [];
    const tailing = new AbortController();
    let tail: Promise<void>;

    const assessments = (tenantId: string, deviceId: string) =>
      events.filter((e) => e.type === "device.assessment.changed" && e.tenantId === tenantId && e.aggregateId === deviceId).map((e) => e.payload as AssessmentChangedPayload);
    const connectorEvents = (tenantId: string) =>
      events.filter((e) => e.type === "connector.state.changed" && e.tenantId === tenantId).map((e) => e.payload as ConnectorStateChangedPayload);

    /** A tenant with LOOKOUT on IOS and MICROSOFT_DEFENDER on ANDROID + WINDOWS, and one known device per platform. */
    async function tenant(name: string, lookoutMinutes = 1440) {
      const tenantId = `${name}-${Date.now()}`;
      const admin = await graph.token({ tenantId, role: "admin" });
      const partner = (p: MtdPartner) => graph.token({ tenantId, role: "partner", partner: p });
      for (const input of [
        { partner: "LOOKOUT", enabledPlatforms: ["IOS"], unresponsiveAfterMinutes: lookoutMinutes },
        { partner: "MICROSOFT_DEFENDER", enabledPlatforms: ["ANDROID", "WINDOWS"] },
      ]) {
        expect((await graph.query(admin, ENABLE, { input })).data!.enableMtdConnector.state).toBe("ENABLED");
      }
      for (const [id, platform] of [["ios-1", "IOS"], ["android-1", "ANDROID"]]) {
        await graph.query(admin, ENROLL, { input: { id, name: id, platform, osVersion: "1", ownership: "CORPORATE" } });
        await waitFor(() => assessments(tenantId, id!).length > 0, 10_000, `${id} known to threats`);
      }
      const tokens = { lookout: await partner("LOOKOUT"), defender: await partner("MICROSOFT_DEFENDER") };
      for (const token of Object.values(tokens)) await waitForPartnerRule(graph, token);
      return { tenantId, admin, ...tokens };
    }

    beforeAll(async () => {
      graph = await startGraph(engine);
      const seen = new Set<string>();
      tail = (async () => {
        for await (const event of graph.events.tail("threats", { after: "0", signal: tailing.signal })) {
          if (!seen.has(event.id)) events.push(event);
          seen.add(event.id);
        }
      })();
    });
    afterAll(async () => {
      tailing.abort();
      await tail?.catch(() => {});
      await graph?.stop();
    });

    it("enables partners on disjoint platforms; an overlap is CONFLICT naming partner and platform, storing nothing", async () => {
      const t = await tenant("disjoint");
      const overlap = await graph.query(t.admin, ENABLE, { input: { partner: "ZIMPERIUM", enabledPlatforms: ["MACOS", "WINDOWS"] } });
      expect(overlap.errors![0]!.extensions!.code).toBe("CONFLICT");
      expect(overlap.errors![0]!.message).toContain("MICROSOFT_DEFENDER is ENABLED for WINDOWS");
      // Moving a platform of its own is no conflict; the other connector's platforms are.
      const moved = await graph.query(t.admin, ENABLE, { input: { partner: "LOOKOUT", enabledPlatforms: ["IOS", "ANDROID"] } });
      expect(moved.errors![0]!.extensions!.code).toBe("CONFLICT");
      const listed = (await graph.query(t.admin, CONNECTORS)).data!;
      expect(listed.mtdConnectors).toEqual([
        { partner: "LOOKOUT", state: "ENABLED", enabledPlatforms: ["IOS"] },
        { partner: "MICROSOFT_DEFENDER", state: "ENABLED", enabledPlatforms: ["ANDROID", "WINDOWS"] },
      ]);
      expect(listed.mtdConnector.partner).toBe("MICROSOFT_DEFENDER"); // the one covering the most platforms

      const ambiguous = await graph.query(t.admin, DISABLE, {});
      expect(ambiguous.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
      expect((await graph.query(t.admin, CONNECTORS)).data!.mtdConnectors.every((c: { state: string }) => c.state === "ENABLED")).toBe(true);
      for (const token of [await graph.token({ tenantId: t.tenantId, role: "analyst" }), t.lookout]) {
        expect((await graph.query(token, DISABLE, { partner: "LOOKOUT" })).errors![0]!.extensions!.code).toBe("FORBIDDEN");
      }
      expect((await graph.query(t.admin, DISABLE, { partner: "ZIMPERIUM" })).data!.disableMtdConnector).toBeNull();
      const androidBefore = assessments(t.tenantId, "android-1").length;
      expect((await graph.query(t.admin, DISABLE, { partner: "LOOKOUT" })).data!.disableMtdConnector).toEqual({ partner: "LOOKOUT", state: "DISABLED" });
      // The partner rule per connector: LOOKOUT's token is refused by every subgraph, MICROSOFT_DEFENDER's still admitted.
      await waitForPartnerRule(graph, t.lookout, false);
      expect(await partnerAdmission(graph, t.defender)).toEqual({ devices: true, threats: true, policies: true, inventory: true, signals: true });
      // Only LOOKOUT's platform is reassessed: the iOS device has no partner now, the Android one is not touched.
      await waitFor(() => assessments(t.tenantId, "ios-1").at(-1)?.dataStatus === "NOT_CONNECTED", 5000, "iOS reassessed");
      expect(assessments(t.tenantId, "ios-1").at(-1)).toMatchObject({ partner: null, level: null });
      expect(assessments(t.tenantId, "android-1")).toHaveLength(androidBefore);
      // Now MACOS + IOS are free.
      expect((await graph.query(t.admin, ENABLE, { input: { partner: "ZIMPERIUM", enabledPlatforms: ["IOS", "MACOS"] } })).data!.enableMtdConnector.state).toBe("ENABLED");
      await waitFor(() => connectorEvents(t.tenantId).length === 4, 5000, "connector events");
      expect(connectorEvents(t.tenantId).map((e) => [e.partner, e.previousState, e.state, e.enabledPlatforms])).toEqual([
        ["LOOKOUT", null, "ENABLED", ["IOS"]],
        ["MICROSOFT_DEFENDER", null, "ENABLED", ["ANDROID", "WINDOWS"]],
        ["LOOKOUT", "ENABLED", "DISABLED", ["IOS"]],
        ["ZIMPERIUM", null, "ENABLED", ["IOS", "MACOS"]],
      ]);
    });

    it("a report on a device of a platform the partner does not cover is FORBIDDEN naming the covering partner; risk comes from the covering partner", async () => {
      const t = await tenant("platforms");
      const wrong = await graph.query(t.lookout, REPORT, { input: report("android-1") });
      expect(wrong.errors![0]!.extensions!.code).toBe("FORBIDDEN");
      expect(wrong.errors![0]!.message).toContain("partner MICROSOFT_DEFENDER covers it");
      expect((await graph.query(t.admin, RISK, { id: "android-1" })).data!.device).toEqual({ riskLevel: null, threats: [] });

      expect((await graph.query(t.defender, REPORT, { input: report("android-1", "MEDIUM") })).data!.reportThreats.device.riskLevel).toBe("MEDIUM");
      expect((await graph.query(t.lookout, REPORT, { input: report("ios-1", "HIGH") })).data!.reportThreats.device.riskLevel).toBe("HIGH");
      await waitFor(() => assessments(t.tenantId, "ios-1").at(-1)?.level === "HIGH" && assessments(t.tenantId, "android-1").at(-1)?.level === "MEDIUM", 5000, "assessments");
      expect(assessments(t.tenantId, "ios-1").at(-1)).toMatchObject({ partner: "LOOKOUT", dataStatus: "REPORTED" });
      expect(assessments(t.tenantId, "android-1").at(-1)).toMatchObject({ partner: "MICROSOFT_DEFENDER", dataStatus: "REPORTED" });
    });

    it("a device moving to a platform another partner covers: its risk, its access and who may report on it follow the new platform's partner", async () => {
      const t = await tenant("moving");
      const ok = async (token: string, document: string, variables?: Record<string, unknown>) => {
        const result = await graph.query(token, document, variables);
        expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
        return result.data!;
      };
      await ok(t.admin, `mutation { setCompliancePolicy(input: { platform: IOS, name: "iOS", maxThreatLevel: LOW }) { id } }`);
      await ok(t.admin, `mutation { setCompliancePolicy(input: { platform: ANDROID, name: "Android", maxThreatLevel: MEDIUM }) { id } }`);
      await ok(t.admin, `mutation { setConditionalAccessPolicy(input: { name: "Mail", resources: ["exchange"], platforms: [IOS, ANDROID], enabled: true }) { id } }`);
      const access = async () => (await ok(t.admin, `query { device(id: "ios-1") { platform riskLevel complianceState access { allowed reason } } }`)).device;
      await ok(t.lookout, REPORT, { input: report("ios-1", "HIGH") });
      await waitFor(async () => (await access()).access[0]?.allowed === false, 10_000, "revoked on iOS");
      expect((await access()).access[0].reason).toContain("risk HIGH from LOOKOUT exceeds IOS policy maximum LOW");

      // Re-enrolled as an Android device: MICROSOFT_DEFENDER covers it, and has no data on it yet (not required on ANDROID).
      await ok(t.admin, ENROLL, { input: { id: "ios-1", name: "ios-1", platform: "ANDROID", osVersion: "14", ownership: "CORPORATE" } });
      await waitFor(async () => (await access()).access[0]?.allowed === true, 10_000, "restored on Android");
      expect(await access()).toEqual({
        platform: "ANDROID",
        riskLevel: null,
        complianceState: "COMPLIANT",
        access: [{ allowed: true, reason: "compliant: no data from MICROSOFT_DEFENDER for this device yet; not required on ANDROID" }],
      });
      expect(assessments(t.tenantId, "ios-1").at(-1)).toMatchObject({ platform: "ANDROID", partner: "MICROSOFT_DEFENDER", dataStatus: "MISSING", level: null });
      const refused = await graph.query(t.lookout, REPORT, { input: report("ios-1", "HIGH") });
      expect(refused.errors![0]!.extensions!.code).toBe("FORBIDDEN");
      expect(refused.errors![0]!.message).toContain("partner MICROSOFT_DEFENDER covers it");
      expect((await ok(t.defender, REPORT, { input: report("ios-1", "HIGH") })).reportThreats.device.riskLevel).toBe("HIGH");
      await waitFor(async () => (await access()).access[0]?.allowed === false, 10_000, "revoked on Android");
      expect((await access()).access[0].reason).toContain("risk HIGH from MICROSOFT_DEFENDER exceeds ANDROID policy maximum MEDIUM");
    });

    it("one partner unresponsive affects its platform only: the other platform's devices are not even reassessed", async () => {
      const t = await tenant("liveness", 1);
      await graph.query(t.lookout, REPORT, { input: report("ios-1") });
      await graph.query(t.defender, REPORT, { input: report("android-1") });
      await waitFor(() => assessments(t.tenantId, "android-1").at(-1)?.dataStatus === "REPORTED" && assessments(t.tenantId, "ios-1").at(-1)?.dataStatus === "REPORTED", 5000, "reported");
      const androidBefore = assessments(t.tenantId, "android-1").length;

      // A replica whose clock is two minutes ahead sees LOOKOUT overdue.
      const ahead = await startThreats({ config: { ...graph.config, port: 0 }, logger: createLogger("silent", "test"), events: graph.events }, { connectorCheckIntervalMs: 25, now: () => Date.now() + 2 * 60_000 });
      try {
        await waitFor(() => assessments(t.tenantId, "ios-1").at(-1)?.dataStatus === "PARTNER_UNRESPONSIVE", 5000, "iOS unresponsive");
      } finally {
        await ahead.dispose();
      }
      const connectors = (await graph.query(t.admin, CONNECTORS)).data!.mtdConnectors.map((c: { partner: string; state: string }) => [c.partner, c.state]);
      expect(connectors).toEqual([["LOOKOUT", "UNRESPONSIVE"], ["MICROSOFT_DEFENDER", "ENABLED"]]);
      // UNRESPONSIVE still counts for the partner rule: its token stays admitted everywhere.
      expect(await partnerAdmission(graph, t.lookout)).toEqual({ devices: true, threats: true, policies: true, inventory: true, signals: true });
      expect(assessments(t.tenantId, "android-1")).toHaveLength(androidBefore);
      expect(assessments(t.tenantId, "android-1").at(-1)).toMatchObject({ dataStatus: "REPORTED", partner: "MICROSOFT_DEFENDER" });
      expect(connectorEvents(t.tenantId).filter((e) => e.state === "UNRESPONSIVE").map((e) => e.partner)).toEqual(["LOOKOUT"]);
    });
  });
}
