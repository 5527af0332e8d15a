import { describe, expect, it } from "vitest";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";
import { bindVariables, CURSOR_ALIAS, PlannedSupergraph, Planners, RESUME_VARIABLE, type SubscriptionPlan } from "../../gateway/subscriptions/planner.js";
import { loadSupergraph } from "../../gateway/supergraph.js";

const ACCESS = /* GraphQL */ `subscription Access($after: String) { accessChanged(after: $after) { resource device { name } } }`;

function planOf(supergraph: PlannedSupergraph, query: string, operationName?: string): SubscriptionPlan {
  const result = supergraph.plan(query, operationName);
  if (result.errors !== undefined) throw new Error(result.errors.map((error) => error.message).join("; "));
  return result.plan;
}

/** A supergraph with another resumable field, named differently: nothing in the gateway knows `accessChanged` or `cursor`. */
function tickerSupergraph(cursorField = "id"): string {
  const result = composeServices([
    {
      name: "ticker",
      url: "http://127.0.0.1:5001/graphql",
      typeDefs: parse(/* GraphQL */ `
        extend schema
          @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@composeDirective"])
          @link(url: "https://mtd-graph.dev/resumable/v1.0", import: ["@resumable"])
          @composeDirective(name: "@resumable")
        directive @resumable(cursorField: String!, afterArgument: String!) on FIELD_DEFINITION
        type Tick { id: ID! seq: Int! value: Float! stock: Stock! }
        type Stock @key(fields: "symbol") { symbol: String! }
        type Query { tickCount: Int! }
        type Subscription { ticks(since: ID, symbol: String): Tick! @resumable(cursorField: "${cursorField}", afterArgument: "since") quotes: Tick! }
      `),
    },
    {
      name: "stocks",
      url: "http://127.0.0.1:5002/graphql",
      typeDefs: parse(/* GraphQL */ `
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
        type Stock @key(fields: "symbol") { symbol: String! name: String! }
        type Query { stock(symbol: String!): Stock }
      `),
    },
  ]);
  if (result.errors !== undefined) throw new Error(result.errors.map((error) => error.message).join("\n"));
  return result.supergraphSdl;
}

describe("subscription planner", () => {
  const supergraph = new PlannedSupergraph(loadSupergraph());

  it("reads @resumable from the supergraph's field definitions", () => {
    expect(Object.fromEntries(supergraph.resumable)).toEqual({ accessChanged: { cursorField: "cursor", afterArgument: "after" } });
  });

  it("plans the primary on the subgraph owning the root field and the rest as entity fetches", () => {
    const plan = planOf(supergraph, ACCESS, "Access");
    expect(plan.primary.serviceName).toBe("policies");
    expect(plan.queryPlan.node).toMatchObject({ kind: "Sequence", nodes: [{ kind: "Fetch", serviceName: "policies" }, {}] });
    expect(JSON.stringify(plan.queryPlan.node)).toContain('"serviceName":"devices"');
    // The cursor is always requested upstream (under a reserved alias), and the resume argument is a variable.
    expect(plan.primary.operation).toContain(`${CURSOR_ALIAS}:cursor`);
    expect(plan.primary.operation).toContain(`after:$${RESUME_VARIABLE}`);
    expect(plan.primary.variableUsages).toEqual([RESUME_VARIABLE]);
    expect(plan.rootKey).toBe("accessChanged");
  });

  it("caches plans per document and operation name: the same operation gets the same plan object", () => {
    const first = planOf(supergraph, ACCESS, "Access");
    expect(planOf(supergraph, ACCESS, "Access") === first).toBe(true);
    expect(planOf(supergraph, ACCESS) === first).toBe(false);
    expect(planOf(supergraph, `${ACCESS} `, "Access") === first).toBe(false);
    const invalid = supergraph.plan("subscription { nope }", undefined);
    expect(supergraph.plan("subscription { nope }", undefined) === invalid).toBe(true);
  });

  it("builds a new planner for a new supergraph, and keeps the current one for the same SDL", () => {
    // (Identity compared as booleans: these objects are too large for a readable diff.)
    const planners = new Planners(loadSupergraph());
    const before = planners.current;
    const plan = planOf(before, ACCESS);
    expect(planners.update(loadSupergraph())).toBe(false);
    expect(planners.current === before).toBe(true);

    expect(planners.update(tickerSupergraph())).toBe(true);
    expect(planners.current === before).toBe(false);
    expect(planners.current.plan(ACCESS, undefined).errors?.[0]?.message).toMatch(/Cannot query field "accessChanged"/);
    expect(planners.update(loadSupergraph())).toBe(true);
    expect(planOf(planners.current, ACCESS) === plan).toBe(false);
  });

  it("handles any resumable field, whatever its cursor field and resume argument are called", () => {
    const ticker = new PlannedSupergraph(tickerSupergraph());
    expect(Object.fromEntries(ticker.resumable)).toEqual({ ticks: { cursorField: "id", afterArgument: "since" } });
    const plan = planOf(ticker, `subscription { t: ticks(symbol: "MSFT") { value stock { name } } }`);
    expect(plan.primary.serviceName).toBe("ticker");
    expect(plan.primary.operation).toContain(`t:ticks(symbol:"MSFT" since:$${RESUME_VARIABLE})`);
    expect(plan.primary.operation).toContain(`${CURSOR_ALIAS}:id`);
    expect(plan.rootKey).toBe("t");
    expect(plan.resume).toMatchObject({ cursorField: "id", afterArgument: "since" });
    // A non-resumable field is planned as written.
    const quotes = planOf(ticker, `subscription { quotes { value } }`);
    expect(quotes.resume).toBeUndefined();
    expect(quotes.primary.operation).not.toContain(CURSOR_ALIAS);

    expect(() => new PlannedSupergraph(tickerSupergraph("nothere"))).toThrow(/has no field "nothere"/);
  });

  it("binds the resume variable to the client's `after`: from a variable, a literal, or none", () => {
    const fromVariable = planOf(supergraph, ACCESS);
    expect(bindVariables(fromVariable, { after: "WzVd" }).bound).toEqual({ variables: { after: "WzVd", [RESUME_VARIABLE]: "WzVd" }, after: "WzVd" });
    expect(bindVariables(fromVariable, {}).bound).toEqual({ variables: { [RESUME_VARIABLE]: null }, after: null });
    const literal = planOf(supergraph, `subscription { accessChanged(after: "WzJd") { cursor } }`);
    expect(bindVariables(literal, undefined).bound?.after).toBe("WzJd");
    const wrong = bindVariables(planOf(supergraph, `subscription($r: [String!]) { accessChanged(resources: $r) { cursor } }`), { r: [1] });
    expect(wrong.errors?.[0]?.extensions.code).toBe("BAD_USER_INPUT");
  });

  it("refuses queries, mutations, invalid documents and the reserved names with coded errors", () => {
    const code = (query: string) => supergraph.plan(query, undefined).errors?.[0]?.extensions.code;
    expect(code(`{ devices { totalCount } }`)).toBe("OPERATION_NOT_SUPPORTED");
    expect(code(`mutation { partnerHeartbeat { state } }`)).toBe("OPERATION_NOT_SUPPORTED");
    expect(code(`subscription { accessChanged { cursor } deviceRiskChanged { level } }`)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(code(`subscription {`)).toBe("GRAPHQL_PARSE_FAILED");
    expect(code(`subscription($${RESUME_VARIABLE}: String) { accessChanged(after: $${RESUME_VARIABLE}) { cursor } }`)).toBe("BAD_USER_INPUT");
    expect(supergraph.plan(`subscription A { deviceRiskChanged { level } } subscription B { deviceRiskChanged { level } }`, undefined).errors?.[0]?.message).toMatch(/operationName is required/);
    const tight = new PlannedSupergraph(loadSupergraph(), { maxTokens: 10 });
    expect(tight.plan(ACCESS, undefined).errors?.[0]?.extensions).toMatchObject({ code: "OPERATION_LIMIT", limit: "maxTokens" });
  });
});
