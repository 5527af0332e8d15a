/**
 * graphql-js's `subscribe`, plus trace context on each event: when a source
 * event carries the `traceparent` of the log event it came from
 * (`carryTrace`), the event is executed in a span continuing that trace and
 * the `next` payload's `extensions.traceparent` names that span, so the
 * gateway continues the same trace for its execution and delivery. With
 * tracing off the subgraph's graphql-ws server uses graphql-js's `subscribe`.
 */
import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from "graphql";
import { carriedTrace, continueFrom, currentTraceparent } from "../lib/tracing.js";

export async function tracedSubscribe(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source;
  const events = source[Symbol.asyncIterator]();
  const field = args.operationName ?? "subscription";
  async function* results(): AsyncGenerator<ExecutionResult> {
    try {
      for (;;) {
        const next = await events.next();
        if (next.done === true) return;
        const payload: unknown = next.value;
        const carried = carriedTrace(payload);
        if (carried === undefined) {
          yield await execute({ ...args, rootValue: payload }); // a replayed change: no trace to continue
          continue;
        }
        yield await continueFrom(carried, `subscription event ${field}`, {}, async () => {
          const result = await execute({ ...args, rootValue: payload });
          const traceparent = currentTraceparent();
          return traceparent === undefined ? result : { ...result, extensions: { ...result.extensions, traceparent } };
        });
      }
    } finally {
      await events.return?.();
    }
  }
  return results();
}
