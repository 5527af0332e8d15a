/**
 * Issue 13, finding 1 on real servers: push endpoints and Okta org URLs that
 * reach inside are refused in production, at registration when spelled so,
 * and when the push connects when a name resolves inside. Development keeps
 * local receivers (the same resolver then reaches them).
 */
import type { LookupAddress } from "node:dns";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Resolver } from "../../subgraphs/signals/egress.js";
import { waitFor } from "../support/wait.js";
import { CAEP, PushReceiver, SSF } from "./receiver.js";
import { PRODUCTION_ENV, startSignals, type Signals } from "./signals-alone.js";

const PUSH = "urn:ietf:rfc:8935";
const HEALTH = `query { ssfStreams { id endpointUrl health { lastError consecutiveFailures } } }`;
const RECEIVERS = `query { ssfReceivers { clientId } }`;

/** Names of the test's own that resolve inside (the system resolver for anything else). */
const NAMES: Record<string, LookupAddress[]> = {
  "inside.example.com": [{ address: "127.0.0.1", family: 4 }],
  "mixed.example.com": [
    { address: "93.184.215.14", family: 4 },
    { address: "127.0.0.1", family: 4 },
  ],
  "mapped.example.com": [{ address: "::ffff:127.0.0.1", family: 6 }],
};
const resolve: Resolver = async (hostname) => {
  const found = NAMES[hostname];
  if (found === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
  return found;
};

/** Issue 13's bypasses and their neighbours, as a receiver would send them. */
const BYPASSES = [
  "https://localhost./events",
  "https://metadata.google.internal./computeMetadata/v1/",
  "https://foo.local./events",
  "https://[::7f00:1]/events",
  "https://[::127.0.0.1]/events",
  "https://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
  "https://[2002:7f00:1::]/events",
  "https://[fec0::1]/events",
  "https://198.18.0.1/events",
  "https://224.0.0.1/events",
  "https://255.255.255.255/events",
  "https://[::ffff:169.254.169.254]/latest/meta-data/",
  "https://0x7f.1/events",
  "https://LOCALHOST/events",
  "https://metadata/computeMetadata/v1/",
  "https://100.100.100.200/latest/meta-data/",
];

/** A TCP port that counts the connections it gets (and closes them). */
async function listener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { port: (server.address() as AddressInfo).port, connections: () => connections, close: () => new Promise((done) => server.close(() => done())) };
}

describe("push endpoints that reach inside, in production", () => {
  let signals: Signals;

  beforeAll(async () => {
    signals = await startSignals({ env: PRODUCTION_ENV, resolve });
  });
  afterAll(() => signals?.stop());

  it("refuses every bypass spelling at stream creation and update (400 invalid_request naming the range); nothing is stored", async () => {
    const client = await signals.receiver(await signals.admin());
    for (const url of BYPASSES) {
      const created = await client.call("POST", "/ssf/stream", { delivery: { method: PUSH, endpoint_url: url } });
      expect(created.status, url).toBe(400);
      expect(created.body.error, url).toBe("invalid_request");
      expect(created.body.error_description, url).toMatch(/^delivery\.endpoint_url: ".*" is (an internal address|an internal name|a single-label name)/);
    }
    expect((await client.call("GET", "/ssf/stream")).body).toEqual([]);
    const stream = await client.createStream({ events_requested: [CAEP.DEVICE_COMPLIANCE_CHANGE] });
    for (const url of BYPASSES) {
      const patched = await client.call("PATCH", "/ssf/stream", { stream_id: stream.stream_id, delivery: { method: PUSH, endpoint_url: url } });
      expect(patched.status, url).toBe(400);
    }
    expect((await client.call("GET", `/ssf/stream?stream_id=${stream.stream_id}`)).body.delivery.method).toBe("urn:ietf:rfc:8936");
  });

  it("refuses every bypass spelling as an Okta org URL: BAD_USER_INPUT, no receiver half-written", async () => {
    const admin = await signals.admin();
    for (const url of BYPASSES.map((endpoint) => new URL(endpoint).origin)) {
      const result = await signals.query(admin, `mutation($url: String!) { registerSsfReceiver(input: { name: "Okta", okta: { orgUrl: $url } }) { clientSecret } }`, { url });
      expect(result.errors?.[0]?.extensions?.code, url).toBe("BAD_USER_INPUT");
      expect(result.errors?.[0]?.message, url).toMatch(/internal|single-label/);
    }
    expect((await signals.query(admin, RECEIVERS)).data!.ssfReceivers).toEqual([]);
  });

  it("a name that resolves inside passes registration but is refused when the push connects: the receiver gets no connection", async () => {
    const admin = await signals.admin();
    const target = await listener();
    try {
      const streams: string[] = [];
      for (const name of Object.keys(NAMES)) {
        const client = await signals.receiver(admin);
        const stream = await client.createStream({ delivery: { method: PUSH, endpoint_url: `https://${name}:${target.port}/events` } });
        expect((await client.call("POST", "/ssf/verify", { stream_id: stream.stream_id })).status).toBe(204);
        streams.push(stream.stream_id);
      }
      await waitFor(
        async () => ((await signals.query(admin, HEALTH)).data!.ssfStreams as { health: { consecutiveFailures: number } }[]).every((stream) => stream.health.consecutiveFailures >= 2),
        10_000,
        "two refused attempts per stream",
      );
      const health = (await signals.query(admin, HEALTH)).data!.ssfStreams as { id: string; health: { lastError: string } }[];
      expect(health.map((stream) => stream.health.lastError)).toEqual(streams.map(() => "NETWORK"));
      expect(target.connections()).toBe(0);
      // Why, for the operator: in the log only.
      const refusals = signals.logs.filter((line) => line.includes("EGRESS_REFUSED"));
      for (const name of Object.keys(NAMES)) expect(refusals.some((line) => line.includes(`\\"${name}\\" resolves to`)), name).toBe(true);
    } finally {
      await target.close();
    }
  });
});

describe("local receivers in development", () => {
  let signals: Signals;

  beforeAll(async () => {
    signals = await startSignals({ resolve });
  });
  afterAll(() => signals?.stop());

  it("are still reached, by address and through the same resolver", async () => {
    const admin = await signals.admin();
    for (const host of ["127.0.0.1", "inside.example.com"]) {
      const client = await signals.receiver(admin);
      const receiver = await new PushReceiver({ verifier: client.verifier(client.clientId) }).start();
      try {
        const stream = await client.createStream({ delivery: { method: PUSH, endpoint_url: `http://${host}:${receiver.port}/events` } });
        await client.call("POST", "/ssf/verify", { stream_id: stream.stream_id, state: host });
        const [set] = await receiver.until((sets) => sets.length === 1);
        expect(set!.type).toBe(SSF.VERIFICATION);
      } finally {
        await receiver.stop();
      }
    }
  });
});
