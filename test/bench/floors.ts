/**
 * Floors for benchmarks, measured on the same machine in the same run as what
 * they bound:
 * - `multiRowInsertFloor`: rows/s of ~200-byte rows written with multi-row
 *   INSERTs (500 rows each) from one connection into a scratch table of a
 *   fresh MariaDB database: what the database does with bulk writes and no
 *   application at all;
 * - `postRedisWsFloor`: the bare path of an event, an HTTP POST answered after
 *   an XADD to a Redis stream, a blocking XREAD on another connection, a `ws`
 *   frame to one client: the latency no report → access change can beat.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { createConnection } from "mysql2/promise";
import WebSocket, { WebSocketServer } from "ws";
import { createMysqlDatabase, redisPrefix, REDIS_TEST_URL } from "../support/services.js";
import { percentile } from "./peers.js";

const INSERT_ROWS = 500;

/** Rows/s inserting `rows` rows shaped like access changes (tenant, sequence, device, resource, allowed, reason, at). */
export async function multiRowInsertFloor(rows: number): Promise<number> {
  const database = await createMysqlDatabase();
  const connection = await createConnection(database.url);
  try {
    await connection.query(
      "CREATE TABLE scratch (tenant_id VARCHAR(64) NOT NULL, sequence BIGINT NOT NULL, device_id VARCHAR(128) NOT NULL, resource VARCHAR(128) NOT NULL, allowed BOOLEAN NOT NULL, reason VARCHAR(512) NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (tenant_id, sequence))",
    );
    const reason = 'noncompliant: risk MEDIUM from LOOKOUT exceeds IOS policy maximum LOW (required by conditional-access policy "needs compliance")';
    const start = performance.now();
    for (let from = 0; from < rows; from += INSERT_ROWS) {
      const values = Array.from({ length: Math.min(INSERT_ROWS, rows - from) }, (_, i) => ["floor", from + i + 1, `b-${String(from + i).padStart(6, "0")}`, i % 2 === 0 ? "exchange" : "sharepoint", false, reason, Date.now()]);
      await connection.query("INSERT INTO scratch (tenant_id, sequence, device_id, resource, allowed, reason, at) VALUES ?", [values]);
    }
    return rows / ((performance.now() - start) / 1000);
  } finally {
    await connection.end();
    await database.drop();
  }
}

/** p50/p99 (ms) of POST → XADD → XREAD → ws frame, `samples` times at `perSecond`. */
export async function postRedisWsFloor(samples: number, perSecond: number): Promise<{ p50: number; p99: number }> {
  const { prefix, cleanup } = redisPrefix();
  const key = `${prefix}:floor`;
  const writer = new Redis(REDIS_TEST_URL);
  const reader = new Redis(REDIS_TEST_URL);
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      void writer.xadd(key, "*", "e", Buffer.concat(chunks).toString("utf8")).then(() => response.end("{}"));
    });
  });
  const wss = new WebSocketServer({ server });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  let running = true;
  const relay = (async () => {
    let last = "$";
    while (running) {
      const reply = (await reader.xread("BLOCK", 500, "STREAMS", key, last)) as [string, [string, string[]][]][] | null;
      for (const [id, fields] of reply?.[0]?.[1] ?? []) {
        last = id;
        for (const client of wss.clients) client.send(fields[1]!);
      }
    }
  })();
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((resolve) => client.once("open", resolve));
  const sent = new Map<number, number>();
  const latencies: number[] = [];
  client.on("message", (data) => {
    const { n } = JSON.parse(String(data)) as { n: number };
    latencies.push(performance.now() - sent.get(n)!);
  });
  try {
    const start = performance.now();
    for (let n = 0; n < samples; n++) {
      const wait = start + (n * 1000) / perSecond - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      sent.set(n, performance.now());
      void fetch(`http://127.0.0.1:${port}/`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n, deviceId: `u-${n}`, resource: "exchange", allowed: false }) });
    }
    const deadline = performance.now() + 10_000;
    while (latencies.length < samples && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    latencies.sort((a, b) => a - b);
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  } finally {
    running = false;
    client.close();
    await relay;
    for (const socket of wss.clients) socket.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await writer.del(key);
    writer.disconnect();
    reader.disconnect();
    await cleanup();
  }
}
