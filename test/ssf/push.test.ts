import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engines } from "../support/engines.js";
import type { TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";
import { flip } from "./flips.js";
import { CAEP, PushReceiver, SetVerifier, type ReceivedSet } from "./receiver.js";
import { DEAD_LETTERS, issuerOf, pushStream, register, startSsfGraph, STREAMS, tenant, type Registered } from "./support.js";

const deviceOf = (set: ReceivedSet) => (set.claims.sub_id.device as { id: string }).id;
const statusOf = (set: ReceivedSet) => set.event.current_status as string;

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`Shared Signals push delivery (RFC 8935) on ${engine.name}`, () => {
    let graph: TestGraph;

    beforeAll(async () => {
      graph = await startSsfGraph(engine);
    });
    afterAll(() => graph?.stop());

    async function health(admin: string) {
      return (await graph.query(admin, STREAMS)).data!.ssfStreams[0].health;
    }

    it("sends the configured authorization header verbatim, and no Authorization at all without one", async () => {
      const { admin, tenantId } = await tenant(graph);
      const withHeader = await pushStream(await register(graph, admin, { name: "with" }), { authorization: "Bearer receiver-secret-123" });
      const without = await pushStream(await register(graph, admin, { name: "without" }));
      try {
        await flip(graph, tenantId, "auth-1");
        await withHeader.receiver.until((sets) => sets.length === 1);
        await without.receiver.until((sets) => sets.length === 1);
        expect(withHeader.receiver.attempts.map((attempt) => attempt.authorization)).toEqual(["Bearer receiver-secret-123"]);
        expect(without.receiver.attempts.map((attempt) => attempt.authorization)).toEqual([undefined]);
        expect(withHeader.receiver.attempts[0]!.contentType).toBe("application/secevent+jwt");
        // The stream configuration never shows the header back.
        const registered = await graph.query(admin, STREAMS);
        expect(JSON.stringify(registered.data)).not.toContain("receiver-secret-123");
      } finally {
        await withHeader.receiver.stop();
        await without.receiver.stop();
      }
    });

    it("a SET carries the required claims: typ, kid, iss, aud, iat, jti, txn, sub_id; no sub, no exp; one CAEP event", async () => {
      const { admin, tenantId } = await tenant(graph);
      const registered = await register(graph, admin, { audience: "https://idp.example.com/" });
      const { receiver } = await pushStream(registered);
      try {
        const change = await flip(graph, tenantId, "claims-1", { upn: "ada@example.com" });
        const [set] = await receiver.until((sets) => sets.length === 1);
        expect(set!.claims).toEqual({
          iss: issuerOf(graph),
          aud: "https://idp.example.com/",
          iat: expect.any(Number),
          jti: expect.stringMatching(/^[0-9a-f]{32}$/),
          txn: change.changeId,
          sub_id: { format: "complex", user: { format: "email", email: "ada@example.com" }, device: { format: "opaque", id: "claims-1" } },
          events: { [CAEP.DEVICE_COMPLIANCE_CHANGE]: set!.event },
        });
        expect(set!.event).toEqual({
          previous_status: "compliant",
          current_status: "not-compliant",
          event_timestamp: Math.floor(Date.parse(change.at) / 1000),
          initiating_entity: "policy",
          reason_admin: {
            en: 'Device claims-1 is not compliant: risk HIGH exceeds IOS policy maximum LOW. MTD partner: LOOKOUT; risk: HIGH; compliance policy: "iOS baseline" (IOS, maximum LOW).',
          },
          reason_user: { en: "Your device no longer meets your organization's security requirements." },
        });
      } finally {
        await receiver.stop();
      }
    });

    it("retries on 503 and on 429 (honouring Retry-After) and then delivers once", async () => {
      const { admin, tenantId } = await tenant(graph);
      const { receiver } = await pushStream(await register(graph, admin));
      try {
        receiver.respondWith({ status: 503 }, { status: 429, retryAfter: 1 }, { status: 503 });
        await flip(graph, tenantId, "retry-1");
        await receiver.until((sets) => sets.length === 1, 10_000);
        expect(receiver.attempts.map((attempt) => attempt.status)).toEqual([503, 429, 503, 202]);
        // Retry-After: 1 was honoured between the 429 and the next attempt.
        expect(receiver.attempts[2]!.at - receiver.attempts[1]!.at).toBeGreaterThanOrEqual(950);
        expect(receiver.duplicates).toBe(0);
        await waitFor(async () => (await health(admin)).consecutiveFailures === 0, 5000, "health back to 0 failures");
        expect((await health(admin)).lastError).toBe("HTTP_5XX 503");
      } finally {
        await receiver.stop();
      }
    });

    it("does not retry a 400 invalid_request: a dead letter, the device's next SET goes on, and dead letters can be queued again", async () => {
      const { admin, tenantId } = await tenant(graph);
      const { receiver, stream } = await pushStream(await register(graph, admin));
      try {
        receiver.respondWith({ status: 400, err: "invalid_request", description: "scripted rejection" });
        const rejected = await flip(graph, tenantId, "dead-1");
        await flip(graph, tenantId, "dead-1");
        await receiver.until((sets) => sets.length === 1);
        expect(statusOf(receiver.sets[0]!)).toBe("compliant");
        expect(receiver.attempts.map((attempt) => attempt.status)).toEqual([400, 202]);

        const dead = await graph.query(admin, DEAD_LETTERS, { streamId: stream.stream_id });
        expect(dead.data!.ssfDeadLetters.totalCount).toBe(1);
        expect(dead.data!.ssfDeadLetters.edges[0].node).toMatchObject({
          deviceId: "dead-1",
          txn: rejected.changeId,
          attempts: 1,
          error: "HTTP_4XX 400 invalid_request", // the receiver's description is logged, never stored
          eventType: CAEP.DEVICE_COMPLIANCE_CHANGE,
          stream: { id: stream.stream_id },
        });
        expect((await health(admin)).deadLetters).toBe(1);

        const requeued = await graph.query(admin, `mutation($id: ID!) { redeliverSsfDeadLetters(streamId: $id) }`, { id: stream.stream_id });
        expect(requeued.data?.redeliverSsfDeadLetters).toBe(1);
        await receiver.until((sets) => sets.length === 2);
        expect(receiver.sets[1]!.jti).toBe(dead.data!.ssfDeadLetters.edges[0].node.jti);
        expect((await graph.query(admin, DEAD_LETTERS, {})).data!.ssfDeadLetters.totalCount).toBe(0);
      } finally {
        await receiver.stop();
      }
    });

    it("a wrong authorization header is a dead letter at once (authentication_failed), not a retry loop", async () => {
      const { admin, tenantId } = await tenant(graph);
      const { receiver } = await pushStream(await register(graph, admin), { authorization: "Bearer right", sendAuthorization: "Bearer wrong" });
      try {
        await flip(graph, tenantId, "wrong-auth");
        await waitFor(async () => (await health(admin)).deadLetters === 1, 5000, "a dead letter");
        expect(receiver.attempts.map((attempt) => [attempt.status, attempt.authorization])).toEqual([[400, "Bearer wrong"]]);
        expect((await graph.query(admin, DEAD_LETTERS, {})).data!.ssfDeadLetters.edges[0].node.error).toBe("HTTP_4XX 400 authentication_failed");
      } finally {
        await receiver.stop();
      }
    });

    it("a receiver that is down gets every SET after it recovers, per device in order, each once", async () => {
      const { admin, tenantId } = await tenant(graph);
      const { receiver } = await pushStream(await register(graph, admin));
      try {
        await flip(graph, tenantId, "warmup");
        await receiver.until((sets) => sets.length === 1);
        await receiver.down();
        const expected: [string, string][] = [];
        for (let i = 0; i < 12; i += 1) {
          const device = `down-${i % 3}`;
          const change = await flip(graph, tenantId, device);
          expected.push([device, change.current === "COMPLIANT" ? "compliant" : "not-compliant"]);
        }
        // Down long enough for many failed attempts (backoff capped at 200 ms here; a minute in spirit).
        await waitFor(
          async () => {
            const { consecutiveFailures, pending } = await health(admin);
            return consecutiveFailures >= 10 && pending === 12;
          },
          10_000,
          "12 queued SETs and 10 failed attempts",
        );
        await receiver.up();
        await receiver.until((sets) => sets.length === 13, 15_000, "all 12 SETs after recovery");
        const after = receiver.sets.slice(1);
        for (const device of ["down-0", "down-1", "down-2"]) {
          expect(after.filter((set) => deviceOf(set) === device).map(statusOf)).toEqual(expected.filter(([d]) => d === device).map(([, s]) => s));
        }
        expect(receiver.duplicates).toBe(0);
        await waitFor(async () => (await health(admin)).pending === 0, 5000, "empty queue");
      } finally {
        await receiver.stop();
      }
    });

    it("a paused stream holds SETs and delivers them in order when enabled; a disabled one drops them", async () => {
      const { admin, tenantId } = await tenant(graph);
      const registered = await register(graph, admin);
      const { receiver, stream } = await pushStream(registered);
      const witness = await pushStream(await register(graph, admin, { name: "witness" }));
      try {
        await registered.client.call("POST", "/ssf/status", { stream_id: stream.stream_id, status: "paused" });
        await flip(graph, tenantId, "hold-1");
        await flip(graph, tenantId, "hold-1");
        await flip(graph, tenantId, "hold-1");
        await witness.receiver.until((sets) => sets.length === 3);
        expect(receiver.attempts).toHaveLength(0);
        await registered.client.call("POST", "/ssf/status", { stream_id: stream.stream_id, status: "enabled" });
        await receiver.until((sets) => sets.length === 3);
        expect(receiver.sets.map(statusOf)).toEqual(["not-compliant", "compliant", "not-compliant"]);

        await registered.client.call("POST", "/ssf/status", { stream_id: stream.stream_id, status: "disabled" });
        await flip(graph, tenantId, "hold-2");
        await witness.receiver.until((sets) => sets.length === 4);
        await registered.client.call("POST", "/ssf/status", { stream_id: stream.stream_id, status: "enabled" });
        await flip(graph, tenantId, "hold-3");
        await receiver.until((sets) => sets.length === 4);
        expect(receiver.sets.map(deviceOf)).toEqual(["hold-1", "hold-1", "hold-1", "hold-3"]);
      } finally {
        await receiver.stop();
        await witness.receiver.stop();
      }
    });

    it("sends session-revoked after device-compliance-change on a flip to not compliant, when the stream asks for it", async () => {
      const { admin, tenantId } = await tenant(graph);
      const { receiver } = await pushStream(await register(graph, admin), { events: [CAEP.DEVICE_COMPLIANCE_CHANGE, CAEP.SESSION_REVOKED] });
      try {
        const revoked = await flip(graph, tenantId, "sr-1");
        await flip(graph, tenantId, "sr-1");
        await receiver.until((sets) => sets.length === 3);
        expect(receiver.sets.map((set) => [set.type, set.claims.txn])).toEqual([
          [CAEP.DEVICE_COMPLIANCE_CHANGE, revoked.changeId],
          [CAEP.SESSION_REVOKED, revoked.changeId],
          [CAEP.DEVICE_COMPLIANCE_CHANGE, expect.any(String)],
        ]);
        expect(receiver.sets[1]!.event).toMatchObject({ initiating_entity: "policy", event_timestamp: expect.any(Number) });
      } finally {
        await receiver.stop();
      }
    });
  });
}

describe("Shared Signals push: giving up", () => {
  let graph: TestGraph;

  beforeAll(async () => {
    graph = await startSsfGraph({ env: { MTD_SSF_PUSH_GIVE_UP_SECONDS: "1" } });
  });
  afterAll(() => graph?.stop());

  it("a SET still refused when its retry window ends becomes a dead letter", async () => {
    const { admin, tenantId } = await tenant(graph);
    const { receiver } = await pushStream(await register(graph, admin));
    try {
      receiver.respondWith(...Array.from({ length: 1000 }, () => ({ status: 503 as const })));
      await flip(graph, tenantId, "never");
      await waitFor(async () => (await graph.query(admin, DEAD_LETTERS, {})).data!.ssfDeadLetters.totalCount === 1, 10_000, "a dead letter");
      const node = (await graph.query(admin, DEAD_LETTERS, {})).data!.ssfDeadLetters.edges[0].node;
      expect(node.error).toMatch(/^gave up after \d+ attempts over \d+ s; last: HTTP_5XX 503$/);
      expect(node.attempts).toBeGreaterThan(3);
    } finally {
      await receiver.stop();
    }
  });
});

describe("Shared Signals key rotation", () => {
  let graph: TestGraph;

  beforeAll(async () => {
    graph = await startSsfGraph({ env: { MTD_SSF_KEY_ROTATION_SECONDS: "8", MTD_SSF_KEY_PUBLISH_AHEAD_SECONDS: "3", MTD_SSF_KEY_RETAIN_SECONDS: "60" } });
  });
  afterAll(() => graph?.stop());

  it("publishes the next key ahead, signs with it after the rotation, keeps the old one published; the receiver refetches by kid", async () => {
    const issuer = issuerOf(graph);
    const jwks = async () => ((await (await fetch(`${issuer}/ssf/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
    const { admin, tenantId } = await tenant(graph);
    const registered: Registered = await register(graph, admin);
    const { receiver } = await pushStream(registered);
    const verifier = receiver.verifier!;
    try {
      const [first] = await jwks();
      await verifier.refresh(); // the receiver's cached JWKS: the first key only
      expect(await jwks()).toEqual([first]);

      // Flip until a SET arrives signed by another key (the rotation period is 8 s here).
      await waitFor(
        async () => {
          await flip(graph, tenantId, "rotating");
          const count = receiver.sets.length + 1;
          await receiver.until((sets) => sets.length >= count);
          return receiver.sets.at(-1)!.kid !== first;
        },
        20_000,
        "a SET signed with the next key",
      );
      expect(receiver.sets[0]!.kid).toBe(first);
      const second = receiver.sets.at(-1)!.kid;
      // The unknown kid made the receiver fetch the JWKS again; both keys are published now (overlap).
      expect(verifier.jwksFetches).toBe(2);
      expect(await jwks()).toEqual(expect.arrayContaining([first, second]));
      expect(receiver.rejected).toEqual([]);
    } finally {
      await receiver.stop();
    }
  });
});

describe("Shared Signals Okta mode", () => {
  let graph: TestGraph;

  beforeAll(async () => {
    graph = await startSsfGraph();
  });
  afterAll(() => graph?.stop());

  it("pushes to <org>/security/api/v1/security-events without Authorization, aud = org URL, subject in the event beside sub_id", async () => {
    const { admin, tenantId } = await tenant(graph);
    const okta = await new PushReceiver({ path: "/security/api/v1/security-events" }).start();
    const orgUrl = `http://127.0.0.1:${okta.port}`;
    okta.verifier = new SetVerifier(issuerOf(graph), orgUrl, `${issuerOf(graph)}/ssf/jwks.json`);
    try {
      const result = await graph.query(
        admin,
        `mutation($input: RegisterSsfReceiverInput!) { registerSsfReceiver(input: $input) { clientSecret receiver { audience oktaOrgUrl streams { deliveryMethod endpointUrl eventsDelivered } } } }`,
        { input: { name: "Acme Okta", okta: { orgUrl: `${orgUrl}/`, sessionRevoked: true } } },
      );
      expect(result.errors).toBeUndefined();
      expect(result.data!.registerSsfReceiver).toEqual({
        clientSecret: null,
        receiver: {
          audience: orgUrl,
          oktaOrgUrl: orgUrl,
          streams: [{ deliveryMethod: "PUSH", endpointUrl: `${orgUrl}/security/api/v1/security-events`, eventsDelivered: [CAEP.DEVICE_COMPLIANCE_CHANGE, CAEP.SESSION_REVOKED] }],
        },
      });
      await flip(graph, tenantId, "okta-1", { upn: "grace@example.com" });
      await okta.until((sets) => sets.length === 2);
      expect(okta.attempts.map((attempt) => attempt.authorization)).toEqual([undefined, undefined]);
      const [compliance, session] = okta.sets;
      expect(compliance!.claims.aud).toBe(orgUrl);
      const subject = { user: { format: "email", email: "grace@example.com" }, device: { format: "opaque", id: "okta-1" } };
      expect(compliance!.claims.sub_id).toEqual({ format: "complex", ...subject });
      expect(compliance!.event).toMatchObject({ subject, previous_status: "compliant", current_status: "not-compliant", event_timestamp: expect.any(Number) });
      expect(session!.type).toBe(CAEP.SESSION_REVOKED);
      expect(session!.event).toMatchObject({ subject, event_timestamp: expect.any(Number) });
    } finally {
      await okta.stop();
    }
  });
});
