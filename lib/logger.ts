/** Structured JSON logs: attributes first, one child logger per service and request. */
import { pino, type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "./config/server.js";
import { currentTraceId } from "./tracing.js";

export type { Logger };

/** Paths whose values are never written: credentials, wherever they travel. */
export const REDACTED_PATHS = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "*.headers.cookie",
  "connectionParams",
  "*.connectionParams",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "password",
  "*.password",
  "databaseUrl",
  "*.databaseUrl",
  "redisUrl",
  "*.redisUrl",
];

/** With tracing on, every line written inside a span carries its `traceId`. */
function traceFields(): Record<string, string> {
  const traceId = currentTraceId();
  return traceId === undefined ? {} : { traceId };
}

/** JSON lines to stdout, or to `destination` (tests capture logs this way). */
export function createLogger(level: LogLevel, service: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service }, mixin: traceFields, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } }, destination);
}
