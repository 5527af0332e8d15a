/**
 * Signing keys: RS256, 2048-bit, `kid` = RFC 7638 thumbprint, kept in
 * `ssf_signing_keys` (the private JWK sealed, see `crypto.ts`) so every
 * replica signs with the same key and a restart keeps it.
 *
 * Rotation with overlap, by generations: generation n+1 is created
 * `publishAhead` before it takes over (it is in the JWKS from then on, so a
 * receiver's cached JWKS or a refetch on an unknown `kid` finds it), and
 * generation n stays in the JWKS `retain` after n+1 took over (SETs signed
 * just before, still queued or retried, verify). The schedule is a function
 * of the rows, so replicas agree; a replica that loses the race to create a
 * generation (unique `generation`) reloads.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from "jose";
import type { DataSource } from "typeorm";
import { isUniqueViolation } from "../../lib/db.js";
import type { Logger } from "../../lib/logger.js";
import type { Sealer } from "./crypto.js";
import { SigningKeyEntity, type SigningKeyRecord } from "./data/entities.js";
import { SIGNING_ALG } from "./protocol.js";

type SigningKey = Parameters<SignJWT["sign"]>[0];

export interface KeySchedule {
  /** How long a key signs before its successor takes over. */
  rotationMs: number;
  /** A successor is published this long before it takes over. */
  publishAheadMs: number;
  /** A retired key stays published this long after its successor took over. */
  retainMs: number;
}

interface LoadedKey {
  record: SigningKeyRecord;
  publicJwk: JWK;
  /** Null once the key is retired (its private part is erased). */
  privateKey: Promise<SigningKey> | null;
  /** Epoch ms its successor takes over, if there is one. */
  retiresAt: number | null;
}

export interface PublicJwk extends JWK {
  kid: string;
  alg: string;
  use: "sig";
}

export class KeyStore {
  private keys: LoadedKey[] = [];
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly sealer: Sealer,
    private readonly schedule: KeySchedule,
    private readonly logger: Logger,
  ) {}

  /** Loads the keys, creating the first or the next generation when due; then keeps doing so on a timer. */
  async start(): Promise<void> {
    await this.refresh();
    const tick = Math.max(50, Math.min(60_000, Math.floor(this.schedule.publishAheadMs / 4)));
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) => this.logger.warn({ err: error }, "ssf: signing key refresh failed; retrying"));
    }, tick);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Single-flight reload (and rotation when due). */
  refresh(now = Date.now()): Promise<void> {
    this.refreshing ??= this.reload(now).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Every published key: upcoming, active, and retired ones still within `retain`. */
  jwks(now = Date.now()): { keys: PublicJwk[] } {
    return {
      keys: this.keys
        .filter((key) => key.retiresAt === null || now < key.retiresAt + this.schedule.retainMs)
        .map((key) => ({ ...key.publicJwk, kid: key.record.kid, alg: SIGNING_ALG, use: "sig" as const })),
    };
  }

  /** The key that signs now: the newest generation that has taken over. */
  activeKid(now = Date.now()): string {
    return this.active(now).record.kid;
  }

  /** Signs `payload` as a compact JWS with the active key, header `{ alg: RS256, typ, kid }`. */
  async sign(payload: JWTPayload, typ: string, now = Date.now()): Promise<string> {
    const key = this.active(now);
    if (key.privateKey === null) throw new Error(`ssf: signing key ${key.record.kid} has no private part`);
    return new SignJWT(payload).setProtectedHeader({ alg: SIGNING_ALG, typ, kid: key.record.kid }).sign(await key.privateKey);
  }

  /** The public key of a published `kid` (verifying our own access tokens), or undefined. */
  publicKey(kid: string | undefined, now = Date.now()): PublicJwk | undefined {
    return this.jwks(now).keys.find((key) => key.kid === kid);
  }

  private active(now: number): LoadedKey {
    const active = [...this.keys].reverse().find((key) => key.record.activatesAt.getTime() <= now) ?? this.keys[0];
    if (active === undefined) throw new Error("ssf: no signing key loaded (KeyStore.start() not awaited)");
    return active;
  }

  private async reload(now: number): Promise<void> {
    const repository = this.dataSource.getRepository(SigningKeyEntity);
    let rows = await repository.find({ order: { generation: "ASC" } });
    const newest = rows.at(-1);
    if (newest === undefined) {
      await this.create(1, now);
      rows = await repository.find({ order: { generation: "ASC" } });
    } else {
      const current = [...rows].reverse().find((row) => row.activatesAt.getTime() <= now) ?? rows[0]!;
      const successorDue = current.activatesAt.getTime() + this.schedule.rotationMs - this.schedule.publishAheadMs;
      if (newest === current && now >= successorDue) {
        // Never earlier than `publishAhead` from now: receivers get that long to see it published.
        const activatesAt = Math.max(current.activatesAt.getTime() + this.schedule.rotationMs, now + this.schedule.publishAheadMs);
        await this.create(current.generation + 1, activatesAt);
        rows = await repository.find({ order: { generation: "ASC" } });
      }
    }

    // Retire: a key whose successor has taken over loses its private part; past `retain` it goes.
    for (let i = 0; i < rows.length - 1; i += 1) {
      const row = rows[i]!;
      const retiresAt = rows[i + 1]!.activatesAt.getTime();
      if (now >= retiresAt + this.schedule.retainMs) {
        await repository.delete({ kid: row.kid });
      } else if (now >= retiresAt && row.privateJwk !== "") {
        await repository.update({ kid: row.kid }, { privateJwk: "" });
        row.privateJwk = "";
      }
    }
    rows = rows.filter((_, i) => i === rows.length - 1 || now < rows[i + 1]!.activatesAt.getTime() + this.schedule.retainMs);

    const previous = new Map(this.keys.map((key) => [key.record.kid, key]));
    this.keys = rows.map((record, i) => {
      const retiresAt = rows[i + 1]?.activatesAt.getTime() ?? null;
      const known = previous.get(record.kid);
      const privateKey =
        record.privateJwk === ""
          ? null
          : known?.privateKey ?? importJWK(JSON.parse(this.sealer.open(record.privateJwk, record.kid)) as JWK, SIGNING_ALG);
      privateKey?.catch(() => {}); // surfaced by sign()
      return { record, publicJwk: JSON.parse(record.publicJwk) as JWK, privateKey, retiresAt };
    });
  }

  private async create(generation: number, activatesAt: number): Promise<void> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { modulusLength: 2048, extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk, "sha256");
    const privateJwk = await exportJWK(privateKey);
    try {
      await this.dataSource.getRepository(SigningKeyEntity).insert({
        kid,
        generation,
        publicJwk: JSON.stringify({ kty: publicJwk.kty, n: publicJwk.n, e: publicJwk.e }),
        privateJwk: this.sealer.seal(JSON.stringify(privateJwk), kid),
        createdAt: new Date(),
        activatesAt: new Date(activatesAt),
      });
      this.logger.info({ kid, generation, activatesAt: new Date(activatesAt).toISOString() }, "ssf: signing key published");
    } catch (error) {
      if (!isUniqueViolation(error)) throw error; // another replica created this generation first
    }
  }
}
