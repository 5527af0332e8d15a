/** The production shape for benchmarks: every subgraph and the gateway (or several replicas of it) as their own `bin/start.ts` processes on a fresh MariaDB database and Redis prefix. */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signToken } from "../../lib/auth.js";
import { SUBGRAPH_NAMES } from "../../lib/config.js";
import { createMysqlDatabase, redisPrefix, REDIS_TEST_URL } from "../support/services.js";
import { Service } from "../support/service-process.js";
import type { Query } from "../gateway/subscriptions-helpers.js";
import { BENCH_DIR, UNLIMITED } from "./peers.js";

export interface ProcessStack {
  gatewayUrl: string;
  gateway: Service;
  /** Every gateway replica, the first being `gateway`. */
  gateways: Service[];
  /** The subgraphs, then the gateways. */
  services: Service[];
  /** `mysql://…` of the stack's database (for table sizes). */
  databaseUrl: string;
  /** `MTD_REDIS_PREFIX` of every process: the stack's keys are `<prefix>:…`. */
  redisPrefix: string;
  query: Query;
  token(claims: Parameters<typeof signToken>[1]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts the stack with `gateways` replicas (default 1); `env` adds to (or
 * overrides) every process's environment. BENCH_PROFILE (service names, e.g.
 * `devices,threats,gateway`) runs those processes under `--cpu-prof`, written
 * to `test/bench/results/profile/<service>/` when they stop.
 * BENCH_HEAPSNAPSHOT (service names, e.g. `gateway-2,policies`) starts those
 * with `--heapsnapshot-signal=SIGUSR2`: `heapSnapshot(service)` writes one to
 * `test/bench/results/heap/<service>/`.
 */
export async function startProcesses(env: Record<string, string> = {}, gateways = 1): Promise<ProcessStack> {
  const database = await createMysqlDatabase();
  const redis = redisPrefix();
  const dataDir = mkdtempSync(join(tmpdir(), "mtd-bench-"));
  const secret = randomBytes(32).toString("base64url");
  const common = {
    NODE_ENV: "test",
    LOG_LEVEL: "warn",
    MTD_HOST: "127.0.0.1",
    MTD_DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    REDIS_URL: REDIS_TEST_URL,
    MTD_REDIS_PREFIX: redis.prefix,
    MTD_JWT_SECRET: secret,
    ...UNLIMITED,
    ...env,
  };
  const services: Service[] = [];
  const stop = async () => {
    await Promise.all(services.map((service) => service.stop()));
    await database.drop();
    await redis.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // One at a time: four processes migrating at once can miss their start-up timeout on a busy machine.
    // Devices first: the others find it (threats asks it for a device it has not learnt yet).
    for (const name of SUBGRAPH_NAMES) {
      const devices: Record<string, string> = services[0] === undefined ? {} : { MTD_SUBGRAPH_DEVICES_URL: services[0].url };
      const service = new Service(name, ["subgraph", name], { ...common, ...devices }, nodeFlags(name));
      services.push(service);
      await service.start();
    }
    const urls = Object.fromEntries(SUBGRAPH_NAMES.map((name, i) => [`MTD_SUBGRAPH_${name.toUpperCase()}_URL`, services[i]!.url]));
    const replicas = Array.from({ length: gateways }, (_, i) => i === 0 ? "gateway" : `gateway-${i + 1}`).map((name) => new Service(name, ["gateway"], { ...common, ...urls }, nodeFlags(name)));
    services.push(...replicas);
    for (const replica of replicas) await replica.start();
    const gateway = replicas[0]!;
    const query: Query = async (token, document, variables) => {
      const response = await fetch(gateway.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ query: document, variables }),
      });
      return (await response.json()) as never;
    };
    return { gatewayUrl: gateway.url, gateway, gateways: replicas, services, databaseUrl: database.url, redisPrefix: redis.prefix, query, token: (claims) => signToken(secret, claims), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

const named = (variable: string | undefined) => new Set((variable ?? "").split(",").filter((name) => name !== ""));
const PROFILED = named(process.env.BENCH_PROFILE);
const SNAPSHOTTED = named(process.env.BENCH_HEAPSNAPSHOT);

/** Node flags for `service`: `--cpu-prof` when BENCH_PROFILE names it, the heap-snapshot signal when BENCH_HEAPSNAPSHOT does. */
function nodeFlags(service: string): string[] {
  const flags: string[] = [];
  if (PROFILED.has(service)) flags.push("--cpu-prof", `--cpu-prof-dir=${resultsDir("profile", service)}`);
  if (SNAPSHOTTED.has(service)) flags.push("--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${resultsDir("heap", service)}`);
  return flags;
}

function resultsDir(kind: string, service: string): string {
  const dir = join(BENCH_DIR, "results", kind, service);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Whether BENCH_HEAPSNAPSHOT names `service`. */
export function snapshotted(service: Service): boolean {
  return SNAPSHOTTED.has(service.name);
}

/**
 * Has `service` (named in BENCH_HEAPSNAPSHOT) write a heap snapshot (V8
 * collects garbage first) and resolves once the file is complete; returns its path.
 */
export async function heapSnapshot(service: Service): Promise<string> {
  const dir = resultsDir("heap", service.name);
  const before = new Set(readdirSync(dir));
  service.child!.kill("SIGUSR2");
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const file = readdirSync(dir).find((name) => !before.has(name) && name.endsWith(".heapsnapshot"));
    if (file === undefined) continue;
    // The process writes the file while its event loop is blocked: complete once its metrics answer again.
    await fetch(`http://127.0.0.1:${service.port}/metrics`).then((response) => response.text());
    return join(dir, file);
  }
}
