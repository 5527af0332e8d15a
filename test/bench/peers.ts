/**
 * The gateways a scenario compares, each in its own process on the same
 * running subgraphs: ours (`bin/start.ts gateway`), the stock
 * `@apollo/gateway` + `@apollo/server` (peers/apollo-gateway.ts: no auth, no
 * subscriptions, the caller's Authorization forwarded so the subgraphs accept
 * it) and Hive Gateway (`hive-gateway supergraph`, peers/hive.config.mjs:
 * subscriptions to subgraphs over graphql-ws). Also the bare `ws` broadcast
 * floor (peers/floor.ts). Plus what every scenario shares: interleaved rounds,
 * median and range, ratios, the JSON written under `test/bench/results/`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SUBGRAPH_NAMES, type SubgraphName } from "../../lib/config.js";
import { loadSupergraph } from "../../gateway/supergraph.js";
import { waitFor } from "../support/wait.js";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const BENCH_DIR = new URL("./", import.meta.url).pathname;
const RESULTS_DIR = join(BENCH_DIR, "results");

export type PeerName = "ours" | "ours-untraced" | "ours-traced" | "ours-sampled" | "ours-async-context" | "apollo" | "hive" | "floor";

export const PEER_LABELS: Record<PeerName, string> = {
  ours: "MTD gateway",
  "ours-untraced": "MTD gateway built without the tracing hooks (lib/tracing.ts stubbed)",
  "ours-traced": "MTD gateway, tracing on (always_on, OTLP/HTTP protobuf to a local sink)",
  "ours-sampled": "MTD gateway, tracing on (parentbased_traceidratio 0.01)",
  "ours-async-context": "MTD gateway, tracing off, an AsyncLocalStorage enabled (no span)",
  apollo: "@apollo/gateway + @apollo/server (stock)",
  hive: "Hive Gateway 2.15 (--jit)",
  floor: "bare ws broadcast (floor)",
};

export interface PeerOptions {
  subgraphUrls: Record<SubgraphName, string>;
  /** HS256 secret the subgraphs verify tokens with (ours verifies too). */
  secret: string;
  /** Extra environment for the peer's process. */
  env?: Record<string, string>;
  /** Extra node flags (e.g. `--cpu-prof`); `BENCH_NODE_ARGS` adds to them for ours. */
  nodeArgs?: string[];
}

export interface RunningPeer {
  name: PeerName;
  /** `http://127.0.0.1:port/graphql` */
  url: string;
  pid: number;
  /** Resident set size of the peer's process, bytes (from /proc). */
  rss(): number;
  /** The last lines the process printed (for error messages). */
  output(): string;
  stop(): Promise<void>;
}

/** What our gateway peers load before it: an AsyncLocalStorage enabled, or lib/tracing.ts stubbed out. */
const OURS_IMPORTS: Partial<Record<PeerName, string>> = { "ours-async-context": "peers/async-context.mjs", "ours-untraced": "peers/no-tracing.mjs" };

/** Our gateway's rate limits stay on (their cost is part of ours) but far above what one machine sends. */
export const UNLIMITED: Record<string, string> = {
  MTD_RATE_LIMIT_TENANT_PER_SECOND: "1000000",
  MTD_RATE_LIMIT_TENANT_BURST: "1000000",
  MTD_RATE_LIMIT_PARTNER_PER_SECOND: "1000000",
  MTD_RATE_LIMIT_PARTNER_BURST: "1000000",
  MTD_WS_MAX_SUBSCRIPTIONS_PER_TENANT: "100000",
};

/** The committed supergraph with each subgraph's real URL in its `@join__graph`. */
export function supergraphWithUrls(urls: Record<SubgraphName, string>): string {
  let sdl = loadSupergraph();
  for (const name of SUBGRAPH_NAMES) {
    sdl = sdl.replace(new RegExp(`(@join__graph\\(name: "${name}", url: ")[^"]*(")`), `$1${urls[name]}$2`);
  }
  return sdl;
}

/**
 * Starts `name` on a port the OS picks (PORT=0: no race with other servers on
 * this machine for a port probed free), finds that port among the process's own
 * listening sockets, and waits until it answers a query.
 */
export async function startPeer(name: PeerName, options: PeerOptions): Promise<RunningPeer> {
  const port = 0;
  const dir = mkdtempSync(join(tmpdir(), `mtd-bench-${name}-`));
  const supergraphFile = join(dir, "supergraph.graphql");
  writeFileSync(supergraphFile, supergraphWithUrls(options.subgraphUrls));
  const env: Record<string, string> = { ...(process.env as Record<string, string>), PORT: String(port), ...options.env };
  let args: string[];
  switch (name) {
    case "ours":
    case "ours-untraced":
    case "ours-traced":
    case "ours-sampled":
    case "ours-async-context":
      Object.assign(env, {
        NODE_ENV: "production",
        LOG_LEVEL: "warn",
        MTD_HOST: "127.0.0.1",
        MTD_DATA_DIR: dir,
        MTD_JWT_SECRET: options.secret,
        ...UNLIMITED,
        ...Object.fromEntries(SUBGRAPH_NAMES.map((subgraph) => [`MTD_SUBGRAPH_${subgraph.toUpperCase()}_URL`, options.subgraphUrls[subgraph]])),
        ...options.env,
      });
      args = [...(OURS_IMPORTS[name] === undefined ? [] : ["--import", join(BENCH_DIR, OURS_IMPORTS[name])]), "--import", "tsx", "bin/start.ts", "gateway"];
      break;
    case "apollo":
      env.SUPERGRAPH_FILE = supergraphFile;
      args = ["--import", "tsx", join(BENCH_DIR, "peers/apollo-gateway.ts")];
      break;
    case "hive":
      env.SUPERGRAPH_FILE = supergraphFile;
      env.NODE_ENV = "production";
      args = [join(BENCH_DIR, "node_modules/@graphql-hive/gateway/dist/bin.js"), "supergraph", supergraphFile, "--port", String(port), "--host", "127.0.0.1", "--jit", "--fork", "1", "-c", join(BENCH_DIR, "peers/hive.config.mjs")];
      break;
    case "floor":
      args = ["--import", "tsx", join(BENCH_DIR, "peers/floor.ts")];
      break;
  }
  const nodeArgs = [...(options.nodeArgs ?? []), ...(name.startsWith("ours") && process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(" ") : [])];
  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer) => void (output = (output + String(chunk)).slice(-8000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  let listening: number | undefined;
  let url = "";
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output}`);
        listening ??= listeningPorts(child.pid!)[0];
        if (listening === undefined) return false;
        url = `http://127.0.0.1:${listening}/graphql`;
        try {
          if (name === "floor") return (await fetch(`http://127.0.0.1:${listening}/ready`)).ok;
          const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) });
          return response.status < 500;
        } catch {
          return false;
        }
      },
      60_000,
      `${name} ready`,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { name, url, pid: child.pid!, rss: () => rssOf(child.pid!), output: () => output, stop };
}

/** TCP ports the process `pid` itself listens on (its socket inodes matched in /proc/net/tcp{,6}). */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match !== null) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is field 1 (hex ip:port), st field 3 (0A = LISTEN), inode field 9.
      if (fields[3] === "0A" && inodes.has(fields[9]!)) ports.push(parseInt(fields[1]!.split(":")[1]!, 16));
    }
  }
  return ports;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** VmRSS of a process, bytes. */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match === null ? NaN : Number(match[1]) * 1024;
}

/** CPU time (user + system) a process has used so far, ms. */
export function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  // After "pid (comm) ": state is field 0, utime 11, stime 12, in clock ticks (100 per second on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Median and range of samples. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function spread(samples: number[]): Spread {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN, samples };
}

/** `median (min–max)` with `digits` decimals. */
export function showSpread(value: Spread, digits = 0): string {
  const f = (n: number) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return `${f(value.median)} (${f(value.min)}–${f(value.max)})`;
}

export function ratio(ours: number, peer: number): string {
  return Number.isFinite(ours / peer) ? `${(ours / peer).toFixed(2)}×` : "–";
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/**
 * Runs `measure(peer)` for every peer in turn, `rounds` times, every other round
 * in reverse order (A B C, C B A, A B C …), so each round sees the same machine
 * and a drift in its load within a round weighs on no peer more than on the
 * others; returns the samples per peer, in round order.
 */
export async function interleaved<P, T>(peers: readonly P[], rounds: number, measure: (peer: P, round: number) => Promise<T>): Promise<Map<P, T[]>> {
  const results = new Map<P, T[]>(peers.map((peer) => [peer, []]));
  for (let round = 0; round < rounds; round++) {
    for (const peer of round % 2 === 0 ? peers : [...peers].reverse()) results.get(peer)!.push(await measure(peer, round));
  }
  return results;
}

/**
 * The ratio `numerator[r] / denominator[r]` of each round's samples (two peers
 * measured moments apart), median and range: steadier on a shared machine
 * than the ratio of two medians.
 */
export function pairedRatio(numerator: readonly number[], denominator: readonly number[]): Spread {
  return spread(numerator.map((value, round) => value / denominator[round]!));
}

/** The load average (1, 5, 15 minutes) from /proc/loadavg. */
export function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

/** Writes `results/<scenario>-<timestamp>.json` and `results/<scenario>-latest.json`. */
export function writeResults(scenario: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const body = JSON.stringify({ scenario, date: new Date().toISOString(), machine: machine(), ...(data as object) }, null, 2);
  const file = join(RESULTS_DIR, `${scenario}-${stamp}.json`);
  writeFileSync(file, body);
  writeFileSync(join(RESULTS_DIR, `${scenario}-latest.json`), body);
  return file;
}

export function machine() {
  return { node: process.version, cpus: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency, loadavg: readFileSync("/proc/loadavg", "utf8").trim() };
}

/** Runs autocannon in its own process against `url`; returns its JSON result. */
export async function autocannon(options: { url: string; body: string; headers: Record<string, string>; connections: number; seconds: number; newIds?: boolean }): Promise<AutocannonResult> {
  const args = [join(BENCH_DIR, "node_modules/autocannon/autocannon.js"), "--json", "-c", String(options.connections), "-d", String(options.seconds), "-m", "POST", "-b", options.body];
  // `[<id>]` in the body: a new id in every request.
  if (options.newIds === true) args.push("-I");
  for (const [key, value] of Object.entries(options.headers)) args.push("-H", `${key}=${value}`);
  args.push(options.url);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += String(chunk)));
  child.stderr!.on("data", (chunk) => (stderr += String(chunk)));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`autocannon exited with ${code}: ${stderr.slice(-2000)}`);
  return JSON.parse(stdout) as AutocannonResult;
}

export interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
