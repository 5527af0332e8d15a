import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { MtdPartner } from "../../lib/domain-enums.js";
import type { AssessmentChangedPayload, ConnectorStateChangedPayload } from "../../lib/events/contracts.js";
import type { LoggedEvent } from "../../lib/events/types.js";
import { createLogger } from "../../lib/logger.js";
import { start as startThreats, type RunningThreats } from "../../subgraphs/threats/server.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { enablePartner, waitForPartnerRule } from "../support/partners.js";
import { waitFor } from "../support/wait.js";

const ENROLL = /* GraphQL */ `mutation Enroll($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`;
const ENABLE = /* GraphQL */ `
  mutation Enable($input: EnableMtdConnectorInput!) {
    enableMtdConnector(input: $input) { partner state enabledPlatforms blockOnMissingPartnerData unresponsiveAfterMinutes lastHeartbeatAt }
  }
`;
const CONNECTOR = /* GraphQL */ `query { mtdConnector { partner state enabledPlatforms blockOnMissingPartnerData unresponsiveAfterMinutes lastHeartbeatAt } }`;
const REPORT = /* GraphQL */ `
  mutation Report($input: ReportThreatsInput!) {
    reportThreats(input: $input) { reportId duplicate device { id name riskLevel } }
  }
`;
const BATCH = /* GraphQL */ `
  mutation Batch($inputs: [ReportThreatsInput!]!) {
    reportThreatsBatch(inputs: $inputs) { reportId result { duplicate device { id riskLevel } } error { code message } }
  }
`;
const HEARTBEAT = /* GraphQL */ `mutation { partnerHeartbeat { partner state lastHeartbeatAt } }`;
const RISK = /* GraphQL */ `
  query Risk($id: ID!, $status: ThreatStatus) {
    device(id: $id) { id riskLevel threats(status: $status) { id externalId category severity title status detectedAt resolvedAt partner } }
  }
`;
const ENTITIES = /* GraphQL */ `
  query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Device { id riskLevel threats { id } } } }
`;
const RISK_CHANGED = /* GraphQL */ `subscription { deviceRiskChanged { device { id riskLevel } previousLevel level at } }`;

type Severity = "LOW" | "MEDIUM" | "HIGH";
interface ThreatInput {
  externalId: string;
  category: string;
  severity: Severity | "SECURED";
  title: string;
  status: "ACTIVE" | "RESOLVED";
}

let reportCounter = 0;
/** A report with a fresh id, observed `agoMs` before now. */
function reportOf(deviceId: string, threats: ThreatInput[], agoMs = 0, reportId = `r-${++reportCounter}-${Date.now()}`) {
  return { reportId, deviceId, observedAt: new Date(Date.now() - agoMs).toISOString(), threats };
}
function threat(externalId: string, severity: Severity | "SECURED", status: "ACTIVE" | "RESOLVED" = "ACTIVE"): ThreatInput {
  return { externalId, category: "APP", severity, title: `threat ${externalId}`, status };
}
function device(id: string, platform = "IOS", ownership = "CORPORATE") {
  return { id, name: `device ${id}`, platform, osVersion: "17.4.1", ownership, userPrincipalName: null };
}

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`threats on ${engine.name}`, () => {
    let graph: TestGraph;
    let threatsUrl: string;
    let admin: string;
    let analyst: string;
    let enforcement: string;
    let lookout: string;
    /** Every event of topic `threats`, once each (an outbox may publish a row twice). */
    const events: LoggedEvent[] = [];
    const tailing = new AbortController();
    let tail: Promise<void>;

    const tokens = async (tenantId: string, partner: MtdPartner = "LOOKOUT") => ({
      admin: await graph.token({ tenantId, role: "admin" }),
      partner: await graph.token({ tenantId, role: "partner", partner }),
    });
    const assessments = (tenantId: string, deviceId: string) =>
      events.filter((e) => e.type === "device.assessment.changed" && e.tenantId === tenantId && e.aggregateId === deviceId) as LoggedEvent<AssessmentChangedPayload>[];
    const connectorEvents = (tenantId: string) =>
      events.filter((e) => e.type === "connector.state.changed" && e.tenantId === tenantId) as LoggedEvent<ConnectorStateChangedPayload>[];
    const lastAssessment = (tenantId: string, deviceId: string) => assessments(tenantId, deviceId).at(-1)?.payload;

    /** Enrolls through the gateway and waits until the threats subgraph knows the device (its first assessment). */
    async function enroll(token: string, tenantId: string, input: ReturnType<typeof device>) {
      const result = await graph.query(token, ENROLL, { input });
      expect(result.errors).toBeUndefined();
      await waitFor(() => assessments(tenantId, input.id).length > 0, 10_000, `assessment of ${tenantId}/${input.id}`);
    }
    async function report(token: string, input: ReturnType<typeof reportOf>) {
      const result = await graph.query(token, REPORT, { input });
      expect(result.errors).toBeUndefined();
      return result.data!.reportThreats as { reportId: string; duplicate: boolean; device: { id: string; name: string; riskLevel: string | null } };
    }
    async function risk(token: string, id: string, url?: string) {
      const result = await graph.query(token, RISK, { id }, url);
      expect(result.errors).toBeUndefined();
      return result.data!.device as { riskLevel: string | null; threats: { externalId: string; severity: string; status: string; detectedAt: string; resolvedAt: string | null; partner: string }[] };
    }
    async function enable(token: string, input: Record<string, unknown>) {
      const result = await graph.query(token, ENABLE, { input });
      expect(result.errors).toBeUndefined();
      return result.data!.enableMtdConnector;
    }

    beforeAll(async () => {
      graph = await startGraph(engine);
      threatsUrl = graph.subgraphs.threats!.url;
      admin = await graph.token({ tenantId: "contoso", role: "admin" });
      analyst = await graph.token({ tenantId: "contoso", role: "analyst" });
      enforcement = await graph.token({ tenantId: "contoso", role: "enforcement" });
      lookout = await graph.token({ tenantId: "contoso", role: "partner", partner: "LOOKOUT" });
      const seen = new Set<string>();
      tail = (async () => {
        for await (const event of graph.events.tail("threats", { after: "0", signal: tailing.signal })) {
          if (seen.has(event.id)) continue;
          seen.add(event.id);
          events.push(event);
        }
      })();
      await enable(admin, { partner: "LOOKOUT", enabledPlatforms: ["IOS", "ANDROID"], blockOnMissingPartnerData: ["IOS"] });
      await waitForPartnerRule(graph, lookout);
    });
    afterAll(async () => {
      tailing.abort();
      await tail?.catch(() => {});
      await graph?.stop();
    });

    describe("connector", () => {
      it("enables a partner; another partner is CONFLICT naming the enabled one; the same partner again updates its settings", async () => {
        const { admin: tenantAdmin } = await tokens("conn");
        const enabled = await enable(tenantAdmin, { partner: "LOOKOUT", enabledPlatforms: ["ANDROID", "IOS"] });
        expect(enabled).toEqual({
          partner: "LOOKOUT",
          state: "ENABLED",
          enabledPlatforms: ["IOS", "ANDROID"],
          blockOnMissingPartnerData: [],
          unresponsiveAfterMinutes: 1440,
          lastHeartbeatAt: null,
        });

        const second = await graph.query(tenantAdmin, ENABLE, { input: { partner: "ZIMPERIUM", enabledPlatforms: ["IOS"] } });
        expect(second.errors![0]!.extensions!.code).toBe("CONFLICT");
        expect(second.errors![0]!.message).toContain("LOOKOUT");

        const updated = await enable(tenantAdmin, { partner: "LOOKOUT", enabledPlatforms: ["WINDOWS"], blockOnMissingPartnerData: ["WINDOWS"], unresponsiveAfterMinutes: 60 });
        expect(updated).toMatchObject({ state: "ENABLED", enabledPlatforms: ["WINDOWS"], blockOnMissingPartnerData: ["WINDOWS"], unresponsiveAfterMinutes: 60 });
        const connAnalyst = await graph.token({ tenantId: "conn", role: "analyst" });
        expect((await graph.query(connAnalyst, CONNECTOR)).data!.mtdConnector).toEqual(updated);

        const disabled = await graph.query(tenantAdmin, `mutation { disableMtdConnector { partner state } }`);
        expect(disabled.data!.disableMtdConnector).toEqual({ partner: "LOOKOUT", state: "DISABLED" });
        expect((await graph.query(tenantAdmin, `mutation { disableMtdConnector { state } }`)).data!.disableMtdConnector).toBeNull();
        expect((await enable(tenantAdmin, { partner: "ZIMPERIUM", enabledPlatforms: ["IOS"] })).partner).toBe("ZIMPERIUM");
        expect((await graph.query(tenantAdmin, CONNECTOR)).data!.mtdConnector.partner).toBe("ZIMPERIUM");

        await waitFor(() => connectorEvents("conn").length === 3, 5000, "connector events");
        expect(connectorEvents("conn").map((e) => [e.payload.partner, e.payload.previousState, e.payload.state])).toEqual([
          ["LOOKOUT", null, "ENABLED"],
          ["LOOKOUT", "ENABLED", "DISABLED"],
          ["ZIMPERIUM", null, "ENABLED"],
        ]);
        const versions = connectorEvents("conn").map((e) => e.version!);
        expect(versions).toEqual([...versions].sort((a, b) => a - b));
        expect(new Set(versions).size).toBe(3);
      });

      it.each([
        ["no enabled platform", { enabledPlatforms: [] }, "input.enabledPlatforms"],
        ["a platform twice", { enabledPlatforms: ["IOS", "IOS"] }, "input.enabledPlatforms[1]"],
        ["blocking a platform that is not enabled", { enabledPlatforms: ["IOS"], blockOnMissingPartnerData: ["ANDROID"] }, "input.blockOnMissingPartnerData"],
        ["blocking a platform twice", { blockOnMissingPartnerData: ["IOS", "IOS"] }, "input.blockOnMissingPartnerData[1]"],
        ["a threshold of 0 minutes", { unresponsiveAfterMinutes: 0 }, "input.unresponsiveAfterMinutes"],
        ["a threshold over a week", { unresponsiveAfterMinutes: 10_081 }, "input.unresponsiveAfterMinutes"],
      ])("rejects %s as BAD_USER_INPUT", async (_name, override, field) => {
        const { admin: tenantAdmin } = await tokens("conn-bad");
        const result = await graph.query(tenantAdmin, ENABLE, { input: { partner: "LOOKOUT", enabledPlatforms: ["IOS"], ...override } });
        expect(result.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
        expect(result.errors![0]!.message.startsWith(`${field}: `)).toBe(true);
        expect((await graph.query(tenantAdmin, CONNECTOR)).data!.mtdConnector).toBeNull();
      });

      it("only admins configure it; partners, analysts and enforcement read it", async () => {
        for (const token of [analyst, enforcement, lookout]) {
          expect((await graph.query(token, ENABLE, { input: { partner: "LOOKOUT", enabledPlatforms: ["IOS"] } })).errors![0]!.extensions!.code).toBe("FORBIDDEN");
          expect((await graph.query(token, `mutation { disableMtdConnector { state } }`)).errors![0]!.extensions!.code).toBe("FORBIDDEN");
          expect((await graph.query(token, CONNECTOR)).data!.mtdConnector.partner).toBe("LOOKOUT");
        }
        expect((await graph.query(null, CONNECTOR, undefined, threatsUrl)).errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
      });
    });

    describe("ingest", () => {
      it("risk is null before any report, then LOW → HIGH → SECURED as threats appear and resolve", async () => {
        await enroll(admin, "contoso", device("risk-1"));
        expect(await risk(analyst, "risk-1")).toMatchObject({ riskLevel: null, threats: [] });

        const first = await report(lookout, reportOf("risk-1", [threat("t-1", "LOW")], 3000));
        expect(first).toMatchObject({ duplicate: false, device: { id: "risk-1", name: "device risk-1", riskLevel: "LOW" } });
        expect((await report(lookout, reportOf("risk-1", [threat("t-2", "HIGH")], 2000))).device.riskLevel).toBe("HIGH");
        expect((await report(lookout, reportOf("risk-1", [threat("t-2", "HIGH", "RESOLVED")], 1000))).device.riskLevel).toBe("LOW");
        expect((await report(lookout, reportOf("risk-1", [threat("t-1", "LOW", "RESOLVED")], 0))).device.riskLevel).toBe("SECURED");

        const read = await risk(enforcement, "risk-1");
        expect(read.riskLevel).toBe("SECURED");
        expect(read.threats.map((t) => [t.externalId, t.severity, t.status, t.partner])).toEqual([
          ["t-1", "LOW", "RESOLVED", "LOOKOUT"],
          ["t-2", "HIGH", "RESOLVED", "LOOKOUT"],
        ]);
        for (const t of read.threats) expect(Date.parse(t.resolvedAt!)).toBeGreaterThanOrEqual(Date.parse(t.detectedAt));
        expect((await graph.query(analyst, RISK, { id: "risk-1", status: "ACTIVE" })).data!.device.threats).toEqual([]);

        await waitFor(() => lastAssessment("contoso", "risk-1")?.level === "SECURED", 5000, "SECURED assessment");
        expect(assessments("contoso", "risk-1").map((e) => [e.payload.previousLevel, e.payload.level, e.payload.dataStatus, e.version])).toEqual([
          [null, null, "MISSING", 1],
          [null, "LOW", "REPORTED", 2],
          ["LOW", "HIGH", "REPORTED", 3],
          ["HIGH", "LOW", "REPORTED", 4],
          ["LOW", "SECURED", "REPORTED", 5],
        ]);
        expect(lastAssessment("contoso", "risk-1")).toMatchObject({ platform: "IOS", blockOnMissing: true, partner: "LOOKOUT", unresponsiveSince: null });
      });

      it("a replay of a report is a no-op: duplicate, nothing changed, no event", async () => {
        await enroll(admin, "contoso", device("replay-1"));
        const original = reportOf("replay-1", [threat("x", "MEDIUM")], 1000);
        expect((await report(lookout, original)).duplicate).toBe(false);
        await waitFor(() => lastAssessment("contoso", "replay-1")?.level === "MEDIUM", 5000, "MEDIUM assessment");
        const eventsBefore = assessments("contoso", "replay-1").length;

        // The same id again is a duplicate; with other content it is CONFLICT (report-idempotency.test.ts); neither changes anything.
        const replay = await report(lookout, original);
        expect(replay).toMatchObject({ reportId: original.reportId, duplicate: true, device: { riskLevel: "MEDIUM" } });
        const reused = await graph.query(lookout, REPORT, { input: { ...original, observedAt: new Date().toISOString(), threats: [threat("x", "HIGH"), threat("y", "HIGH")] } });
        expect(reused.errors![0]!.extensions).toMatchObject({ code: "CONFLICT", reportId: original.reportId });
        expect((await risk(analyst, "replay-1")).threats.map((t) => [t.externalId, t.severity])).toEqual([["x", "MEDIUM"]]);

        // Concurrent replays of a new id: exactly one is accepted.
        const fresh = reportOf("replay-1", [threat("z", "HIGH")]);
        const results = await Promise.all(Array.from({ length: 8 }, () => report(lookout, fresh)));
        expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
        expect((await risk(analyst, "replay-1")).threats.map((t) => t.externalId)).toEqual(["x", "z"]);
        await waitFor(() => lastAssessment("contoso", "replay-1")?.level === "HIGH", 5000, "HIGH assessment");
        expect(assessments("contoso", "replay-1").length).toBe(eventsBefore + 1);
      });

      it("an observation older than the stored one does not overwrite it", async () => {
        await enroll(admin, "contoso", device("order-1"));
        await report(lookout, reportOf("order-1", [threat("o", "HIGH", "RESOLVED")], 1000));
        const stale = await report(lookout, reportOf("order-1", [threat("o", "HIGH", "ACTIVE"), threat("p", "LOW")], 60_000));
        // The stale observation of `o` is ignored; `p` is new and counts.
        expect(stale.device.riskLevel).toBe("LOW");
        const read = await risk(analyst, "order-1");
        expect(read.threats.find((t) => t.externalId === "o")).toMatchObject({ status: "RESOLVED", severity: "HIGH" });
        expect(read.threats.find((t) => t.externalId === "p")).toMatchObject({ status: "ACTIVE", severity: "LOW" });

        // A newer observation does overwrite.
        expect((await report(lookout, reportOf("order-1", [threat("o", "MEDIUM", "ACTIVE")], 0))).device.riskLevel).toBe("MEDIUM");
      });

      it("concurrent reports for one device end with the correct risk", async () => {
        await enroll(admin, "contoso", device("race-1"));
        const severities: Severity[] = ["LOW", "MEDIUM", "HIGH"];
        // Twelve reports at once, each opening a threat; then all but one LOW resolved at once, newer than the openings.
        // Interleaved with reports that fail (unknown device) and roll back: only their own work is undone.
        const failing = Array.from({ length: 12 }, (_, i) => graph.query(lookout, REPORT, { input: reportOf("race-unknown", [threat(`u-${i}`, "HIGH")]) }));
        await Promise.all(Array.from({ length: 12 }, (_, i) => report(lookout, reportOf("race-1", [threat(`c-${i}`, severities[i % 3]!)], 10_000))));
        for (const result of await Promise.all(failing)) expect(result.errors![0]!.extensions!.code).toBe("NOT_FOUND");
        expect((await risk(analyst, "race-1")).riskLevel).toBe("HIGH");
        expect((await risk(analyst, "race-1")).threats).toHaveLength(12);
        await Promise.all(Array.from({ length: 11 }, (_, i) => report(lookout, reportOf("race-1", [threat(`c-${i + 1}`, severities[(i + 1) % 3]!, "RESOLVED")], 5000))));
        const read = await risk(analyst, "race-1");
        expect(read.riskLevel).toBe("LOW");
        expect(read.threats.filter((t) => t.status === "ACTIVE").map((t) => t.externalId)).toEqual(["c-0"]);

        // Open and resolve the same threat concurrently: the newer observation (RESOLVED) wins whatever the commit order.
        await Promise.all([report(lookout, reportOf("race-1", [threat("flip", "HIGH", "RESOLVED")], 1000)), report(lookout, reportOf("race-1", [threat("flip", "HIGH", "ACTIVE")], 2000))]);
        expect((await risk(analyst, "race-1")).riskLevel).toBe("LOW");
        await waitFor(() => lastAssessment("contoso", "race-1")?.level === "LOW" && assessments("contoso", "race-1").length >= 3, 5000, "final assessment");
        const versions = assessments("contoso", "race-1").map((e) => e.version!);
        expect(versions).toEqual(versions.map((_, i) => i + 1));
      });

      it("a batch gives each report its own result or error", async () => {
        await enroll(admin, "contoso", device("batch-1"));
        await enroll(admin, "contoso", device("batch-2"));
        const good = reportOf("batch-1", [threat("b", "MEDIUM")], 2000);
        const result = await graph.query(lookout, BATCH, {
          inputs: [
            good,
            reportOf("batch-2", [threat("b", "SECURED")]),
            reportOf("no-such-device", [threat("b", "LOW")]),
            reportOf("batch-2", [threat("b", "HIGH")], 1000),
            good,
          ],
        });
        expect(result.errors).toBeUndefined();
        const items = result.data!.reportThreatsBatch;
        expect(items.map((item: { reportId: string }) => item.reportId)).toHaveLength(5);
        expect(items[0]).toMatchObject({ result: { duplicate: false, device: { id: "batch-1", riskLevel: "MEDIUM" } }, error: null });
        expect(items[1]).toMatchObject({ result: null, error: { code: "BAD_USER_INPUT" } });
        expect(items[1].error.message).toMatch(/^inputs\[1\]\.threats\[0\]\.severity: /);
        expect(items[2]).toMatchObject({ result: null, error: { code: "NOT_FOUND" } });
        expect(items[3]).toMatchObject({ result: { duplicate: false, device: { id: "batch-2", riskLevel: "HIGH" } }, error: null });
        expect(items[4]).toMatchObject({ result: { duplicate: true }, error: null });

        // On the subgraph directly: the gateway's partner rate limit counts each report of a batch and may refuse 501 first.
        const tooMany = await graph.query(lookout, BATCH, { inputs: Array.from({ length: 501 }, () => reportOf("batch-1", [])) }, threatsUrl);
        expect(tooMany.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
        expect(tooMany.errors![0]!.message).toMatch(/^inputs: /);
      });

      it("an unknown or retired device is NOT_FOUND", async () => {
        const unknown = await graph.query(lookout, REPORT, { input: reportOf("never-enrolled", [threat("u", "LOW")]) });
        expect(unknown.errors![0]!.extensions!.code).toBe("NOT_FOUND");
        await enroll(admin, "contoso", device("retired-1"));
        await graph.query(admin, `mutation { retireDevice(id: "retired-1") { id } }`);
        await waitFor(async () => {
          const result = await graph.query(lookout, REPORT, { input: reportOf("retired-1", [threat("u", "LOW")]) });
          return result.errors?.[0]?.extensions?.code === "NOT_FOUND";
        }, 10_000, "retirement known to threats");
        expect((await risk(admin, "retired-1").catch(() => ({ riskLevel: null }))).riskLevel ?? null).toBeNull();
      });
    });

    describe("bad input is BAD_USER_INPUT naming the field, and nothing is stored", () => {
      beforeAll(async () => {
        await enroll(admin, "contoso", device("bad-1"));
      });

      it.each([
        ["a SECURED severity", (r: any) => (r.threats[0].severity = "SECURED"), "input.threats[0].severity"],
        ["an empty externalId", (r: any) => (r.threats[1].externalId = "  "), "input.threats[1].externalId"],
        ["an oversize externalId", (r: any) => (r.threats[0].externalId = "e".repeat(257)), "input.threats[0].externalId"],
        ["an empty title", (r: any) => (r.threats[1].title = ""), "input.threats[1].title"],
        ["an oversize title", (r: any) => (r.threats[1].title = "t".repeat(513)), "input.threats[1].title"],
        ["duplicate externalIds", (r: any) => (r.threats[1].externalId = r.threats[0].externalId), "input.threats[1].externalId"],
        ["more than 500 threats", (r: any) => (r.threats = Array.from({ length: 501 }, (_, i) => threat(`many-${i}`, "LOW"))), "input.threats"],
        ["observedAt more than 5 minutes ahead", (r: any) => (r.observedAt = new Date(Date.now() + 6 * 60_000).toISOString()), "input.observedAt"],
        ["a malformed reportId", (r: any) => (r.reportId = "has spaces"), "input.reportId"],
        ["a malformed deviceId", (r: any) => (r.deviceId = "x".repeat(129)), "input.deviceId"],
      ])("%s", async (_name, spoil, field) => {
        const valid = reportOf("bad-1", [threat("good", "HIGH"), threat("also-good", "LOW")]);
        const bad = structuredClone(valid);
        spoil(bad);
        const result = await graph.query(lookout, REPORT, { input: bad });
        expect(result.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
        expect(result.errors![0]!.message.startsWith(`${field}: `)).toBe(true);
        expect(await risk(analyst, "bad-1")).toMatchObject({ riskLevel: null, threats: [] });
      });

      it("an unknown enum value", async () => {
        const bad = reportOf("bad-1", [{ ...threat("good", "HIGH"), category: "MALWARE" }]);
        const result = await graph.query(lookout, REPORT, { input: bad });
        expect(result.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
        expect(result.errors![0]!.message).toContain("MALWARE");
      });
    });

    describe("security", () => {
      it("reportThreats fails for another partner, another tenant's partner, an analyst and enforcement, storing nothing", async () => {
        await enroll(admin, "contoso", device("sec-1"));
        const callers = {
          "a partner that is not the enabled connector": await graph.token({ tenantId: "contoso", role: "partner", partner: "ZIMPERIUM" }),
          "the enabled partner of another tenant": await graph.token({ tenantId: "fabrikam", role: "partner", partner: "LOOKOUT" }),
          analyst,
          enforcement,
          admin,
        };
        const attempt = reportOf("sec-1", [threat("s", "HIGH")]);
        for (const [who, token] of Object.entries(callers)) {
          for (const [document, variables] of [
            [REPORT, { input: attempt }],
            [BATCH, { inputs: [attempt] }],
          ] as const) {
            const result = await graph.query(token, document, variables);
            expect(result.errors?.[0]?.extensions?.code, who).toBe("FORBIDDEN");
          }
          expect((await graph.query(token, HEARTBEAT)).errors![0]!.extensions!.code, who).toBe("FORBIDDEN");
        }
        const other = await graph.query(callers["a partner that is not the enabled connector"], REPORT, { input: attempt });
        expect(other.errors![0]!.message).toContain("ZIMPERIUM is not one of the tenant's enabled MTD connectors (LOOKOUT)");
        expect(await risk(analyst, "sec-1")).toMatchObject({ riskLevel: null, threats: [] });
        // The report id was not recorded either: the real partner's report with that id is new.
        expect((await report(lookout, attempt)).duplicate).toBe(false);
      });

      it("keeps tenants apart, through the gateway and on the subgraph directly", async () => {
        await enroll(admin, "contoso", device("iso-1"));
        await report(lookout, reportOf("iso-1", [threat("i", "HIGH")]));
        const fabrikam = await tokens("fabrikam");
        const fabrikamAnalyst = await graph.token({ tenantId: "fabrikam", role: "analyst" });
        expect((await graph.query(fabrikamAnalyst, CONNECTOR)).data!.mtdConnector).toBeNull();
        expect((await graph.query(fabrikamAnalyst, RISK, { id: "iso-1" })).data!.device).toBeNull();
        for (const token of [fabrikamAnalyst, fabrikam.admin]) {
          const direct = await graph.query(token, ENTITIES, { representations: [{ __typename: "Device", id: "iso-1" }] }, threatsUrl);
          expect(direct.data!._entities).toEqual([{ id: "iso-1", riskLevel: null, threats: [] }]);
          expect((await graph.query(token, CONNECTOR, undefined, threatsUrl)).data!.mtdConnector).toBeNull();
        }
        // fabrikam has no connector: its partner token is refused outright (the partner rule, partner-rule.test.ts).
        const partnerDirect = await graph.query(fabrikam.partner, ENTITIES, { representations: [{ __typename: "Device", id: "iso-1" }] }, threatsUrl);
        expect(partnerDirect.errors![0]!.extensions!.code).toBe("FORBIDDEN");
        expect(partnerDirect.data ?? null).toBeNull();
        const own = await graph.query(analyst, ENTITIES, { representations: [{ __typename: "Device", id: "iso-1" }] }, threatsUrl);
        expect(own.data!._entities[0]).toMatchObject({ id: "iso-1", riskLevel: "HIGH" });
        expect(own.data!._entities[0].threats).toHaveLength(1);
      });

      it("a partner reads only the threats it reported", async () => {
        // Another partner of the tenant (the partner rule wants a connector of its own; WINDOWS is free), disabled again afterwards.
        const zimperium = await graph.token({ tenantId: "contoso", role: "partner", partner: "ZIMPERIUM" });
        await enablePartner(graph, admin, zimperium, "ZIMPERIUM", ["WINDOWS"]);
        await enroll(admin, "contoso", device("own-1"));
        await report(lookout, reportOf("own-1", [threat("l", "LOW")]));
        expect((await risk(lookout, "own-1")).threats).toHaveLength(1);
        expect(await risk(zimperium, "own-1")).toMatchObject({ riskLevel: "LOW", threats: [] });
        expect((await graph.query(admin, `mutation { disableMtdConnector(partner: ZIMPERIUM) { state } }`)).data!.disableMtdConnector.state).toBe("DISABLED");
      });
    });

    describe("assessments", () => {
      it("carry the dataStatus and blockOnMissing of the connector and platform, with increasing versions", async () => {
        const t = await tokens("assess");
        await enroll(t.admin, "assess", device("a-ios"));
        await enroll(t.admin, "assess", device("a-android", "ANDROID"));
        expect(lastAssessment("assess", "a-ios")).toMatchObject({ dataStatus: "NOT_CONNECTED", blockOnMissing: false, partner: null, level: null });

        await enable(t.admin, { partner: "LOOKOUT", enabledPlatforms: ["IOS"], blockOnMissingPartnerData: ["IOS"] });
        await waitFor(() => lastAssessment("assess", "a-ios")?.dataStatus === "MISSING", 5000, "MISSING");
        expect(lastAssessment("assess", "a-ios")).toMatchObject({ blockOnMissing: true, partner: "LOOKOUT", level: null, previousLevel: null });

        await report(t.partner, reportOf("a-ios", [threat("a", "MEDIUM")]));
        await waitFor(() => lastAssessment("assess", "a-ios")?.dataStatus === "REPORTED", 5000, "REPORTED");
        expect(lastAssessment("assess", "a-ios")).toMatchObject({ level: "MEDIUM", blockOnMissing: true });

        await enable(t.admin, { partner: "LOOKOUT", enabledPlatforms: ["IOS", "ANDROID"], blockOnMissingPartnerData: [] });
        await waitFor(() => lastAssessment("assess", "a-android")?.dataStatus === "MISSING" && lastAssessment("assess", "a-ios")?.blockOnMissing === false, 5000, "platform toggle");
        expect(lastAssessment("assess", "a-android")).toMatchObject({ blockOnMissing: false, platform: "ANDROID", partner: "LOOKOUT" });

        // A platform change learnt from the devices topic: no connector covers WINDOWS, so no partner's risk counts.
        await graph.query(t.admin, ENROLL, { input: device("a-ios", "WINDOWS") });
        await waitFor(() => lastAssessment("assess", "a-ios")?.platform === "WINDOWS", 10_000, "platform change");
        expect(lastAssessment("assess", "a-ios")).toMatchObject({ dataStatus: "NOT_CONNECTED", blockOnMissing: false, level: null, partner: null });

        await graph.query(t.admin, `mutation { disableMtdConnector { state } }`);
        await waitFor(() => lastAssessment("assess", "a-android")?.dataStatus === "NOT_CONNECTED", 5000, "disabled");
        await waitFor(() => lastAssessment("assess", "a-ios")?.partner === null, 5000, "disabled");
        expect(lastAssessment("assess", "a-ios")).toMatchObject({ previousLevel: "MEDIUM", level: null, dataStatus: "NOT_CONNECTED" });

        for (const id of ["a-ios", "a-android"]) {
          const versions = assessments("assess", id).map((e) => e.version!);
          expect(versions).toEqual(versions.map((_, i) => i + 1));
        }
        expect(assessments("assess", "a-ios").map((e) => e.payload.dataStatus)).toEqual(["NOT_CONNECTED", "MISSING", "REPORTED", "REPORTED", "NOT_CONNECTED"]);
      });
    });

    describe("heartbeat", () => {
      /** A second threats instance on the same database and log, its clock two minutes ahead. */
      async function aheadInstance(connectorCheckIntervalMs: number): Promise<RunningThreats> {
        return startThreats(
          { config: { ...graph.config, port: 0 }, logger: createLogger("silent", "test"), events: graph.events },
          { connectorCheckIntervalMs, now: () => Date.now() + 2 * 60_000 },
        );
      }

      it("turns UNRESPONSIVE on read past the threshold, and ENABLED again at the next heartbeat", async () => {
        const ahead = await aheadInstance(3_600_000);
        try {
          await ahead.checkConnectors(); // the start-up check is behind us
          const t = await tokens("hb-read");
          await enable(t.admin, { partner: "LOOKOUT", enabledPlatforms: ["IOS"], unresponsiveAfterMinutes: 1 });
          await enroll(t.admin, "hb-read", device("hr-1"));
          expect((await graph.query(t.admin, CONNECTOR)).data!.mtdConnector.state).toBe("ENABLED");
          const read = await graph.query(t.admin, CONNECTOR, undefined, ahead.url);
          expect(read.data!.mtdConnector.state).toBe("UNRESPONSIVE");
          await waitFor(() => connectorEvents("hb-read").some((e) => e.payload.state === "UNRESPONSIVE"), 5000, "UNRESPONSIVE event");
          await waitFor(() => lastAssessment("hb-read", "hr-1")?.dataStatus === "PARTNER_UNRESPONSIVE", 5000, "republished");
        } finally {
          await ahead.dispose();
        }
      });

      it("turns UNRESPONSIVE on the timer with a short threshold and back at the heartbeat, each with an event and republished assessments", async () => {
        const t = await tokens("hb");
        const enabled = await enable(t.admin, { partner: "LOOKOUT", enabledPlatforms: ["IOS"], blockOnMissingPartnerData: ["IOS"], unresponsiveAfterMinutes: 1 });
        expect(enabled.state).toBe("ENABLED");
        await enroll(t.admin, "hb", device("h-1"));
        await report(t.partner, reportOf("h-1", [threat("h", "HIGH")]));
        await waitFor(() => lastAssessment("hb", "h-1")?.dataStatus === "REPORTED", 5000, "REPORTED");

        const ahead = await aheadInstance(25);
        try {
          await waitFor(() => connectorEvents("hb").some((e) => e.payload.state === "UNRESPONSIVE"), 5000, "UNRESPONSIVE event");
          await waitFor(() => lastAssessment("hb", "h-1")?.dataStatus === "PARTNER_UNRESPONSIVE", 5000, "PARTNER_UNRESPONSIVE");
        } finally {
          await ahead.dispose();
        }
        const unresponsive = lastAssessment("hb", "h-1")!;
        expect(unresponsive).toMatchObject({ level: "HIGH", blockOnMissing: true, partner: "LOOKOUT" });
        expect(Date.parse(unresponsive.unresponsiveSince!)).toBeGreaterThan(Date.now() - 5 * 60_000);
        expect((await graph.query(t.admin, CONNECTOR)).data!.mtdConnector.state).toBe("UNRESPONSIVE");

        // Its data is still accepted while unresponsive.
        expect((await report(t.partner, reportOf("h-1", [threat("h", "HIGH", "RESOLVED")]))).device.riskLevel).toBe("SECURED");
        await waitFor(() => lastAssessment("hb", "h-1")?.level === "SECURED", 5000, "SECURED while unresponsive");
        expect(lastAssessment("hb", "h-1")!.dataStatus).toBe("PARTNER_UNRESPONSIVE");

        const beat = await graph.query(t.partner, HEARTBEAT);
        expect(beat.data!.partnerHeartbeat).toMatchObject({ partner: "LOOKOUT", state: "ENABLED" });
        expect(Date.parse(beat.data!.partnerHeartbeat.lastHeartbeatAt)).toBeGreaterThan(Date.now() - 60_000);
        await waitFor(() => lastAssessment("hb", "h-1")?.dataStatus === "REPORTED", 5000, "REPORTED again");
        expect(lastAssessment("hb", "h-1")).toMatchObject({ level: "SECURED", unresponsiveSince: null });
        expect(connectorEvents("hb").map((e) => [e.payload.previousState, e.payload.state])).toEqual([
          [null, "ENABLED"],
          ["ENABLED", "UNRESPONSIVE"],
          ["UNRESPONSIVE", "ENABLED"],
        ]);
        const versions = connectorEvents("hb").map((e) => e.version!);
        expect(versions).toEqual([...versions].sort((a, b) => a - b));
        const deviceVersions = assessments("hb", "h-1").map((e) => e.version!);
        expect(deviceVersions).toEqual(deviceVersions.map((_, i) => i + 1));
      });
    });

    describe("deviceRiskChanged over graphql-ws on the subgraph", () => {
      const clients: Client[] = [];
      afterAll(async () => {
        for (const client of clients) await client.dispose();
      });

      function connect(token: string | null) {
        const client = createClient({
          url: threatsUrl.replace(/^http/, "ws"),
          webSocketImpl: WebSocket,
          connectionParams: token === null ? undefined : { authorization: `Bearer ${token}` },
          retryAttempts: 0,
        });
        clients.push(client);
        const received: any[] = [];
        const failures: unknown[] = [];
        let completed = false;
        const dispose = client.subscribe(
          { query: RISK_CHANGED },
          {
            next: (result) => (result.errors ? failures.push(result.errors) : received.push(result.data!.deviceRiskChanged)),
            error: (error) => failures.push(error),
            complete: () => (completed = true),
          },
        );
        return { received, failures, dispose, completed: () => completed };
      }

      it("delivers the risk changes of the subscriber's tenant only", async () => {
        const fabrikam = await tokens("fabrikam-ws");
        await enable(fabrikam.admin, { partner: "LOOKOUT", enabledPlatforms: ["IOS"] });
        await enroll(fabrikam.admin, "fabrikam-ws", device("theirs"));
        await enroll(admin, "contoso", device("ws-1"));
        await enroll(admin, "contoso", device("ws-probe"));

        const subscriber = connect(enforcement);
        const adminSubscriber = connect(admin);
        // Handshake: change a probe device until the subscriptions see it, so both are listening.
        let flip = 0;
        await waitFor(async () => {
          await report(lookout, reportOf("ws-probe", [threat("probe", flip++ % 2 === 0 ? "LOW" : "MEDIUM")], 0));
          return subscriber.received.length > 0 && adminSubscriber.received.length > 0;
        }, 10_000, "subscriptions listening");

        await report(fabrikam.partner, reportOf("theirs", [threat("f", "HIGH")]));
        await report(lookout, reportOf("ws-1", [threat("w", "HIGH")], 1000));
        await report(lookout, reportOf("ws-1", [threat("w", "HIGH", "RESOLVED")], 0));
        await waitFor(() => subscriber.received.filter((c) => c.device.id === "ws-1").length === 2, 5000, "two changes");
        const mine = subscriber.received.filter((c) => c.device.id === "ws-1");
        expect(mine.map((c) => [c.previousLevel, c.level])).toEqual([
          [null, "HIGH"],
          ["HIGH", "SECURED"],
        ]);
        // The device is resolved per event (fresh DataLoaders): by the second event, its current risk.
        expect(mine[1].device.riskLevel).toBe("SECURED");
        expect(Date.parse(mine[1].at)).toBeGreaterThan(Date.now() - 60_000);
        expect(subscriber.received.some((c) => c.device.id === "theirs")).toBe(false);
        expect(subscriber.failures).toEqual([]);
        await waitFor(() => adminSubscriber.received.filter((c) => c.device.id === "ws-1").length === 2, 5000, "admin sees both");
        subscriber.dispose();
        adminSubscriber.dispose();
      });

      it("refuses partners and unauthenticated connections", async () => {
        const partner = connect(lookout);
        await waitFor(() => partner.failures.length > 0, 5000, "partner refused");
        expect((partner.failures[0] as { extensions?: { code?: string } }[])[0]!.extensions!.code).toBe("FORBIDDEN");

        const anonymous = connect(null);
        await waitFor(() => anonymous.failures.length > 0, 5000, "anonymous refused");
        expect((anonymous.failures[0] as { code?: number }).code).toBe(4403);
      });
    });

    it("resolves 100 Device references' riskLevel and threats in a bounded number of SQL statements", async () => {
      const t = await tokens("n1");
      await enable(t.admin, { partner: "LOOKOUT", enabledPlatforms: ["IOS"] });
      const ids = Array.from({ length: 100 }, (_, i) => `n-${String(i).padStart(3, "0")}`);
      for (let start = 0; start < ids.length; start += 10) {
        await Promise.all(ids.slice(start, start + 10).map((id) => graph.query(t.admin, ENROLL, { input: device(id) })));
      }
      await waitFor(() => ids.every((id) => assessments("n1", id).length > 0), 20_000, "100 devices known");
      for (const id of ids.slice(0, 5)) await report(t.partner, reportOf(id, [threat("n", "HIGH"), threat("m", "LOW")]));

      const statements = graph.statements.threats!;
      const cost = async (count: number) => {
        // Consumers share the counter (the outbox relay's statements are left out by `since`): the cheapest of three runs is the query's own cost.
        let cheapest = Infinity;
        for (let run = 0; run < 3; run++) {
          const mark = statements.mark();
          const result = await graph.query(t.admin, ENTITIES, { representations: ids.slice(0, count).map((id) => ({ __typename: "Device", id })) }, threatsUrl);
          cheapest = Math.min(cheapest, statements.since(mark).length);
          expect(result.data!._entities).toHaveLength(count);
          if (count === 100) {
            expect(result.data!._entities[0]).toMatchObject({ id: "n-000", riskLevel: "HIGH" });
            expect(result.data!._entities[0].threats).toHaveLength(2);
            expect(result.data!._entities[99]).toEqual({ id: "n-099", riskLevel: null, threats: [] });
          }
        }
        return cheapest;
      };
      const hundred = await cost(100);
      expect(hundred).toBeLessThanOrEqual(3);
      expect(await cost(10)).toBe(hundred);
    });
  });
}
