/** The egress rules (subgraphs/signals/egress.ts): every refused range, the bypass spellings of issue 13, and the connect-time lookup. */
import type { LookupAddress } from "node:dns";
import { request } from "node:http";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { addressProblem, guardedLookup, hostProblem, systemResolver, type Resolver } from "../../subgraphs/signals/egress.js";

/** The host of a URL as the WHATWG parser leaves it (what the checks see). */
const hostOf = (url: string) => new URL(url).hostname;

describe("egress: addresses", () => {
  const refusedIpv4: [string, RegExp][] = [
    ["0.0.0.0", /this network/],
    ["0.1.2.3", /this network/],
    ["10.0.0.7", /private 10/],
    ["100.64.0.1", /CGNAT/],
    ["100.127.255.255", /CGNAT/],
    ["127.0.0.1", /loopback/],
    ["127.255.255.254", /loopback/],
    ["169.254.169.254", /link-local/],
    ["172.16.0.1", /private 172/],
    ["172.31.255.255", /private 172/],
    ["192.0.0.8", /IETF protocol assignments/],
    ["192.0.2.1", /TEST-NET-1/],
    ["192.88.99.1", /6to4 relay/],
    ["192.168.1.1", /private 192.168/],
    ["198.18.0.1", /benchmarking/],
    ["198.19.255.255", /benchmarking/],
    ["198.51.100.7", /TEST-NET-2/],
    ["203.0.113.9", /TEST-NET-3/],
    ["224.0.0.1", /multicast/],
    ["239.255.255.250", /multicast/],
    ["240.0.0.1", /reserved/],
    ["255.255.255.255", /broadcast/],
  ];
  it.each(refusedIpv4)("refuses IPv4 %s", (address, reason) => {
    expect(addressProblem(address)).toMatch(reason);
  });

  const refusedIpv6: [string, RegExp][] = [
    ["::", /unspecified/],
    ["::1", /loopback ::1/],
    ["::ffff:127.0.0.1", /IPv4-mapped/],
    ["::ffff:8.8.8.8", /IPv4-mapped/], // not routable as such: never a receiver's address
    ["::7f00:1", /IPv4-compatible/],
    ["::127.0.0.1", /IPv4-compatible/],
    ["::ffff:0:7f00:1", /IPv4-translated/],
    ["64:ff9b::a9fe:a9fe", /NAT64 .* embedding 169\.254\.169\.254: link-local/],
    ["64:ff9b::7f00:1", /NAT64 .* embedding 127\.0\.0\.1/],
    ["64:ff9b:1::1", /local-use NAT64/],
    ["2002:7f00:1::", /6to4 .* embedding 127\.0\.0\.1: loopback/],
    ["2002:a00:7::1", /6to4 .* embedding 10\.0\.0\.7/],
    ["2001:0:4136:e378:8000:63bf:80ff:fffe", /Teredo .* embedding 127\.0\.0\.1/], // client 127.0.0.1, inverted
    ["2001:0:a9fe:a9fe::1", /Teredo .* embedding 169\.254\.169\.254/], // server 169.254.169.254
    ["100::1", /discard-only/],
    ["2001:2::1", /benchmarking/],
    ["2001:10::1", /ORCHID/],
    ["2001:db8::1", /documentation 2001:db8/],
    ["3fff::1", /documentation 3fff/],
    ["fc00::1", /unique local/],
    ["fd12:3456::1", /unique local/],
    ["fe80::1", /link-local fe80/],
    ["febf::1", /link-local fe80/],
    ["fec0::1", /site-local/],
    ["feff::1", /site-local/],
    ["ff02::1", /multicast/],
    ["4000::1", /outside 2000::\/3/],
    ["1::", /outside 2000::\/3/],
  ];
  it.each(refusedIpv6)("refuses IPv6 %s", (address, reason) => {
    expect(addressProblem(address)).toMatch(reason);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "100.63.255.255",
    "100.128.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.0.1.1",
    "198.17.255.255",
    "198.20.0.0",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "64:ff9b::808:808", // NAT64 of 8.8.8.8
    "2002:808:808::1", // 6to4 of 8.8.8.8
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo: server 65.54.227.120, client 8.8.8.8
  ])("lets public %s through", (address) => {
    expect(addressProblem(address)).toBeUndefined();
  });
});

describe("egress: hosts as written in URLs", () => {
  it.each([
    // issue 13: trailing dots, IPv4 embedded in IPv6, site-local, benchmarking, multicast, broadcast
    ["https://localhost./", /internal name \(\.localhost\)/],
    ["https://metadata.google.internal./", /internal name \(\.internal\)/],
    ["https://foo.local./", /internal name \(\.local\)/],
    ["https://[::7f00:1]/", /IPv4-compatible/],
    ["https://[::127.0.0.1]/", /IPv4-compatible/],
    ["https://[64:ff9b::a9fe:a9fe]/", /NAT64/],
    ["https://[2002:7f00:1::]/", /6to4/],
    ["https://[fec0::1]/", /site-local/],
    ["https://198.18.0.1/", /benchmarking/],
    ["https://224.0.0.1/", /multicast/],
    ["https://255.255.255.255/", /broadcast/],
    // case, repeated trailing dots, percent-encoding and IDNA dots, IPv4 shorthand the URL parser normalises
    ["https://LocalHost/", /\.localhost/],
    ["https://localhost../", /\.localhost/],
    ["https://a.b.LOCALHOST./", /\.localhost/],
    ["https://localhost%2e/", /\.localhost/],
    ["https://localhost\u3002/", /\.localhost/],
    ["https://METADATA.GOOGLE.INTERNAL/", /\.internal/],
    ["https://router.home.arpa/", /\.home\.arpa/],
    ["https://metadata/", /single-label/],
    ["https://intranet./", /\.intranet/],
    ["https://127.0.0.1./", /loopback/],
    ["https://0x7f.1/", /loopback/],
    ["https://2130706433/", /loopback/],
    ["https://0177.0.0.1/", /loopback/],
    ["https://127.1/", /loopback/],
    ["https://0/", /this network/],
    ["https://[::ffff:7f00:1]/", /IPv4-mapped/],
    ["https://[0:0:0:0:0:ffff:127.0.0.1]/", /IPv4-mapped/],
    ["https://[::1]/", /loopback ::1/],
    ["https://[::]/", /unspecified/],
    ["https://[FE80::1]/", /link-local/],
    ["https://[fd00::1]/", /unique local/],
    ["https://[ff05::2]/", /multicast/],
    // Unicode digits and dots, hex and octal forms, long IPv6 spellings: the parser's output is what is judged
    ["https://\u2460\u2461\u2466.0.0.1/", /loopback/],
    ["https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", /loopback/],
    ["https://127\u30020\u30020\u30021/", /loopback/],
    ["https://0x7f000001/", /loopback/],
    ["https://017700000001/", /loopback/],
    ["https://127.000.000.001/", /loopback/],
    ["https://[0000:0000:0000:0000:0000:0000:0000:0001]/", /loopback ::1/],
    ["https://\uff2c\uff2f\uff23\uff21\uff2c\uff28\uff2f\uff33\uff34/", /\.localhost/],
    ["https://kubernetes.default.svc/", /\.svc/],
    ["https://kubernetes.default.svc.cluster.local./", /\.local/],
    ["https://100.100.100.200/", /CGNAT/],
    ["https://[fd00:ec2::254]/", /unique local/],
  ])("refuses %s", (url, reason) => {
    expect(hostProblem(hostOf(url))).toMatch(reason);
  });

  it.each(["https://idp.example.com/ssf", "https://acme.okta.com", "https://8.8.8.8/", "https://[2606:4700:4700::1111]/", "https://localhost.example.com/", "https://internal.example.com/"])(
    "accepts %s",
    (url) => {
      expect(hostProblem(hostOf(url))).toBeUndefined();
    },
  );
});

describe("egress: the lookup at connect time", () => {
  const table: Record<string, LookupAddress[]> = {
    "inside.example.com": [{ address: "127.0.0.1", family: 4 }],
    "mixed.example.com": [
      { address: "93.184.215.14", family: 4 },
      { address: "10.1.2.3", family: 4 },
    ],
    "mapped.example.com": [{ address: "::ffff:169.254.169.254", family: 6 }],
    "public.example.com": [
      { address: "2606:2800:21f:cb07:6820:80da:af6b:8b2c", family: 6 },
      { address: "93.184.215.14", family: 4 },
    ],
  };
  const resolve: Resolver = async (hostname) => {
    const found = table[hostname];
    if (found === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return found;
  };
  const look = (hostname: string, options: { all?: boolean; family?: number }, strict = true) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family?: number }>((done) =>
      guardedLookup(resolve, strict)(hostname, options, (error, address, family) => done({ error, address, family })),
    );

  it("refuses a name with any internal address, whatever is asked for", async () => {
    for (const name of ["inside.example.com", "mixed.example.com", "mapped.example.com"]) {
      for (const options of [{}, { all: true }, { family: 4 }, { family: 6 }]) {
        const { error } = await look(name, options);
        expect(error?.code, `${name} ${JSON.stringify(options)}`).toBe("EGRESS_REFUSED");
      }
    }
    expect((await look("mixed.example.com", {})).error?.message).toMatch(/resolves to 10\.1\.2\.3.*private 10/);
  });

  it("answers public names in the form asked for, and passes resolver errors on", async () => {
    expect(await look("public.example.com", { all: true })).toEqual({ error: null, address: table["public.example.com"], family: undefined });
    expect(await look("public.example.com", {})).toEqual({ error: null, address: "2606:2800:21f:cb07:6820:80da:af6b:8b2c", family: 6 });
    expect(await look("public.example.com", { family: 4 })).toEqual({ error: null, address: "93.184.215.14", family: 4 });
    expect((await look("nowhere.example.com", {})).error?.code).toBe("ENOTFOUND");
  });

  it("without strict (development) resolves without judging", async () => {
    expect(await look("inside.example.com", {}, false)).toEqual({ error: null, address: "127.0.0.1", family: 4 });
  });

  it("judges what the system resolver answers when a real socket connects: localhost is refused and nothing connects; unchecked, the same request arrives", async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.end("HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as AddressInfo;
    const get = (strict: boolean) =>
      new Promise<{ status?: number; code?: string; message?: string }>((done) => {
        const outgoing = request({ host: "localhost", port, path: "/", family: 4, lookup: guardedLookup(systemResolver, strict) }, (response) => {
          response.resume();
          done({ status: response.statusCode });
        });
        outgoing.on("error", (error: NodeJS.ErrnoException) => done({ code: error.code, message: error.message }));
        outgoing.end();
      });
    try {
      const refused = await get(true);
      expect(refused.code).toBe("EGRESS_REFUSED");
      expect(refused.message).toMatch(/^"localhost" resolves to (127\.0\.0\.1|::1), an internal address \(loopback/);
      expect(sockets).toHaveLength(0);
      expect(await get(false)).toEqual({ status: 204 });
      expect(sockets).toHaveLength(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => server.close(done));
    }
  });
});
