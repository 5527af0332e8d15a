import { readFileSync } from "node:fs";
import { generate } from "@graphql-codegen/cli";
import { describe, expect, it } from "vitest";
import config from "../../codegen.js";

describe("generated resolver types", () => {
  it("are current for every subgraph's SDL (run `npm run codegen`)", async () => {
    const outputs = (await generate(config, false)) as { filename: string; content: string }[];
    expect(outputs.length).toBeGreaterThanOrEqual(4);
    for (const { filename, content } of outputs) {
      expect(readFileSync(filename, "utf8"), filename).toBe(content);
    }
  }, 60_000);
});
