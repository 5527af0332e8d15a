/**
 * `--import`ed by the bench's "ours-async-context" peer: our gateway with tracing
 * off but one AsyncLocalStorage enabled, as the tracing SDK's context manager
 * enables it. On Node 20 that turns on async hooks for every promise in the
 * process, so this peer measures what context propagation alone costs, with
 * no span made.
 */
import { AsyncLocalStorage } from "node:async_hooks";

new AsyncLocalStorage().enterWith({});
