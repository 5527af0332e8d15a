import { getEventListeners } from "node:events";
import { afterEach, describe, expect, it, vi } from "vitest";
import { abortable, callAt, waitUntil } from "../../lib/async.js";

describe("callAt", () => {
  afterEach(() => vi.useRealTimers());

  it("waits past Node's 24.8-day timer limit instead of firing at once", () => {
    vi.useFakeTimers();
    const day = 24 * 3600_000;
    const fired: number[] = [];
    callAt(Date.now() + 30 * day, () => fired.push(Date.now()));
    vi.advanceTimersByTime(25 * day);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(5 * day);
    expect(fired).toHaveLength(1);
  });

  it("fires at once for a time in the past, and not at all once cancelled", () => {
    vi.useFakeTimers();
    const past = vi.fn();
    callAt(Date.now() - 1000, past);
    vi.advanceTimersByTime(0);
    expect(past).toHaveBeenCalledOnce();
    const cancelled = vi.fn();
    callAt(Date.now() + 1000, cancelled)();
    vi.advanceTimersByTime(2000);
    expect(cancelled).not.toHaveBeenCalled();
  });
});

describe("abortable", () => {
  it("return() ends a generator waiting for an event and runs its finally block", async () => {
    let cleanedUp = false;
    const iterator = abortable(async function* (signal) {
      try {
        yield 1;
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
        yield 2;
      } finally {
        cleanedUp = true;
      }
    });
    expect(await iterator.next()).toEqual({ value: 1, done: false });
    const pending = iterator.next();
    await iterator.return(undefined);
    expect(cleanedUp).toBe(true);
    // The pending next() settles (with what the generator yielded on its way out) instead of hanging.
    await expect(pending).resolves.toBeDefined();
  });
});

describe("waitUntil", () => {
  it("takes its listener off the signal when woken, so a subscription's waits leave nothing behind; an abort still ends a wait", async () => {
    const controller = new AbortController();
    for (let i = 0; i < 1000; i++) await waitUntil(controller.signal, (wake) => queueMicrotask(wake));
    // Before: one abort listener (with its closure and promise) kept per wait until the subscription ended.
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    const waiting = waitUntil(controller.signal, () => {});
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    controller.abort();
    await waiting;
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});
