/**
 * MariaDB and Redis for integration suites. Without a service the suite skips
 * with a visible message, unless MTD_REQUIRE_SERVICES=1: then it fails.
 */
import { randomBytes } from "node:crypto";
import { createConnection as mysqlConnection } from "mysql2/promise";
import { Redis } from "ioredis";

export const MYSQL_ADMIN_URL = process.env.MTD_TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test";
export const REDIS_TEST_URL = process.env.MTD_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const REQUIRED = process.env.MTD_REQUIRE_SERVICES === "1";

async function reachable(check: () => Promise<void>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch {
    return false;
  }
}

export const mysqlAvailable = await reachable(async () => {
  const connection = await mysqlConnection({ uri: MYSQL_ADMIN_URL, connectTimeout: 10_000 });
  await connection.end();
});

export const redisAvailable = await reachable(async () => {
  const redis = new Redis(REDIS_TEST_URL, { lazyConnect: true, connectTimeout: 10_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } finally {
    redis.disconnect();
  }
});

/** Whether a suite needing `service` runs; logs loudly or throws (MTD_REQUIRE_SERVICES=1) when it cannot. */
export function requireService(service: "mysql" | "redis"): boolean {
  const available = service === "mysql" ? mysqlAvailable : redisAvailable;
  if (available) return true;
  const where = service === "mysql" ? MYSQL_ADMIN_URL : REDIS_TEST_URL;
  if (REQUIRED) throw new Error(`MTD_REQUIRE_SERVICES=1 but ${service} is not reachable at ${where}`);
  console.warn(`\n  !!! SKIPPING ${service.toUpperCase()} SUITES: ${service} is not reachable at ${where} (set MTD_REQUIRE_SERVICES=1 to fail instead)\n`);
  return false;
}

/** A fresh MySQL database for one suite, dropped by `drop()`. */
export async function createMysqlDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `mtd_test_${randomBytes(6).toString("hex")}`;
  const admin = await mysqlConnection({ uri: MYSQL_ADMIN_URL });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await admin.end();
  const url = new URL(MYSQL_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const connection = await mysqlConnection({ uri: MYSQL_ADMIN_URL });
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}

/** A unique Redis key prefix for one suite, and a cleanup that deletes its keys. */
export function redisPrefix(): { prefix: string; cleanup(): Promise<void> } {
  const prefix = `mtdtest:${randomBytes(6).toString("hex")}`;
  return {
    prefix,
    cleanup: async () => {
      const redis = new Redis(REDIS_TEST_URL);
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
      redis.disconnect();
    },
  };
}
