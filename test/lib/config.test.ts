import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, developmentSecret, loadConfig } from "../../lib/config.js";

describe("loadConfig", () => {
  it("runs on embedded defaults with an empty environment", () => {
    const config = loadConfig({});
    expect(config.env).toBe("development");
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redis).toEqual({ url: undefined, clusterNodes: undefined });
    expect(config.subgraphUrls.devices).toBe("http://127.0.0.1:4001/graphql");
    expect(config.subgraphUrls.inventory).toBe("http://127.0.0.1:4004/graphql");
    expect(config.maxBodyBytes).toBe(1024 * 1024);
  });

  it("reports every invalid variable at once", () => {
    let error: unknown;
    try {
      loadConfig({
        NODE_ENV: "staging",
        PORT: "99999",
        DATABASE_URL: "postgres://x/y",
        REDIS_URL: "not a url",
        MTD_JWT_SECRET: "short",
        MTD_SUBGRAPH_THREATS_URL: "ftp://x",
        LOG_LEVEL: "loud",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(7);
    expect(problems.join("\n")).toMatch(/NODE_ENV.*staging/);
    expect(problems.join("\n")).toMatch(/PORT.*99999/);
    expect(problems.join("\n")).toMatch(/DATABASE_URL.*postgres/);
    expect(problems.join("\n")).toMatch(/REDIS_URL must be a URL/);
    expect(problems.join("\n")).toMatch(/MTD_JWT_SECRET.*32/);
    expect(problems.join("\n")).toMatch(/MTD_SUBGRAPH_THREATS_URL/);
    expect(problems.join("\n")).toMatch(/LOG_LEVEL.*loud/);
  });

  it("refuses production without explicit token keys", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/requires MTD_JWT_SECRET or MTD_JWKS_URL/);
    expect(loadConfig({ NODE_ENV: "production", MTD_JWT_SECRET: "x".repeat(32) }).env).toBe("production");
  });

  it("creates one development secret under the data directory and reuses it", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mtd-config-"));
    try {
      const config = loadConfig({ MTD_DATA_DIR: dataDir });
      const first = developmentSecret(config);
      expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(developmentSecret(config)).toBe(first);
      expect(developmentSecret({ ...config, env: "production" })).toBeUndefined();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
