import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engines } from "../support/engines.js";
import type { TestGraph } from "../support/graph.js";
import { deferred, waitFor } from "../support/wait.js";
import { flip } from "./flips.js";
import { CAEP } from "./receiver.js";
import { DEAD_LETTERS, register, startSsfGraph, STREAMS, tenant } from "./support.js";

const deviceOf = (set: { claims: { sub_id: Record<string, unknown> } }) => (set.claims.sub_id.device as { id: string }).id;

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`Shared Signals poll delivery (RFC 8936) on ${engine.name}`, () => {
    let graph: TestGraph;

    beforeAll(async () => {
      graph = await startSsfGraph(engine);
    });
    afterAll(() => graph?.stop());

    async function pollStream(events = [CAEP.DEVICE_COMPLIANCE_CHANGE]) {
      const t = await tenant(graph);
      const registered = await register(graph, t.admin);
      const stream = await registered.client.createStream({ events_requested: events });
      const poller = registered.client.pollClient(registered.audience, stream.delivery.endpoint_url);
      return { ...t, registered, stream, poller };
    }

    it("poll-only: returns verified SETs in order with moreAvailable, keeps unacknowledged ones and returns them again later", async () => {
      const { tenantId, poller, admin } = await pollStream();
      for (let i = 0; i < 3; i += 1) await flip(graph, tenantId, `p-${i}`);
      await waitFor(async () => (await graph.query(admin, STREAMS)).data!.ssfStreams[0].health.pending === 3, 5000, "3 queued SETs");
      const first = await poller.poll({ maxEvents: 2, returnImmediately: true });
      expect(first.status).toBe(200);
      expect(Object.keys(first.body.sets)).toHaveLength(2);
      expect(first.body.moreAvailable).toBe(true);
      const second = await poller.poll({ maxEvents: 2, returnImmediately: true });
      expect(Object.keys(second.body.sets)).toHaveLength(1);
      expect(second.body.moreAvailable).toBe(false);
      expect(poller.sets.map(deviceOf)).toEqual(["p-0", "p-1", "p-2"]);
      for (const set of poller.sets) expect(set.type).toBe(CAEP.DEVICE_COMPLIANCE_CHANGE);

      // Handed out, not acknowledged: not returned again at once…
      const right = await poller.poll({ returnImmediately: true });
      expect(right.body).toEqual({ sets: {}, moreAvailable: false });
      // …but after the redelivery period (400 ms here): same jti (the receiver dedupes).
      await waitFor(async () => (await poller.poll({ returnImmediately: true }), poller.duplicates >= 3), 5000, "redelivery");
      expect(poller.sets).toHaveLength(3);
    });

    it("poll with acknowledgement: acknowledged SETs never come back; ack-only (maxEvents 0) returns none", async () => {
      const { tenantId, poller } = await pollStream();
      await flip(graph, tenantId, "a-1");
      await flip(graph, tenantId, "a-2");
      const first = await poller.poll({ maxEvents: 1, returnImmediately: false });
      expect(Object.keys(first.body.sets)).toHaveLength(1);
      const second = await poller.poll({ ack: Object.keys(first.body.sets), maxEvents: 10, returnImmediately: false });
      expect(Object.keys(second.body.sets)).toHaveLength(1);
      expect(poller.sets.map(deviceOf)).toEqual(["a-1", "a-2"]);

      const ackOnly = await poller.poll({ ack: Object.keys(second.body.sets), maxEvents: 0, returnImmediately: true });
      expect(ackOnly.status).toBe(200);
      expect(ackOnly.body).toEqual({ sets: {}, moreAvailable: false });
      await new Promise((resolve) => setTimeout(resolve, 500)); // past the redelivery period: nothing comes back
      expect((await poller.poll({ returnImmediately: true })).body.sets).toEqual({});
      expect(poller.duplicates).toBe(0);
    });

    it("setErrs: a SET the receiver rejects is not returned again and shows as a dead letter", async () => {
      const { tenantId, admin, poller, stream } = await pollStream();
      await flip(graph, tenantId, "e-1");
      const first = await poller.poll({ returnImmediately: false });
      const [jti] = Object.keys(first.body.sets);
      const reported = await poller.poll({ setErrs: { [jti!]: { err: "invalid_audience", description: "not for us" } }, maxEvents: 0, returnImmediately: true });
      expect(reported.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await poller.poll({ returnImmediately: true })).body.sets).toEqual({});
      const dead = await graph.query(admin, DEAD_LETTERS, { streamId: stream.stream_id });
      expect(dead.data!.ssfDeadLetters.totalCount).toBe(1);
      expect(dead.data!.ssfDeadLetters.edges[0].node).toMatchObject({ jti, deviceId: "e-1", error: "receiver reported invalid_audience: not for us", eventType: CAEP.DEVICE_COMPLIANCE_CHANGE });
    });

    it("long poll: an empty poll is held until a SET arrives, and bounded otherwise", async () => {
      const { tenantId, poller } = await pollStream();
      const started = Date.now();
      const empty = await poller.poll({ returnImmediately: false });
      const waited = Date.now() - started;
      expect(empty.body).toEqual({ sets: {}, moreAvailable: false });
      expect(waited).toBeGreaterThanOrEqual(2800); // MTD_SSF_POLL_WAIT_MAX_MS = 3000 in these tests
      expect(waited).toBeLessThan(6000);

      const polled = deferred<number>();
      const pending = poller.poll({ returnImmediately: false }).then((result) => {
        polled.resolve(Date.now());
        return result;
      });
      await new Promise((resolve) => setTimeout(resolve, 100)); // the poll is waiting
      const flippedAt = Date.now();
      await flip(graph, tenantId, "l-1");
      const result = await pending;
      expect(Object.keys(result.body.sets)).toHaveLength(1);
      expect((await polled.promise) - flippedAt).toBeLessThan(1000);
    });

    it("rejects malformed polls with 400 { err, description }, polls of a push stream, and other receivers' streams", async () => {
      const { poller, stream, registered, admin } = await pollStream();
      for (const body of [{ maxEvents: -1 }, { maxEvents: "ten" }, { returnImmediately: "yes" }, { ack: "jti" }, { setErrs: { x: "bad" } }]) {
        const response = await poller.poll(body);
        expect(response.status, JSON.stringify(body)).toBe(400);
        expect(response.body.err).toBe("invalid_request");
        expect(typeof response.body.description).toBe("string");
      }
      const other = await register(graph, admin);
      const stolen = await fetch(stream.delivery.endpoint_url, { method: "POST", headers: { authorization: `Bearer ${await other.client.token()}` }, body: "{}" });
      expect(stolen.status).toBe(404);
      const anonymous = await fetch(stream.delivery.endpoint_url, { method: "POST", body: "{}" });
      expect(anonymous.status).toBe(401);
      await registered.client.call("PATCH", "/ssf/stream", { stream_id: stream.stream_id, delivery: { method: "urn:ietf:rfc:8935", endpoint_url: "https://idp.example.com/events" } });
      expect((await poller.poll({ returnImmediately: true })).status).toBe(400);
    });

    it("a paused poll stream holds SETs and returns them in order when enabled; a disabled one drops them", async () => {
      const { tenantId, registered, stream, poller, admin } = await pollStream();
      const id = stream.stream_id;
      await registered.client.call("POST", "/ssf/status", { stream_id: id, status: "paused" });
      await flip(graph, tenantId, "h-1");
      await flip(graph, tenantId, "h-2");
      await flip(graph, tenantId, "h-1");
      await waitFor(async () => (await graph.query(admin, STREAMS)).data!.ssfStreams[0].health.pending === 3, 5000, "3 held SETs");
      expect((await poller.poll({ returnImmediately: true })).body.sets).toEqual({});
      await registered.client.call("POST", "/ssf/status", { stream_id: id, status: "enabled" });
      const released = await poller.poll({ returnImmediately: true });
      expect(Object.keys(released.body.sets)).toHaveLength(3);
      expect(poller.sets.map((set) => [deviceOf(set), set.event.current_status])).toEqual([
        ["h-1", "not-compliant"],
        ["h-2", "not-compliant"],
        ["h-1", "compliant"],
      ]);
      await poller.poll({ ack: Object.keys(released.body.sets), maxEvents: 0, returnImmediately: true });

      // A second receiver of the tenant witnesses that the flips made while disabled were fanned out before re-enabling.
      const witness = await register(graph, admin, { name: "witness" });
      const witnessStream = await witness.client.createStream({ events_requested: [CAEP.DEVICE_COMPLIANCE_CHANGE] });
      const witnessPoller = witness.client.pollClient(witness.audience, witnessStream.delivery.endpoint_url);
      await registered.client.call("POST", "/ssf/status", { stream_id: id, status: "disabled" });
      await flip(graph, tenantId, "h-3");
      await flip(graph, tenantId, "h-4");
      await waitFor(async () => (await witnessPoller.poll({ returnImmediately: true }), witnessPoller.sets.length === 2), 5000, "the witness's 2 SETs");
      await registered.client.call("POST", "/ssf/status", { stream_id: id, status: "enabled" });
      await flip(graph, tenantId, "h-5");
      await waitFor(async () => (await poller.poll({ returnImmediately: true })).fresh.length > 0, 5000, "the SET after re-enabling");
      expect(poller.sets.slice(3).map(deviceOf)).toEqual(["h-5"]);
    });
  });
}
