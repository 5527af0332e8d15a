import { describe, expect, it } from "vitest";
import { composeSupergraph, loadSupergraph } from "../../gateway/supergraph.js";

describe("supergraph", () => {
  it("composes without errors and the committed schema/supergraph.graphql is current (run `npm run compose`)", () => {
    expect(loadSupergraph()).toBe(composeSupergraph());
  });
});
