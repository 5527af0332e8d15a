import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engines } from "../support/engines.js";
import type { TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";
import { flip } from "./flips.js";
import { CAEP, SSF } from "./receiver.js";
import { issuerOf, pushStream, register, startSsfGraph, STREAMS, tenant } from "./support.js";

const PUSH = "urn:ietf:rfc:8935";
const POLL = "urn:ietf:rfc:8936";

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`Shared Signals stream management (SSF §8) on ${engine.name}`, () => {
    let graph: TestGraph;
    let issuer: string;

    beforeAll(async () => {
      graph = await startSsfGraph(engine);
      issuer = issuerOf(graph);
    });
    afterAll(() => graph?.stop());

    it("creates a poll stream when the request has no delivery, and a second stream of the same receiver is 409", async () => {
      const { admin } = await tenant(graph);
      const { client, audience } = await register(graph, admin, { audience: "https://idp.example.com/ssf" });
      const created = await client.call("POST", "/ssf/stream", { events_requested: [CAEP.DEVICE_COMPLIANCE_CHANGE, "urn:example:unknown"], description: "poll me" });
      expect(created.status).toBe(201);
      expect(created.headers.get("content-type")).toMatch(/^application\/json/);
      expect(created.body).toEqual({
        stream_id: expect.stringMatching(/^[0-9a-f]{32}$/),
        iss: issuer,
        aud: audience,
        events_supported: [CAEP.DEVICE_COMPLIANCE_CHANGE, CAEP.SESSION_REVOKED],
        events_requested: [CAEP.DEVICE_COMPLIANCE_CHANGE, "urn:example:unknown"],
        events_delivered: [CAEP.DEVICE_COMPLIANCE_CHANGE],
        delivery: { method: POLL, endpoint_url: `${issuer}/ssf/poll/${created.body.stream_id}` },
        min_verification_interval: 30,
        description: "poll me",
      });
      const again = await client.call("POST", "/ssf/stream", { delivery: { method: PUSH, endpoint_url: "http://127.0.0.1:9/x" } });
      expect(again.status).toBe(409);
    });

    it("rejects unparseable and invalid create requests with 400", async () => {
      const { admin } = await tenant(graph);
      const { client } = await register(graph, admin);
      const token = await client.token();
      const raw = await fetch(`${issuer}/ssf/stream`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{not json" });
      expect(raw.status).toBe(400);
      expect(((await raw.json()) as { error: string }).error).toBe("invalid_request");
      for (const body of [
        [1, 2],
        { delivery: { method: "urn:example:carrier-pigeon" } },
        { delivery: { method: PUSH } },
        { delivery: { method: PUSH, endpoint_url: "ftp://x.example.com/" } },
        { delivery: { method: PUSH, endpoint_url: "https://user:pw@x.example.com/" } },
        { delivery: { method: PUSH, endpoint_url: "https://x.example.com/", authorization_header: "Bearer a\r\nX-Evil: 1" } },
        { events_requested: "all" },
      ]) {
        const response = await client.call("POST", "/ssf/stream", body);
        expect(response.status, JSON.stringify(body)).toBe(400);
      }
      expect((await client.call("GET", "/ssf/stream")).body).toEqual([]);
    });

    it("refuses, with 400 naming the member, any JSON body string that is not well-formed text, an overlong push endpoint and a header value that is no HTTP field value; nothing is stored", async () => {
      const { admin } = await tenant(graph);
      const { client } = await register(graph, admin);
      const stream = await client.createStream({ description: "kept" });
      const id = stream.stream_id;
      const push = (extra: Record<string, unknown>) => ({ method: PUSH, endpoint_url: "https://idp.example.com/events", ...extra });
      const refusals: [string, string, Record<string, unknown>, RegExp][] = [
        ["PATCH", "/ssf/stream", { stream_id: id, description: "a\ud800b" }, /^description: expected well-formed Unicode text; got a lone surrogate at position 1$/],
        ["PATCH", "/ssf/stream", { stream_id: id, description: "a\u0000b" }, /^description: control characters are not allowed$/],
        ["PATCH", "/ssf/stream", { stream_id: id, events_requested: [CAEP.DEVICE_COMPLIANCE_CHANGE, "x\udc00"] }, /^events_requested\[1\]: expected well-formed/],
        ["PATCH", "/ssf/stream", { stream_id: id, "a\u0000": 1 }, /^a\u0000: control characters/],
        ["PATCH", "/ssf/stream", { stream_id: id, delivery: push({ endpoint_url: `https://idp.example.com/${"e".repeat(2100)}` }) }, /^delivery\.endpoint_url: expected at most 2048 characters; got 2124$/],
        ["PATCH", "/ssf/stream", { stream_id: id, delivery: push({ authorization_header: "Bearer a\u0000b" }) }, /^delivery\.authorization_header: /],
        ["PATCH", "/ssf/stream", { stream_id: id, delivery: push({ authorization_header: "Bearer \u2603" }) }, /^delivery\.authorization_header: expected one line of at most 4096 visible ASCII/],
        ["PATCH", "/ssf/stream", { stream_id: id, delivery: push({ authorization_header: "Bearer a\u007fb" }) }, /^delivery\.authorization_header: /],
        ["POST", "/ssf/status", { stream_id: id, status: "paused", reason: "\ud800" }, /^reason: expected well-formed/],
        ["POST", "/ssf/subjects:add", { stream_id: id, subject: { format: "email", email: "ada\u0000@contoso.com" } }, /^subject\.email: control characters/],
        ["POST", `/ssf/poll/${id}`, { returnImmediately: true, setErrs: { j: { err: "invalid_issuer", description: "\udfff" } } }, /^setErrs\.j\.description: expected well-formed/],
      ];
      for (const [method, path, body, message] of refusals) {
        const response = await client.call(method, path, body);
        expect(response.status, JSON.stringify(body)).toBe(400);
        const { error, error_description: description, err, description: setDescription } = response.body;
        expect(error ?? err, JSON.stringify(body)).toBe("invalid_request");
        expect(description ?? setDescription).toMatch(message);
      }
      expect((await client.call("GET", `/ssf/stream?stream_id=${id}`)).body).toEqual(stream);
      expect((await client.call("GET", `/ssf/status?stream_id=${id}`)).body).toEqual({ stream_id: id, status: "enabled" });
      // The longest endpoint and a header of visible ASCII pass.
      const longest = `https://idp.example.com/${"e".repeat(2048 - 24)}`;
      const accepted = await client.call("PATCH", "/ssf/stream", { stream_id: id, delivery: push({ endpoint_url: longest, authorization_header: "Bearer abc.DEF-_~+/=\tx" }) });
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
      expect(accepted.body.delivery.endpoint_url).toBe(longest);
    });

    it("reads one stream or the list (empty list without streams), and 404 for unknown or another receiver's stream", async () => {
      const { admin } = await tenant(graph);
      const a = await register(graph, admin, { name: "A" });
      const b = await register(graph, admin, { name: "B" });
      expect((await a.client.call("GET", "/ssf/stream")).body).toEqual([]);
      const stream = await a.client.createStream({ events_requested: [CAEP.DEVICE_COMPLIANCE_CHANGE] });
      const one = await a.client.call("GET", `/ssf/stream?stream_id=${stream.stream_id}`);
      expect(one.status).toBe(200);
      expect(one.headers.get("cache-control")).toBe("no-store");
      expect(one.body).toEqual(stream);
      const list = await a.client.call("GET", "/ssf/stream");
      expect(list.body).toEqual([stream]);
      expect((await a.client.call("GET", "/ssf/stream?stream_id=nope")).status).toBe(404);
      // B is another receiver: A's stream does not exist for it.
      expect((await b.client.call("GET", `/ssf/stream?stream_id=${stream.stream_id}`)).status).toBe(404);
      expect((await b.client.call("GET", "/ssf/stream")).body).toEqual([]);
      expect((await b.client.call("DELETE", `/ssf/stream?stream_id=${stream.stream_id}`)).status).toBe(404);
      expect((await b.client.call("PATCH", "/ssf/stream", { stream_id: stream.stream_id, description: "mine" })).status).toBe(404);
    });

    it("updates (PATCH) only what is sent, replaces (PUT) everything, and checks transmitter-supplied properties", async () => {
      const { admin } = await tenant(graph);
      const { client } = await register(graph, admin);
      const stream = await client.createStream({ events_requested: [CAEP.DEVICE_COMPLIANCE_CHANGE], description: "first" });
      const id = stream.stream_id;

      const patched = await client.call("PATCH", "/ssf/stream", { stream_id: id, events_requested: [CAEP.DEVICE_COMPLIANCE_CHANGE, CAEP.SESSION_REVOKED], iss: issuer });
      expect(patched.status).toBe(200);
      expect(patched.body.events_delivered).toEqual([CAEP.DEVICE_COMPLIANCE_CHANGE, CAEP.SESSION_REVOKED]);
      expect(patched.body.description).toBe("first");
      expect(patched.body.delivery.method).toBe(POLL);

      const push = await client.call("PATCH", "/ssf/stream", { stream_id: id, delivery: { method: PUSH, endpoint_url: "https://idp.example.com/events" } });
      expect(push.body.delivery).toEqual({ method: PUSH, endpoint_url: "https://idp.example.com/events" });

      // PUT: a missing receiver-supplied property is deleted (delivery back to poll, no description, no events).
      const replaced = await client.call("PUT", "/ssf/stream", { stream_id: id, events_requested: [CAEP.SESSION_REVOKED] });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({ events_requested: [CAEP.SESSION_REVOKED], events_delivered: [CAEP.SESSION_REVOKED], delivery: { method: POLL } });
      expect(replaced.body.description).toBeUndefined();
      expect((await client.call("GET", `/ssf/stream?stream_id=${id}`)).body).toEqual(replaced.body);

      // events_delivered must match the value before the update; other transmitter-supplied values must match too.
      expect((await client.call("PATCH", "/ssf/stream", { stream_id: id, events_delivered: [CAEP.DEVICE_COMPLIANCE_CHANGE] })).status).toBe(400);
      expect((await client.call("PATCH", "/ssf/stream", { stream_id: id, events_delivered: [CAEP.SESSION_REVOKED], description: "ok" })).status).toBe(200);
      expect((await client.call("PUT", "/ssf/stream", { stream_id: id, iss: "https://evil.example.com" })).status).toBe(400);
      expect((await client.call("PATCH", "/ssf/stream", { stream_id: id, aud: "someone-else" })).status).toBe(400);
      expect((await client.call("PATCH", "/ssf/stream", { description: "no id" })).status).toBe(400);
      expect((await client.call("PUT", "/ssf/stream", { stream_id: "missing" })).status).toBe(404);
    });

    it("deletes a stream (204), then it is 404, and a new one can be created", async () => {
      const { admin } = await tenant(graph);
      const { client } = await register(graph, admin);
      const stream = await client.createStream({});
      expect((await client.call("DELETE", "/ssf/stream")).status).toBe(400);
      const deleted = await client.call("DELETE", `/ssf/stream?stream_id=${stream.stream_id}`);
      expect(deleted.status).toBe(204);
      expect(deleted.body).toBeUndefined();
      expect((await client.call("DELETE", `/ssf/stream?stream_id=${stream.stream_id}`)).status).toBe(404);
      expect((await client.call("GET", `/ssf/stream?stream_id=${stream.stream_id}`)).status).toBe(404);
      expect((await client.call("POST", "/ssf/stream", {})).status).toBe(201);
    });

    it("reads and sets the status; a receiver's own change sends no stream-updated, an admin's does", async () => {
      const { admin } = await tenant(graph);
      const registered = await register(graph, admin);
      const { client } = registered;
      const { receiver, stream } = await pushStream(registered);
      const id = stream.stream_id;
      try {
        expect((await client.call("GET", `/ssf/status?stream_id=${id}`)).body).toEqual({ stream_id: id, status: "enabled" });
        expect((await client.call("GET", "/ssf/status")).status).toBe(400);
        expect((await client.call("GET", "/ssf/status?stream_id=other")).status).toBe(404);
        expect((await client.call("POST", "/ssf/status", { stream_id: id, status: "asleep" })).status).toBe(400);
        expect((await client.call("POST", "/ssf/status", { stream_id: "other", status: "paused" })).status).toBe(404);
        const paused = await client.call("POST", "/ssf/status", { stream_id: id, status: "paused", reason: "maintenance" });
        expect(paused.status).toBe(200);
        expect(paused.body).toEqual({ stream_id: id, status: "paused", reason: "maintenance" });
        expect((await client.call("GET", `/ssf/status?stream_id=${id}`)).body).toEqual({ stream_id: id, status: "paused", reason: "maintenance" });
        expect((await client.call("POST", "/ssf/status", { stream_id: id, status: "enabled" })).body).toEqual({ stream_id: id, status: "enabled" });

        // The transmitter's (an admin's) decision: stream-updated goes out, even to the stream it disables.
        const disabled = await graph.query(admin, `mutation($id: ID!) { setSsfStreamStatus(id: $id, status: DISABLED, reason: "offboarding") { id status statusReason } }`, { id });
        expect(disabled.data?.setSsfStreamStatus).toEqual({ id, status: "DISABLED", statusReason: "offboarding" });
        const [updated] = await receiver.until((sets) => sets.length === 1, 5000, "stream-updated");
        expect(updated!.type).toBe(SSF.STREAM_UPDATED);
        expect(updated!.event).toEqual({ status: "disabled", reason: "offboarding" });
        expect(updated!.claims.sub_id).toEqual({ format: "opaque", id });
        expect((await client.call("GET", `/ssf/status?stream_id=${id}`)).body).toEqual({ stream_id: id, status: "disabled", reason: "offboarding" });
        const streams = await graph.query(admin, STREAMS);
        expect(streams.data!.ssfStreams[0]).toMatchObject({ id, status: "DISABLED", deliveryMethod: "PUSH", endpointUrl: receiver.url });
      } finally {
        await receiver.stop();
      }
    });

    it("adds and removes subjects: a removed user gets no events until added again", async () => {
      const { admin, tenantId } = await tenant(graph);
      const registered = await register(graph, admin);
      const { client } = registered;
      const { receiver, stream } = await pushStream(registered);
      const id = stream.stream_id;
      try {
        const alice = { format: "email", email: "Alice@Example.com" };
        expect((await client.call("POST", "/ssf/subjects:remove", { stream_id: id, subject: alice })).status).toBe(204);
        expect((await client.call("POST", "/ssf/subjects:remove", { stream_id: id })).status).toBe(400);
        expect((await client.call("POST", "/ssf/subjects:remove", { stream_id: id, subject: { format: "email" } })).status).toBe(400);
        expect((await client.call("POST", "/ssf/subjects:add", { stream_id: "nope", subject: alice })).status).toBe(404);
        expect((await client.call("POST", "/ssf/subjects:add", { stream_id: id, subject: { format: "complex" } })).status).toBe(400);

        await flip(graph, tenantId, "alice-phone", { upn: "alice@example.com" });
        await flip(graph, tenantId, "bob-phone", { upn: "bob@example.com" });
        await receiver.until((sets) => sets.length === 1);
        expect((receiver.sets[0]!.claims.sub_id as { device: { id: string } }).device.id).toBe("bob-phone");

        const added = await client.call("POST", "/ssf/subjects:add", { stream_id: id, subject: alice, verified: true });
        expect(added.status).toBe(200);
        expect(added.body).toBeUndefined();
        await flip(graph, tenantId, "alice-phone", { upn: "alice@example.com" });
        await receiver.until((sets) => sets.length === 2);
        expect((receiver.sets[1]!.claims.sub_id as { device: { id: string } }).device.id).toBe("alice-phone");

        // A complex subject matches members present in both: removing a device stops that device only.
        await client.call("POST", "/ssf/subjects:remove", { stream_id: id, subject: { format: "complex", device: { format: "opaque", id: "bob-phone" } } });
        await flip(graph, tenantId, "bob-phone", { upn: "bob@example.com" });
        await flip(graph, tenantId, "carol-phone", { upn: "carol@example.com" });
        await receiver.until((sets) => sets.length === 3);
        expect((receiver.sets[2]!.claims.sub_id as { device: { id: string } }).device.id).toBe("carol-phone");
      } finally {
        await receiver.stop();
      }
    });

    it("verification: 204, then a verification SET echoing state; 429 with Retry-After when asked again too soon", async () => {
      const { admin } = await tenant(graph);
      const registered = await register(graph, admin);
      const { client } = registered;
      const { receiver, stream } = await pushStream(registered);
      try {
        const verify = await client.call("POST", "/ssf/verify", { stream_id: stream.stream_id, state: "c3RhdGUtMQ" });
        expect(verify.status).toBe(204);
        const [set] = await receiver.until((sets) => sets.length === 1, 5000, "verification");
        expect(set!.type).toBe(SSF.VERIFICATION);
        expect(set!.event).toEqual({ state: "c3RhdGUtMQ" });
        expect(set!.claims.sub_id).toEqual({ format: "opaque", id: stream.stream_id });
        expect(set!.claims.aud).toBe(registered.audience);

        const again = await client.call("POST", "/ssf/verify", { stream_id: stream.stream_id, state: "again" });
        expect(again.status).toBe(429);
        expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(0);
        expect((await client.call("POST", "/ssf/verify", { stream_id: "nope" })).status).toBe(404);
        expect((await client.call("POST", "/ssf/verify", {})).status).toBe(400);
        expect((await client.call("POST", "/ssf/verify", { stream_id: stream.stream_id, state: 42 })).status).toBe(400);
      } finally {
        await receiver.stop();
      }
    });

    it("records receivers' and streams' configuration changes in the audit trail, without secrets", async () => {
      const { admin } = await tenant(graph);
      const registered = await register(graph, admin, { name: "Audited IdP" });
      const { client, clientId } = registered;
      const stream = await client.createStream({ delivery: { method: PUSH, endpoint_url: "https://idp.example.com/events", authorization_header: "Bearer top-secret" } });
      await client.call("PATCH", "/ssf/stream", { stream_id: stream.stream_id, description: "renamed" });
      await client.call("POST", "/ssf/status", { stream_id: stream.stream_id, status: "paused" });
      await graph.query(admin, `mutation($id: ID!) { setSsfStreamStatus(id: $id, status: ENABLED) { id } }`, { id: stream.stream_id });
      await graph.query(admin, `mutation($id: ID!) { rotateSsfReceiverSecret(clientId: $id) { clientSecret } }`, { id: clientId });
      await graph.query(admin, `mutation($id: ID!) { removeSsfReceiver(clientId: $id) }`, { id: clientId });
      const AUDIT = `query { auditLog(first: 50) { edges { node { service action actor actorRole targetType targetId before after } } } }`;
      const entries = async () => ((await graph.query(admin, AUDIT)).data?.auditLog.edges ?? []).map((edge: { node: Record<string, string> }) => edge.node);
      await waitFor(async () => (await entries()).length >= 7, 10_000, "7 audit entries");
      const log = (await entries()) as Record<string, string>[];
      expect(log.map((entry) => [entry.action, entry.actorRole, entry.actor === clientId ? "receiver" : "admin"]).sort()).toEqual(
        [
          ["ssfReceiver.registered", "admin", "admin"],
          ["ssfStream.created", "ssf-receiver", "receiver"],
          ["ssfStream.updated", "ssf-receiver", "receiver"],
          ["ssfStream.statusChanged", "ssf-receiver", "receiver"],
          ["ssfStream.statusChanged", "admin", "admin"],
          ["ssfReceiver.secretRotated", "admin", "admin"],
          ["ssfReceiver.removed", "admin", "admin"],
        ].sort(),
      );
      expect(log.every((entry) => entry.service === "signals")).toBe(true);
      const text = JSON.stringify(log);
      expect(text).not.toContain("top-secret");
      expect(text).not.toContain(registered.clientSecret);
    });

    it("answers 405 for a method an endpoint does not have, and 404 for an unknown path", async () => {
      const { admin } = await tenant(graph);
      const { client } = await register(graph, admin);
      const response = await client.call("GET", "/ssf/verify");
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("POST");
      expect((await client.call("GET", "/ssf/nothing-here")).status).toBe(404);
    });
  });
}
