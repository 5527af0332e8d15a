/**
 * `--import`ed by the bench's "ours-untraced" peer: our gateway built without
 * the tracing hooks. Every import of `lib/tracing.ts` resolves to
 * `no-tracing-lib.ts`, whose functions call straight through (no branch, no
 * OpenTelemetry API), so this peer is the floor the tracing-off gateway is
 * compared with: what the hooks cost when tracing is off.
 */
import { register } from "node:module";

register(new URL("./no-tracing-hooks.mjs", import.meta.url));
