/**
 * Small modules: no source file of the services, the gateway, `lib/`, `bin/`
 * or the console over `MAX_LINES` lines (generated code aside). Tests are not
 * held to it: a test file reads top to bottom as one story.
 */
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOTS, sources } from "./sources.js";

const MAX_LINES = 400;

describe("file size", () => {
  it(`no source file is over ${MAX_LINES} lines`, () => {
    const files = sources(ROOTS.filter((root) => root !== "test"));
    expect(files.size).toBeGreaterThan(100);
    const long = [...files]
      .map(([file, text]) => ({ file: relative(process.cwd(), file), lines: text.split("\n").length - (text.endsWith("\n") ? 1 : 0) }))
      .filter(({ lines }) => lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
