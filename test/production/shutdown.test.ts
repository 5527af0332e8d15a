/**
 * Graceful shutdown of real processes (`node --import tsx bin/start.ts`):
 * SIGTERM in the middle of a burst of `enrollDevice` mutations loses nothing
 * that was acknowledged (stored, and its event published), WebSocket clients
 * are told to reconnect elsewhere (1012), and the process exits 0.
 *
 * Phase 1 stops the gateway mid-burst (the devices subgraph keeps running),
 * phase 2 stops the devices subgraph mid-burst.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Sqlite from "better-sqlite3";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { signToken } from "../../lib/auth.js";
import { redisPrefix, REDIS_TEST_URL, requireService } from "../support/services.js";
import { deferred, waitFor } from "../support/wait.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const ENROLL = /* GraphQL */ `mutation Enroll($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`;

interface Child {
  process: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

function startProcess(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ["--import", "tsx", "bin/start.ts", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", LOG_LEVEL: "info", MTD_HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { process: child, output, exited };
}

/**
 * The URL the process logged as listening on (it was started with PORT=0, so
 * the OS picked a free port), once it is ready: no port picked in advance that
 * another test's server could take meanwhile.
 */
async function listening(child: Child): Promise<string> {
  let url: string | undefined;
  await waitFor(
    () => {
      if (child.process.exitCode !== null) throw new Error(`process exited early:\n${child.output.join("")}`);
      url = /"url":"(http:[^"]+)","msg":"[a-z ]*listening"/.exec(child.output.join(""))?.[1];
      return url !== undefined;
    },
    30_000,
    "listening",
  );
  const ready = await fetch(new URL("/health/ready", url));
  if (!ready.ok) throw new Error(`not ready: ${await ready.text()}`);
  return url!;
}

/**
 * `workers` clients enroll devices one after another until the server stops
 * answering; resolves `halfway` after `signalAfter` acknowledgements. Returns
 * the ids whose mutation was acknowledged.
 */
function burst(url: string, token: string, prefix: string, workers: number, signalAfter: number) {
  const acknowledged: string[] = [];
  const halfway = deferred();
  const refused: string[] = [];
  const run = async (worker: number) => {
    for (let n = 0; ; n++) {
      const id = `${prefix}-${worker}-${n}`;
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: ENROLL, variables: { input: { id, name: id, platform: "ANDROID", osVersion: "14", ownership: "CORPORATE" } } }),
        });
        const body = (await response.json()) as { data?: { enrollDevice?: { id: string } }; errors?: unknown[] };
        if (body.data?.enrollDevice?.id !== id) {
          refused.push(`${response.status} ${JSON.stringify(body.errors)}`);
          return;
        }
        acknowledged.push(id);
        if (acknowledged.length === signalAfter) halfway.resolve();
      } catch {
        return; // connection refused or reset: the server is gone
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, i) => run(i)));
  return { acknowledged, refused, halfway: halfway.promise, done };
}

const redisEnabled = requireService("redis");

describe.skipIf(!redisEnabled)("SIGTERM", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "mtd-sigterm-"));
  const redis = redisPrefix();
  const children: Child[] = [];
  afterAll(async () => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill("SIGKILL");
    await redis.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("mid-burst loses no acknowledged mutation and its event, closes WebSockets with 1012, and exits 0", { timeout: 120_000 }, async () => {
    const secret = randomBytes(32).toString("base64url");
    const common = { MTD_DATA_DIR: dataDir, MTD_JWT_SECRET: secret, REDIS_URL: REDIS_TEST_URL, MTD_REDIS_PREFIX: redis.prefix, MTD_SHUTDOWN_TIMEOUT_MS: "10000", PORT: "0" };
    const devices = startProcess(["subgraph", "devices"], common);
    children.push(devices);
    const devicesUrl = await listening(devices);
    const gateway = startProcess(["gateway"], { ...common, MTD_SUBGRAPH_DEVICES_URL: devicesUrl });
    children.push(gateway);
    const gatewayUrl = await listening(gateway);
    const token = await signToken(secret, { tenantId: "sigterm", role: "admin" });

    // A WebSocket client of the gateway: told to reconnect elsewhere.
    const socket = new WebSocket(gatewayUrl.replace(/^http/, "ws"), "graphql-transport-ws");
    const acked = deferred();
    const closed = deferred<number>();
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
    socket.on("message", (data) => (JSON.parse(String(data)).type === "connection_ack" ? acked.resolve() : undefined));
    socket.on("close", (code) => closed.resolve(code));
    await acked.promise;

    // Phase 1: the gateway goes away mid-burst.
    const throughGateway = burst(gatewayUrl, token, "gw", 8, 40);
    await throughGateway.halfway;
    gateway.process.kill("SIGTERM");
    await throughGateway.done;
    expect(await gateway.exited).toBe(0);
    expect(await closed.promise).toBe(1012);
    expect(gateway.output.join("")).toMatch(/"msg":"shut down"/);

    // Phase 2: the devices subgraph goes away mid-burst.
    const direct = burst(devicesUrl, token, "sg", 8, 40);
    await direct.halfway;
    devices.process.kill("SIGTERM");
    await direct.done;
    expect(await devices.exited).toBe(0);
    expect(devices.output.join("")).toMatch(/"clean":true,"msg":"shut down"|"msg":"shut down".*"clean":true/);

    const acknowledged = [...throughGateway.acknowledged, ...direct.acknowledged];
    expect(throughGateway.acknowledged.length).toBeGreaterThanOrEqual(40);
    expect(direct.acknowledged.length).toBeGreaterThanOrEqual(40);
    expect([...throughGateway.refused, ...direct.refused]).toEqual([]);

    // Every acknowledged device is stored, and its outbox row published…
    const db = new Sqlite(join(dataDir, "devices.sqlite"), { readonly: true });
    try {
      const stored = new Set((db.prepare("SELECT id FROM devices WHERE tenant_id = ?").all("sigterm") as { id: string }[]).map((row) => row.id));
      expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
      const unpublished = db.prepare("SELECT COUNT(*) AS n FROM devices_outbox WHERE published_at IS NULL").get() as { n: number };
      expect(unpublished.n).toBe(0);
    } finally {
      db.close();
    }
    // …and its event is in the event log.
    const client = new Redis(REDIS_TEST_URL);
    try {
      const entries = await client.xrange(`${redis.prefix}:events:devices`, "-", "+");
      const enrolled = new Set(
        entries.map(([, fields]) => JSON.parse(fields[fields.indexOf("e") + 1]!) as { type: string; aggregateId: string }).filter((e) => e.type === "device.enrolled").map((e) => e.aggregateId),
      );
      expect(acknowledged.filter((id) => !enrolled.has(id))).toEqual([]);
    } finally {
      client.disconnect();
    }
  });
});
