/**
 * The threats subgraph's report lanes (subgraphs/threats/report-lanes.ts): a
 * tenant's bulk batches take turns, a report on one device goes ahead of
 * queued bulk work, and a device's later work never starts before its
 * earlier work ends, whichever lane each is in.
 */
import { describe, expect, it } from "vitest";
import { ReportLanes } from "../../subgraphs/threats/report-lanes.js";

/** Work that runs until `finish()`, recording when it starts and ends. */
function held(log: string[], name: string) {
  let finish!: () => void;
  const gate = new Promise<void>((resolve) => (finish = resolve));
  return {
    finish,
    work: async () => {
      log.push(`${name} started`);
      await gate;
      log.push(`${name} ended`);
      return name;
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("report lanes", () => {
  it("bulk batches of a tenant take turns; an urgent report on another device goes ahead of the queued one", async () => {
    const lanes = new ReportLanes();
    const log: string[] = [];
    const a = held(log, "bulk A");
    const b = held(log, "bulk B");
    const u = held(log, "urgent z");
    const running = [lanes.run("t", ["x", "y"], a.work), lanes.run("t", ["v", "w"], b.work), lanes.run("t", ["z"], u.work)];
    await settle();
    expect([...log].sort()).toEqual(["bulk A started", "urgent z started"]);
    u.finish();
    await settle();
    a.finish();
    await settle();
    b.finish();
    expect(await Promise.all(running)).toEqual(["bulk A", "bulk B", "urgent z"]);
    expect(log.slice(2)).toEqual(["urgent z ended", "bulk A ended", "bulk B started", "bulk B ended"]);
  });

  it("an urgent report on a device of a queued or running bulk batch waits for it; later bulk work on a device waits for its urgent report", async () => {
    const lanes = new ReportLanes();
    const log: string[] = [];
    const a = held(log, "bulk A");
    const b = held(log, "bulk B");
    const ux = held(log, "urgent x");
    const uw = held(log, "urgent w");
    const c = held(log, "bulk C");
    const running = [lanes.run("t", ["x", "y"], a.work), lanes.run("t", ["w"], uw.work), lanes.run("t", ["v", "w"], b.work), lanes.run("t", ["x"], ux.work)];
    await settle();
    // urgent w is first on w: it runs; bulk B waits for A (its lane) and for urgent w (its device).
    expect([...log].sort()).toEqual(["bulk A started", "urgent w started"]);
    a.finish();
    await settle();
    // urgent x waited for A, which named x; B still waits for urgent w.
    expect(log.slice(2)).toEqual(["bulk A ended", "urgent x started"]);
    running.push(lanes.run("t", ["x", "q"], c.work));
    uw.finish();
    await settle();
    expect(log.slice(4)).toEqual(["urgent w ended", "bulk B started"]);
    b.finish();
    await settle();
    // C waits for urgent x (its device), even though the bulk lane is free.
    expect(log.slice(6)).toEqual(["bulk B ended"]);
    ux.finish();
    await settle();
    c.finish();
    await Promise.all(running);
    expect(log.slice(7)).toEqual(["urgent x ended", "bulk C started", "bulk C ended"]);
  });

  it("a failure is the caller's alone: the work after it still runs; tenants have lanes of their own", async () => {
    const lanes = new ReportLanes();
    const log: string[] = [];
    const a = held(log, "bulk A");
    const failing = lanes.run("t", ["x", "y"], async () => {
      throw new Error("deadlock");
    });
    const other = lanes.run("u", ["x", "y"], a.work);
    const next = lanes.run("t", ["x", "y"], async () => "next");
    await expect(failing).rejects.toThrow("deadlock");
    expect(await next).toBe("next");
    await settle();
    expect(log).toEqual(["bulk A started"]);
    a.finish();
    expect(await other).toBe("bulk A");
  });
});
