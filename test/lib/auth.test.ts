import { SignJWT } from "jose";
import { describe, expect, it, vi } from "vitest";
import { createTokenVerifier, requireRole, signToken } from "../../lib/auth.js";

const secret = "a-test-secret-that-is-at-least-32-characters";
const verify = createTokenVerifier({ secret });

async function sign(claims: Record<string, unknown>, options: { iat?: number; exp?: number; key?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("user-1")
    .setIssuedAt(options.iat ?? now)
    .setExpirationTime(options.exp ?? now + 600)
    .sign(new TextEncoder().encode(options.key ?? secret));
}

async function rejection(authorization: string | undefined) {
  try {
    await verify(authorization);
  } catch (error) {
    return error as { message: string; extensions: { code: string } };
  }
  throw new Error("expected the token to be rejected");
}

describe("token verification", () => {
  it("accepts a token from signToken and returns the identity", async () => {
    const token = await signToken(secret, { tenantId: "t1", role: "partner", partner: "LOOKOUT" });
    const identity = await verify(`Bearer ${token}`);
    expect(identity).toMatchObject({ tenantId: "t1", role: "partner", partner: "LOOKOUT", subject: "partner@t1", authorization: `Bearer ${token}` });
  });

  it.each([
    ["missing header", undefined, /missing Authorization/],
    ["not a bearer token", "Basic abc", /Bearer <JWT>/],
    ["garbage", "Bearer not-a-jwt", /Bearer <JWT>/],
  ])("rejects %s as UNAUTHENTICATED", async (_name, header, message) => {
    const error = await rejection(header);
    expect(error.extensions.code).toBe("UNAUTHENTICATED");
    expect(error.message).toMatch(message);
  });

  it("rejects a wrong signature, an expired token and a token issued in the future", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await rejection(`Bearer ${await sign({ tid: "t1", role: "admin" }, { key: "another-secret-another-secret-another" })}`)).message).toMatch(/JWS_SIGNATURE_VERIFICATION_FAILED/);
    expect((await rejection(`Bearer ${await sign({ tid: "t1", role: "admin" }, { iat: now - 7200, exp: now - 3600 })}`)).message).toBe("token expired");
    expect((await rejection(`Bearer ${await sign({ tid: "t1", role: "admin" }, { iat: now + 3600, exp: now + 7200 })}`)).message).toMatch(/future/);
  });

  it("rejects tokens without a valid tenant, role or partner claim", async () => {
    expect((await rejection(`Bearer ${await sign({ role: "admin" })}`)).message).toMatch(/tid/);
    expect((await rejection(`Bearer ${await sign({ tid: "bad tenant!", role: "admin" })}`)).message).toMatch(/tid/);
    expect((await rejection(`Bearer ${await sign({ tid: "t1", role: "root" })}`)).message).toMatch(/role/);
    expect((await rejection(`Bearer ${await sign({ tid: "t1", role: "partner" })}`)).message).toMatch(/partner claim/);
    expect((await rejection(`Bearer ${await sign({ tid: "t1", role: "partner", partner: "ACME" })}`)).message).toMatch(/partner claim/);
  });

  it("remembers a verified token only until it expires", async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = `Bearer ${await sign({ tid: "t1", role: "admin" }, { iat: now, exp: now + 5 })}`;
    expect((await verify(token)).tenantId).toBe("t1");
    expect((await verify(token)).tenantId).toBe("t1"); // remembered
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime((now + 5 + 31) * 1000); // past exp and the 30 s tolerance
      expect((await rejection(token)).message).toBe("token expired");
    } finally {
      vi.useRealTimers();
    }
  });

  it("requireRole is FORBIDDEN for other roles", async () => {
    const identity = await verify(`Bearer ${await signToken(secret, { tenantId: "t1", role: "analyst" })}`);
    expect(requireRole(identity, "admin", "analyst")).toBe(identity);
    expect(() => requireRole(identity, "admin")).toThrow(/role analyst may not do this; requires admin/);
  });
});
