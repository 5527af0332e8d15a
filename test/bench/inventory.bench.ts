/**
 * `npm run bench -- inventory`: 10,000 devices × 80 apps. Times the first page
 * of `apps(filter: { appId })` (with totalCount) and `appVersionCounts` through
 * the gateway (and, to show where the time goes, on the subgraph directly), as
 * an analyst and as a partner (iOS sharing on: the visibility conditions), on
 * SQLite and on MariaDB, against the very statements the subgraph sent for
 * that request run directly on the same data source (the floor).
 */
import { performance } from "node:perf_hooks";
import type { DataSource } from "typeorm";
import type { Role } from "../../lib/auth.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { enablePartner } from "../support/partners.js";
import { versionKey } from "../../subgraphs/inventory/data/version.js";
import { printTable } from "./table.js";

const DEVICES = 10_000;
const APPS_PER_DEVICE = 80;
/** The app every device has (the one the queries ask about), and the pool the other 79 come from. */
const POPULAR_APP = "com.microsoft.Office.Outlook";
const APP_POOL = 2_000;
const OUTLOOK_VERSIONS = ["4.2410.1", "4.2409.2", "4.2409.1", "4.2408.0", "4.2350.3", "4.99.0", "4.100.1", "4.9.7", "4.10.0", "3.99.12"];
const WARMUP = 5;
const RUNS = 40;
const TENANT = "bench";
/** Rows per multi-row INSERT: 15 columns × 1,500 stays under SQLite's 32,766 parameters. */
const LOAD_CHUNK = 1_500;

interface Statement {
  query: string;
  parameters: unknown[];
}

export async function run(): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const engine of engines()) {
    if (!engine.enabled) {
      console.log(`skipping ${engine.name}: services not reachable`);
      continue;
    }
    const graph = await startGraph({ ...engine, env: { MTD_MAX_BODY_BYTES: String(4 * 1024 * 1024) } });
    try {
      const dataSource = graph.subgraphs.inventory!.database.dataSource;
      const loadStart = performance.now();
      await load(dataSource);
      console.log(`${engine.name}: loaded ${DEVICES.toLocaleString("en-US")} devices × ${APPS_PER_DEVICE} apps in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`);
      const admin = await token(graph, "admin");
      const settings = await graph.query(admin, `mutation { setAppInventorySettings(input: { iosAppSyncEnabled: true, includePersonalDevices: false }) { iosAppSyncEnabled } }`);
      if (settings.errors !== undefined) throw new Error(JSON.stringify(settings.errors));
      // The partner rule: the partner's connector is enabled in the tenant (its view read is one of the partner's statements).
      await enablePartner(graph, admin, await token(graph, "partner"));

      const scenarios: [string, string][] = [
        ["apps(filter: {appId}) first page", `{ apps(filter: { appId: "${POPULAR_APP}" }, first: 100) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { appId version managed device { id } } } } }`],
        ["appVersionCounts", `{ appVersionCounts(appId: "${POPULAR_APP}") { version devices } }`],
      ];
      for (const role of ["analyst", "partner"] as const) {
        const caller = await token(graph, role);
        for (const [name, query] of scenarios) {
          const statements = await capture(graph, () => graph.query(caller, query));
          const through = (url?: string) => async () => {
            const result = await graph.query(caller, query, undefined, url);
            if (result.errors !== undefined) throw new Error(JSON.stringify(result.errors));
          };
          const gateway = await median(through());
          const subgraph = await median(through(graph.subgraphs.inventory!.url));
          const direct = await median(async () => {
            for (const statement of statements) await dataSource.query(statement.query, statement.parameters);
          });
          rows.push([engine.name, `${name} (${role})`, statements.length, gateway, subgraph, direct, gateway / direct]);
        }
      }
    } finally {
      await graph.stop();
    }
  }
  console.log();
  printTable(["engine", "query", "SQL statements", "gateway ms", "subgraph ms", "direct SQL ms (floor)", "gateway / floor"], rows);
  console.log(`\nmedians of ${RUNS} runs after ${WARMUP} warm-up runs; "subgraph": the same request sent to the inventory subgraph directly`);
}

async function token(graph: TestGraph, role: Role): Promise<string> {
  return graph.token({ tenantId: TENANT, role, partner: role === "partner" ? "LOOKOUT" : undefined });
}

/** The statements the inventory subgraph sends while `work` runs (recorded through its query logger). */
async function capture(graph: TestGraph, work: () => Promise<unknown>): Promise<Statement[]> {
  const logger = graph.statements.inventory!;
  const original = logger.logQuery.bind(logger);
  const statements: Statement[] = [];
  logger.logQuery = (query: string, parameters?: unknown[]) => {
    if (!/outbox/.test(query)) statements.push({ query, parameters: parameters ?? [] });
    original(query);
  };
  try {
    await work();
  } finally {
    logger.logQuery = original;
  }
  return statements;
}

async function median(work: () => Promise<void>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await work();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/**
 * Bulk load through multi-row INSERTs in one transaction: devices (half iOS, a
 * third personal), apps, the names catalog.
 */
export async function load(dataSource: DataSource): Promise<void> {
  // mulberry32: deterministic, and in 32-bit integer arithmetic (a textbook LCG in doubles loses its low bits).
  let seed = 42;
  const random = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const capturedAt = Date.now() - 3600_000;
  const APP_COLUMNS = ["tenant_id", "device_id", "app_id", "platform", "ownership", "name", "name_lower", "version", "version_key", "short_version", "bundle_size", "dynamic_size", "validated", "managed", "reported_at"];
  const DEVICE_COLUMNS = ["tenant_id", "id", "platform", "ownership", "retired_at", "version", "captured_at", "app_count"];
  // Versions repeat: their keys are computed once.
  const keys = new Map<string, string>();
  const keyOf = (version: string) => keys.get(version) ?? keys.set(version, versionKey(version)).get(version)!;
  const names = new Map<string, unknown[]>();

  // Secondary indexes are built once after the load (a sorted build) rather than row by row.
  const queryRunner = dataSource.createQueryRunner();
  const indices = (await queryRunner.getTable("inventory_apps"))!.indices.filter((index) => !index.isUnique);
  for (const index of indices) await queryRunner.dropIndex("inventory_apps", index);
  await dataSource.transaction(async (manager) => {
    const insert = async (table: string, columns: string[], values: unknown[][]) => {
      const row = `(${columns.map(() => "?").join(", ")})`;
      for (let start = 0; start < values.length; start += LOAD_CHUNK) {
        const chunk = values.slice(start, start + LOAD_CHUNK);
        await manager.query(`INSERT INTO ${table} (${columns.join(", ")}) VALUES ${Array(chunk.length).fill(row).join(", ")}`, chunk.flat());
      }
    };
    // Rows are generated a batch of devices at a time and inserted at once: little garbage to collect.
    const perBatch = Math.floor(LOAD_CHUNK / APPS_PER_DEVICE);
    for (let first = 0; first < DEVICES; first += perBatch) {
      const devices: unknown[][] = [];
      const apps: unknown[][] = [];
      for (let d = first; d < Math.min(first + perBatch, DEVICES); d++) {
        const id = `dev-${String(d).padStart(5, "0")}`;
        const platform = d % 2 === 0 ? "IOS" : "ANDROID";
        const ownership = d % 3 === 0 ? "PERSONAL" : "CORPORATE";
        devices.push([TENANT, id, platform, ownership, null, 1, capturedAt, APPS_PER_DEVICE]);
        const app = (appId: string, name: string, version: string, managed: boolean) => {
          apps.push([TENANT, id, appId, platform, ownership, name, name.toLowerCase(), version, keyOf(version), null, 50_000_000, 1_000_000, 1, managed ? 1 : 0, capturedAt]);
          if (!names.has(appId)) names.set(appId, [TENANT, appId, name, name.toLowerCase()]);
        };
        app(POPULAR_APP, "Microsoft Outlook", OUTLOOK_VERSIONS[random(OUTLOOK_VERSIONS.length)]!, d % 4 !== 0);
        const chosen = new Set<number>();
        while (chosen.size < APPS_PER_DEVICE - 1) chosen.add(random(APP_POOL));
        for (const n of chosen) app(`com.vendor${n % 97}.app${n}`, `App ${n}`, `${n % 7}.${n % 13}.${n % 5}`, n % 2 === 0);
      }
      await insert("inventory_devices", DEVICE_COLUMNS, devices);
      await insert("inventory_apps", APP_COLUMNS, apps);
    }
    await insert("inventory_app_names", ["tenant_id", "app_id", "name", "name_lower"], [...names.values()]);
  });
  for (const index of indices) await queryRunner.createIndex("inventory_apps", index);
  await queryRunner.release();
}
