/**
 * MTD_SUPERGRAPH_PATH: a gateway that reads its supergraph from a file,
 * finds the subgraphs through its join__graph URLs, and reloads it when the
 * file changes, under open subscriptions on every transport.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { start as startGateway } from "../../gateway/server.js";
import { createLogger } from "../../lib/logger.js";
import type { Served } from "../../lib/server.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { composeSupergraph, withoutSubscriptions } from "../support/supergraph.js";
import { waitFor } from "../support/wait.js";
import { Subscriber, Tenant, untilLive } from "./subscriptions-helpers.js";
import { multipartSubscribe, SseReader } from "./transports-helpers.js";

const ACCESS = /* GraphQL */ `subscription($after: String) { accessChanged(after: $after) { cursor resource allowed device { name } } }`;
const RISK = /* GraphQL */ `subscription { deviceRiskChanged { level device { id } } }`;

describe("a supergraph file that changes under open subscriptions", () => {
  let graph: TestGraph;
  let gateway: Served;
  let dir: string;
  let file: string;
  const logs: string[] = [];
  const open: { stop?(): void; dispose?(): unknown }[] = [];

  beforeAll(async () => {
    graph = await startGraph();
    dir = mkdtempSync(join(tmpdir(), "mtd-supergraph-"));
    file = join(dir, "supergraph.graphql");
    writeFileSync(file, composeSupergraph(graph));
    const destination = new Writable({ write: (chunk, _encoding, done) => (logs.push(String(chunk)), done()) });
    // No MTD_SUBGRAPH_<NAME>_URL: the subgraphs are found through the file's join__graph URLs only.
    gateway = await startGateway({
      config: { ...graph.config, port: 0, supergraphPath: file, subgraphUrlOverrides: {}, subgraphUrls: { devices: "http://127.0.0.1:9/graphql", threats: "http://127.0.0.1:9/graphql", policies: "http://127.0.0.1:9/graphql", inventory: "http://127.0.0.1:9/graphql", signals: "http://127.0.0.1:9/graphql" } },
      logger: createLogger("info", "test", destination),
    });
  });
  afterAll(async () => {
    for (const client of open) {
      client.stop?.();
      await client.dispose?.();
    }
    await gateway?.dispose();
    await graph?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps subscriptions whose fields remain, ends the others with SUPERGRAPH_CHANGED on every transport, and refuses a broken file", async () => {
    const tenant = await Tenant.create("reload", (token, query, variables) => graph.query(token, query, variables, gateway.url), graph.token);
    await tenant.enroll("r-2");
    const after = await tenant.baseline("r-1");
    const base = (await tenant.changes()).length;

    const ws = new Subscriber(gateway.url, tenant.enforcement);
    open.push(ws);
    const wsAccess = ws.subscribe(ACCESS, { after });
    const wsRisk = ws.subscribe(RISK);
    const sseAccess = new SseReader(gateway.url, { token: tenant.enforcement, query: ACCESS, variables: { after } });
    const sseRisk = new SseReader(gateway.url, { token: tenant.enforcement, query: RISK });
    const multipartAccess = multipartSubscribe(gateway.url, tenant.enforcement, ACCESS, { after });
    const multipartRisk = multipartSubscribe(gateway.url, tenant.enforcement, RISK);
    open.push(sseAccess, sseRisk, multipartAccess, multipartRisk);
    // Every risk subscription is live before the supergraph changes.
    await untilLive(wsRisk, (attempt) => (attempt % 2 === 0 ? tenant.restore("r-1") : tenant.revoke("r-1")));
    await waitFor(() => sseRisk.results.length > 0 && multipartRisk.results.length > 0, 10_000, "risk events on SSE and multipart");

    writeFileSync(file, composeSupergraph(graph, withoutSubscriptions("threats")));
    await waitFor(() => wsRisk.error !== undefined && sseRisk.events.at(-1)?.event === "complete" && multipartRisk.errors !== undefined, 10_000, "the risk subscriptions to end");
    const ended = [(wsRisk.error as any[])[0], sseRisk.results.at(-1).errors[0], multipartRisk.errors![0]];
    for (const error of ended) {
      expect(error.extensions).toEqual({ code: "SUPERGRAPH_CHANGED", resumeAfter: null });
      expect(error.message).toMatch(/supergraph changed.*deviceRiskChanged/);
    }
    // New ones are planned on the new supergraph.
    const refused = new SseReader(gateway.url, { token: tenant.enforcement, query: RISK });
    await refused.ended.promise;
    expect(refused.results[0].errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");

    // The access subscriptions kept running: the next changes arrive on every transport, nothing lost or repeated.
    await tenant.revoke("r-2");
    await waitFor(async () => (await tenant.changes()).filter((change) => change.deviceId === "r-2").length === 2, 10_000, "r-2's revocations");
    const stored = (await tenant.changes()).slice(base);
    const cursors = stored.map((change) => change.cursor);
    expect((await wsAccess.count(cursors.length)).map((r) => r.data!.accessChanged.cursor)).toEqual(cursors);
    expect((await sseAccess.count(cursors.length)).map((r) => r.data.accessChanged.cursor)).toEqual(cursors);
    expect((await multipartAccess.count(cursors.length)).map((r) => r.accessChanged.cursor)).toEqual(cursors);

    // A broken file is refused with a log line; the gateway keeps serving the last good supergraph.
    writeFileSync(file, "type Query {");
    await waitFor(() => logs.some((line) => line.includes("supergraph file refused")), 10_000, "the refusal to be logged");
    const query = await graph.query(tenant.admin, `{ compliancePolicies { name } }`, undefined, gateway.url);
    expect(query.data).toEqual({ compliancePolicies: [{ name: "iOS" }] });
    await tenant.restore("r-2");
    await sseAccess.count(cursors.length + 2);
    expect(wsAccess.error).toBeUndefined();
  });

  it("ends resumable subscriptions whose field leaves with a resume hint on every transport; resuming from it once the field is back misses nothing", async () => {
    const tenant = await Tenant.create("reload-hint", (token, query, variables) => graph.query(token, query, variables, gateway.url), graph.token);
    const after = await tenant.baseline("h-1");
    const base = (await tenant.changes()).length;
    const ws = new Subscriber(gateway.url, tenant.enforcement);
    open.push(ws);
    const wsAccess = ws.subscribe(ACCESS, { after });
    const sseAccess = new SseReader(gateway.url, { token: tenant.enforcement, query: ACCESS, variables: { after } });
    const multipartAccess = multipartSubscribe(gateway.url, tenant.enforcement, ACCESS, { after });
    open.push(sseAccess, multipartAccess);
    await tenant.restore("h-1");
    await Promise.all([wsAccess.count(2), sseAccess.count(2), multipartAccess.count(2)]);
    const delivered = (await tenant.stored(base + 2)).at(-1)!.cursor;

    // accessChanged leaves the supergraph: each ends, its hint the last cursor it delivered.
    const reloads = logs.filter((line) => line.includes("supergraph reloaded")).length;
    writeFileSync(file, composeSupergraph(graph, withoutSubscriptions("policies")));
    await waitFor(() => wsAccess.error !== undefined && sseAccess.events.at(-1)?.event === "complete" && multipartAccess.errors !== undefined, 10_000, "the access subscriptions to end");
    for (const error of [(wsAccess.error as any[])[0], sseAccess.results.at(-1).errors[0], multipartAccess.errors![0]]) {
      expect(error.extensions).toEqual({ code: "SUPERGRAPH_CHANGED", resumeAfter: delivered });
      expect(error.message).toMatch(/supergraph changed.*accessChanged/);
    }

    // Committed while the field is gone; the clients come back with the hint once it is there again.
    await tenant.revoke("h-1");
    const missed = (await tenant.stored(base + 4)).slice(base + 2).map((change) => change.cursor);
    writeFileSync(file, composeSupergraph(graph));
    await waitFor(() => logs.filter((line) => line.includes("supergraph reloaded")).length >= reloads + 2, 10_000, "the full supergraph to be back");
    const wsAgain = ws.subscribe(ACCESS, { after: delivered });
    // Over SSE the hint is an event id: the reconnect repeats its first request with Last-Event-ID.
    const sseAgain = new SseReader(gateway.url, { token: tenant.enforcement, query: ACCESS, variables: { after }, lastEventId: delivered });
    const multipartAgain = multipartSubscribe(gateway.url, tenant.enforcement, ACCESS, { after: delivered });
    open.push(sseAgain, multipartAgain);
    expect((await wsAgain.count(2)).map((r) => r.data!.accessChanged.cursor)).toEqual(missed);
    expect((await sseAgain.count(2)).map((r) => r.data.accessChanged.cursor)).toEqual(missed);
    expect((await multipartAgain.count(2)).map((r) => r.accessChanged.cursor)).toEqual(missed);
  });
});
