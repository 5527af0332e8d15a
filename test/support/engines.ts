/** The two deployments every integration suite runs on. */
import type { GraphOptions } from "./graph.js";
import { requireService } from "./services.js";

export interface Engine extends GraphOptions {
  name: string;
  enabled: boolean;
}

export function engines(): Engine[] {
  return [
    { name: "SQLite + in-process log", database: "sqlite", eventLog: "memory", enabled: true },
    { name: "MariaDB + Redis Streams", database: "mysql", eventLog: "redis", enabled: requireService("mysql") && requireService("redis") },
  ];
}
