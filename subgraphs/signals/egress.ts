/**
 * Where the transmitter may send requests in production (server-side
 * request forgery): push endpoints and Okta org URLs are chosen by tenants
 * and receivers, so they must not reach inside.
 *
 * Refused, spelled literally or reached through DNS:
 * - IPv4: every range IANA's special-purpose registry marks not globally
 *   reachable that a request could land on: 0/8, 10/8, 100.64/10 (CGNAT),
 *   127/8, 169.254/16, 172.16/12, 192.0.0/24, the TEST-NETs, 192.88.99/24,
 *   192.168/16, 198.18/15 (benchmarking), multicast 224/4, reserved 240/4
 *   and the broadcast address;
 * - IPv6: everything outside global unicast 2000::/3 (::, ::1, IPv4-mapped
 *   and -compatible forms, fc00::/7, fe80::/10, fec0::/10, ff00::/8, …)
 *   except NAT64 64:ff9b::/96, and inside it documentation, benchmarking
 *   and ORCHID; an IPv4 address embedded by NAT64, 6to4 (2002::/16) or
 *   Teredo (2001::/32, server and client) is judged as that IPv4 address;
 * - names: single-label names (completed by the resolver's search domains),
 *   `localhost` and names under the suffixes below, with or without the
 *   trailing dot.
 * `hostProblem` judges a URL's host as written (at registration and again
 * before each connection); `guardedLookup` judges every address a name
 * resolves to when the connection is made, so a name that resolves inside,
 * or rebinds after registration, is refused too.
 */
import { lookup } from "node:dns/promises";
import type { LookupAddress, LookupOptions } from "node:dns";
import { isIP } from "node:net";

/** Resolves a host name to every address (the system resolver by default; tests inject one). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** Suffixes of names that only make sense inside a network (RFC 6761, RFC 6762, RFC 8375, cloud metadata, Kubernetes services). */
const INTERNAL_SUFFIXES = ["localhost", "local", "internal", "localdomain", "home.arpa", "lan", "intranet", "corp", "home", "private", "svc"];

type Ipv4Range = readonly [base: string, prefix: number, name: string];

const IPV4_REFUSED: readonly Ipv4Range[] = [
  ["0.0.0.0", 8, "this network 0.0.0.0/8"],
  ["10.0.0.0", 8, "private 10.0.0.0/8"],
  ["100.64.0.0", 10, "shared address space (CGNAT) 100.64.0.0/10"],
  ["127.0.0.0", 8, "loopback 127.0.0.0/8"],
  ["169.254.0.0", 16, "link-local 169.254.0.0/16"],
  ["172.16.0.0", 12, "private 172.16.0.0/12"],
  ["192.0.0.0", 24, "IETF protocol assignments 192.0.0.0/24"],
  ["192.0.2.0", 24, "documentation (TEST-NET-1) 192.0.2.0/24"],
  ["192.88.99.0", 24, "6to4 relay anycast 192.88.99.0/24"],
  ["192.168.0.0", 16, "private 192.168.0.0/16"],
  ["198.18.0.0", 15, "benchmarking 198.18.0.0/15"],
  ["198.51.100.0", 24, "documentation (TEST-NET-2) 198.51.100.0/24"],
  ["203.0.113.0", 24, "documentation (TEST-NET-3) 203.0.113.0/24"],
  ["224.0.0.0", 4, "multicast 224.0.0.0/4"],
  ["255.255.255.255", 32, "broadcast 255.255.255.255"],
  ["240.0.0.0", 4, "reserved 240.0.0.0/4"],
];

type Ipv6Range = readonly [base: string, prefix: number, name: string];

/** Checked first; then anything outside 2000::/3 but NAT64 is refused. */
const IPV6_REFUSED: readonly Ipv6Range[] = [
  ["::", 128, "unspecified ::"],
  ["::1", 128, "loopback ::1"],
  ["::ffff:0:0", 96, "IPv4-mapped ::ffff:0:0/96"],
  ["::ffff:0:0:0", 96, "IPv4-translated ::ffff:0:0:0/96"],
  ["::", 96, "IPv4-compatible ::/96"],
  ["64:ff9b:1::", 48, "local-use NAT64 64:ff9b:1::/48"],
  ["100::", 64, "discard-only 100::/64"],
  ["2001:2::", 48, "benchmarking 2001:2::/48"],
  ["2001:10::", 28, "ORCHID 2001:10::/28"],
  ["2001:db8::", 32, "documentation 2001:db8::/32"],
  ["3fff::", 20, "documentation 3fff::/20"],
  ["fc00::", 7, "unique local fc00::/7"],
  ["fe80::", 10, "link-local fe80::/10"],
  ["fec0::", 10, "site-local fec0::/10"],
  ["ff00::", 8, "multicast ff00::/8"],
];

/** Prefixes whose addresses carry an IPv4 address, and where (byte offset; Teredo's client is inverted). */
const IPV6_EMBEDDING: readonly (readonly [base: string, prefix: number, name: string, at: readonly { offset: number; inverted: boolean }[]])[] = [
  ["64:ff9b::", 96, "NAT64 64:ff9b::/96", [{ offset: 12, inverted: false }]],
  ["2002::", 16, "6to4 2002::/16", [{ offset: 2, inverted: false }]],
  [
    "2001::",
    32,
    "Teredo 2001::/32",
    [
      { offset: 4, inverted: false },
      { offset: 12, inverted: true },
    ],
  ],
];

/** Why a host as written in a URL (`URL.hostname`) must not be reached, or undefined when it may be. */
export function hostProblem(hostname: string): string | undefined {
  const host = canonicalHost(hostname);
  const address = addressProblem(host);
  if (address !== undefined) return `"${hostname}" is an internal address (${address})`;
  if (isIP(host) !== 0) return undefined;
  const suffix = INTERNAL_SUFFIXES.find((name) => host === name || host.endsWith(`.${name}`));
  if (suffix !== undefined) return `"${hostname}" is an internal name (.${suffix})`;
  if (!host.includes(".")) return `"${hostname}" is a single-label name (completed inside the network by search domains)`;
  return undefined;
}

/** Lower case, without IPv6 brackets and trailing dots. */
function canonicalHost(hostname: string): string {
  return hostname
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.+$/, "")
    .toLowerCase();
}

/** Why an IP address must not be reached (the range it is in), or undefined for a public address or a non-address. */
export function addressProblem(address: string): string | undefined {
  switch (isIP(address)) {
    case 4:
      return ipv4Problem(ipv4Number(address));
    case 6:
      return ipv6Problem(ipv6Bytes(address));
    default:
      return undefined;
  }
}

/**
 * A `lookup` for `http.request` / `net.connect` that resolves with `resolve`
 * and, when `strict`, fails with code `EGRESS_REFUSED` if any address is
 * internal (a name with one inside address among public ones is refused whole).
 */
export function guardedLookup(resolve: Resolver, strict: boolean) {
  return (hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    resolve(hostname).then(
      (addresses) => {
        for (const { address } of strict ? addresses : []) {
          const problem = addressProblem(address);
          if (problem !== undefined) return callback(refused(`"${hostname}" resolves to ${address}, an internal address (${problem})`), "");
        }
        const family = options.family === 4 || options.family === "IPv4" ? 4 : options.family === 6 || options.family === "IPv6" ? 6 : 0;
        const usable = addresses.filter((address) => family === 0 || address.family === family);
        if (usable.length === 0) return callback(Object.assign(new Error(`"${hostname}" has no usable address`), { code: "ENOTFOUND" }), "");
        if (options.all === true) return callback(null, usable);
        callback(null, usable[0]!.address, usable[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ""),
    );
  };
}

/** The error for a destination the egress rules refuse. */
export function refused(message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code: "EGRESS_REFUSED" });
}

function ipv4Problem(value: number): string | undefined {
  return IPV4_REFUSED.find(([base, prefix]) => value >>> (32 - prefix) === ipv4Number(base) >>> (32 - prefix))?.[2];
}

function ipv6Problem(bytes: Uint8Array): string | undefined {
  const listed = IPV6_REFUSED.find(([base, prefix]) => inPrefix(bytes, base, prefix));
  if (listed !== undefined) return listed[2];
  for (const [base, prefix, name, places] of IPV6_EMBEDDING) {
    if (!inPrefix(bytes, base, prefix)) continue;
    for (const { offset, inverted } of places) {
      const embedded = (((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) ^ (inverted ? 0xffffffff : 0)) >>> 0;
      const problem = ipv4Problem(embedded);
      if (problem !== undefined) return `${name} embedding ${ipv4Text(embedded)}: ${problem}`;
    }
  }
  // A public IPv4 address through the well-known NAT64 prefix is public.
  return inPrefix(bytes, "2000::", 3) || inPrefix(bytes, "64:ff9b::", 96) ? undefined : "not global unicast (outside 2000::/3)";
}

function inPrefix(bytes: Uint8Array, base: string, prefix: number): boolean {
  const network = ipv6Bytes(base);
  for (let bit = 0; bit < prefix; bit += 8) {
    const mask = prefix - bit >= 8 ? 0xff : (0xff << (8 - (prefix - bit))) & 0xff;
    if ((bytes[bit / 8]! & mask) !== (network[bit / 8]! & mask)) return false;
  }
  return true;
}

/** A dotted-quad IPv4 address (as `isIP` accepts it) as an unsigned 32-bit number. */
function ipv4Number(address: string): number {
  return address.split(".").reduce((value, part) => value * 256 + Number(part), 0);
}

function ipv4Text(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join(".");
}

/** The 16 bytes of an IPv6 address (as `isIP` accepts it, a trailing dotted quad included). */
function ipv6Bytes(address: string): Uint8Array {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const value = ipv4Number(dotted[1]!);
    text = `${text.slice(0, -dotted[1]!.length)}${(value >>> 16).toString(16)}:${(value & 0xffff).toString(16)}`;
  }
  const groups = (part: string) => (part === "" ? [] : part.split(":").map((group) => parseInt(group, 16)));
  const [head = "", tail] = text.split("::");
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = new Uint8Array(16);
  all.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}
