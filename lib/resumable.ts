/**
 * The head marker of the resumable spec (`@resumable`, see
 * gateway/subscriptions/planner.ts), shared by the gateway and the subgraphs.
 *
 * A client of a subgraph (the gateway) that subscribes to a resumable field
 * without its resume argument can ask where the live stream starts: it sends
 * `extensions: { resumableHead: true }` with the `subscribe` message, and the
 * subgraph's first `next` is then `{ extensions: { resumableHead: "<cursor>" } }`
 * (no `data`): resuming after that cursor continues the stream exactly where it
 * started. A client that does not ask never sees the marker.
 */
import type { ExecutionResult } from "graphql";

/** The extension key, in the `subscribe` request (`true`) and in the marker result (the cursor). */
export const HEAD_EXTENSION = "resumableHead";

const HEAD = Symbol("resumable head");

/** A source event of a resumable subscription's stream: the cursor its live part starts after. */
export interface HeadMarker {
  readonly [HEAD]: string;
}

export function headMarker(cursor: string): HeadMarker {
  return { [HEAD]: cursor };
}

/** The cursor of a source event that is a head marker, else undefined. */
export function markedHead(event: unknown): string | undefined {
  return typeof event === "object" && event !== null && HEAD in event ? (event as HeadMarker)[HEAD] : undefined;
}

/** The `next` payload a head marker becomes for a client that asked for it. */
export function headResult(cursor: string): ExecutionResult {
  return { extensions: { [HEAD_EXTENSION]: cursor } };
}

/** Whether a `subscribe` request's extensions ask for the head marker. */
export function asksForHead(extensions: unknown): boolean {
  return (extensions as Record<string, unknown> | null | undefined)?.[HEAD_EXTENSION] === true;
}

/** The cursor a received result carries when it is a head marker (no data, no errors), else undefined. */
export function headOf(result: { data?: unknown; errors?: unknown; extensions?: unknown }): string | undefined {
  if (result.data != null || result.errors !== undefined) return undefined;
  const head = (result.extensions as Record<string, unknown> | undefined)?.[HEAD_EXTENSION];
  return typeof head === "string" ? head : undefined;
}
