/**
 * Crafted cursors and entity representations: every one is BAD_USER_INPUT
 * naming the argument, never an internal error, through the gateway and on
 * each subgraph directly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engines } from "../support/engines.js";
import { startGraph, type GraphQLResponse, type TestGraph } from "../support/graph.js";

/** A cursor with any JSON inside: what a client can send in place of one we made. */
const cursor = (json: string) => Buffer.from(json).toString("base64url");
const LONG = "x".repeat(300);

/** Cursors no field ever returned, whatever its key types: `[number, string]`, `[string]`, `[number]`, `[string, string]`. */
const CRAFTED_CURSORS: [string, string][] = [
  ["1e400 (Infinity)", cursor('[1e400,"x"]')],
  ["-1e400", cursor('[-1e400,"x"]')],
  ["a negative number", cursor('[-1,"x"]')],
  ["a fraction", cursor('[0.5,"x"]')],
  ["an unsafe integer", cursor('[9007199254740993,"x"]')],
  ["an object", cursor('[{"at":1},{"id":"x"}]')],
  ["an array inside", cursor('[["x"],["y"]]')],
  ["null parts", cursor("[null,null]")],
  ["an overlong string", cursor(`["${LONG}","${LONG}"]`)],
  ["a one-part 1e400", cursor("[1e400]")],
  ["a one-part object", cursor('[{"id":"x"}]')],
  ["a one-part overlong string", cursor(`["${LONG}"]`)],
  ["a 2 kB cursor", cursor(`["${"y".repeat(2000)}"]`)],
  // Strings that are not well-formed text, in every key shape that has a string part.
  ["a NUL", cursor('["\\u0000"]')],
  ["a lone surrogate", cursor('["\\ud800"]')],
  ["a NUL after a number", cursor('[1,"x\\u0000"]')],
  ["a lone surrogate after a number", cursor('[1,"\\udc00"]')],
  ["a lone surrogate in a pair of strings", cursor('["x","\\ud800"]')],
  ["not JSON", cursor("{not json")],
  ["not base64", "!!!"],
  ["a JSON object", cursor('{"sequence":1}')],
];

/** Each paged field with the subgraph that serves it. */
const PAGED: { name: string; subgraph: string; query: string }[] = [
  { name: "auditLog", subgraph: "devices", query: `query($after: String) { auditLog(after: $after) { totalCount } }` },
  { name: "devices", subgraph: "devices", query: `query($after: String) { devices(after: $after) { totalCount } }` },
  { name: "accessChanges", subgraph: "policies", query: `query($after: String) { accessChanges(after: $after) { totalCount } }` },
  { name: "impact.devices", subgraph: "policies", query: `query($after: String) { conditionalAccessPolicies { impact { devices(after: $after) { totalCount } } } }` },
  { name: "apps", subgraph: "inventory", query: `query($after: String) { apps(after: $after) { totalCount } }` },
  { name: "ssfDeadLetters", subgraph: "signals", query: `query($after: String) { ssfDeadLetters(after: $after) { totalCount } }` },
];

const ENTITIES = `query($representations: [_Any!]!) { _entities(representations: $representations) { __typename } }`;

/** Representations no gateway sends: wrong shapes, wrong key values, types that are no entity of any subgraph. */
const CRAFTED_REPRESENTATIONS: [string, unknown, string][] = [
  ["an object id", { __typename: "Device", id: { $gt: "" } }, "representations[0].id"],
  ["an array id", { __typename: "Device", id: ["a", "b"] }, "representations[0].id"],
  ["a numeric id", { __typename: "Device", id: 1e400 }, "representations[0].id"],
  ["a null id", { __typename: "Device", id: null }, "representations[0].id"],
  ["no id", { __typename: "Device" }, "representations[0].id"],
  ["an empty id", { __typename: "Device", id: "" }, "representations[0].id"],
  ["an overlong id", { __typename: "Device", id: LONG }, "representations[0].id"],
  ["a field that is no key", { __typename: "Device", id: "d-1", name: "x" }, "representations[0].name"],
  ["no __typename", { id: "d-1" }, "representations[0].__typename"],
  ["a numeric __typename", { __typename: 7, id: "d-1" }, "representations[0].__typename"],
  ["an unknown type", { __typename: "Nope", id: "d-1" }, "representations[0].__typename"],
  ["the Query type", { __typename: "Query", id: "d-1" }, "representations[0].__typename"],
  ["AccessChange", { __typename: "AccessChange", cursor: "x", sequence: 1 }, "representations[0].__typename"],
  ["Threat", { __typename: "Threat", id: "t-1" }, "representations[0].__typename"],
  ["AuditEntry", { __typename: "AuditEntry", id: "a-1" }, "representations[0].__typename"],
  ["SsfStream", { __typename: "SsfStream", streamId: "s-1" }, "representations[0].__typename"],
  ["InstalledApp", { __typename: "InstalledApp", appId: "a" }, "representations[0].__typename"],
  ["a string", "Device:d-1", "representations[0]"],
  ["an array", [{ __typename: "Device", id: "d-1" }], "representations[0]"],
];

/** The subgraphs that have entities (`_entities`). */
const ENTITY_SUBGRAPHS = ["devices", "threats", "policies", "inventory"];

function expectBadInput(result: GraphQLResponse, field: string) {
  expect(result.errors, JSON.stringify(result)).toHaveLength(1);
  expect(result.errors![0]!.extensions!.code, result.errors![0]!.message).toBe("BAD_USER_INPUT");
  expect(result.errors![0]!.message.startsWith(`${field}: `), result.errors![0]!.message).toBe(true);
  expect(result.data ?? null).toBeNull();
}

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`crafted input on ${engine.name}`, () => {
    let graph: TestGraph;
    let admin: string;

    beforeAll(async () => {
      graph = await startGraph(engine);
      admin = await graph.token({ tenantId: "crafted", role: "admin" });
      const enrolled = await graph.query(admin, `mutation { enrollDevice(input: { id: "d-1", name: "d", platform: IOS, osVersion: "17", ownership: CORPORATE }) { id } }`);
      expect(enrolled.errors).toBeUndefined();
      // A policy, so that its impact's devices are read.
      const policy = await graph.query(admin, `mutation { setConditionalAccessPolicy(input: { name: "p", resources: ["mail"], platforms: [IOS], enabled: true, mode: REPORT_ONLY }) { id } }`);
      expect(policy.errors).toBeUndefined();
    });
    afterAll(async () => {
      await graph?.stop();
    });

    for (const field of PAGED) {
      it(`${field.name}(after:) refuses every crafted cursor, through the gateway and on the ${field.subgraph} subgraph`, async () => {
        for (const [, after] of CRAFTED_CURSORS) {
          expectBadInput(await graph.query(admin, field.query, { after }), "after");
          expectBadInput(await graph.query(admin, field.query, { after }, graph.subgraphs[field.subgraph]!.url), "after");
        }
        // A first page still answers.
        expect((await graph.query(admin, field.query, {})).errors).toBeUndefined();
      });
    }

    it("Device.apps(after:) refuses crafted cursors inside a federated query", async () => {
      const query = `query($after: String) { device(id: "d-1") { id apps(after: $after) { totalCount } } }`;
      for (const [, after] of CRAFTED_CURSORS) {
        const result = await graph.query(admin, query, { after });
        expect(result.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
        expect(result.errors![0]!.message).toMatch(/^after: /);
      }
    });

    it("_entities refuses every crafted representation on each subgraph before any resolver runs", async () => {
      for (const name of ENTITY_SUBGRAPHS) {
        const url = graph.subgraphs[name]!.url;
        for (const [, representation, field] of CRAFTED_REPRESENTATIONS) {
          expectBadInput(await graph.query(admin, ENTITIES, { representations: [representation] }, url), field);
        }
        // The position of the crafted one is named; a valid representation still resolves.
        expectBadInput(await graph.query(admin, ENTITIES, { representations: [{ __typename: "Device", id: "d-1" }, { __typename: "Device", id: {} }] }, url), "representations[1].id");
        const valid = await graph.query(admin, ENTITIES, { representations: [{ __typename: "Device", id: "d-1" }] }, url);
        expect(valid.errors, name).toBeUndefined();
        expect(valid.data!._entities).toHaveLength(1);
      }
    });

    it("_entities is not part of the gateway's API: a validation error, not an internal one", async () => {
      const result = await graph.query(admin, ENTITIES, { representations: [{ __typename: "Device", id: {} }] });
      expect(result.errors![0]!.extensions!.code).toBe("GRAPHQL_VALIDATION_FAILED");
    });
  });
}
