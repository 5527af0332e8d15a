/**
 * Subjects (RFC 9493 identifiers, SSF §3 complex subjects): what our events
 * are about, what receivers add and remove (SSF §8.1.3), and SSF's matching
 * rules (§8.1.3.1: simple subjects match when identical; complex ones when no
 * member present in both differs).
 */
import { createHash } from "node:crypto";
import type { SubjectIdentifier } from "./protocol.js";

/** Members each known simple format requires (RFC 9493 §3, SSF §3.5). */
const REQUIRED_MEMBERS: Record<string, readonly string[]> = {
  account: ["uri"],
  email: ["email"],
  iss_sub: ["iss", "sub"],
  opaque: ["id"],
  phone_number: ["phone_number"],
  did: ["url"],
  uri: ["uri"],
  jwt_id: ["iss", "jti"],
  saml_assertion_id: ["issuer", "assertion_id"],
};

const MAX_SUBJECT_BYTES = 4096;

/** The subject of a device's events: complex `{ user: email, device: opaque }`, the user only when the UPN is an email address. */
export function deviceSubject(deviceId: string, userPrincipalName: string | null): SubjectIdentifier {
  const subject: SubjectIdentifier = { format: "complex" };
  if (userPrincipalName !== null && isEmail(userPrincipalName)) subject.user = { format: "email", email: userPrincipalName };
  subject.device = { format: "opaque", id: deviceId };
  return subject;
}

/** The subject of stream-level events (verification, stream-updated): the stream id, opaque (SSF §8.1.4.1). */
export function streamSubject(streamId: string): SubjectIdentifier {
  return { format: "opaque", id: streamId };
}

/** Checks a subject a receiver sent; returns what is wrong, or undefined. */
export function subjectProblem(value: unknown): string | undefined {
  if (JSON.stringify(value ?? null).length > MAX_SUBJECT_BYTES) return `subject: expected at most ${MAX_SUBJECT_BYTES} bytes of JSON`;
  if (!isObject(value)) return "subject: expected a subject identifier object with a format";
  if (value.format === "complex") {
    const members = Object.entries(value).filter(([name]) => name !== "format");
    if (members.length === 0) return "subject: a complex subject needs at least one member (user, device, …)";
    for (const [name, member] of members) {
      const problem = simpleProblem(member, `subject.${name}`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  return simpleProblem(value, "subject");
}

/** A stable key for a subject: SHA-256 of its canonical JSON (sorted members, email addresses lower-cased). */
export function subjectKey(subject: SubjectIdentifier): string {
  return createHash("sha256").update(canonical(subject)).digest("hex");
}

/**
 * Whether a receiver's subject matches an event's. A simple subject matches
 * an identical simple subject, or the identical member of a complex one.
 */
export function subjectMatches(receiver: SubjectIdentifier, event: SubjectIdentifier): boolean {
  if (receiver.format !== "complex" && event.format !== "complex") return canonical(receiver) === canonical(event);
  if (receiver.format !== "complex") {
    return Object.entries(event).some(([name, member]) => name !== "format" && isObject(member) && canonical(member) === canonical(receiver));
  }
  if (event.format !== "complex") return false;
  for (const [name, member] of Object.entries(receiver)) {
    if (name === "format") continue;
    const other = event[name];
    if (other !== undefined && canonical(member) !== canonical(other)) return false;
  }
  return true;
}

function simpleProblem(value: unknown, field: string): string | undefined {
  if (!isObject(value)) return `${field}: expected a subject identifier object`;
  if (typeof value.format !== "string" || value.format === "") return `${field}.format: expected a non-empty string`;
  if (value.format === "complex") return `${field}: a complex subject cannot be nested`;
  for (const member of REQUIRED_MEMBERS[value.format] ?? []) {
    if (typeof value[member] !== "string" || value[member] === "") return `${field}.${member}: required for format "${value.format}"`;
  }
  if (value.format === "email" && !isEmail(value.email as string)) return `${field}.email: expected an email address`;
  return undefined;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (isObject(value)) {
    const email = value.format === "email" && typeof value.email === "string";
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${email && key === "email" ? JSON.stringify((value.email as string).toLowerCase()) : canonical(value[key])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isEmail(value: string): boolean {
  return /^[^\s@]{1,64}@[^\s@]{1,255}$/.test(value);
}
