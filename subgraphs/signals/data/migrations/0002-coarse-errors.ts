import type { MigrationInterface, QueryRunner } from "typeorm";
import { statusFailure, transportFailure } from "../../push-failures.js";

/**
 * Push errors stored before they became categories (`push-failures.ts`) held
 * the start of the target's response and the exact socket error; this
 * rewrites them as the categories they would be now, in stream health
 * (`ssf_streams.last_error`) and in queued and dead deliveries
 * (`ssf_deliveries.last_error`). Poll errors (`receiver reported …`, the
 * receiver's own `setErrs`) are kept as they are.
 */
export class Ssf0002 implements MigrationInterface {
  name = "Ssf0002_1764676800000";

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [table, key] of [
      ["ssf_streams", "stream_id"],
      ["ssf_deliveries", "sequence"],
    ] as const) {
      const rows = (await queryRunner.query(`SELECT ${key} AS id, last_error AS error FROM ${table} WHERE last_error IS NOT NULL`)) as { id: string | number; error: string }[];
      for (const { id, error } of rows) {
        const category = legacyCategory(error);
        if (category !== error) await queryRunner.query(`UPDATE ${table} SET last_error = ? WHERE ${key} = ?`, [category, id]);
      }
    }
  }

  async down(): Promise<void> {
    // What was scrubbed is gone on purpose.
  }
}

const CURRENT = /^(NETWORK|TLS|TIMEOUT|SIGNING|HTTP_\dXX \d{3}( [a-z_]+)?)$/;

/** The category of an error as the transmitter stored it before, e.g. `503: <body>`, `400 invalid_request: <description>`, `network: ECONNREFUSED`. */
export function legacyCategory(error: string): string {
  const gaveUp = /^(gave up after \d+ attempts over \d+ s; last: )([\s\S]*)$/.exec(error);
  if (gaveUp !== null) return `${gaveUp[1]}${legacyCategory(gaveUp[2]!)}`;
  if (CURRENT.test(error) || error.startsWith("receiver reported ")) return error;
  if (error.startsWith("signing failed")) return "SIGNING";
  const network = /^network: ([\s\S]*)$/.exec(error);
  if (network !== null) {
    const detail = network[1]!;
    return /timeout|aborted/i.test(detail) ? "TIMEOUT" : transportFailure({ code: detail.split(/\s/)[0] }).category;
  }
  const http = /^(\d{3})(?: ([a-z_]+))?/.exec(error);
  if (http === null) return "NETWORK";
  return statusFailure(Number(http[1]), http[2] === undefined ? "" : JSON.stringify({ err: http[2] })).category;
}
