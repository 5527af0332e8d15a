/**
 * `npm run demo [-- --duration <seconds>] [--devices <n>] [--seed <n>]`
 *
 * The product in thirty seconds. Starts the whole graph in this process on
 * embedded defaults (SQLite in a temporary directory, in-process event log,
 * free ports), then plays three parts against the gateway:
 *
 * - the admin configures tenant `contoso`: the Lookout connector for iOS and
 *   Android, a compliance policy per platform (iOS: at most LOW, Android: at
 *   most MEDIUM) and a conditional-access policy guarding `exchange` and
 *   `sharepoint`, and enrolls a few hundred devices;
 * - the partner (Lookout) reports threats appearing and, a few seconds later,
 *   resolved (`reportThreats`), with heartbeats;
 * - the enforcement service holds `accessChanged` over graphql-ws and prints
 *   every revocation and restoration as it arrives, with the latency from the
 *   partner's report to the change reaching it;
 * - a second partner for Windows with a grace period, and a help-desk
 *   exception restoring one revoked device's mail (`demo-helpdesk.ts`).
 *
 * It ends with a summary (counts, latency percentiles) and exits 0, or 1 when
 * an expected change never arrived.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { signToken, type Role } from "../lib/auth.js";
import type { MtdPartner } from "../lib/domain-enums.js";
import { helpdesk } from "./demo-helpdesk.js";
import { loadServiceConfig } from "../subgraphs/config.js";
import { createEventLog } from "../lib/events/index.js";
import { createLogger } from "../lib/logger.js";
import { startStack, type Stack } from "../subgraphs/stack.js";

type Platform = "IOS" | "ANDROID";
type Level = "LOW" | "MEDIUM" | "HIGH";

const LEVELS: Record<Level, number> = { LOW: 1, MEDIUM: 2, HIGH: 3 };
/** The highest risk a compliant device may have, per platform (the demo's compliance policies). */
const MAX_LEVEL: Record<Platform, Level> = { IOS: "LOW", ANDROID: "MEDIUM" };
const RESOURCES = ["exchange", "sharepoint"];
const TENANT = "contoso";

/** What partners really report, roughly in the proportions they do. */
const THREATS: { category: string; severity: Level; title: string; weight: number }[] = [
  { category: "WEB", severity: "LOW", title: "Phishing link blocked in SMS", weight: 6 },
  { category: "CONFIGURATION", severity: "LOW", title: "Screen lock disabled", weight: 5 },
  { category: "APP", severity: "MEDIUM", title: "Sideloaded app from unknown developer", weight: 4 },
  { category: "OS", severity: "MEDIUM", title: "OS version with known exploited vulnerabilities", weight: 3 },
  { category: "NETWORK", severity: "HIGH", title: "Man-in-the-middle on Wi-Fi \"Airport_Free\"", weight: 3 },
  { category: "APP", severity: "HIGH", title: "Malicious app: \"FlashLight Pro\" (spyware)", weight: 2 },
  { category: "DEVICE", severity: "HIGH", title: "Device jailbroken / rooted", weight: 1 },
];
const PEOPLE = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Radia", "Tim", "Hedy", "Edsger", "Frances", "Donald", "Shafi", "Whitfield"];

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "30" },
    devices: { type: "string", default: "300" },
    seed: { type: "string", default: "42" },
  },
});
const durationMs = Number(args.duration) * 1000;
const deviceCount = Number(args.devices);
if (!(durationMs > 0) || !Number.isInteger(deviceCount) || deviceCount < 1 || deviceCount > 5000) {
  console.error(`usage: npm run demo -- [--duration <seconds>] [--devices <1-5000>] [--seed <n>]; got duration "${args.duration}", devices "${args.devices}"`);
  process.exit(2);
}

/** A small seeded PRNG (mulberry32): the same seed plays the same story. */
let seed = Number(args.seed) >>> 0;
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
function pickThreat() {
  let roll = random() * THREATS.reduce((sum, t) => sum + t.weight, 0);
  for (const threat of THREATS) if ((roll -= threat.weight) < 0) return threat;
  return THREATS[0]!;
}

const tty = process.stdout.isTTY;
const color = (code: number, text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
const red = (text: string) => color(31, text);
const green = (text: string) => color(32, text);
const dim = (text: string) => color(2, text);
const bold = (text: string) => color(1, text);

const started = Date.now();
const clock = () => dim(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`);
const say = (line: string) => process.stdout.write(`${line}\n`);

interface Device {
  id: string;
  name: string;
  platform: Platform;
  /** Active threats by external id. */
  active: Map<string, { category: string; severity: Level; title: string; resolveAt: number }>;
  /** Threats already resolved, reported again so the partner's view is complete. */
  resolved: { externalId: string; category: string; severity: Level; title: string }[];
}

/** A report that should flip the device's access, waiting for its changes. */
interface Expected {
  allowed: boolean;
  sentAt: number;
  /** Resources whose change has not arrived yet. */
  pending: Set<string>;
}

const stats = { reports: 0, raised: 0, resolved: 0, revoked: 0, restored: 0, unexpected: 0, rateLimited: 0, errors: 0, latencies: [] as number[] };

async function main() {
  // ---- the graph, in this process ------------------------------------------------------------
  const dataDir = mkdtempSync(join(tmpdir(), "mtd-demo-"));
  const secret = randomBytes(32).toString("base64url");
  const config = loadServiceConfig({ NODE_ENV: "development", LOG_LEVEL: "warn", MTD_HOST: "127.0.0.1", MTD_DATA_DIR: dataDir, MTD_JWT_SECRET: secret });
  const logger = createLogger(config.logLevel, "demo");
  const events = createEventLog({ redis: config.redis, redisPrefix: config.redisPrefix });
  let stack: Stack | undefined;
  const stop = async () => {
    await stack?.dispose();
    await events.close();
    rmSync(dataDir, { recursive: true, force: true });
  };

  say(bold("MTD Graph demo") + dim(` — ${deviceCount} devices, ${durationMs / 1000} s, seed ${args.seed}`));
  stack = await startStack({ config, logger, events, ports: "ephemeral" });
  const gateway = stack.gateway!;
  say(dim(`graph up: gateway ${gateway.url}, subgraphs ${Object.values(stack.subgraphs).map((subgraph) => subgraph.url).join(" ")}`));

  const token = (role: Role, partner: MtdPartner = "LOOKOUT") => signToken(secret, { tenantId: TENANT, role, subject: `${role}@${TENANT}`, partner: role === "partner" ? partner : undefined });
  const [admin, partner, enforcement, defender] = await Promise.all([token("admin"), token("partner"), token("enforcement"), token("partner", "MICROSOFT_DEFENDER")]);

  /** POSTs to the gateway; waits and retries when rate limited, as a good client does. */
  const graphql = async <T = any>(bearer: string, query: string, variables?: Record<string, unknown>): Promise<T> => {
    for (;;) {
      const response = await fetch(gateway.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string; retryAfterSeconds?: number } }[] };
      const error = body.errors?.[0];
      if (error?.extensions?.code === "RATE_LIMITED") {
        stats.rateLimited += 1;
        await new Promise((resolve) => setTimeout(resolve, (error.extensions?.retryAfterSeconds ?? 1) * 1000));
        continue;
      }
      if (error !== undefined) throw new Error(`${error.extensions?.code}: ${error.message}`);
      return body.data!;
    }
  };

  try {
    // ---- 1. the admin configures the tenant -----------------------------------------------------
    say(`\n${bold("1. admin")} configures tenant ${TENANT}`);
    await graphql(admin, `mutation { enableMtdConnector(input: { partner: LOOKOUT, enabledPlatforms: [IOS, ANDROID] }) { state } }`);
    say(`   MTD connector: LOOKOUT, ENABLED for IOS and ANDROID`);
    for (const platform of ["IOS", "ANDROID"] as Platform[]) {
      await graphql(admin, `mutation($input: SetCompliancePolicyInput!) { setCompliancePolicy(input: $input) { id } }`, {
        input: { platform, name: `${platform} threat level`, maxThreatLevel: MAX_LEVEL[platform] },
      });
      say(`   compliance: ${platform} devices are compliant up to risk ${MAX_LEVEL[platform]}`);
    }
    await graphql(admin, `mutation($input: SetConditionalAccessPolicyInput!) { setConditionalAccessPolicy(input: $input) { id } }`, {
      input: { name: "Mail and files need a compliant device", resources: RESOURCES, platforms: ["IOS", "ANDROID"], enabled: true },
    });
    say(`   conditional access: ${RESOURCES.join(" + ")} require a compliant device`);

    const devices: Device[] = [];
    const byId = new Map<string, Device>();
    await runLimited(
      Array.from({ length: deviceCount }, (_, i) => i),
      16,
      async (i) => {
        const platform: Platform = random() < 0.55 ? "IOS" : "ANDROID";
        const model = platform === "IOS" ? pick(["iPhone 15", "iPhone 14", "iPad Air", "iPhone SE"]) : pick(["Pixel 8", "Galaxy S24", "Galaxy A54", "Pixel 7a"]);
        const device: Device = { id: `dev-${String(i + 1).padStart(4, "0")}`, name: `${pick(PEOPLE)}'s ${model}`, platform, active: new Map(), resolved: [] };
        await graphql(admin, `mutation($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`, {
          input: { id: device.id, name: device.name, platform, osVersion: platform === "IOS" ? "17.5" : "14", ownership: random() < 0.7 ? "CORPORATE" : "PERSONAL" },
        });
        devices.push(device);
        byId.set(device.id, device);
      },
    );
    say(`   enrolled ${devices.length} devices (${devices.filter((d) => d.platform === "IOS").length} iOS, ${devices.filter((d) => d.platform === "ANDROID").length} Android)`);

    // ---- 2. the enforcement service subscribes ------------------------------------------------
    say(`\n${bold("2. enforcement service")} subscribes to accessChanged over graphql-ws`);
    const expected = new Map<string, Expected[]>();
    let lastChangeAt = Date.now();
    const client = createClient({
      url: gateway.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${enforcement}` },
    });
    const subscribed = new Promise<void>((resolve) => client.on("connected", () => resolve()));
    const unsubscribe = client.subscribe<{ accessChanged: { resource: string; allowed: boolean; reason: string; device: { id: string; name: string; platform: string; riskLevel: string | null } } }>(
      { query: `subscription { accessChanged(resources: ["exchange", "sharepoint"]) { sequence resource allowed reason device { id name platform riskLevel } } }` },
      {
        next: ({ data, errors }) => {
          if (errors !== undefined || data == null) {
            stats.errors += 1;
            say(red(`   subscription error: ${JSON.stringify(errors)}`));
            return;
          }
          const change = data.accessChanged;
          const receivedAt = Date.now();
          lastChangeAt = receivedAt;
          const queue = expected.get(change.device.id) ?? [];
          const match = queue.find((e) => e.allowed === change.allowed && e.pending.has(change.resource));
          let latency = "";
          if (match !== undefined) {
            match.pending.delete(change.resource);
            if (match.pending.size === 0) queue.splice(queue.indexOf(match), 1);
            stats.latencies.push(receivedAt - match.sentAt);
            latency = `${receivedAt - match.sentAt} ms`;
          } else {
            stats.unexpected += 1;
          }
          if (change.allowed) stats.restored += 1;
          else stats.revoked += 1;
          const what = change.allowed ? green("RESTORED") : red("REVOKED ");
          const device = `${change.device.name} (${change.device.platform}, risk ${change.device.riskLevel ?? "unknown"})`;
          say(`${clock()}  ${what} ${change.resource.padEnd(10)} ${device.padEnd(44)} ${bold(latency.padStart(7))}  ${dim(change.reason.replace(/ \(required by .*\)$/, ""))}`);
        },
        error: (error) => {
          stats.errors += 1;
          say(red(`   subscription failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`));
        },
        complete: () => {},
      },
    );
    await subscribed;
    // The gateway subscribes upstream when the client subscribes: give it a moment before the partner starts.
    await new Promise((resolve) => setTimeout(resolve, 500));
    say(`   listening; each line: time, change, resource, device, ${bold("report → change latency")}, reason`);

    // ---- 3. the partner reports ----------------------------------------------------------------
    say(`\n${bold("3. partner LOOKOUT")} reports threats appearing and resolving\n`);
    const compliant = (device: Device) => {
      let level = 0;
      for (const threat of device.active.values()) level = Math.max(level, LEVELS[threat.severity]);
      return level <= LEVELS[MAX_LEVEL[device.platform]];
    };
    let reportSeq = 0;
    const report = async (device: Device, change: () => void, describe: string) => {
      const before = compliant(device);
      change();
      const after = compliant(device);
      const sentAt = Date.now();
      if (before !== after) {
        const queue = expected.get(device.id) ?? [];
        queue.push({ allowed: after, sentAt, pending: new Set(RESOURCES) });
        expected.set(device.id, queue);
      }
      say(`${clock()}  ${dim(describe)}`);
      const threats = [
        ...[...device.active].map(([externalId, t]) => ({ externalId, category: t.category, severity: t.severity, title: t.title, status: "ACTIVE" })),
        ...device.resolved.map((t) => ({ ...t, status: "RESOLVED" })),
      ];
      stats.reports += 1;
      await graphql(partner, `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { duplicate } }`, {
        input: { reportId: `r-${++reportSeq}`, deviceId: device.id, observedAt: new Date(sentAt).toISOString(), threats },
      });
    };

    const endAt = Date.now() + durationMs;
    let threatSeq = 0;
    const inFlight = new Set<Promise<void>>();
    const track = (work: Promise<void>) => {
      const tracked = work.catch((error: unknown) => {
        stats.errors += 1;
        say(red(`   report failed: ${error instanceof Error ? error.message : String(error)}`));
      });
      inFlight.add(tracked);
      void tracked.finally(() => inFlight.delete(tracked));
    };
    const heartbeat = setInterval(() => track(graphql(partner, `mutation { partnerHeartbeat { state } }`).then(() => undefined)), 5000);
    // Roughly three new threats a second, whatever the number of devices; each lasts 2-8 s.
    const tickMs = 100;
    for (let first = true; Date.now() < endAt; first = false) {
      const now = Date.now();
      for (const device of devices) {
        for (const [externalId, threat] of device.active) {
          if (threat.resolveAt > now) continue;
          stats.resolved += 1;
          track(report(device, () => {
            device.active.delete(externalId);
            device.resolved.push({ externalId, category: threat.category, severity: threat.severity, title: threat.title });
          }, `        resolved  ${threat.severity.padEnd(6)} ${threat.title} on ${device.name}`));
        }
      }
      const appearing = first ? 2 : random() < 0.3 ? 1 : 0;
      for (let n = 0; n < appearing; n++) {
        const device = pick(devices);
        const threat = first ? THREATS.find((t) => t.severity === "HIGH")! : pickThreat();
        const externalId = `lookout-${++threatSeq}`;
        stats.raised += 1;
        track(report(device, () => {
          // The opening threats resolve quickly, so even a short run shows a restoration.
          device.active.set(externalId, { ...threat, resolveAt: now + (first ? 1500 : 2000 + random() * 6000) });
        }, `        threat    ${threat.severity.padEnd(6)} ${threat.title} on ${device.name}`));
      }
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
    clearInterval(heartbeat);
    await Promise.all(inFlight);
    await helpdesk({ graphql, admin, lookout: partner, defender, say, bold, expectChange: (deviceId, allowed, resources) => {
      expected.set(deviceId, [...(expected.get(deviceId) ?? []), { allowed, sentAt: Date.now(), pending: new Set(resources) }]);
    } });

    // Let the last changes arrive: until none is expected, or nothing came for 3 s.
    const missing = () => [...expected.values()].reduce((sum, queue) => sum + queue.reduce((n, e) => n + e.pending.size, 0), 0);
    while (missing() > 0 && Date.now() - lastChangeAt < 3000) await new Promise((resolve) => setTimeout(resolve, 50));
    unsubscribe();
    await client.dispose();

    // ---- summary -------------------------------------------------------------------------------
    const sorted = [...stats.latencies].sort((a, b) => a - b);
    const percentile = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
    say(`\n${bold("Summary")}`);
    say(`  devices                 ${devices.length}`);
    say(`  partner reports         ${stats.reports} (threats raised ${stats.raised}, resolved ${stats.resolved})`);
    say(`  access revoked          ${stats.revoked}`);
    say(`  access restored         ${stats.restored}`);
    say(`  latency report→change   p50 ${percentile(50)} ms   p99 ${percentile(99)} ms   max ${sorted.at(-1) ?? NaN} ms   (n=${sorted.length})`);
    say(`  missing changes         ${missing()}`);
    say(`  unexpected changes      ${stats.unexpected}`);
    say(`  rate limited / errors   ${stats.rateLimited} / ${stats.errors}`);
    return missing() === 0 && stats.errors === 0 ? 0 : 1;
  } finally {
    await stop();
  }
}

/** Runs `work` over `items`, at most `concurrency` at a time. */
async function runLimited<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
