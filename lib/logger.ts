/** Structured JSON logs: attributes first, one child logger per service and request. */
import { pino, type Logger } from "pino";
import type { LogLevel } from "./config.js";

export type { Logger };

export function createLogger(level: LogLevel, service: string): Logger {
  return pino({
    level,
    base: { service },
    // Never log credentials, whatever path they travel on.
    redact: { paths: ["authorization", "*.authorization", "headers.authorization", "token", "*.token", "secret"], censor: "[redacted]" },
  });
}
