/**
 * The signed-in session: the access token, kept in memory and in this tab's
 * sessionStorage only (never in a URL, never in localStorage), and the claims
 * the console reads from it to decide what to show. The graph verifies the
 * token on every request; the claims here only shape the screen.
 */
export type Role = "admin" | "analyst" | "partner" | "enforcement";

export interface Session {
  token: string;
  role: Role;
  tenantId: string;
  subject: string;
}

const KEY = "mtd-console-token";
const ROLES: readonly Role[] = ["admin", "analyst", "partner", "enforcement"];

/** Reads `role`, `tid` and `sub` from a JWT's payload; an error names what is wrong. */
export function sessionFromToken(raw: string): Session {
  const token = raw.trim().replace(/^Bearer\s+/i, "");
  const parts = token.split(".");
  if (parts.length !== 3) throw new Error("expected a JWT (three dot-separated parts)");
  let claims: Record<string, unknown>;
  try {
    const json = atob(parts[1]!.replace(/-/g, "+").replace(/_/g, "/"));
    claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
  } catch {
    throw new Error("the token's payload is not base64url JSON");
  }
  const role = claims.role;
  if (typeof role !== "string" || !ROLES.includes(role as Role)) throw new Error(`expected a role claim (${ROLES.join(", ")}), got ${JSON.stringify(role)}`);
  return { token, role: role as Role, tenantId: String(claims.tid ?? ""), subject: String(claims.sub ?? "") };
}

export function storedSession(storage: Pick<Storage, "getItem" | "removeItem"> = sessionStorage): Session | undefined {
  const token = storage.getItem(KEY);
  if (token === null) return undefined;
  try {
    return sessionFromToken(token);
  } catch {
    storage.removeItem(KEY);
    return undefined;
  }
}

export function storeSession(session: Session | undefined, storage: Pick<Storage, "setItem" | "removeItem"> = sessionStorage) {
  if (session === undefined) storage.removeItem(KEY);
  else storage.setItem(KEY, session.token);
}

/** Only admins change anything; analysts read. */
export const canEdit = (session: Session) => session.role === "admin";
