/**
 * Subscriptions are async generators that wait for events. An async
 * generator suspended at an `await` ignores `return()` until it next yields,
 * so an unsubscribed client would hold its listeners until the next event.
 * `abortable` hands the generator an AbortSignal that `return()` aborts first,
 * so waits can end at once and `finally` blocks run.
 */
export function abortable<T>(make: (signal: AbortSignal) => AsyncGenerator<T>): AsyncGenerator<T> {
  const controller = new AbortController();
  const generator = make(controller.signal);
  const iterator: AsyncGenerator<T> = {
    next: (...args) => generator.next(...args),
    return: (value) => {
      controller.abort();
      return generator.return(value);
    },
    throw: (error) => {
      controller.abort();
      return generator.throw(error);
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

/**
 * Resolves when `wake` is called or `signal` aborts, whichever comes first.
 * Woken, it takes its listener off the signal: a subscription's signal lives
 * as long as the subscription and sees a wait per event.
 */
export function waitUntil(signal: AbortSignal, register: (wake: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    signal.addEventListener("abort", done, { once: true });
    register(done);
  });
}

/** Node timers overflow past 2^31 - 1 ms (24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `callback` at `epochMs` (at once if that has passed), however far
 * away it is: long waits are chained in steps Node's timers can hold. The
 * timer does not keep the process alive. Returns a cancel function.
 */
export function callAt(epochMs: number, callback: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const remaining = epochMs - Date.now();
    timer = setTimeout(() => (remaining > MAX_TIMER_MS ? arm() : callback()), Math.max(0, Math.min(remaining, MAX_TIMER_MS)));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}

/** Waits for `promise` at most `ms`: true when it settled in time (its rejection included), false when the deadline passed first. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true, () => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** `run` one call at a time: a call while one is in progress gets that call's promise. `current()`: the call in progress, if any. */
export function singleFlight<T>(run: () => Promise<T>): (() => Promise<T>) & { current(): Promise<T> | undefined } {
  let running: Promise<T> | undefined;
  const call = () =>
    (running ??= run().finally(() => {
      running = undefined;
    }));
  return Object.assign(call, { current: () => running });
}

/** `run` at most once: every call gets the first call's promise (an idempotent teardown). */
export function once<T>(run: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= run());
}
