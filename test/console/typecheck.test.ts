import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("admin console sources", () => {
  it("type-check against the generated operation types (console/tsconfig.json)", () => {
    // Throws with tsc's report when a view uses a field the supergraph no longer has.
    expect(() => execFileSync("npx", ["tsc", "--noEmit", "-p", "console"], { encoding: "utf8", stdio: "pipe" })).not.toThrow();
  }, 120_000);
});
