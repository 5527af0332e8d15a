import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { enablePartner } from "../support/partners.js";

const ENROLL = /* GraphQL */ `
  mutation Enroll($input: EnrollDeviceInput!) {
    enrollDevice(input: $input) { id name platform osVersion ownership userPrincipalName enrolledAt retiredAt }
  }
`;
const DEVICE = /* GraphQL */ `query Device($id: ID!) { device(id: $id) { id name platform retiredAt } }`;
const DEVICES = /* GraphQL */ `
  query Devices($first: Int, $after: String, $platform: Platform, $includeRetired: Boolean, $search: String) {
    devices(first: $first, after: $after, platform: $platform, includeRetired: $includeRetired, search: $search) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id platform } }
    }
  }
`;

function iphone(id: string, name = `iPhone ${id}`) {
  return { id, name, platform: "IOS", osVersion: "17.4.1", ownership: "CORPORATE", userPrincipalName: `${id}@contoso.com` };
}

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`devices on ${engine.name}`, () => {
    let graph: TestGraph;
    let admin: string;
    let analyst: string;
    let otherAdmin: string;

    beforeAll(async () => {
      graph = await startGraph(engine);
      admin = await graph.token({ tenantId: "contoso", role: "admin" });
      analyst = await graph.token({ tenantId: "contoso", role: "analyst" });
      otherAdmin = await graph.token({ tenantId: "fabrikam", role: "admin" });
    });
    afterAll(() => graph?.stop());

    it("enrolls a device and reads it back through the gateway", async () => {
      const enrolled = await graph.query(admin, ENROLL, { input: iphone("d-1") });
      expect(enrolled.errors).toBeUndefined();
      expect(enrolled.data!.enrollDevice).toMatchObject({ id: "d-1", name: "iPhone d-1", platform: "IOS", ownership: "CORPORATE", retiredAt: null });
      expect(Date.parse(enrolled.data!.enrollDevice.enrolledAt)).toBeGreaterThan(Date.now() - 60_000);

      const read = await graph.query(analyst, DEVICE, { id: "d-1" });
      expect(read.data).toEqual({ device: { id: "d-1", name: "iPhone d-1", platform: "IOS", retiredAt: null } });
    });

    it("enrolling the same id again updates the device instead of duplicating it", async () => {
      await graph.query(admin, ENROLL, { input: iphone("d-2", "first name") });
      const again = await graph.query(admin, ENROLL, { input: { ...iphone("d-2", "second name"), osVersion: "18.0" } });
      expect(again.data!.enrollDevice).toMatchObject({ id: "d-2", name: "second name", osVersion: "18.0" });
      const list = await graph.query(admin, DEVICES, { first: 500 });
      expect(list.data!.devices.edges.filter((edge: { node: { id: string } }) => edge.node.id === "d-2")).toHaveLength(1);
    });

    it("generates an id when none is given", async () => {
      const { id: _id, ...input } = iphone("unused");
      const enrolled = await graph.query(admin, ENROLL, { input });
      expect(enrolled.data!.enrollDevice.id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it("pages through devices with cursors, a platform filter and totalCount", async () => {
      const tenant = await graph.token({ tenantId: "paging", role: "admin" });
      for (let i = 0; i < 7; i++) {
        await graph.query(tenant, ENROLL, { input: { ...iphone(`p-${i}`), platform: i % 2 === 0 ? "IOS" : "ANDROID" } });
      }
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page: any = await graph.query(tenant, DEVICES, { first: 3, after });
        expect(page.data.devices.totalCount).toBe(7);
        seen.push(...page.data.devices.edges.map((edge: { node: { id: string } }) => edge.node.id));
        if (!page.data.devices.pageInfo.hasNextPage) break;
        after = page.data.devices.pageInfo.endCursor;
      }
      expect(seen).toEqual(["p-0", "p-1", "p-2", "p-3", "p-4", "p-5", "p-6"]);

      const android = await graph.query(tenant, DEVICES, { platform: "ANDROID" });
      expect(android.data!.devices.totalCount).toBe(3);
      expect(android.data!.devices.edges.map((edge: { node: { platform: string } }) => edge.node.platform)).toEqual(["ANDROID", "ANDROID", "ANDROID"]);
    });

    describe("search", () => {
      let tenant: string;
      /** Every id `search` finds, page by page (`first` a page), and the totalCount of each page. */
      async function searchAll(token: string, search: string, first = 4, extra: Record<string, unknown> = {}) {
        const ids: string[] = [];
        const totals = new Set<number>();
        let after: string | null = null;
        for (;;) {
          const page: any = await graph.query(token, DEVICES, { first, after, search, ...extra });
          expect(page.errors).toBeUndefined();
          totals.add(page.data.devices.totalCount);
          ids.push(...page.data.devices.edges.map((edge: { node: { id: string } }) => edge.node.id));
          if (!page.data.devices.pageInfo.hasNextPage) break;
          after = page.data.devices.pageInfo.endCursor;
        }
        return { ids, totals: [...totals] };
      }

      beforeAll(async () => {
        tenant = await graph.token({ tenantId: "search", role: "admin" });
        const inputs = [
          ...Array.from({ length: 30 }, (_, i) => ({ ...iphone(`s-${String(i).padStart(2, "0")}`, i % 3 === 0 ? `Sales Phone ${i}` : `Lab tablet ${i}`), userPrincipalName: i === 7 ? "Ada.Lovelace@contoso.com" : null })),
          { ...iphone("w-1", "100% ready"), userPrincipalName: null },
          { ...iphone("w-2", "1000 ready"), userPrincipalName: null },
          { ...iphone("w-3", "under_score"), userPrincipalName: null },
          { ...iphone("w-4", "underXscore"), userPrincipalName: null },
          { ...iphone("w-5", "bang!mark"), userPrincipalName: null },
        ];
        const batch = await graph.query(tenant, `mutation($inputs: [EnrollDeviceInput!]!) { enrollDevicesBatch(inputs: $inputs) { error { message } } }`, { inputs });
        expect(batch.data!.enrollDevicesBatch.every((item: { error: unknown }) => item.error === null)).toBe(true);
        await graph.query(tenant, `mutation { retireDevice(id: "s-27") { id } }`);
        // Another tenant's devices with matching names, ids and user principal names.
        const other = await graph.token({ tenantId: "search-other", role: "admin" });
        for (const input of [iphone("s-00", "Sales Phone other"), { ...iphone("x-ada", "x"), userPrincipalName: "ada.lovelace@fabrikam.com" }]) {
          expect((await graph.query(other, ENROLL, { input })).errors).toBeUndefined();
        }
      });

      it("finds the name matches across pages, ignoring case, with totalCount the number of matches", async () => {
        const expected = ["s-00", "s-03", "s-06", "s-09", "s-12", "s-15", "s-18", "s-21", "s-24"]; // s-27 is retired
        expect(await searchAll(tenant, "sALES pHONE")).toEqual({ ids: expected, totals: [9] });
        expect(await searchAll(tenant, "  sales ", 500)).toEqual({ ids: expected, totals: [9] });
        expect(await searchAll(tenant, "Sales", 2, { includeRetired: true })).toEqual({ ids: [...expected, "s-27"], totals: [10] });
        expect(await searchAll(tenant, "sales", 4, { platform: "ANDROID" })).toEqual({ ids: [], totals: [0] });
      });

      it("matches the id and the user principal name too", async () => {
        expect(await searchAll(tenant, "S-1")).toEqual({ ids: ["s-10", "s-11", "s-12", "s-13", "s-14", "s-15", "s-16", "s-17", "s-18", "s-19"], totals: [10] });
        expect(await searchAll(tenant, "ada.LOVELACE")).toEqual({ ids: ["s-07"], totals: [1] });
      });

      it("matches % _ and ! as themselves, not as wildcards", async () => {
        expect(await searchAll(tenant, "100%")).toEqual({ ids: ["w-1"], totals: [1] });
        expect(await searchAll(tenant, "0% r")).toEqual({ ids: ["w-1"], totals: [1] });
        expect(await searchAll(tenant, "under_")).toEqual({ ids: ["w-3"], totals: [1] });
        expect(await searchAll(tenant, "%")).toEqual({ ids: ["w-1"], totals: [1] });
        expect(await searchAll(tenant, "_")).toEqual({ ids: ["w-3"], totals: [1] });
        expect(await searchAll(tenant, "!")).toEqual({ ids: ["w-5"], totals: [1] });
        expect(await searchAll(tenant, "g!m")).toEqual({ ids: ["w-5"], totals: [1] });
        // Empty (after trimming) matches every listed device.
        expect((await searchAll(tenant, "  ", 500)).totals).toEqual([34]);
      });

      it("never finds another tenant's devices, through the gateway or on the subgraph directly", async () => {
        for (const url of [graph.gatewayUrl, graph.subgraphs.devices!.url]) {
          const page = await graph.query(tenant, DEVICES, { first: 500, search: "fabrikam" }, url);
          expect(page.data!.devices).toMatchObject({ totalCount: 0, edges: [] });
          const other = await graph.query(tenant, DEVICES, { first: 500, search: "other" }, url);
          expect(other.data!.devices.totalCount).toBe(0);
          const ada = await graph.query(tenant, DEVICES, { first: 500, search: "ada" }, url);
          expect(ada.data!.devices.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual(["s-07"]);
        }
      });

      it.each([
        ["257 characters", "x".repeat(257), /^search: expected 0-256 characters; got 257/],
        ["a control character", "ab\u0007c", /^search: control characters are not allowed/],
        ["a NUL", "ab\u0000c", /^search: control characters are not allowed/],
        ["a lone surrogate", "ab\ud800c", /^search: expected well-formed Unicode text/],
      ])("refuses %s as BAD_USER_INPUT naming search", async (_name, search, message) => {
        const result = await graph.query(tenant, DEVICES, { search });
        expect(result.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
        expect(result.errors![0]!.message).toMatch(message);
        expect(result.data ?? null).toBeNull();
      });

      it("refuses the same inline in the query", async () => {
        for (const search of ["x".repeat(257), "ab\u0007c"]) {
          const inline = await graph.query(tenant, `query { devices(search: ${JSON.stringify(search)}) { totalCount } }`);
          expect(inline.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
          expect(inline.errors![0]!.message).toMatch(/^search: /);
        }
      });

      it("accepts 256 characters", async () => {
        expect((await searchAll(tenant, "y".repeat(256))).totals).toEqual([0]);
      });
    });

    it("retires a device: it keeps its record, leaves the default listing, and retiring twice is a no-op", async () => {
      await graph.query(admin, ENROLL, { input: iphone("d-retire") });
      const retired = await graph.query(admin, `mutation { retireDevice(id: "d-retire") { id retiredAt } }`);
      expect(retired.data!.retireDevice.retiredAt).not.toBeNull();
      const twice = await graph.query(admin, `mutation { retireDevice(id: "d-retire") { retiredAt } }`);
      expect(twice.data!.retireDevice.retiredAt).toBe(retired.data!.retireDevice.retiredAt);

      const listed = await graph.query(admin, DEVICES, { first: 500 });
      expect(listed.data!.devices.edges.map((edge: { node: { id: string } }) => edge.node.id)).not.toContain("d-retire");
      const all = await graph.query(admin, DEVICES, { first: 500, includeRetired: true });
      expect(all.data!.devices.edges.map((edge: { node: { id: string } }) => edge.node.id)).toContain("d-retire");

      const reenrolled = await graph.query(admin, ENROLL, { input: iphone("d-retire") });
      expect(reenrolled.data!.enrollDevice.retiredAt).toBeNull();
    });

    it("publishes device.enrolled / updated / retired through the outbox, versioned per device", async () => {
      const tenant = await graph.token({ tenantId: "events", role: "admin" });
      const seen: { type: string; version?: number; tenantId: string }[] = [];
      const controller = new AbortController();
      const tail = (async () => {
        for await (const event of graph.events.tail("devices", { after: "0", signal: controller.signal })) {
          if (event.tenantId !== "events") continue;
          seen.push({ type: event.type, version: event.version, tenantId: event.tenantId });
          if (seen.length === 3) break;
        }
      })();
      await graph.query(tenant, ENROLL, { input: iphone("e-1") });
      await graph.query(tenant, ENROLL, { input: iphone("e-1") }); // unchanged: no event
      await graph.query(tenant, ENROLL, { input: iphone("e-1", "renamed") });
      await graph.query(tenant, `mutation { retireDevice(id: "e-1") { id } }`);
      await tail;
      controller.abort();
      expect(seen).toEqual([
        { type: "device.enrolled", version: 1, tenantId: "events" },
        { type: "device.updated", version: 2, tenantId: "events" },
        { type: "device.retired", version: 3, tenantId: "events" },
      ]);
    });

    describe("security", () => {
      it("requires a valid token", async () => {
        const none = await graph.query(null, DEVICE, { id: "d-1" });
        expect(none.status).toBe(401);
        expect(none.errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");

        const expired = await graph.token({ tenantId: "contoso", role: "admin", expiresIn: -3600 });
        const result = await graph.query(expired, DEVICE, { id: "d-1" });
        expect(result.errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
        expect(result.errors![0]!.message).toBe("token expired");

        const forged = admin.slice(0, admin.lastIndexOf(".") + 1) + "A".repeat(43);
        expect((await graph.query(forged, DEVICE, { id: "d-1" })).errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
      });

      it("lets only admins enroll and retire", async () => {
        for (const role of ["analyst", "enforcement"] as const) {
          const token = await graph.token({ tenantId: "contoso", role });
          const result = await graph.query(token, ENROLL, { input: iphone(`x-${role}`) });
          expect(result.errors![0]!.extensions!.code).toBe("FORBIDDEN");
          expect((await graph.query(admin, DEVICE, { id: `x-${role}` })).data!.device).toBeNull();
        }
        const partner = await graph.token({ tenantId: "contoso", role: "partner", partner: "LOOKOUT" });
        await enablePartner(graph, admin, partner);
        expect((await graph.query(partner, `mutation { retireDevice(id: "d-1") { id } }`)).errors![0]!.extensions!.code).toBe("FORBIDDEN");
        expect((await graph.query(partner, DEVICE, { id: "d-1" })).data!.device.id).toBe("d-1");
      });

      it("keeps tenants apart, through the gateway and on the subgraph directly", async () => {
        for (const url of [graph.gatewayUrl, graph.subgraphs.devices!.url]) {
          expect((await graph.query(otherAdmin, DEVICE, { id: "d-1" }, url)).data!.device).toBeNull();
          const retire = await graph.query(otherAdmin, `mutation { retireDevice(id: "d-1") { id } }`, undefined, url);
          expect(retire.errors![0]!.extensions!.code).toBe("NOT_FOUND");
          const list = await graph.query(otherAdmin, DEVICES, { first: 500 }, url);
          expect(list.data!.devices.totalCount).toBe(0);
          const entities = await graph.query(otherAdmin, `query { _entities(representations: [{ __typename: "Device", id: "d-1" }]) { ... on Device { id name } } }`, undefined, url.replace(graph.gatewayUrl, graph.subgraphs.devices!.url));
          expect(entities.data!._entities).toEqual([null]);
        }
        // The same id in another tenant is another device.
        const theirs = await graph.query(otherAdmin, ENROLL, { input: iphone("d-1", "fabrikam phone") });
        expect(theirs.data!.enrollDevice.name).toBe("fabrikam phone");
        expect((await graph.query(admin, DEVICE, { id: "d-1" })).data!.device.name).toBe("iPhone d-1");
        expect((await graph.query(admin, DEVICE, { id: "d-1" })).data!.device.retiredAt).toBeNull();
      });

      it("rejects a subgraph call without a token", async () => {
        const direct = await graph.query(null, DEVICE, { id: "d-1" }, graph.subgraphs.devices!.url);
        expect(direct.status).toBe(401);
        expect(direct.errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
      });
    });

    describe("bad input is BAD_USER_INPUT naming the field, and nothing is stored", () => {
      it.each([
        ["a malformed id", { id: "has spaces/and slashes" }, "input.id"],
        ["an oversize id", { id: "x".repeat(129) }, "input.id"],
        ["an empty name", { name: "   " }, "input.name"],
        ["an oversize name", { name: "n".repeat(257) }, "input.name"],
        ["an oversize osVersion", { osVersion: "1".repeat(65) }, "input.osVersion"],
        ["an oversize userPrincipalName", { userPrincipalName: "u".repeat(321) }, "input.userPrincipalName"],
      ])("%s", async (_name, override, field) => {
        const input = { ...iphone("valid-id"), id: "bad-input-device", ...override };
        const result = await graph.query(admin, ENROLL, { input });
        expect(result.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
        expect(result.errors![0]!.message).toContain(field);
        const list = await graph.query(admin, DEVICES, { first: 500, includeRetired: true });
        expect(list.data!.devices.edges.map((edge: { node: { id: string } }) => edge.node.id)).not.toContain("bad-input-device");
      });

      it("an unknown enum value, as a variable or inline", async () => {
        const asVariable = await graph.query(admin, ENROLL, { input: { ...iphone("enum-1"), platform: "BLACKBERRY" } });
        expect(asVariable.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
        expect(asVariable.errors![0]!.message).toContain("BLACKBERRY");
        const inline = await graph.query(admin, `mutation { enrollDevice(input: { name: "n", platform: BLACKBERRY, osVersion: "1", ownership: CORPORATE }) { id } }`);
        expect(inline.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
      });

      it("a bad page size or cursor", async () => {
        expect((await graph.query(admin, DEVICES, { first: 501 })).errors![0]!.message).toMatch(/^first: expected an integer from 1 to 500/);
        expect((await graph.query(admin, DEVICES, { first: 0 })).errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
        expect((await graph.query(admin, DEVICES, { after: "garbage" })).errors![0]!.message).toMatch(/^after: not a cursor/);
        expect((await graph.query(admin, DEVICE, { id: "x".repeat(200) })).errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
      });
    });

    it("resolves 100 device references with one SQL statement (no N+1)", async () => {
      const tenant = await graph.token({ tenantId: "batch", role: "admin" });
      const ids = Array.from({ length: 100 }, (_, i) => `b-${String(i).padStart(3, "0")}`);
      for (const id of ids) await graph.query(tenant, ENROLL, { input: iphone(id) });
      const statements = graph.statements.devices!;
      const mark = statements.mark();
      const result = await graph.query(
        tenant,
        `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Device { id name } } }`,
        { representations: ids.map((id) => ({ __typename: "Device", id })) },
        graph.subgraphs.devices!.url,
      );
      expect(result.data!._entities).toHaveLength(100);
      expect(result.data!._entities.map((device: { id: string }) => device.id)).toEqual(ids);
      expect(statements.since(mark)).toHaveLength(1);
    });
  });
}
