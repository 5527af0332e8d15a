/**
 * Reading `--cpu-prof` profiles: the top self-time functions and self time by
 * package over a window of the profile (the samples taken while a load ran).
 * `npx tsx test/bench/cpu-profile.ts <file.cpuprofile> [--from µs --to µs] [--top n]`
 * prints a profile, or the window of it (e.g. a phase that
 * `BENCH_PROFILE=threats npm run bench -- burst` printed).
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Prints, for the samples taken in `[from, to]` (µs on the monotonic clock;
 * default the whole profile): the busy time, the top self-time functions and
 * self time by package (the async hooks that AsyncLocalStorage turns on for
 * every promise apart from the rest of `node:`), each divided by
 * `per` (e.g. requests; default 1, in ms).
 */
export function summarise(profile: CpuProfile, options: { from?: number; to?: number; per?: number; unit?: string; top?: number } = {}): void {
  const { from = -Infinity, to = Infinity, per = 1, unit = "ms", top = 40 } = options;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const where = (url: string) => url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(wt-[^/]+|main)\//, "");
  const packageOf = (url: string) =>
    url.includes("node_modules/")
      ? /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)![1]!
      : url === "node:internal/async_hooks" || url === "node:async_hooks"
        ? "node: async hooks"
        : url.startsWith("node:")
          ? "node:"
          : url === ""
            ? "(native)"
            : "ours";
  const self = new Map<string, number>();
  const packages = new Map<string, number>();

  // Each sample stands for the time since the one before it (µs).
  let at = profile.startTime;
  let busy = 0;
  for (const [index, id] of profile.samples.entries()) {
    const delta = profile.timeDeltas[index]!;
    at += delta;
    if (at < from || at > to) continue;
    const node = byId.get(id)!;
    if (node.callFrame.functionName === "(idle)") continue;
    busy += delta;
    const key = `${node.callFrame.functionName || "(anonymous)"} ${where(node.callFrame.url)}:${node.callFrame.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + delta);
    packages.set(packageOf(node.callFrame.url), (packages.get(packageOf(node.callFrame.url)) ?? 0) + delta);
  }
  const scale = unit === "ms" ? 1000 : 1;
  const show = (micros: number) => `${(micros / scale / per).toFixed(1).padStart(9)} ${unit}`;
  console.log(`busy: ${show(busy)} of ${show(Math.min(to, profile.endTime) - Math.max(from, profile.startTime))}`);
  for (const [key, micros] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${show(micros)}  ${key}`);
  console.log("\nself time by package:");
  for (const [key, micros] of [...packages].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${show(micros)}  ${key}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { from: { type: "string" }, to: { type: "string" }, top: { type: "string" } } });
  if (positionals.length !== 1) throw new Error("usage: tsx test/bench/cpu-profile.ts <file.cpuprofile> [--from µs --to µs] [--top n]");
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  summarise(JSON.parse(readFileSync(positionals[0]!, "utf8")) as CpuProfile, { from: number(values.from), to: number(values.to), top: number(values.top) });
}
