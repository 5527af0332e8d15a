/**
 * MTD_JWT_MAX_LIFETIME: a token whose `exp` lies further ahead than now + the
 * maximum (or whose `exp - iat` is longer) is UNAUTHENTICATED at the gateway,
 * in every subgraph and on graphql-ws connects, which share lib/auth.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignJWT } from "jose";
import WebSocket from "ws";
import { createTokenVerifier } from "../../lib/auth.js";
import { loadConfig } from "../../lib/config.js";
import { startGraph, type TestGraph } from "../support/graph.js";

const DEVICES = /* GraphQL */ `query { devices(first: 1) { totalCount } }`;
/** 5000-01-01T00:00:00Z. */
const YEAR_5000 = 95_617_584_000;

/** A graphql-ws connect: `ack`, or the close code and reason. */
function connect(url: string, token: string): Promise<"ack" | { code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, "ws"), "graphql-transport-ws");
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
    socket.on("message", (data) => {
      if (JSON.parse(String(data)).type === "connection_ack") {
        resolve("ack");
        socket.close();
      }
    });
    socket.on("close", (code, reason) => resolve({ code, reason: String(reason) }));
    socket.on("error", reject);
  });
}

describe("maximum token lifetime", () => {
  let graph: TestGraph;
  const lifetime = (seconds: number) => graph.token({ tenantId: "lifetime", role: "admin", expiresIn: seconds });
  const untilYear5000 = () => lifetime(YEAR_5000 - Math.floor(Date.now() / 1000));

  beforeAll(async () => {
    graph = await startGraph({ env: { MTD_JWT_MAX_LIFETIME: "2h" } });
  });
  afterAll(() => graph?.stop());

  it("refuses a token valid until the year 5000 over HTTP at the gateway and at a subgraph", async () => {
    const token = await untilYear5000();
    for (const url of [graph.gatewayUrl, graph.subgraphs.devices!.url, graph.subgraphs.threats!.url]) {
      const result = await graph.query(token, DEVICES, {}, url);
      expect(result.errors?.[0]?.extensions?.code, url).toBe("UNAUTHENTICATED");
      expect(result.errors![0]!.message).toMatch(/MTD_JWT_MAX_LIFETIME/);
      expect(result.data ?? null).toBeNull();
    }
  });

  it("honours the setting: 1h accepted, 3h refused", async () => {
    const hour = await graph.query(await lifetime(3600), DEVICES);
    expect(hour.errors).toBeUndefined();
    expect(hour.data).toEqual({ devices: { totalCount: 0 } });
    const threeHours = await graph.query(await lifetime(3 * 3600), DEVICES);
    expect(threeHours.errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
  });

  it("refuses it on graphql-ws connects, at the gateway and at a subgraph", async () => {
    const token = await untilYear5000();
    for (const url of [graph.gatewayUrl, graph.subgraphs.policies!.url]) {
      const closed = await connect(url, token);
      expect(closed, url).toMatchObject({ code: 4403 });
      expect((closed as { reason: string }).reason).toMatch(/MTD_JWT_MAX_LIFETIME/);
    }
    expect(await connect(graph.gatewayUrl, await lifetime(3600))).toBe("ack");
  });
});

describe("MTD_JWT_MAX_LIFETIME", () => {
  const secret = "a-test-secret-that-is-at-least-32-characters";

  it("defaults to 24h and is a duration from 1m to 30d", () => {
    expect(loadConfig({}).auth.maxLifetimeMs).toBe(86_400_000);
    expect(loadConfig({ MTD_JWT_MAX_LIFETIME: "15m" }).auth.maxLifetimeMs).toBe(900_000);
    for (const bad of ["forever", "10s", "31d"]) {
      expect(() => loadConfig({ MTD_JWT_MAX_LIFETIME: bad }), bad).toThrow(/MTD_JWT_MAX_LIFETIME must be a duration/);
    }
  });

  it("by default accepts 23h and refuses 25h, also when exp - iat is longer than that but exp is close", async () => {
    const verify = createTokenVerifier({ secret, maxLifetimeMs: loadConfig({}).auth.maxLifetimeMs });
    const now = Math.floor(Date.now() / 1000);
    const sign = (iat: number, exp: number) =>
      new SignJWT({ tid: "t1", role: "admin" }).setProtectedHeader({ alg: "HS256" }).setSubject("u").setIssuedAt(iat).setExpirationTime(exp).sign(new TextEncoder().encode(secret));
    await expect(verify(`Bearer ${await sign(now, now + 23 * 3600)}`)).resolves.toMatchObject({ tenantId: "t1" });
    await expect(verify(`Bearer ${await sign(now, now + 25 * 3600)}`)).rejects.toMatchObject({ extensions: { code: "UNAUTHENTICATED" } });
    // Minted for 48 hours, 30 hours ago: 18 hours left, still refused.
    await expect(verify(`Bearer ${await sign(now - 30 * 3600, now + 18 * 3600)}`)).rejects.toMatchObject({ extensions: { code: "UNAUTHENTICATED" } });
  });
});
