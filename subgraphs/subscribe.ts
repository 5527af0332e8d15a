/**
 * graphql-js's `subscribe` (the source stream, each event executed with it as
 * the root value), plus two things graphql-js cannot do:
 * - Head markers (lib/resumable.ts): a resumable field's stream may yield a
 *   head marker before its first event; it becomes a data-less `next`
 *   carrying the head cursor for a client that asked for it (`wantsHead`), and
 *   is skipped for any other.
 * - Trace context, with tracing on: when a source event carries the
 *   `traceparent` of the log event it came from (`carryTrace`), the event is
 *   executed in a span continuing that trace and the `next` payload's
 *   `extensions.traceparent` names that span, so the gateway continues the
 *   same trace for its execution and delivery.
 */
import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from "graphql";
import { headResult, markedHead } from "../lib/resumable.js";
import { carriedTrace, continueFrom, currentTraceparent } from "../lib/tracing.js";

export interface SubscribeOptions {
  /** Continue each event's trace (tracing on). */
  traced: boolean;
  /** Whether the client of this operation asked for the head marker. */
  wantsHead(args: ExecutionArgs): boolean;
}

export function subscriber({ traced, wantsHead }: SubscribeOptions): (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  return async (args) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const events = source[Symbol.asyncIterator]();
    const field = args.operationName ?? "subscription";
    const heads = wantsHead(args);
    const run = async (payload: unknown): Promise<ExecutionResult> => {
      const carried = traced ? carriedTrace(payload) : undefined;
      if (carried === undefined) return execute({ ...args, rootValue: payload }); // tracing off, or a replayed change: no trace to continue
      return continueFrom(carried, `subscription event ${field}`, {}, async () => {
        const result = await execute({ ...args, rootValue: payload });
        const traceparent = currentTraceparent();
        return traceparent === undefined ? result : { ...result, extensions: { ...result.extensions, traceparent } };
      });
    };
    // Not an async generator: a generator's `return()` waits for the `next()` in
    // progress, which waits for the next event, so a client's `complete` would
    // end the subscription only when one more event came. `return()` here ends
    // the source at once.
    const results: AsyncIterableIterator<ExecutionResult> = {
      async next() {
        for (;;) {
          const next = await events.next();
          if (next.done === true) return { done: true, value: undefined };
          const head = markedHead(next.value);
          if (head === undefined) return { done: false, value: await run(next.value) };
          if (heads) return { done: false, value: headResult(head) };
        }
      },
      async return() {
        await events.return?.();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return results;
  };
}
