/**
 * OpenTelemetry: one trace from a partner's report to the enforcement socket.
 * Every service its own process on MariaDB + Redis Streams, exporting OTLP/HTTP
 * JSON to a receiver in the test; and, with no endpoint, no SDK or exporter
 * loaded at all.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScaleOutStack } from "../gateway/scale-out-helpers.js";
import { Subscriber, Tenant } from "../gateway/subscriptions-helpers.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../support/otlp-receiver.js";
import { redisPrefix, REDIS_TEST_URL, requireService } from "../support/services.js";
import { waitFor } from "../support/wait.js";

const ROOT = new URL("../../", import.meta.url).pathname;

function probe(env: Record<string, string>): string[] {
  const run = spawnSync(process.execPath, ["--import", "tsx", "test/support/tracing-probe.ts"], { cwd: ROOT, env: { ...process.env, NODE_ENV: "test", ...env }, encoding: "utf8", timeout: 60_000 });
  const line = run.stdout.trim().split("\n").at(-1) ?? "";
  if (run.status !== 0) throw new Error(`probe exited ${run.status}: ${run.stderr}`);
  return (JSON.parse(line) as { loaded: string[] }).loaded;
}

describe("tracing off by default", () => {
  it("without OTEL_EXPORTER_OTLP_ENDPOINT a serving subgraph loads no OpenTelemetry SDK or exporter; with it, it does", async () => {
    const off = probe({ OTEL_EXPORTER_OTLP_ENDPOINT: "" });
    expect(off.filter((name) => name !== "@opentelemetry/api")).toEqual([]);
    const receiver = await startOtlpReceiver();
    try {
      const on = probe({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" });
      expect(on).toEqual(expect.arrayContaining(["@opentelemetry/sdk-trace-node", "@opentelemetry/exporter-trace-otlp-http"]));
      expect(on).not.toContain("@opentelemetry/exporter-trace-otlp-proto");
    } finally {
      await receiver.close();
    }
  }, 60_000);
});

const enabled = requireService("mysql") && requireService("redis");

const REPORT = /* GraphQL */ `
  mutation Report($input: ReportThreatsInput!) { reportThreats(input: $input) { reportId duplicate } }
`;
const SUBSCRIPTION = /* GraphQL */ `
  subscription Enforce($after: String) { accessChanged(after: $after) { cursor resource allowed device { id name riskLevel } } }
`;

describe.skipIf(!enabled)("one trace from a report to the delivery of its access change (every service a process, MariaDB + Redis)", () => {
  const redis = redisPrefix();
  let receiver: OtlpReceiver;
  let stack: ScaleOutStack;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    stack = new ScaleOutStack(
      { url: REDIS_TEST_URL, prefix: redis.prefix },
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_BSP_SCHEDULE_DELAY: "100", OTEL_TRACES_SAMPLER: "always_on" },
    );
    await stack.start();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
    await redis.cleanup();
  }, 60_000);

  it("a report sent with a traceparent yields spans of the gateway, threats and policies in its trace, down to the gateway's delivery; no token or variable value in any attribute", async () => {
    const tenant = await Tenant.create("tracing", stack.query, stack.token);
    const head = await tenant.baseline("t-0");
    await tenant.enroll("t-1");
    const gateway = stack.gateways[0]!;
    const subscriber = new Subscriber(gateway.url, tenant.enforcement);
    const stream = subscriber.subscribe(SUBSCRIPTION, { after: head });
    // A change that arrives while the stream is still replaying stored changes is delivered from the
    // database, without its trace (subgraphs/policies/access-stream.ts). Receive one change first, so the
    // stream is live when the traced report's change comes.
    await tenant.restore("t-0");
    await waitFor(() => stream.results.filter((result) => result.data?.accessChanged?.device?.id === "t-0").length >= 2, 15_000, "the restorations of t-0");

    const traceId = randomBytes(16).toString("hex");
    const secretTitle = `secret-title-${randomBytes(6).toString("hex")}`;
    const reportId = `report-${randomBytes(6).toString("hex")}`;
    const input = {
      reportId,
      deviceId: "t-1",
      observedAt: new Date().toISOString(),
      threats: [{ externalId: "net-1", category: "NETWORK", severity: "HIGH", title: secretTitle, status: "ACTIVE" }],
    };
    // The subscription resumes after `head`, so it cannot miss the change. The threats subgraph learns of
    // the enrolment through the event log: retry while it answers NOT_FOUND.
    await waitFor(async () => {
        const response = await fetch(gateway.url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${tenant.partner}`, traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` },
          body: JSON.stringify({ query: REPORT, variables: { input } }),
        });
        const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
        if (body.errors?.[0]?.extensions?.code === "NOT_FOUND") return false;
        expect(body.errors).toBeUndefined();
        return true;
      }, 10_000);
    await waitFor(() => stream.results.filter((result) => result.data?.accessChanged?.device?.id === "t-1").length >= 2, 15_000, "the revocations of t-1");

    const inTrace = () => receiver.spans.filter((span) => span.traceId === traceId || span.links.some((link) => link.traceId === traceId));
    const has = (service: string, name: RegExp) => inTrace().some((span) => span.service === service && name.test(span.name));
    await waitFor(
      () => has("mtd-gateway", /^mutation Report$/) && has("mtd-threats", /^mutation/) && has("mtd-policies", /^consume device\.assessment\.changed$/) && has("mtd-gateway", /^subscription deliver accessChanged$/),
      20_000,
      "spans of every hop in the report's trace",
    ).catch((error: Error) => {
      throw new Error(`${error.message}; in the trace: ${JSON.stringify(inTrace().map((span) => `${span.service}:${span.name}`))}; all: ${receiver.spans.length}`);
    });
    const spans = inTrace();
    const services = new Set(spans.map((span) => span.service));
    expect([...services]).toEqual(expect.arrayContaining(["mtd-gateway", "mtd-threats", "mtd-policies"]));
    // The hops in order: gateway request → fetch threats → threats request → publish → policies consumer → … → gateway delivery.
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const ancestry = (span: ReceivedSpan): string[] => {
      const chain: string[] = [];
      for (let at: ReceivedSpan | undefined = span; at !== undefined; at = at.parentSpanId === undefined ? undefined : byId.get(at.parentSpanId)) chain.push(`${at.service}:${at.name}`);
      return chain;
    };
    const delivery = spans.find((span) => span.service === "mtd-gateway" && span.name === "subscription deliver accessChanged")!;
    expect(delivery.attributes["mtd.subscribers"]).toBeGreaterThanOrEqual(1);
    expect(delivery.attributes["mtd.result_bytes"]).toBeGreaterThan(0);
    // Subgraph operations are named by the gateway's query plan (`Report__threats__0`, `Enforce__policies__0`).
    const chain = ancestry(delivery).map((hop) => hop.replace(/__\w+__\d+$/, ""));
    const hops = ["mtd-gateway:subscription deliver accessChanged", "mtd-policies:subscription event Enforce", "mtd-policies:consume device.assessment.changed", "mtd-threats:mutation Report", "mtd-gateway:fetch threats", "mtd-gateway:mutation Report"];
    expect(chain.filter((hop) => hops.includes(hop))).toEqual(hops);
    // One span per subgraph fetch (Apollo's, as our client span) right under the request span; Apollo's
    // request, validation, execution and post-processing spans are not recorded (lib/tracing-apollo.ts).
    const inGatewayRequest = (span: ReceivedSpan) => {
      const hops = ancestry(span);
      const request = hops.indexOf("mtd-gateway:mutation Report");
      return request > 0 && hops.slice(0, request).every((hop) => hop.startsWith("mtd-gateway:"));
    };
    const reportFetches = spans.filter((span) => span.name.startsWith("fetch ") && inGatewayRequest(span));
    expect(reportFetches.map((span) => span.name)).toEqual(["fetch threats"]);
    expect(reportFetches[0]).toMatchObject({ kind: 3 /* SPAN_KIND_CLIENT */, attributes: { "mtd.subgraph": "threats" } });
    expect(ancestry(reportFetches[0]!)[1]).toBe("mtd-gateway:mutation Report");
    expect(spans.filter((span) => /^gateway\.(request|validate|execute|postprocessing|fetch)$/.test(span.name))).toEqual([]);
    // The first attempt planned the operation (a plan-cache miss): Apollo's planning, timed, under the request span.
    const plans = spans.filter((span) => span.service === "mtd-gateway" && span.name === "gateway.plan");
    expect(plans.length).toBeGreaterThanOrEqual(1);
    for (const plan of plans) expect(ancestry(plan)[1]).toBe("mtd-gateway:mutation Report");
    const consumer = spans.find((span) => span.name === "consume device.assessment.changed")!;
    expect(consumer.attributes).toMatchObject({ "messaging.destination.name": "threats", "mtd.event.type": "device.assessment.changed" });
    expect(typeof consumer.attributes["messaging.consumer.group.name"]).toBe("string");
    expect(consumer.attributes["mtd.event.lag_ms"]).toBeGreaterThanOrEqual(0);
    // The request's log line carries its trace id, at the gateway (from the span its context carries) and in threats.
    const requestLines = (output: string) => output.split("\n").filter((line) => line.includes(`"traceId":"${traceId}"`) && line.includes('"msg":"request'));
    expect(requestLines(gateway.recentOutput).some((line) => line.includes('"operation":"Report"'))).toBe(true);
    expect(requestLines(stack.subgraphs.threats.recentOutput).length).toBeGreaterThanOrEqual(1);

    // Nothing a caller sent beyond the operation's name: no token, no variable value, anywhere in what was exported.
    const exported = receiver.bodies.join("\n");
    for (const secret of [tenant.partner, tenant.admin, tenant.enforcement, secretTitle, reportId]) expect(exported).not.toContain(secret);
    await subscriber.dispose();
  }, 90_000);
});
