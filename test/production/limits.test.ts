/**
 * Operation limits (depth, aliases, tokens, directives, cost with list sizes,
 * page size), the body limit, and schema exposure: refused before anything
 * runs, at the gateway and at each subgraph, with stable codes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../lib/config.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { Subscriber } from "../gateway/subscriptions-helpers.js";

const ENROLL = /* GraphQL */ `
  mutation Enroll($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }
`;
const DEVICES = /* GraphQL */ `
  query Devices($first: Int) { devices(first: $first) { totalCount edges { node { id name platform } } } }
`;

function iphone(id: string) {
  return { id, name: `iPhone ${id}`, platform: "IOS", osVersion: "17.4.1", ownership: "CORPORATE" };
}

async function post(url: string, body: string, token?: string) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe("operation limits", () => {
  let graph: TestGraph;
  let admin: string;

  beforeAll(async () => {
    graph = await startGraph({
      env: { MTD_MAX_DEPTH: "7", MTD_MAX_ALIASES: "3", MTD_MAX_TOKENS: "300", MTD_MAX_DIRECTIVES: "4", MTD_MAX_COST: "20000", MTD_MAX_BODY_BYTES: "4096" },
    });
    admin = await graph.token({ tenantId: "limits", role: "admin" });
  });
  afterAll(() => graph?.stop());

  const refused = async (query: string, variables: Record<string, unknown> | undefined, limit: string, url?: string) => {
    const result = await graph.query(admin, query, variables, url);
    expect(result.status).toBe(400);
    expect(result.data ?? null).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({ code: "OPERATION_LIMIT", limit });
    expect(result.errors![0]!.message).toContain(`(${limit})`);
    return result;
  };

  it("refuses an operation nested deeper than MTD_MAX_DEPTH, at the gateway and at a subgraph", async () => {
    await refused(`{ devices { edges { node { apps { edges { node { device { id } } } } } } } }`, undefined, "maxDepth");
    const deepAtInventory = `{ apps { edges { node { device { apps { edges { node { appId } } } } } } } }`;
    await refused(deepAtInventory, undefined, "maxDepth", graph.subgraphs.inventory!.url);
    expect((await graph.query(admin, `{ apps { edges { node { device { id } } } } }`, undefined, graph.subgraphs.inventory!.url)).errors).toBeUndefined();
  });

  it("refuses too many aliases", async () => {
    const aliases = `{ a: devices { totalCount } b: devices { totalCount } c: devices { totalCount } d: devices { totalCount } }`;
    await refused(aliases, undefined, "maxAliases");
    await refused(aliases, undefined, "maxAliases", graph.subgraphs.devices!.url);
    const three = `{ a: devices { totalCount } b: devices { totalCount } c: devices { totalCount } }`;
    expect((await graph.query(admin, three)).errors).toBeUndefined();
  });

  it("refuses a document with more tokens than MTD_MAX_TOKENS before parsing it all", async () => {
    const long = `{ ${Array.from({ length: 160 }, () => "devices { totalCount }").join(" ")} }`;
    const result = await refused(long, undefined, "maxTokens");
    expect(result.errors![0]!.message).toMatch(/more than 300 tokens/);
    await refused(long, undefined, "maxTokens", graph.subgraphs.threats!.url);
  });

  it("refuses too many directives", async () => {
    const many = `{ devices @include(if: true) @skip(if: false) { totalCount @include(if: true) @skip(if: false) pageInfo @include(if: true) { endCursor } } }`;
    await refused(many, undefined, "maxDirectives");
  });

  it("counts list sizes in the cost, whether `first` is a literal, a variable or the default", async () => {
    const nested = `query($n: Int, $m: Int) { devices(first: $n) { edges { node { id apps(first: $m) { edges { node { appId name version } } } } } } }`;
    // 500 devices × 100 apps: far above the cost limit, though the document is small.
    await refused(nested, { n: 500, m: 100 }, "maxCost");
    await refused(`{ devices(first: 500) { edges { node { id apps(first: 100) { edges { node { appId name version } } } } } } }`, undefined, "maxCost");
    // Defaults count too: devices 50 × apps 100.
    await refused(`{ devices { edges { node { apps { edges { node { appId name version } } } } } } }`, undefined, "maxCost");
    // Small pages pass.
    const small = await graph.query(admin, nested, { n: 5, m: 5 });
    expect(small.errors).toBeUndefined();
  });

  it("caps `first` at MTD_MAX_PAGE_SIZE before anything runs, naming the argument", async () => {
    const result = await refused(DEVICES, { first: 501 }, "maxPageSize");
    expect(result.errors![0]!.message).toMatch(/^first: expected an integer from 1 to 500; got 501/);
    await refused(DEVICES, { first: 501 }, "maxPageSize", graph.subgraphs.devices!.url);
  });

  it("runs nothing of a refused mutation", async () => {
    const aliased = `mutation { a: enrollDevice(input: { id: "x-1", name: "x", platform: IOS, osVersion: "1", ownership: CORPORATE }) { id }
      b: enrollDevice(input: { id: "x-2", name: "x", platform: IOS, osVersion: "1", ownership: CORPORATE }) { id }
      c: enrollDevice(input: { id: "x-3", name: "x", platform: IOS, osVersion: "1", ownership: CORPORATE }) { id }
      d: enrollDevice(input: { id: "x-4", name: "x", platform: IOS, osVersion: "1", ownership: CORPORATE }) { id } }`;
    await refused(aliased, undefined, "maxAliases");
    const listed = await graph.query(admin, DEVICES, { first: 10 });
    expect(listed.data!.devices.totalCount).toBe(0);
    expect((await graph.query(admin, ENROLL, { input: iphone("ok-1") })).errors).toBeUndefined();
  });

  it("answers 413 to a body above MTD_MAX_BODY_BYTES, at the gateway and at a subgraph", async () => {
    const body = JSON.stringify({ query: ENROLL, variables: { input: { ...iphone("big"), name: "x".repeat(5000) } } });
    for (const url of [graph.gatewayUrl, graph.subgraphs.devices!.url]) {
      const response = await post(url, body, admin);
      expect(response.status).toBe(413);
      expect(JSON.parse(response.text).errors[0].message).toMatch(/exceeds 4096 bytes/);
    }
    expect((await graph.query(admin, `{ device(id: "big") { id } }`)).data).toEqual({ device: null });
  });

  it("answers graphql-ws subscriptions with the same codes at the gateway and at a subgraph (one transport policy)", async () => {
    const enforcement = await graph.token({ tenantId: "limits", role: "enforcement" });
    const long = `subscription { deviceRiskChanged { ${Array.from({ length: 400 }, () => "level").join(" ")} } }`;
    const cases: [string, string][] = [
      [long, "OPERATION_LIMIT"],
      ["subscription { deviceRiskChanged { level ", "GRAPHQL_PARSE_FAILED"],
      ["subscription { deviceRiskChanged { nope } }", "GRAPHQL_VALIDATION_FAILED"],
    ];
    for (const url of [graph.gatewayUrl, graph.subgraphs.threats!.url]) {
      const client = new Subscriber(url, enforcement);
      try {
        for (const [query, code] of cases) {
          const received = client.subscribe(query);
          await received.ended.promise;
          expect((received.error as { extensions: { code: string } }[])[0]!.extensions.code, `${url}: ${query.slice(0, 40)}`).toBe(code);
        }
      } finally {
        await client.dispose();
      }
    }
  });

  it("answers an APQ whose hash is not its query's with PERSISTED_QUERY_HASH_MISMATCH, at the gateway and at a subgraph", async () => {
    const body = JSON.stringify({ query: "{ devices { totalCount } }", extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } });
    for (const url of [graph.gatewayUrl, graph.subgraphs.devices!.url]) {
      const response = await post(url, body, admin);
      expect(response.status).toBe(400);
      expect(JSON.parse(response.text).errors[0].extensions).toEqual({ code: "PERSISTED_QUERY_HASH_MISMATCH" });
    }
  });

  it("has introspection and the landing page on in development", async () => {
    const result = await graph.query(admin, `{ __schema { queryType { name } } }`);
    expect(result.data).toEqual({ __schema: { queryType: { name: "Query" } } });
    const page = await fetch(graph.gatewayUrl, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
  });
});

describe("exposure in production", () => {
  let graph: TestGraph;
  let admin: string;

  beforeAll(async () => {
    graph = await startGraph({ env: { NODE_ENV: "production" } });
    admin = await graph.token({ tenantId: "prod", role: "admin" });
  });
  afterAll(() => graph?.stop());

  it("turns introspection, the landing page and field suggestions off", async () => {
    for (const url of [graph.gatewayUrl, graph.subgraphs.devices!.url]) {
      const result = await graph.query(admin, `{ __schema { queryType { name } } }`, undefined, url);
      expect(result.status).toBe(400);
      expect(result.errors![0]!.message).toMatch(/introspection/i);
    }
    const page = await fetch(graph.gatewayUrl, { headers: { accept: "text/html" } });
    expect(page.headers.get("content-type") ?? "").not.toMatch(/text\/html/);
    const typo = await graph.query(admin, `{ devicez { totalCount } }`);
    expect(typo.errors![0]!.message).not.toMatch(/Did you mean/);
  });

  it("turns them on when configured", () => {
    const config = loadConfig({ NODE_ENV: "production", MTD_JWT_SECRET: "x".repeat(32), MTD_INTROSPECTION: "true", MTD_LANDING_PAGE: "1" });
    expect(config).toMatchObject({ introspection: true, landingPage: true });
    const invalid = () => loadConfig({ MTD_INTROSPECTION: "maybe", MTD_MAX_PAGE_SIZE: "501", MTD_RATE_LIMIT_TENANT_BURST: "0" });
    expect(invalid).toThrow(/MTD_INTROSPECTION must be true or false; got "maybe"/);
    expect(invalid).toThrow(/MTD_MAX_PAGE_SIZE must be an integer from 1 to 500; got "501"/);
    expect(invalid).toThrow(/MTD_RATE_LIMIT_TENANT_BURST must be an integer from 1/);
  });
});
