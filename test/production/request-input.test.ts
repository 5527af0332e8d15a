/**
 * Strings with a lone surrogate or a NUL are BAD_USER_INPUT naming the field,
 * whatever the field and subgraph, in variables and in literals, over HTTP and
 * WebSocket, at the gateway and directly at a subgraph; nothing is stored. An
 * operation name is at most 256 characters at the gateway.
 */
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";

const ENROLL = /* GraphQL */ `mutation Enroll($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`;
const DEVICE = /* GraphQL */ `query Device($id: ID!) { device(id: $id) { id name } }`;
const POLICY = /* GraphQL */ `mutation Policy($input: SetConditionalAccessPolicyInput!) { setConditionalAccessPolicy(input: $input) { id } }`;
const POLICIES = /* GraphQL */ `query { conditionalAccessPolicies { name } }`;

const LONE_HIGH = "Phone \ud800";
const LONE_LOW = "\udc00 Phone";
const WITH_NUL = "Pho\u0000ne";

function device(id: string, override: Record<string, unknown> = {}) {
  return { id, name: `Phone ${id}`, platform: "IOS", osVersion: "17.4", ownership: "CORPORATE", ...override };
}

async function post(url: string, token: string, body: Record<string, unknown>) {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: response.status, ...((await response.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] }) };
}

/** The first error of a graphql-ws subscription, from a real client. */
function subscriptionError(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<{ message: string; extensions?: Record<string, unknown> }> {
  const client = createClient({ url: url.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  return new Promise((resolve, reject) => {
    client.subscribe(
      { query, variables },
      {
        next: (result) => {
          if (result.errors?.length) resolve(result.errors[0] as never);
          else reject(new Error(`expected an error, got ${JSON.stringify(result)}`));
        },
        error: (error) => resolve((Array.isArray(error) ? error[0] : error) as never),
        complete: () => reject(new Error("completed without an error")),
      },
    );
  }).finally(() => client.dispose()) as never;
}

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`string inputs on ${engine.name}`, () => {
    let graph: TestGraph;
    let admin: string;

    beforeAll(async () => {
      graph = await startGraph(engine);
      admin = await graph.token({ tenantId: "strings", role: "admin" });
    });
    afterAll(() => graph?.stop());

    it.each([
      ["a lone high surrogate", LONE_HIGH, "input.name: expected well-formed Unicode text; got a lone surrogate at position 6"],
      ["a lone low surrogate", LONE_LOW, "input.name: expected well-formed Unicode text; got a lone surrogate at position 0"],
      ["a NUL", WITH_NUL, "input.name: control characters are not allowed"],
    ])("refuses %s in a variable through the gateway and directly at the subgraph, storing nothing", async (_name, name, message) => {
      for (const [where, url] of [["gateway", graph.gatewayUrl], ["devices", graph.subgraphs.devices!.url]] as const) {
        const id = `v-${where}-${name.length}-${name.charCodeAt(0)}`;
        const result = await graph.query(admin, ENROLL, { input: device(id, { name }) }, url);
        expect(result.errors?.[0]?.extensions?.code, where).toBe("BAD_USER_INPUT");
        expect(result.errors![0]!.extensions!.field).toBe("input.name");
        expect(result.errors![0]!.message).toBe(message);
        expect(result.status).toBe(400);
        expect((await graph.query(admin, DEVICE, { id })).data).toEqual({ device: null });
      }
    });

    it("refuses them in document literals and in every field, in lists too, naming the path", async () => {
      const literal = await graph.query(admin, `mutation { enrollDevice(input: { id: "lit-1", name: "a\\u0000b", platform: IOS, osVersion: "1", ownership: CORPORATE }) { id } }`);
      expect(literal.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.name" });
      expect((await graph.query(admin, DEVICE, { id: "lit-1" })).data).toEqual({ device: null });

      const upn = await graph.query(admin, ENROLL, { input: device("upn-1", { userPrincipalName: `user${LONE_LOW}@example.com` }) });
      expect(upn.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.userPrincipalName" });

      const policy = { name: "Mail", resources: ["exchange", `share${LONE_HIGH}`], platforms: ["IOS"], enabled: true };
      for (const url of [graph.gatewayUrl, graph.subgraphs.policies!.url]) {
        const result = await graph.query(admin, POLICY, { input: policy }, url);
        expect(result.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.resources[1]" });
      }
      expect((await graph.query(admin, POLICIES)).data).toEqual({ conditionalAccessPolicies: [] });
    });

    it("accepts well-formed text with astral characters, accents and emoji", async () => {
      const name = "Téléphone 📱 𝔘𝔫𝔦𝔠𝔬𝔡𝔢";
      expect((await graph.query(admin, ENROLL, { input: device("fine-1", { name }) })).errors).toBeUndefined();
      expect((await graph.query(admin, DEVICE, { id: "fine-1" })).data).toEqual({ device: { id: "fine-1", name } });
    });

    it("refuses them in subscription arguments over graphql-ws, at the gateway and at the subgraph", async () => {
      const enforcement = await graph.token({ tenantId: "strings", role: "enforcement" });
      const query = `subscription($resources: [String!]) { accessChanged(resources: $resources) { cursor } }`;
      for (const url of [graph.gatewayUrl, graph.subgraphs.policies!.url]) {
        const error = await subscriptionError(url, enforcement, query, { resources: [`ex${LONE_HIGH}`] });
        expect(error.extensions, url).toMatchObject({ code: "BAD_USER_INPUT", field: "resources[0]" });
        expect(error.message).toBe("resources[0]: expected well-formed Unicode text; got a lone surrogate at position 8");
      }
    });
  });
}

describe("operation names", () => {
  let graph: TestGraph;
  let admin: string;

  beforeAll(async () => {
    graph = await startGraph();
    admin = await graph.token({ tenantId: "names", role: "admin" });
  });
  afterAll(() => graph?.stop());

  it("refuses a 100 kB operationName at the gateway and at a subgraph, with the field named", async () => {
    const name = "Q".repeat(100_000);
    for (const url of [graph.gatewayUrl, graph.subgraphs.devices!.url]) {
      const result = await post(url, admin, { query: `query ${name} { devices(first: 1) { totalCount } }`, operationName: name });
      expect(result.status, url).toBe(400);
      expect(result.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "operationName" });
      expect(result.errors![0]!.message).toMatch(/^operationName: expected at most \d+ characters; got 100000$/);
      expect(result.data ?? null).toBeNull();
    }
    // Named only in the document, or named without a match: refused the same way, never echoed back.
    const documentOnly = await post(graph.gatewayUrl, admin, { query: `query ${name} { devices(first: 1) { totalCount } }` });
    expect(documentOnly.errors![0]!.extensions!.field).toBe("operationName");
    const unknown = await post(graph.gatewayUrl, admin, { query: `query Q { devices(first: 1) { totalCount } }`, operationName: name });
    expect(unknown.errors![0]!.extensions!.field).toBe("operationName");
    expect(JSON.stringify(unknown).length).toBeLessThan(2000);
  });

  it("lets a 256-character name through the gateway into its subgraph fetches; 257 is refused", async () => {
    const name = "N".repeat(256);
    const ok = await post(graph.gatewayUrl, admin, { query: `query ${name} { devices(first: 1) { totalCount edges { node { riskLevel complianceState } } } }`, operationName: name });
    expect(ok.errors).toBeUndefined();
    expect(ok.data).toEqual({ devices: { totalCount: 0, edges: [] } });
    const tooLong = await post(graph.gatewayUrl, admin, { query: `query ${name}N { devices(first: 1) { totalCount } }` });
    expect(tooLong.errors![0]!.message).toBe("operationName: expected at most 256 characters; got 257");
  });
});
