/**
 * One client subscription: the async iterator graphql-ws reads from, fed by
 * an upstream subscription. Events are executed a few ahead (entity fetches
 * overlap with sending) but delivered strictly in event order. The queue is
 * bounded: a client that falls more than `maxQueued` events behind, or whose
 * results waiting plus its transport's buffer exceed its byte bound
 * (`bytes`, shared by every stream of the client), is not skipped but closed
 * (`onOverflow`), and told to resume from its last cursor.
 */
import type { ExecutionResult, GraphQLError } from "graphql";
import { resultBytes, type ClientBytes } from "./client-bytes.js";
import { SubscriptionFailure, toGraphQLError } from "./protocol.js";
import type { UpstreamEvent, UpstreamListener } from "./upstream.js";

export interface ClientStreamOptions {
  /** Events waiting for this client before it counts as too slow. */
  maxQueued: number;
  /** The client's byte bound: each executed result is held in it until written. */
  bytes?: ClientBytes;
  execute(event: UpstreamEvent): Promise<ExecutionResult>;
  /** Where the stream starts, for a resumable field (`UpstreamListener.startsAfter`). */
  startsAfter?(cursor: string): void;
  /** The queue overflowed when `event` came (or its result was held): close the client's connection. */
  onOverflow(event: UpstreamEvent): void;
  /** Called once when the stream ends, however it ends. */
  onEnd(): void;
  /** Events executed ahead of the one being delivered. Default 4. */
  lookahead?: number;
  /**
   * Writes a result to the client itself (one pre-serialised frame shared by
   * every subscriber of its group); returns a promise when the next write must
   * wait for this one (the socket is backed up). The iterator then yields no
   * values, only its end. Without it, results are yielded for graphql-ws to
   * serialise and send.
   */
  deliver?(result: ExecutionResult, event: UpstreamEvent): Promise<void> | void;
}

interface Queued {
  event: UpstreamEvent;
  result?: Promise<ExecutionResult>;
  /** Bytes held in the client's bound for this result, until it is written or dropped. */
  held?: number;
}

type Ending = { errors?: readonly GraphQLError[] };

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

export class ClientStream implements AsyncGenerator<ExecutionResult, undefined>, UpstreamListener {
  private queue: Queued[] = [];
  private ending: Ending | undefined;
  private finished = false;
  private wake: (() => void) | undefined;
  private readonly ended: Promise<void>;
  private markEnded!: () => void;

  constructor(private readonly options: ClientStreamOptions) {
    this.ended = new Promise((resolve) => (this.markEnded = resolve));
  }

  /** Resolves once the stream has ended. */
  get done(): Promise<void> {
    return this.ended;
  }

  // UpstreamListener

  startsAfter(cursor: string): void {
    this.options.startsAfter?.(cursor);
  }

  event(event: UpstreamEvent): void {
    if (this.finished || this.ending !== undefined) return;
    this.queue.push({ event });
    if (this.queue.length > this.options.maxQueued) return this.overflow(event);
    this.pump();
    this.signal();
  }

  error(errors: readonly GraphQLError[]): void {
    this.ending ??= { errors };
    this.signal();
  }

  complete(): void {
    this.ending ??= {};
    this.signal();
  }

  /** Ends the stream with `errors` at once, dropping what is still queued. */
  fail(errors: readonly GraphQLError[]): void {
    if (this.finished) return;
    this.drop();
    this.ending = { errors };
    this.signal();
  }

  // AsyncGenerator

  async next(): Promise<IteratorResult<ExecutionResult, undefined>> {
    for (;;) {
      if (this.finished) return DONE;
      const head = this.queue[0];
      if (head !== undefined) {
        head.result ??= this.run(head);
        const result = await head.result;
        if (this.finished) return DONE;
        if (this.queue[0] === head) this.queue.shift();
        this.pump();
        if (this.options.deliver === undefined) {
          this.release(head);
          return { done: false, value: result };
        }
        const written = this.options.deliver(result, head.event);
        // Written: its bytes are in the transport's buffer now, which the bound reads itself.
        this.release(head);
        if (written !== undefined) await written;
        continue;
      }
      if (this.ending !== undefined) {
        const { errors } = this.ending;
        this.finish();
        if (errors !== undefined && errors.length > 0) throw new SubscriptionFailure(errors);
        return DONE;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async return(): Promise<IteratorResult<ExecutionResult, undefined>> {
    this.finish();
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult, undefined>> {
    this.finish();
    throw error;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  private async run(queued: Queued): Promise<ExecutionResult> {
    const result = await this.options.execute(queued.event).catch((error: unknown): ExecutionResult => ({ data: null, errors: [toGraphQLError(error)] }));
    // Held only while it is still queued (a failed or finished stream dropped it).
    if (this.options.bytes !== undefined && this.queue.includes(queued) && !this.hold(queued, resultBytes(result))) this.overflow(queued.event);
    return result;
  }

  /** Starts executing the first `lookahead` queued events. */
  private pump() {
    const ahead = Math.min(this.queue.length, this.options.lookahead ?? 4);
    for (let i = 0; i < ahead; i++) this.queue[i]!.result ??= this.run(this.queue[i]!);
  }

  private overflow(event: UpstreamEvent) {
    if (this.finished) return;
    this.finish();
    this.options.onOverflow(event);
  }

  private hold(queued: Queued, bytes: number): boolean {
    const { bytes: bound } = this.options;
    if (bound === undefined) return true;
    if (!bound.hold(bytes)) return false;
    queued.held = bytes;
    return true;
  }

  private release(queued: Queued) {
    if (queued.held !== undefined) this.options.bytes?.release(queued.held);
    queued.held = undefined;
  }

  /** Empties the queue, releasing what its results held. */
  private drop() {
    for (const queued of this.queue) this.release(queued);
    this.queue = [];
  }

  private signal() {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private finish() {
    if (this.finished) return;
    this.finished = true;
    this.drop();
    this.signal();
    this.options.onEnd();
    this.markEnded();
  }
}
