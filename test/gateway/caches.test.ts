/**
 * Caches keyed by what clients send stay within their entry bounds
 * (`MTD_CACHE_*`), at the gateway and in the subgraphs that parse the
 * gateway's fetch documents, whatever number of distinct documents arrives and
 * however concurrently; read from `/metrics` as an operator would.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGraph, type TestGraph } from "../support/graph.js";
import { sample } from "../support/metrics.js";
import { Subscriber } from "./subscriptions-helpers.js";

const DOCUMENTS = 20;
const QUERY_PLANS = 15;
const SUBSCRIPTION_PLANS = 5;
/** Distinct documents sent: well above every bound. */
const DISTINCT = 120;
const CONCURRENCY = 12;

/** A query whose device id is written inline: every one a distinct document at the gateway and at the devices subgraph. */
const inlineDevice = (i: number) => `{ device(id: "inline-${i}") { id name riskLevel } }`;

describe("bounded caches", () => {
  let graph: TestGraph;
  let analyst: string;
  const metrics = async () => (await fetch(graph.gatewayUrl.replace(/\/graphql$/, "/metrics"))).text();
  const value = (text: string, name: string, service: string, cache: string) => sample(text, name, { service, cache }) ?? 0;

  /** Sends the documents `CONCURRENCY` at a time; every one must succeed. */
  const sendAll = async (documents: string[]) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < documents.length) {
          const result = await graph.query(analyst, documents[next++]!);
          expect(result.errors).toBeUndefined();
        }
      }),
    );
  };

  beforeAll(async () => {
    graph = await startGraph({
      env: {
        MTD_CACHE_DOCUMENTS: String(DOCUMENTS),
        MTD_CACHE_QUERY_PLANS: String(QUERY_PLANS),
        MTD_CACHE_SUBSCRIPTION_PLANS: String(SUBSCRIPTION_PLANS),
        MTD_RATE_LIMIT_TENANT_PER_SECOND: "0",
      },
    });
    analyst = await graph.token({ tenantId: "caches", role: "analyst" });
    await graph.query(await graph.token({ tenantId: "caches", role: "admin" }), `mutation { enrollDevice(input: { id: "inline-0", name: "n", platform: IOS, osVersion: "17", ownership: CORPORATE }) { id } }`);
  });
  afterAll(() => graph?.stop());

  it("hold at most their bound after many distinct documents, sent concurrently, at the gateway and in a subgraph", async () => {
    await sendAll(Array.from({ length: DISTINCT }, (_, i) => inlineDevice(i)));
    const text = await metrics();
    const bounds = [
      ["gateway", "documents", DOCUMENTS],
      ["gateway", "query_plans", QUERY_PLANS],
      ["devices", "documents", DOCUMENTS],
    ] as const;
    for (const [service, cache, bound] of bounds) {
      expect(value(text, "mtd_cache_max_entries", service, cache), `${service} ${cache} bound`).toBe(bound);
      // Full, not above.
      expect(value(text, "mtd_cache_entries", service, cache), `${service} ${cache} entries`).toBe(bound);
      expect(value(text, "mtd_cache_misses_total", service, cache), `${service} ${cache} misses`).toBeGreaterThanOrEqual(DISTINCT);
      expect(value(text, "mtd_cache_evictions_total", service, cache), `${service} ${cache} evictions`).toBeGreaterThanOrEqual(DISTINCT - bound);
    }
    // The threats and policies subgraphs got the entity fetches of the device that exists: one document each, whatever the client sent.
    expect(value(text, "mtd_cache_entries", "threats", "documents")).toBeLessThanOrEqual(2);
  });

  it("forget an entry once as many newer documents came in as the bound, and keep one that is in use", async () => {
    const hot = `{ devices(first: 1) { totalCount } }`;
    const old = inlineDevice(10_000);
    await sendAll([old, hot]);
    const before = await metrics();
    // `hot` is used between the newer documents, `old` never again until the end.
    const newer = Array.from({ length: DOCUMENTS * 2 }, (_, i) => (i % 4 === 0 ? hot : inlineDevice(20_000 + i)));
    await sendAll(newer);
    const middle = await metrics();
    await sendAll([hot]);
    const afterHot = await metrics();
    expect(value(afterHot, "mtd_cache_hits_total", "gateway", "documents") - value(middle, "mtd_cache_hits_total", "gateway", "documents")).toBe(1);
    await sendAll([old]);
    const afterOld = await metrics();
    // The old document was parsed, validated and planned again: misses, no hits.
    expect(value(afterOld, "mtd_cache_misses_total", "gateway", "documents") - value(afterHot, "mtd_cache_misses_total", "gateway", "documents")).toBe(1);
    expect(value(afterOld, "mtd_cache_misses_total", "gateway", "query_plans") - value(afterHot, "mtd_cache_misses_total", "gateway", "query_plans")).toBe(1);
    expect(value(afterOld, "mtd_cache_hits_total", "gateway", "documents")).toBe(value(afterHot, "mtd_cache_hits_total", "gateway", "documents"));
    expect(value(afterOld, "mtd_cache_entries", "gateway", "documents")).toBe(DOCUMENTS);
    expect(value(before, "mtd_cache_entries", "gateway", "documents")).toBe(DOCUMENTS);
  });

  it("keep at most their bound of subscription plans, refusals included", async () => {
    const subscriber = new Subscriber(graph.gatewayUrl, await graph.token({ tenantId: "caches", role: "enforcement" }));
    try {
      await subscriber.connected.promise;
      for (let i = 0; i < SUBSCRIPTION_PLANS * 6; i++) {
        // Distinct documents the gateway plans and refuses (no such field): a refusal is cached like a plan.
        const received = subscriber.subscribe(`subscription { accessChanged(resources: ["r${i}"]) { cursor notAField } }`);
        await received.ended.promise;
        expect(JSON.stringify(received.error)).toContain("GRAPHQL_VALIDATION_FAILED");
      }
    } finally {
      await subscriber.dispose();
    }
    const text = await metrics();
    expect(value(text, "mtd_cache_max_entries", "gateway", "subscription_plans")).toBe(SUBSCRIPTION_PLANS);
    expect(value(text, "mtd_cache_entries", "gateway", "subscription_plans")).toBe(SUBSCRIPTION_PLANS);
    expect(value(text, "mtd_cache_misses_total", "gateway", "subscription_plans")).toBe(SUBSCRIPTION_PLANS * 6);
  });
});
