/**
 * What the event log holds in Redis, for the soak: the server's `used_memory`
 * (the whole instance: other deployments on the same Redis count too) and,
 * per stream of one deployment (`<prefix>:events:<topic>`), its length
 * (`XLEN`) and size (`MEMORY USAGE`): what shows whether trimming keeps the
 * streams bounded.
 */
import { Redis } from "ioredis";
import { REDIS_TEST_URL } from "../support/services.js";

export interface RedisSample {
  usedMemoryMib: number;
  /** By topic. */
  streams: Record<string, { length: number; mib: number }>;
}

const MIB = 2 ** 20;

/** Samples Redis for the deployment under `prefix`; `close()` when done. */
export function redisSampler(prefix: string): { sample(): Promise<RedisSample>; close(): void } {
  const redis = new Redis(REDIS_TEST_URL);
  const streamPrefix = `${prefix}:events:`;
  return {
    sample: async () => {
      const info = await redis.info("memory");
      const usedMemory = Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
      const keys: string[] = [];
      let cursor = "0";
      do {
        const [next, found] = await redis.scan(cursor, "MATCH", `${streamPrefix}*`, "COUNT", 1000, "TYPE", "stream");
        cursor = next;
        keys.push(...found);
      } while (cursor !== "0");
      const streams: RedisSample["streams"] = {};
      for (const key of keys.sort()) {
        const [length, bytes] = await Promise.all([redis.xlen(key), redis.memory("USAGE", key, "SAMPLES", 0)]);
        streams[key.slice(streamPrefix.length)] = { length, mib: Number(bytes ?? 0) / MIB };
      }
      return { usedMemoryMib: usedMemory / MIB, streams };
    },
    close: () => redis.disconnect(),
  };
}
