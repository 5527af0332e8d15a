/**
 * Issue 13, finding 2 on real servers: stream health and dead letters are no
 * oracle. What a target answers (its body, an error description, a redirect's
 * location) and the exact socket or TLS error stay in the server log; tenant
 * admins see a coarse category.
 */
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/wait.js";
import { DEAD_LETTERS, STREAMS } from "./support.js";
import { startSignals, type Signals } from "./signals-alone.js";

const PUSH = "urn:ietf:rfc:8935";
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

/** What each path of the scripted target answers: a status, a body no admin may read, sometimes a header. */
const ANSWERS: Record<string, { status: number; body: string; headers?: Record<string, string> }> = {
  "/503": { status: 503, body: "LEAK-503 upstream db=10.0.0.5 refused" },
  "/401": { status: 401, body: '{"error":"LEAK-401 jwt malformed"}' },
  "/400-registered": { status: 400, body: '{"err":"invalid_request","description":"LEAK-400 description"}' },
  "/400-unregistered": { status: 400, body: '{"err":"LEAK-400-ERR"}' },
  "/302": { status: 302, body: "LEAK-302", headers: { location: "http://169.254.169.254/latest/meta-data/" } },
};

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return (server.address() as AddressInfo).port;
}

describe("push failures as stream health and dead letters show them", () => {
  let signals: Signals;
  const servers: { close(done: () => void): unknown }[] = [];
  const sockets = new Set<Socket>();
  /** endpoint → the category stored, and the dead letter's error. */
  const expected: Record<string, { lastError: string; deadLetter: RegExp }> = {};

  beforeAll(async () => {
    signals = await startSignals({ env: { MTD_SSF_PUSH_GIVE_UP_SECONDS: "1", MTD_SSF_PUSH_TIMEOUT_MS: "300" } });
    const scripted = createHttpServer((request, response) => {
      request.resume();
      const answer = ANSWERS[request.url ?? ""] ?? { status: 404, body: "LEAK-404" };
      response.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
      response.end(answer.body);
    });
    const tls = createHttpsServer({ key: fixture("self-signed.key"), cert: fixture("self-signed.crt") }, (_request, response) => response.end("LEAK-TLS"));
    const silent = createTcpServer((socket) => sockets.add(socket)); // accepts, never answers
    const closed = createTcpServer();
    servers.push(scripted, tls, silent);
    const [http, https, quiet, refused] = [await listen(scripted), await listen(tls), await listen(silent), await listen(closed)];
    await new Promise<void>((done) => closed.close(() => done())); // nothing listens there any more

    const gaveUp = (last: string) => new RegExp(`^gave up after \\d+ attempts over \\d+ s; last: ${last}$`);
    expected[`http://127.0.0.1:${http}/503`] = { lastError: "HTTP_5XX 503", deadLetter: gaveUp("HTTP_5XX 503") };
    expected[`http://127.0.0.1:${http}/401`] = { lastError: "HTTP_4XX 401", deadLetter: gaveUp("HTTP_4XX 401") };
    expected[`http://127.0.0.1:${http}/400-registered`] = { lastError: "HTTP_4XX 400 invalid_request", deadLetter: /^HTTP_4XX 400 invalid_request$/ };
    expected[`http://127.0.0.1:${http}/400-unregistered`] = { lastError: "HTTP_4XX 400", deadLetter: /^HTTP_4XX 400$/ };
    expected[`http://127.0.0.1:${http}/302`] = { lastError: "HTTP_3XX 302", deadLetter: /^HTTP_3XX 302$/ };
    expected[`https://127.0.0.1:${https}/self-signed`] = { lastError: "TLS", deadLetter: gaveUp("TLS") };
    expected[`http://127.0.0.1:${refused}/refused`] = { lastError: "NETWORK", deadLetter: gaveUp("NETWORK") };
    expected[`http://127.0.0.1:${quiet}/silent`] = { lastError: "TIMEOUT", deadLetter: gaveUp("TIMEOUT") };
  });
  afterAll(async () => {
    await signals?.stop();
    for (const socket of sockets) socket.destroy();
    for (const server of servers) await new Promise<void>((done) => server.close(() => done()));
  });

  it("keep a category (network, TLS, timeout, HTTP status class and code, a registered err); the body and the error code are in the log only", async () => {
    const admin = await signals.admin();
    for (const endpoint of Object.keys(expected)) {
      const client = await signals.receiver(admin);
      const stream = await client.createStream({ delivery: { method: PUSH, endpoint_url: endpoint } });
      expect((await client.call("POST", "/ssf/verify", { stream_id: stream.stream_id })).status).toBe(204);
    }
    const count = Object.keys(expected).length;
    await waitFor(async () => (await signals.query(admin, DEAD_LETTERS, { first: 50 })).data!.ssfDeadLetters.totalCount === count, 15_000, `${count} dead letters`);

    const streams = (await signals.query(admin, STREAMS)).data!.ssfStreams as { id: string; endpointUrl: string; health: { lastError: string } }[];
    const letters = (await signals.query(admin, DEAD_LETTERS, { first: 50 })).data!.ssfDeadLetters.edges as { node: { error: string; stream: { id: string } } }[];
    for (const stream of streams) {
      const want = expected[stream.endpointUrl]!;
      expect(stream.health.lastError, stream.endpointUrl).toBe(want.lastError);
      expect(letters.find((letter) => letter.node.stream.id === stream.id)?.node.error, stream.endpointUrl).toMatch(want.deadLetter);
    }
    const shown = JSON.stringify([streams, letters]);
    for (const secret of ["LEAK", "10.0.0.5", "169.254", "DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate", "ECONNREFUSED", "ABORT_ERR", "aborted"]) {
      expect(shown, secret).not.toContain(secret);
    }
    // The operator still learns why.
    const logged = signals.logs.filter((line) => line.includes("ssf: push failed") || line.includes("ssf: SET moved to the dead letters")).join("\n");
    for (const detail of ["LEAK-503 upstream db=10.0.0.5", "LEAK-400 description", "DEPTH_ZERO_SELF_SIGNED_CERT", "ECONNREFUSED"]) expect(logged, detail).toContain(detail);
  });
});
