import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSubgraphFetcher, OPERATION_HEADER } from "../../gateway/subgraph-http.js";
import { waitFor } from "../support/wait.js";

describe("subgraph HTTP fetcher", () => {
  let server: Server;
  let url: string;
  const received: { headers: Record<string, unknown>; body: string }[] = [];
  let release: (() => void)[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
        // Answers when the test says so: requests overlap for as long as it wants.
        release.push(() => {
          response.writeHead(200, { "content-type": "application/json", "cache-control": "private" });
          response.end(JSON.stringify({ data: { n: received.length } }));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const until = (count: number) => waitFor(() => received.length >= count, 5000, `${count} requests at the subgraph`);
  const answerAll = () => {
    for (const answer of release) answer();
    release = [];
  };
  /** A fetch of a query's plan (shareable, retryable) or, with `operation`, of another kind's. */
  const init = (authorization: string, operation: string, body = `{"query":"{ n }"}`) => ({
    method: "POST",
    headers: { "content-type": "application/json", authorization, [OPERATION_HEADER]: operation },
    body,
  });

  it("sends overlapping identical shareable fetches once; each caller gets its own copy", async () => {
    received.length = 0;
    const fetcher = createSubgraphFetcher();
    const pending = [fetcher(url, init("Bearer a", "query")), fetcher(url, init("Bearer a", "query")), fetcher(url, init("Bearer a", "query"))];
    await until(1);
    // A quiet window, not a wait for an outcome: a second copy sent despite sharing would arrive in it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    answerAll();
    const responses = await Promise.all(pending);
    expect(received).toHaveLength(1);
    expect(received[0]!.headers[OPERATION_HEADER]).toBeUndefined();
    expect(received[0]!.headers.authorization).toBe("Bearer a");
    const bodies = (await Promise.all(responses.map((response) => response.json()))) as { data: { n: number } }[];
    expect(bodies.map((body) => body.data.n)).toEqual([1, 1, 1]);
    expect(bodies[0]).not.toBe(bodies[1]);
    expect(responses[0]!.headers.get("Content-Type")).toBe("application/json");
    expect(responses[0]!.headers.get("cache-control")).toBe("private");
  });

  it("never shares across tokens, bodies, or fetches of anything but a query", async () => {
    received.length = 0;
    const fetcher = createSubgraphFetcher();
    const pending = [
      fetcher(url, init("Bearer a", "query")),
      fetcher(url, init("Bearer b", "query")),
      fetcher(url, init("Bearer a", "query", `{"query":"{ m }"}`)),
      fetcher(url, init("Bearer a", "mutation")),
      fetcher(url, init("Bearer a", "mutation")),
      fetcher(url, init("Bearer a", "subscription")),
      fetcher(url, init("Bearer a", "subscription")),
    ];
    await until(7);
    answerAll();
    await Promise.all(pending);
    expect(received).toHaveLength(7);
  });

  it("does not share with a fetch that already finished", async () => {
    received.length = 0;
    const fetcher = createSubgraphFetcher();
    const first = fetcher(url, init("Bearer a", "query"));
    await until(1);
    answerAll();
    await first;
    const second = fetcher(url, init("Bearer a", "query"));
    await until(2);
    answerAll();
    expect(((await (await second).json()) as { data: { n: number } }).data.n).toBe(2);
  });

  it("sends a fetch again on a new connection when the pooled one it reused was closed before answering, but never a mutation's", async () => {
    // A subgraph that answers the first request of each connection (keep-alive) and drops the connection when a second
    // one arrives on it, unanswered: what a keep-alive timeout firing just as the gateway reuses the connection does.
    const connections: Socket[] = [];
    let requests = 0;
    const dropping = createTcpServer((socket) => {
      connections.push(socket);
      let served = 0;
      socket.on("data", (chunk) => {
        for (const _ of chunk.toString("latin1").matchAll(/\r\n\r\n\{"query"/g)) {
          requests += 1;
          served += 1;
          if (served > 1) return void socket.destroy();
          const body = JSON.stringify({ data: { n: requests } });
          socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: keep-alive\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
        }
      });
    });
    await new Promise<void>((resolve) => dropping.listen(0, "127.0.0.1", resolve));
    const target = `http://127.0.0.1:${(dropping.address() as AddressInfo).port}/graphql`;
    try {
      const fetcher = createSubgraphFetcher();
      await (await fetcher(target, init("Bearer a", "subscription"))).json();
      // The same pooled connection is reused, dropped unanswered, and the fetch goes out again on a new one.
      const again = await fetcher(target, init("Bearer a", "subscription"));
      expect(((await again.json()) as { data: { n: number } }).data.n).toBe(3);
      expect(connections).toHaveLength(2);
      // A mutation's fetch reaching the same fate fails: it is never sent twice.
      await expect(fetcher(target, init("Bearer a", "mutation"))).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(requests).toBe(4);
    } finally {
      for (const socket of connections) socket.destroy();
      await new Promise<void>((resolve) => dropping.close(() => resolve()));
    }
  });
});
