/**
 * The signals service on its own (SQLite in a temporary directory, the
 * in-process event log), for tests that need what the whole graph does not
 * offer: production mode with a resolver of the test's (names that resolve
 * inside), and its log lines. SETs are set off by stream verification.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { expect } from "vitest";
import { signToken } from "../../lib/auth.js";
import { loadServiceConfig } from "../../subgraphs/config.js";
import { createEventLog } from "../../lib/events/index.js";
import { createLogger } from "../../lib/logger.js";
import type { Resolver } from "../../subgraphs/signals/egress.js";
import { start } from "../../subgraphs/signals/server.js";
import type { GraphQLResponse } from "../support/graph.js";
import { FAST_SSF_ENV, REGISTER, SsfClient } from "./support.js";

export const PRODUCTION_ENV = { NODE_ENV: "production", MTD_SSF_ISSUER: "https://ssf.example.com", MTD_SSF_KEY_ENCRYPTION_KEY: "k".repeat(32) };

export interface Signals {
  origin: string;
  /** Every log line written so far (JSON). */
  logs: string[];
  /** An admin token of a new tenant. */
  admin(): Promise<string>;
  query(token: string, document: string, variables?: Record<string, unknown>): Promise<GraphQLResponse>;
  /** Registers a receiver through GraphQL and returns its management API client. */
  receiver(admin: string): Promise<SsfClient>;
  stop(): Promise<void>;
}

export async function startSignals(options: { env?: Record<string, string>; resolve?: Resolver }): Promise<Signals> {
  const dataDir = mkdtempSync(join(tmpdir(), "mtd-signals-"));
  const secret = randomBytes(32).toString("base64url");
  const config = loadServiceConfig({ ...FAST_SSF_ENV, LOG_LEVEL: "info", MTD_HOST: "127.0.0.1", MTD_DATA_DIR: dataDir, MTD_JWT_SECRET: secret, ...options.env });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString("utf8").split("\n").filter((line) => line !== ""));
      done();
    },
  });
  const events = createEventLog({ redis: config.redis, redisPrefix: config.redisPrefix, retention: config.eventLog });
  const signals = await start({ config: { ...config, port: 0 }, logger: createLogger(config.logLevel, "test", destination), events, resolve: options.resolve });
  const origin = new URL(signals.url).origin;
  let tenants = 0;

  const query: Signals["query"] = async (token, document, variables) => {
    const response = await fetch(signals.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: document, variables }),
    });
    return { status: response.status, ...((await response.json()) as object) };
  };

  return {
    origin,
    logs,
    admin: () => signToken(secret, { tenantId: `egress-${(tenants += 1)}`, role: "admin" }),
    query,
    async receiver(admin) {
      const result = await query(admin, REGISTER, { input: { name: "IdP" } });
      expect(result.errors).toBeUndefined();
      const registration = result.data!.registerSsfReceiver;
      return new SsfClient(origin, registration.receiver.clientId, registration.clientSecret);
    },
    async stop() {
      await signals.dispose();
      await events.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
