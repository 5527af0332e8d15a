/**
 * No import cycles between our modules (type-only imports included: a cycle
 * of types is the same tangle for a reader). Imports are read with the
 * TypeScript compiler's pre-processor; cycles are the strongly connected
 * components of the import graph.
 */
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { sources } from "./sources.js";

/** The module a relative specifier names among `files` (`./x.js` is `./x.ts` or `./x.tsx`, a folder its `index.ts`). */
function target(from: string, specifier: string, files: ReadonlyMap<string, string>): string | undefined {
  const base = resolve(dirname(from), specifier).replace(/\.js$/, "");
  return [`${base}.ts`, `${base}.tsx`, join(base, "index.ts")].find((candidate) => files.has(candidate));
}

/** Each cycle (files that import each other, directly or through others), its files sorted. */
function importCycles(files: ReadonlyMap<string, string>): string[][] {
  const edges = new Map<string, string[]>();
  for (const [file, text] of files) {
    const imported = ts.preProcessFile(text, true, true).importedFiles.map((ref) => ref.fileName).filter((name) => name.startsWith("."));
    edges.set(file, imported.flatMap((name) => target(file, name, files) ?? []));
  }
  // Tarjan's strongly connected components.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string) => {
    index.set(file, counter);
    low.set(file, counter++);
    stack.push(file);
    for (const next of edges.get(file)!) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (stack.includes(next)) low.set(file, Math.min(low.get(file)!, index.get(next)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const component = stack.splice(stack.indexOf(file));
    if (component.length > 1 || edges.get(file)!.includes(file)) cycles.push(component.sort());
  };
  for (const file of files.keys()) if (!index.has(file)) visit(file);
  return cycles;
}

describe("import cycles", () => {
  it("finds a cycle through a type-only import, and only the files on it", () => {
    const files = new Map([
      ["/x/a.ts", `import { b } from "./b.js";`],
      ["/x/b.ts", `import type { A } from "./sub/index.js";`],
      ["/x/sub/index.ts", `export type { A } from "../a.js";`],
      ["/x/c.ts", `import { a } from "./a.js"; import { z } from "zod";`],
    ]);
    expect(importCycles(files)).toEqual([["/x/a.ts", "/x/b.ts", "/x/sub/index.ts"]]);
  });

  it("there are none between our modules", () => {
    const files = sources();
    expect(files.size).toBeGreaterThan(100);
    const cycles = importCycles(files).map((cycle) => cycle.map((file) => relative(process.cwd(), file)).join(" "));
    expect(cycles).toEqual([]);
  });
});
