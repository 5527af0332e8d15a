/** Migration Ssf0002: push errors stored before categories (bodies, socket codes) are rewritten as categories; poll errors stay. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../lib/db.js";
import { DeliveryEntity, SSF_ENTITIES, StreamEntity } from "../../subgraphs/signals/data/entities.js";
import { Ssf0001 } from "../../subgraphs/signals/data/migrations/0001-ssf.js";
import { legacyCategory, Ssf0002 } from "../../subgraphs/signals/data/migrations/0002-coarse-errors.js";
import { newStream } from "../../subgraphs/signals/streams.js";
import { createMysqlDatabase, requireService } from "../support/services.js";

const LEGACY: [string, string][] = [
  ["503: LEAK upstream db=10.0.0.5", "HTTP_5XX 503"],
  ["401: {\"error\":\"LEAK jwt malformed\"}", "HTTP_4XX 401"],
  ["404", "HTTP_4XX 404"],
  ["400 invalid_audience: LEAK not for us", "HTTP_4XX 400 invalid_audience"],
  ["400 LEAKERR: x", "HTTP_4XX 400"],
  ["400 (no err)", "HTTP_4XX 400"],
  ["302 redirect not followed", "HTTP_3XX 302"],
  ["network: DEPTH_ZERO_SELF_SIGNED_CERT", "TLS"],
  ["network: ERR_TLS_CERT_ALTNAME_INVALID", "TLS"],
  ["network: ECONNREFUSED", "NETWORK"],
  ["network: EAI_AGAIN", "NETWORK"],
  ["network: ENETUNREACH", "NETWORK"],
  ["network: UND_ERR_CONNECT_TIMEOUT", "TIMEOUT"],
  ["network: The operation was aborted due to timeout", "TIMEOUT"],
  ["signing failed: no active key", "SIGNING"],
  ["gave up after 7 attempts over 86400 s; last: 503: LEAK", "gave up after 7 attempts over 86400 s; last: HTTP_5XX 503"],
  ["gave up after 3 attempts over 86400 s; last: network: DEPTH_ZERO_SELF_SIGNED_CERT", "gave up after 3 attempts over 86400 s; last: TLS"],
  // kept: already a category, or a poll receiver's own report (RFC 8936 setErrs)
  ["HTTP_4XX 400 invalid_request", "HTTP_4XX 400 invalid_request"],
  ["TLS", "TLS"],
  ["receiver reported invalid_audience: not for us", "receiver reported invalid_audience: not for us"],
];

describe("legacy push errors as categories", () => {
  it.each(LEGACY)("%s → %s", (legacy, category) => {
    expect(legacyCategory(legacy)).toBe(category);
  });
});

const ENGINES = [
  { name: "SQLite", enabled: true, mysql: false },
  { name: "MariaDB", enabled: requireService("mysql"), mysql: true },
];

for (const engine of ENGINES) {
  describe.skipIf(!engine.enabled)(`migration Ssf0002 on ${engine.name}`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mtd-ssf-migration-"));
    let drop: (() => Promise<void>) | undefined;
    afterAll(async () => {
      await drop?.();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("rewrites stored stream and delivery errors, leaving poll errors and everything else", async () => {
      const mysql = engine.mysql ? await createMysqlDatabase() : undefined;
      drop = mysql?.drop;
      const open = (migrations: (typeof Ssf0001 | typeof Ssf0002)[]) => openDatabase({ name: "signals", databaseUrl: mysql?.url, dataDir, entities: SSF_ENTITIES, migrations });
      const before = await open([Ssf0001]);
      const streams = LEGACY.map(([error], index) => ({
        ...newStream({ tenantId: "t", clientId: `c-${index}`, audience: "a", eventsRequested: [], deliveryMethod: "push", endpointUrl: "https://idp.example.com/", authorizationHeader: null, description: null }),
        lastError: error,
      }));
      await before.dataSource.getRepository(StreamEntity).insert(streams);
      await before.dataSource.getRepository(DeliveryEntity).insert(
        LEGACY.map(([error], index) => ({
          streamId: streams[index]!.streamId,
          jti: `jti-${index}`,
          eventType: "e",
          orderKey: "o",
          txn: null,
          deviceId: null,
          body: "{}",
          control: false,
          status: "dead" as const,
          attempts: 1,
          nextAttemptAt: 0,
          claimedUntil: null,
          createdAt: 0,
          finishedAt: 0,
          lastError: error,
        })),
      );
      await before.close();

      const after = await open([Ssf0001, Ssf0002]);
      try {
        const stored = await after.dataSource.getRepository(StreamEntity).find();
        const letters = await after.dataSource.getRepository(DeliveryEntity).find();
        for (const [index, [, category]] of LEGACY.entries()) {
          expect(stored.find((stream) => stream.clientId === `c-${index}`)?.lastError).toBe(category);
          expect(letters.find((letter) => letter.jti === `jti-${index}`)?.lastError).toBe(category);
        }
        expect(JSON.stringify([stored, letters])).not.toMatch(/LEAK|DEPTH_ZERO|ECONNREFUSED|10\.0\.0\.5/);
      } finally {
        await after.close();
      }
    });
  });
}
