/** Our TypeScript modules, as the structure tests read them: every `.ts`/`.tsx` under the roots, generated code left out. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** Every folder of our code; `test` holds the tests and their support, `console/src` the admin console. */
export const ROOTS = ["bin", "lib", "gateway", "subgraphs", "test", "console/src"] as const;
const SKIPPED = new Set(["node_modules", "generated", "gql"]);

function files(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : files(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** The modules under `roots` (relative to the project), by absolute path, with their text. */
export function sources(roots: readonly string[] = ROOTS): Map<string, string> {
  return new Map(roots.filter((root) => existsSync(root)).flatMap(files).map((file) => [resolve(file), readFileSync(file, "utf8")] as const));
}
