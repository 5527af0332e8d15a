/**
 * The byte bound of one client: a WebSocket connection with every
 * subscription on it, or one SSE / multipart response. What the gateway holds
 * for it, the results executed and not yet written (the characters of their
 * JSON, the size of the frame they become) plus what its transport has
 * buffered unsent (`socket.bufferedAmount`, `response.writableLength`), stays
 * at most `max` bytes (`MTD_WS_MAX_QUEUED_BYTES`). Events not yet executed
 * are bounded by count (`MTD_WS_MAX_QUEUED_EVENTS` per subscription): they
 * are shared by every subscriber of their upstream subscription, and a replay
 * arrives as a burst a reading client drains, so their bytes are not counted.
 *
 * The events bound (`MTD_WS_MAX_QUEUED_EVENTS`) counts events per
 * subscription; this one counts bytes over the whole client, so that many
 * subscriptions on one socket that stopped reading cannot hold their sum.
 * Past it the client is closed as too slow, like an events overflow (4290,
 * SLOW_CONSUMER with the resume hint). Results executed ahead count too (up
 * to 4 per subscription, stream.ts), so the bound must cover a client's
 * subscriptions × 4 × a large result. A result alone is always let through
 * when nothing else is held or buffered: a client that reads is never closed
 * for one large result.
 */
import type { ExecutionResult } from "graphql";
import { metrics } from "../../lib/metrics.js";
import type { Transport } from "./protocol.js";
import { payloadOf } from "./frames.js";

/** A result's size until written: the characters of its JSON, which its frame carries (serialised once, frames.ts). */
export function resultBytes(result: ExecutionResult): number {
  return payloadOf(result).length;
}

export class ClientBytes {
  private held = 0;
  /** Past the bound once: the client is being closed, every stream of it refuses from now on. */
  private exceeded = false;

  constructor(
    private readonly max: number,
    /** Bytes the transport has taken and not yet sent. */
    private readonly buffered: () => number,
    private readonly transport: Transport,
  ) {}

  /** Holds `bytes` of a result not yet written; false, nothing held, when that would exceed the bound. */
  hold(bytes: number): boolean {
    if (this.exceeded) return false;
    const before = this.held + this.buffered();
    if (before > 0 && before + bytes > this.max) {
      this.exceeded = true;
      metrics.slowConsumerBytes.observe({ service: "gateway", transport: this.transport }, before + bytes);
      return false;
    }
    this.held += bytes;
    return true;
  }

  /** What `hold` took is written (the transport's bytes now) or dropped. */
  release(bytes: number): void {
    this.held -= bytes;
  }
}
