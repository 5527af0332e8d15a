/**
 * `npm run bench [-- scenario ...]`: runs benchmark scenarios (every
 * `test/bench/<name>.bench.ts`, or the ones named) and prints each one's table.
 * Benchmarks never gate `npm test`.
 */
import { readdirSync } from "node:fs";

const available = readdirSync(new URL(".", import.meta.url))
  .filter((file) => file.endsWith(".bench.ts"))
  .map((file) => file.replace(/\.bench\.ts$/, ""))
  .sort();
const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(", ")}; available: ${available.join(", ")}`);
  process.exit(2);
}

for (const name of requested.length > 0 ? requested : available) {
  console.log(`\n# ${name}\n`);
  const scenario = (await import(`./${name}.bench.ts`)) as { run(): Promise<void> };
  await scenario.run();
}
process.exit(0);
