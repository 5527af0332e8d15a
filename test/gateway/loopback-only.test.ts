/**
 * The gateway talks to its subgraphs and nothing else: @apollo/gateway would
 * otherwise report usage to Apollo and, to describe the host, probe the cloud
 * metadata endpoints (169.254.169.254, …) as it starts and stops. Every
 * outgoing connection made by a whole graph's start, a query, a subscription
 * and its stop is recorded here and must go to a loopback address.
 */
import { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGraph } from "../support/graph.js";
import { Subscriber, Tenant } from "./subscriptions-helpers.js";

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/;

describe("outgoing connections of a running graph", () => {
  const targets: string[] = [];
  const connect = Socket.prototype.connect;

  beforeAll(() => {
    Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
      const [first] = args;
      if (typeof first === "object" && first !== null && !("path" in first && (first as { path?: string }).path)) {
        targets.push(String((first as { host?: string }).host ?? "localhost"));
      }
      return (connect as (...a: unknown[]) => Socket).apply(this, args);
    } as typeof connect;
  });
  afterAll(() => {
    Socket.prototype.connect = connect;
  });

  it("go to loopback addresses only, from start to stop", async () => {
    const graph = await startGraph();
    try {
      const tenant = await Tenant.create("loopback", graph.query, graph.token);
      const after = await tenant.baseline("l-1");
      const client = new Subscriber(graph.gatewayUrl, tenant.enforcement);
      const stream = client.subscribe(`subscription($after: String) { accessChanged(after: $after) { resource device { name } } }`, { after });
      await tenant.restore("l-1");
      await stream.count(2);
      await client.dispose();
    } finally {
      await graph.stop();
    }
    // Let anything started by the stop (an exporter's last flush) try to connect.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(targets.length).toBeGreaterThan(0);
    expect(targets.filter((host) => !LOOPBACK.test(host))).toEqual([]);
  });
});
