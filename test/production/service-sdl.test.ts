/**
 * `_service { sdl }` on a subgraph: with introspection off (production) only
 * admins read it, every other role is FORBIDDEN; in development any caller
 * may. The gateway composes from its supergraph file and keeps working.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../lib/auth.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { enablePartner } from "../support/partners.js";

const SDL = /* GraphQL */ `{ _service { sdl } }`;
const OTHERS: Role[] = ["analyst", "partner", "enforcement"];

/** A graph whose tenant "sdl" has LOOKOUT enabled, so a partner's token passes the partner rule and meets the `_service` rule itself. */
async function start(env: Record<string, string>): Promise<TestGraph> {
  const graph = await startGraph({ env });
  await enablePartner(graph, await graph.token({ tenantId: "sdl", role: "admin" }), await graph.token({ tenantId: "sdl", role: "partner", partner: "LOOKOUT" }));
  return graph;
}

async function sdlAs(graph: TestGraph, role: Role, subgraph: string) {
  const token = await graph.token({ tenantId: "sdl", role, partner: role === "partner" ? "LOOKOUT" : undefined });
  return graph.query<{ _service: { sdl: string } }>(token, SDL, undefined, graph.subgraphs[subgraph]!.url);
}

describe("_service in production", () => {
  let graph: TestGraph;

  beforeAll(async () => {
    graph = await start({ NODE_ENV: "production" });
  });
  afterAll(() => graph?.stop());

  it("answers admins, on every subgraph", async () => {
    for (const subgraph of ["devices", "threats", "policies", "inventory", "signals"]) {
      const result = await sdlAs(graph, "admin", subgraph);
      expect(result.errors, subgraph).toBeUndefined();
      expect(result.data!._service.sdl).toMatch(/type Query/);
    }
  });

  it("refuses every other role with FORBIDDEN and no schema, and a caller without a token with UNAUTHENTICATED", async () => {
    for (const role of OTHERS) {
      const result = await sdlAs(graph, role, "devices");
      expect(result.errors?.[0]?.extensions?.code, role).toBe("FORBIDDEN");
      expect(JSON.stringify(result)).not.toMatch(/enrollDevice|type Query/);
    }
    const anonymous = await graph.query(null, SDL, undefined, graph.subgraphs.policies!.url);
    expect(anonymous.errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
  });

  it("leaves the gateway working (it plans from its supergraph file)", async () => {
    const admin = await graph.token({ tenantId: "sdl", role: "admin" });
    expect((await graph.query(admin, `{ devices(first: 1) { totalCount edges { node { riskLevel complianceState } } } }`)).errors).toBeUndefined();
  });
});

describe("_service in development", () => {
  let graph: TestGraph;

  beforeAll(async () => {
    graph = await start({ NODE_ENV: "development" });
  });
  afterAll(() => graph?.stop());

  it("answers any authenticated caller, as introspection does", async () => {
    for (const role of OTHERS) {
      const result = await sdlAs(graph, role, "devices");
      expect(result.errors, role).toBeUndefined();
      expect(result.data!._service.sdl).toMatch(/enrollDevice/);
    }
  });
});
