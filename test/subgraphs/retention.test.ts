/**
 * Retention end to end, on both engines: access changes and audit entries age
 * out on their own, and a cursor from before what is kept is refused with
 * CURSOR_EXPIRED and the cursor to resume from, by the query and by the
 * subscription through the gateway (graphql-ws, SSE, multipart); resuming
 * from it misses nothing kept.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Subscriber, Tenant } from "../gateway/subscriptions-helpers.js";
import { multipartSubscribe, SseReader } from "../gateway/transports-helpers.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";

const CHANGES = `query($after: String) { accessChanges(after: $after) { totalCount edges { cursor node { sequence allowed } } } }`;
const AUDIT = `{ auditLog(first: 100) { edges { node { action } } } }`;
const SUBSCRIPTION = `subscription($after: String) { accessChanged(after: $after) { cursor sequence allowed device { id } } }`;

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`retention on ${engine.name}`, () => {
    let graph: TestGraph;

    beforeAll(async () => {
      graph = await startGraph({ ...engine, env: { MTD_RETENTION_ACCESS_CHANGES: "2s", MTD_RETENTION_AUDIT: "2s", MTD_RETENTION_INTERVAL: "1s" } });
    });
    afterAll(() => graph?.stop());

    it("prunes access changes and audit entries past their retention; an older cursor is CURSOR_EXPIRED with oldestCursor, on the query and the subscription; resuming there misses nothing", async () => {
      const tenant = await Tenant.create(`ret-${randomUUID().slice(0, 8)}`, graph.query, graph.token);
      await tenant.baseline("r-1");
      const [first] = await tenant.changes();
      expect(first).toBeDefined();
      const audited = await tenant.ok(AUDIT);
      expect(audited.auditLog.edges.length).toBeGreaterThan(0);

      // Everything ages out within the 2 s retention plus a pruning interval or two.
      await waitFor(async () => (await tenant.ok(CHANGES, {}, tenant.enforcement)).accessChanges.totalCount === 0, 15_000, "access changes pruned");
      await waitFor(async () => (await tenant.ok(AUDIT)).auditLog.edges.length === 0, 15_000, "audit entries pruned");

      const refused = await graph.query(tenant.enforcement, CHANGES, { after: first!.cursor });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "CURSOR_EXPIRED", field: "after" });
      const oldestCursor = refused.errors![0]!.extensions!.oldestCursor as string;
      expect(typeof oldestCursor).toBe("string");
      const resumed = await graph.query(tenant.enforcement, CHANGES, { after: oldestCursor });
      expect(resumed.errors).toBeUndefined();
      expect(resumed.data!.accessChanges.edges).toEqual([]);

      const subscriber = new Subscriber(graph.gatewayUrl, tenant.enforcement);
      try {
        const expired = subscriber.subscribe(SUBSCRIPTION, { after: first!.cursor });
        await expired.ended.promise;
        const errors = expired.error as { extensions?: Record<string, unknown> }[];
        expect(errors[0]?.extensions).toMatchObject({ code: "CURSOR_EXPIRED", oldestCursor });
        // The same on the HTTP transports: an SSE `next` with the error, then `complete`; Apollo Client's multipart error.
        const sse = new SseReader(graph.gatewayUrl, { token: tenant.enforcement, query: SUBSCRIPTION, variables: { after: first!.cursor } });
        const multipart = multipartSubscribe(graph.gatewayUrl, tenant.enforcement, SUBSCRIPTION, { after: first!.cursor });
        try {
          await sse.ended.promise;
          expect(sse.events.map((e) => e.event)).toEqual(["next", "complete"]);
          expect(sse.results[0].errors[0].extensions).toMatchObject({ code: "CURSOR_EXPIRED", oldestCursor });
          await waitFor(() => multipart.errors !== undefined, 10_000, "the multipart error");
          expect(multipart.errors![0].extensions).toMatchObject({ code: "CURSOR_EXPIRED", oldestCursor });
        } finally {
          sse.stop();
          multipart.stop();
        }

        // From oldestCursor: the next changes, once each, in order.
        const live = subscriber.subscribe(SUBSCRIPTION, { after: oldestCursor });
        await tenant.restore("r-1");
        await live.count(2, 10_000, "the restorations");
        const sequences = live.results.map((result) => result.data!.accessChanged.sequence as number);
        expect(live.results.every((result) => result.data!.accessChanged.allowed === true)).toBe(true);
        expect(sequences).toEqual([first!.sequence + 2, first!.sequence + 3]);
      } finally {
        await subscriber.dispose();
      }
    }, 60_000);

    it("refuses a bad retention setting at start with every problem at once", async () => {
      await expect(startGraph({ ...engine, env: { MTD_RETENTION_ACCESS_CHANGES: "30", MTD_RETENTION_INTERVAL: "5m" } })).rejects.toThrow(/MTD_RETENTION_ACCESS_CHANGES[\s\S]*MTD_RETENTION_INTERVAL|MTD_RETENTION_INTERVAL[\s\S]*MTD_RETENTION_ACCESS_CHANGES/);
    });
  });
}
