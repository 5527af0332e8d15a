/**
 * `npm run bench [-- scenario ...]`: runs benchmark scenarios (every
 * `test/bench/<name>.bench.ts`, or the ones named) and prints each one's table.
 * Benchmarks never gate `npm test`.
 *
 * The peers the scenarios compare against (Hive Gateway, autocannon) are the
 * bench's own package (`test/bench/package.json`), never the product's
 * dependencies: installed here on first use with `npm ci --prefix test/bench`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

const here = new URL(".", import.meta.url);
const available = readdirSync(here)
  .filter((file) => file.endsWith(".bench.ts"))
  .map((file) => file.replace(/\.bench\.ts$/, ""))
  .sort();
const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(", ")}; available: ${available.join(", ")}`);
  process.exit(2);
}

const scenarios: [string, { run(): Promise<void>; needsPeers?: boolean }][] = [];
for (const name of requested.length > 0 ? requested : available) scenarios.push([name, await import(`./${name}.bench.ts`)]);

// Scenarios that run peers (`export const needsPeers = true`) get the bench package installed first.
if (scenarios.some(([, scenario]) => scenario.needsPeers) && !existsSync(new URL("node_modules/.package-lock.json", here))) {
  console.log("installing the bench's peers (npm ci --prefix test/bench) …");
  execFileSync("npm", ["ci", "--prefix", here.pathname, "--no-audit", "--no-fund", "--loglevel=error"], { stdio: "inherit" });
}

for (const [name, scenario] of scenarios) {
  console.log(`\n# ${name}\n`);
  await scenario.run();
}
process.exit(0);
