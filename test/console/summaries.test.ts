/** The console's pure parts: reading the session from a token, and the overview's time buckets. */
import { describe, expect, it } from "vitest";
import { signToken } from "../../lib/auth.js";
import { bucketChanges } from "../../console/src/fleet.js";
import { canEdit, sessionFromToken, storedSession, storeSession } from "../../console/src/session.js";

class MemoryStorage {
  private readonly items = new Map<string, string>();
  getItem = (key: string) => this.items.get(key) ?? null;
  setItem = (key: string, value: string) => void this.items.set(key, value);
  removeItem = (key: string) => void this.items.delete(key);
}

describe("console session", () => {
  it("reads role, tenant and subject from a signed token, with or without 'Bearer'", async () => {
    const token = await signToken("a-secret-of-at-least-32-characters!!", { tenantId: "contoso", role: "analyst", subject: "ann@contoso.example" });
    expect(sessionFromToken(`Bearer ${token}\n`)).toEqual({ token, role: "analyst", tenantId: "contoso", subject: "ann@contoso.example" });
    expect(canEdit(sessionFromToken(token))).toBe(false);
    const admin = await signToken("a-secret-of-at-least-32-characters!!", { tenantId: "contoso", role: "admin" });
    expect(canEdit(sessionFromToken(admin))).toBe(true);
  });

  it("refuses what is not a JWT with a role, saying what was expected", () => {
    expect(() => sessionFromToken("not-a-token")).toThrow("expected a JWT (three dot-separated parts)");
    expect(() => sessionFromToken("a.%%%.c")).toThrow("the token's payload is not base64url JSON");
    const payload = Buffer.from(JSON.stringify({ tid: "t", role: "root" })).toString("base64url");
    expect(() => sessionFromToken(`h.${payload}.s`)).toThrow('expected a role claim (admin, analyst, partner, enforcement), got "root"');
  });

  it("keeps the token in the given storage only, and drops one that no longer reads", async () => {
    const storage = new MemoryStorage();
    const token = await signToken("a-secret-of-at-least-32-characters!!", { tenantId: "contoso", role: "admin" });
    storeSession(sessionFromToken(token), storage);
    expect(storedSession(storage)?.token).toBe(token);
    storage.setItem("mtd-console-token", "garbage");
    expect(storedSession(storage)).toBeUndefined();
    expect(storage.getItem("mtd-console-token")).toBeNull();
  });
});

describe("overview summaries", () => {
  it("buckets changes into 24 slots ending now, the smallest step that reaches the oldest", () => {
    const now = Date.parse("2026-12-01T12:00:30Z");
    const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
    const recent = bucketChanges([{ at: at(1), allowed: false }, { at: at(1), allowed: true }, { at: at(10), allowed: false }], now);
    expect(recent).toHaveLength(24);
    expect(recent[1]!.start - recent[0]!.start).toBe(60_000);
    expect(recent.reduce((sum, b) => sum + b.revoked, 0)).toBe(2);
    expect(recent.reduce((sum, b) => sum + b.restored, 0)).toBe(1);
    expect(recent.at(-1)!.end).toBeGreaterThanOrEqual(now);

    const older = bucketChanges([{ at: at(60 * 20), allowed: false }], now);
    expect(older[1]!.start - older[0]!.start).toBe(60 * 60_000);
    expect(older.reduce((sum, b) => sum + b.revoked, 0)).toBe(1);
    // Older than 24 days: outside even the daily buckets, not counted.
    expect(bucketChanges([{ at: at(60 * 24 * 30), allowed: false }], now).reduce((sum, b) => sum + b.revoked, 0)).toBe(0);
  });
});
