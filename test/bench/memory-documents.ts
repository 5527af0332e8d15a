/**
 * The memory scenario's second part: memory against distinct documents, on the
 * production shape (every service its own `bin/start.ts` process, MariaDB,
 * Redis Streams). COUNT operations through the gateway, 8 in flight, half
 * queries touching devices, policies and inventory (`device(id:)`,
 * `accessChanges(resource:)`, `apps(filter:)`) and half partner
 * `reportThreats` (threats): once with every value inline, so every operation
 * is a new document for the gateway and for the subgraph it reaches, and once
 * with the same two documents and variables. Each run starts fresh processes
 * (`--expose-gc`, and the inspector, through which the bench forces a GC) and
 * reads every process's RSS at start and after every tenth of COUNT, then
 * forces a GC and reads the heap in use and the RSS after it.
 */
import { loadavg } from "node:os";
import { inlineReport } from "../support/report-documents.js";
import type { Service } from "../support/service-process.js";
import { collectGarbage, GC_NODE_OPTIONS } from "./collect-garbage.js";
import { rssOf } from "./peers.js";
import { startProcesses } from "./stack.js";

export type Style = "variables" | "inline";

export interface DocumentsRun {
  style: Style;
  count: number;
  /** Operations per second over the whole run. */
  rate: number;
  /** Operations answered with errors, by `extensions.code` (counted, not retried). */
  errors: Record<string, number>;
  /** Per process, at start and after each tenth: RSS (MiB) before a forced GC, heap in use and RSS after it; the last two at the end. */
  processes: Record<string, { rss: number[]; heap: number[]; rssGc: number[]; rssAfterGc: number; heapAfterGc: number }>;
}

const IN_FLIGHT = 8;
const DEVICES = 16;
const MIB = 2 ** 20;

const QUERY_WITH_VARIABLES = /* GraphQL */ `
  query Look($id: ID!, $resource: String, $appId: String) {
    device(id: $id) { id }
    accessChanges(resource: $resource, first: 1) { totalCount }
    apps(filter: { appId: $appId }, first: 1) { totalCount }
  }
`;
const REPORT_WITH_VARIABLES = /* GraphQL */ `mutation Report($input: ReportThreatsInput!) { reportThreats(input: $input) { duplicate } }`;

/** The i-th operation of a run: who sends it, the document and its variables. */
function operation(style: Style, i: number, run: string): { role: "analyst" | "partner"; query: string; variables?: Record<string, unknown> } {
  if (i % 2 === 0) {
    const values = { id: `look-${run}-${i}`, resource: `resource-${run}-${i}`, appId: `app.${run}.${i}` };
    if (style === "variables") return { role: "analyst", query: QUERY_WITH_VARIABLES, variables: values };
    return {
      role: "analyst",
      query: `{ device(id: "${values.id}") { id } accessChanges(resource: "${values.resource}", first: 1) { totalCount } apps(filter: { appId: "${values.appId}" }, first: 1) { totalCount } }`,
    };
  }
  const input = {
    reportId: `report-${run}-${i}`,
    deviceId: `bench-device-${i % DEVICES}`,
    // Now: an observation older than MTD_RETENTION_REPORTS of a threat not stored would change nothing.
    observedAt: new Date().toISOString(),
    threats: [{ externalId: `threat-${i % 5}`, category: "APP", severity: i % 4 === 1 ? "HIGH" : "LOW", title: `finding ${i}`, status: "ACTIVE" }],
  };
  if (style === "variables") return { role: "partner", query: REPORT_WITH_VARIABLES, variables: { input } };
  return { role: "partner", query: inlineReport(input) };
}

export async function runDocuments(style: Style, count: number): Promise<DocumentsRun> {
  const stack = await startProcesses({ NODE_ENV: "production", NODE_OPTIONS: GC_NODE_OPTIONS });
  try {
    const { gateway, services } = stack;
    const tenantId = `memory-${style}`;
    const tokens = {
      admin: await stack.token({ tenantId, role: "admin" }),
      analyst: await stack.token({ tenantId, role: "analyst" }),
      partner: await stack.token({ tenantId, role: "partner", partner: "LOOKOUT" }),
    };
    const post = async (token: string, query: string, variables?: Record<string, unknown>) => {
      const result = await stack.query(token, query, variables);
      if (result.errors !== undefined) throw new Error(`${query.slice(0, 80)}…: ${JSON.stringify(result.errors)}`);
    };
    const errors: Record<string, number> = {};
    const send = async (token: string, query: string, variables?: Record<string, unknown>) => {
      const result = await stack.query(token, query, variables);
      for (const error of result.errors ?? []) {
        const code = String(error.extensions?.code ?? "none");
        errors[code] = (errors[code] ?? 0) + 1;
      }
    };
    await post(tokens.admin, `mutation { enableMtdConnector(input: { partner: LOOKOUT, enabledPlatforms: [IOS] }) { state } }`);
    for (let d = 0; d < DEVICES; d++) {
      await post(tokens.admin, `mutation E($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`, { input: { id: `bench-device-${d}`, name: `Device ${d}`, platform: "IOS", osVersion: "17.4", ownership: "CORPORATE" } });
    }
    const rss = (service: Service) => rssOf(service.child!.pid!) / MIB;
    // The gateway first.
    const ordered = [gateway, ...services.filter((service) => service !== gateway)];
    const samples = new Map(ordered.map((service) => [service.name, { rss: [] as number[], heap: [] as number[], rssGc: [] as number[] }]));
    const measure = async () => {
      for (const service of ordered) samples.get(service.name)!.rss.push(rss(service));
      for (const service of ordered) {
        const sampled = samples.get(service.name)!;
        sampled.heap.push((await collectGarbage(service)) / MIB);
        sampled.rssGc.push(rss(service));
      }
    };
    await measure();
    const started = Date.now();
    let next = 0;
    for (let tenth = 1; tenth <= 10; tenth++) {
      const until = Math.round((count * tenth) / 10);
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < until) {
            const op = operation(style, next++, style);
            await send(tokens[op.role], op.query, op.variables);
          }
        }),
      );
      await measure();
      const each = ordered.map(({ name }) => `${name} ${samples.get(name)!.rss.at(-1)!.toFixed(1)}/${samples.get(name)!.heap.at(-1)!.toFixed(1)}`).join(", ");
      const elapsed = (Date.now() - started) / 1000;
      console.log(`  ${style}: ${until.toLocaleString("en-US")} operations in ${elapsed.toFixed(0)} s (load ${loadavg()[0]!.toFixed(1)}); RSS/live heap MiB: ${each}`);
    }
    const rate = count / ((Date.now() - started) / 1000);
    const processes: DocumentsRun["processes"] = {};
    for (const service of ordered) {
      const { rss: rssSamples, heap, rssGc } = samples.get(service.name)!;
      processes[service.name] = { rss: rssSamples, heap, rssGc, rssAfterGc: rssGc.at(-1)!, heapAfterGc: heap.at(-1)! };
    }
    return { style, count, rate, errors, processes };
  } finally {
    await stack.stop();
  }
}
