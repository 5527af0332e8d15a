import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../lib/auth.js";
import type { Ownership, Platform } from "../../lib/domain-enums.js";
import { engines } from "../support/engines.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { enablePartner } from "../support/partners.js";
import { waitFor } from "../support/wait.js";

const ENROLL = /* GraphQL */ `mutation Enroll($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`;
const RETIRE = /* GraphQL */ `mutation Retire($id: ID!) { retireDevice(id: $id) { id } }`;
const SETTINGS = /* GraphQL */ `query { appInventorySettings { iosAppSyncEnabled includePersonalDevices } }`;
const SET_SETTINGS = /* GraphQL */ `
  mutation Set($input: SetAppInventorySettingsInput!) { setAppInventorySettings(input: $input) { iosAppSyncEnabled includePersonalDevices } }
`;
const SYNC = /* GraphQL */ `
  mutation Sync($deviceId: ID!, $capturedAt: DateTime!, $apps: [AppInput!]!) {
    syncAppInventory(deviceId: $deviceId, capturedAt: $capturedAt, apps: $apps) { device { id } appCount stale capturedAt }
  }
`;
const APPS = /* GraphQL */ `
  query Apps($filter: AppFilter, $first: Int, $after: String) {
    apps(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { appId name version managed validated device { id } } }
    }
  }
`;
const DEVICE_APPS = /* GraphQL */ `
  query DeviceApps($id: ID!, $first: Int, $after: String) {
    device(id: $id) { id apps(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { appId version } } } }
  }
`;
const VERSION_COUNTS = /* GraphQL */ `query Counts($appId: String!) { appVersionCounts(appId: $appId) { version devices } }`;
const ENTITY_APPS = /* GraphQL */ `
  query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Device { id apps { totalCount edges { node { appId } } } } } }
`;

interface AppInput {
  appId: string;
  name: string;
  version: string;
  shortVersion?: string | null;
  bundleSize?: number | null;
  dynamicSize?: number | null;
  validated: boolean;
  managed: boolean;
}

function app(appId: string, overrides: Partial<AppInput> = {}): AppInput {
  return { appId, name: `App ${appId}`, version: "1.0", validated: true, managed: false, ...overrides };
}

const ids = (response: { data?: any }) => response.data!.apps.edges.map((edge: { node: { appId: string; device: { id: string } } }) => `${edge.node.device.id}/${edge.node.appId}`);

/** Monotonic capture times, so every sync in a suite is newer than the one before unless a test says otherwise. */
let clock = Date.now() - 24 * 3600_000;
const nextCapture = () => new Date((clock += 1000)).toISOString();

for (const engine of engines()) {
  describe.skipIf(!engine.enabled)(`inventory on ${engine.name}`, () => {
    let graph: TestGraph;
    const tokens = new Map<string, string>();

    /** A token for `role` in `tenant` (partners are LOOKOUT, whose connector is then enabled in the tenant: the partner rule). */
    async function token(tenant: string, role: Role): Promise<string> {
      const key = `${tenant}/${role}`;
      if (!tokens.has(key)) {
        const issued = await graph.token({ tenantId: tenant, role, partner: role === "partner" ? "LOOKOUT" : undefined });
        if (role === "partner") await enablePartner(graph, await token(tenant, "admin"), issued);
        tokens.set(key, issued);
      }
      return tokens.get(key)!;
    }

    /** The inventory's own record of a device (white-box: what the consumer has applied). */
    async function known(tenant: string, id: string) {
      return graph.subgraphs.inventory!.database.dataSource.getRepository("InventoryDevice").findOne({ where: { tenantId: tenant, id } }) as Promise<Record<string, any> | null>;
    }

    /** Enrolls through the gateway and waits until the inventory has consumed the event. */
    async function enroll(tenant: string, id: string, platform: Platform = "IOS", ownership: Ownership = "CORPORATE") {
      const result = await graph.query(await token(tenant, "admin"), ENROLL, { input: { id, name: `${platform} ${id}`, platform, osVersion: "17.4", ownership } });
      expect(result.errors).toBeUndefined();
      await waitFor(async () => {
        const device = await known(tenant, id);
        return device !== null && device.platform === platform && device.ownership === ownership && device.retiredAt === null;
      }, 10_000, `inventory knows ${tenant}/${id}`);
    }

    async function sync(tenant: string, deviceId: string, apps: AppInput[], capturedAt = nextCapture(), url?: string) {
      return graph.query(await token(tenant, "admin"), SYNC, { deviceId, capturedAt, apps }, url);
    }

    async function setSettings(tenant: string, iosAppSyncEnabled: boolean, includePersonalDevices: boolean) {
      const result = await graph.query(await token(tenant, "admin"), SET_SETTINGS, { input: { iosAppSyncEnabled, includePersonalDevices } });
      expect(result.errors).toBeUndefined();
      return result;
    }

    beforeAll(async () => {
      graph = await startGraph(engine);
    });
    afterAll(() => graph?.stop());

    describe("settings", () => {
      it("are off by default and readable by every role of the tenant", async () => {
        for (const role of ["admin", "analyst", "partner", "enforcement"] as const) {
          const read = await graph.query(await token("defaults", role), SETTINGS);
          expect(read.data).toEqual({ appInventorySettings: { iosAppSyncEnabled: false, includePersonalDevices: false } });
        }
      });

      it("only admins change them; each change is an inventory.settings.changed event", async () => {
        for (const role of ["analyst", "partner", "enforcement"] as const) {
          const denied = await graph.query(await token("settings", role), SET_SETTINGS, { input: { iosAppSyncEnabled: true, includePersonalDevices: true } });
          expect(denied.errors![0]!.extensions!.code).toBe("FORBIDDEN");
        }
        const seen: { type: string; version?: number; payload: any }[] = [];
        const controller = new AbortController();
        const tail = (async () => {
          for await (const event of graph.events.tail("inventory", { after: "0", signal: controller.signal })) {
            if (event.tenantId !== "settings") continue;
            seen.push({ type: event.type, version: event.version, payload: event.payload });
            if (seen.length === 2) return;
          }
        })();
        await setSettings("settings", true, false);
        await setSettings("settings", true, false); // unchanged: no event
        const last = await setSettings("settings", true, true);
        expect(last.data!.setAppInventorySettings).toEqual({ iosAppSyncEnabled: true, includePersonalDevices: true });
        await tail;
        controller.abort();
        expect(seen).toEqual([
          {
            type: "inventory.settings.changed",
            version: 1,
            payload: { iosAppSyncEnabled: true, includePersonalDevices: false, previous: { iosAppSyncEnabled: false, includePersonalDevices: false }, changedBy: "admin@settings" },
          },
          {
            type: "inventory.settings.changed",
            version: 2,
            payload: { iosAppSyncEnabled: true, includePersonalDevices: true, previous: { iosAppSyncEnabled: true, includePersonalDevices: false }, changedBy: "admin@settings" },
          },
        ]);
        const read = await graph.query(await token("settings", "partner"), SETTINGS);
        expect(read.data!.appInventorySettings).toEqual({ iosAppSyncEnabled: true, includePersonalDevices: true });
      });
    });

    describe("syncAppInventory", () => {
      it("is NOT_FOUND until the inventory has consumed the device's enrollment, then stores the snapshot", async () => {
        const unknown = await sync("sync", "not-enrolled", [app("com.a")]);
        expect(unknown.errors![0]!.extensions!.code).toBe("NOT_FOUND");

        await enroll("sync", "s-1");
        const capturedAt = nextCapture();
        const stored = await sync("sync", "s-1", [app("com.a", { shortVersion: "1", bundleSize: 2 ** 40, dynamicSize: 0, managed: true }), app("com.b", { validated: false })], capturedAt);
        expect(stored.errors).toBeUndefined();
        expect(stored.data!.syncAppInventory).toEqual({ device: { id: "s-1" }, appCount: 2, stale: false, capturedAt });

        const read = await graph.query(
          await token("sync", "analyst"),
          `query { device(id: "s-1") { name apps { totalCount edges { node { appId name version shortVersion bundleSize dynamicSize validated managed reportedAt device { id name } } } } } }`,
        );
        expect(read.errors).toBeUndefined();
        expect(read.data!.device.apps.totalCount).toBe(2);
        expect(read.data!.device.apps.edges.map((edge: { node: unknown }) => edge.node)).toEqual([
          { appId: "com.a", name: "App com.a", version: "1.0", shortVersion: "1", bundleSize: 2 ** 40, dynamicSize: 0, validated: true, managed: true, reportedAt: capturedAt, device: { id: "s-1", name: "IOS s-1" } },
          { appId: "com.b", name: "App com.b", version: "1.0", shortVersion: null, bundleSize: null, dynamicSize: null, validated: false, managed: false, reportedAt: capturedAt, device: { id: "s-1", name: "IOS s-1" } },
        ]);
      });

      it("replaces the whole snapshot, and ignores one captured at or before the stored one", async () => {
        await enroll("sync", "s-2");
        const first = nextCapture();
        await sync("sync", "s-2", [app("com.a"), app("com.b"), app("com.c")], first);
        const second = nextCapture();
        const replaced = await sync("sync", "s-2", [app("com.b", { version: "2.0" }), app("com.d")], second);
        expect(replaced.data!.syncAppInventory).toMatchObject({ appCount: 2, stale: false, capturedAt: second });

        const analyst = await token("sync", "analyst");
        const current = async () => (await graph.query(analyst, DEVICE_APPS, { id: "s-2" })).data!.device.apps.edges.map((edge: { node: { appId: string; version: string } }) => `${edge.node.appId}@${edge.node.version}`);
        expect(await current()).toEqual(["com.b@2.0", "com.d@1.0"]);

        for (const capturedAt of [first, second]) {
          const stale = await sync("sync", "s-2", [app("com.x")], capturedAt);
          expect(stale.errors).toBeUndefined();
          expect(stale.data!.syncAppInventory).toEqual({ device: { id: "s-2" }, appCount: 2, stale: true, capturedAt: second });
        }
        expect(await current()).toEqual(["com.b@2.0", "com.d@1.0"]);

        const emptied = await sync("sync", "s-2", []);
        expect(emptied.data!.syncAppInventory).toMatchObject({ appCount: 0, stale: false });
        expect(await current()).toEqual([]);
      });

      it("accepts 5,000 apps in one snapshot", async () => {
        await enroll("sync", "s-big");
        const apps = Array.from({ length: 5000 }, (_, i) => ({ appId: `a${i}`, name: `n${i}`, version: "1", validated: true, managed: i % 2 === 0 }));
        const result = await sync("sync", "s-big", apps);
        expect(result.errors).toBeUndefined();
        expect(result.data!.syncAppInventory.appCount).toBe(5000);
        const counted = await graph.query(await token("sync", "admin"), `query { device(id: "s-big") { apps(first: 1) { totalCount } } }`);
        expect(counted.data!.device.apps.totalCount).toBe(5000);
      });

      it("drops the snapshot when the device is retired and refuses new ones", async () => {
        await enroll("sync", "s-retire");
        await sync("sync", "s-retire", [app("com.a")]);
        await graph.query(await token("sync", "admin"), RETIRE, { id: "s-retire" });
        await waitFor(async () => (await known("sync", "s-retire"))?.retiredAt != null, 10_000, "retirement consumed");
        const apps = await graph.query(await token("sync", "admin"), APPS, { filter: { appId: "com.a" }, first: 500 });
        expect(ids(apps)).not.toContain("s-retire/com.a");
        expect((await sync("sync", "s-retire", [app("com.a")])).errors![0]!.extensions!.code).toBe("NOT_FOUND");
      });

      it("applies device events once, in version order (an old or repeated event changes nothing)", async () => {
        await enroll("sync", "s-events", "IOS", "CORPORATE");
        const before = (await known("sync", "s-events"))!;
        const event = (version: number, ownership: Ownership) => ({
          id: randomUUID(),
          type: "device.updated",
          tenantId: "sync",
          aggregateId: "s-events",
          version,
          occurredAt: new Date().toISOString(),
          payload: { id: "s-events", name: "x", platform: "IOS", ownership, osVersion: "1", userPrincipalName: null, enrolledAt: new Date().toISOString(), retiredAt: null },
        });
        // Replays of versions at or below the applied one are ignored; the next version applies.
        await graph.events.publish("devices", [event(before.version, "PERSONAL"), event(before.version - 1, "PERSONAL"), event(before.version + 1, "CORPORATE")]);
        await waitFor(async () => (await known("sync", "s-events"))!.version === before.version + 1, 10_000, "event consumed");
        expect((await known("sync", "s-events"))!.ownership).toBe("CORPORATE");
      });

      it("is for admins only", async () => {
        await enroll("sync", "s-roles");
        for (const role of ["analyst", "partner", "enforcement"] as const) {
          const result = await graph.query(await token("sync", role), SYNC, { deviceId: "s-roles", capturedAt: nextCapture(), apps: [app("com.a")] });
          expect(result.errors![0]!.extensions!.code).toBe("FORBIDDEN");
        }
        expect((await graph.query(await token("sync", "admin"), DEVICE_APPS, { id: "s-roles" })).data!.device.apps.totalCount).toBe(0);
      });
    });

    describe("bad input is BAD_USER_INPUT naming field and index, and nothing is stored", () => {
      const valid = [app("com.keep.0"), app("com.keep.1"), app("com.keep.2"), app("com.keep.3")];
      beforeAll(async () => {
        await enroll("bad", "b-1");
        expect((await sync("bad", "b-1", valid)).errors).toBeUndefined();
      });

      const replaceAt = (index: number, override: Partial<AppInput>) => valid.map((each, i) => (i === index ? { ...each, appId: `com.new.${i}`, ...override } : { ...each, appId: `com.new.${i}` }));

      it.each([
        ["an empty appId", replaceAt(3, { appId: "" }), "apps[3].appId: expected 1-256 characters; got 0"],
        ["a blank appId", replaceAt(1, { appId: "   " }), "apps[1].appId: expected 1-256 characters; got 0"],
        ["an oversize appId", replaceAt(0, { appId: "a".repeat(257) }), "apps[0].appId: expected 1-256 characters; got 257"],
        ["an empty name", replaceAt(2, { name: "" }), "apps[2].name: expected 1-256 characters; got 0"],
        ["an oversize name", replaceAt(2, { name: "n".repeat(257) }), "apps[2].name: expected 1-256 characters; got 257"],
        ["a control character in the name", replaceAt(1, { name: "bad\u0000name" }), "apps[1].name: control characters are not allowed"],
        ["an oversize version", replaceAt(1, { version: "1".repeat(65) }), "apps[1].version: expected 0-64 characters; got 65"],
        ["an oversize shortVersion", replaceAt(3, { shortVersion: "1".repeat(65) }), "apps[3].shortVersion: expected 0-64 characters; got 65"],
        ["a negative bundleSize", replaceAt(2, { bundleSize: -1 }), "apps[2].bundleSize: expected a non-negative SafeInt; got -1"],
        ["a negative dynamicSize", replaceAt(0, { dynamicSize: -5 }), "apps[0].dynamicSize: expected a non-negative SafeInt; got -5"],
        ["a duplicate appId", replaceAt(3, { appId: "com.new.1" }), 'apps[3].appId: expected an app id unique in the snapshot; got "com.new.1" again (first at apps[1])'],
      ])("%s", async (_name, apps, message) => {
        const result = await sync("bad", "b-1", apps);
        expect(result.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
        expect(result.errors![0]!.message).toBe(message);
        const stored = await graph.query(await token("bad", "admin"), DEVICE_APPS, { id: "b-1" });
        expect(stored.data!.device.apps.edges.map((edge: { node: { appId: string } }) => edge.node.appId)).toEqual(valid.map((each) => each.appId));
      });

      it("more than 5,000 apps, a size beyond SafeInt, a capture time in the future, a malformed device id", async () => {
        const tooMany = Array.from({ length: 5001 }, (_, i) => ({ appId: `${i}`, name: "n", version: "", validated: false, managed: false }));
        const many = await sync("bad", "b-1", tooMany);
        expect(many.errors![0]!.message).toBe("apps: expected at most 5000 apps; got 5001");

        // Scalar coercion fails in the subgraph (the gateway does not know SafeInt), which answers HTTP 400:
        // the same error reaches the client directly and through the gateway.
        for (const url of [graph.subgraphs.inventory!.url, undefined]) {
          const unsafe = await sync("bad", "b-1", [app("com.x", { bundleSize: 2 ** 53 })], nextCapture(), url);
          expect(unsafe.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
          expect(unsafe.errors![0]!.message).toContain("bundleSize");
        }

        const future = await sync("bad", "b-1", [app("com.x")], new Date(Date.now() + 3600_000).toISOString());
        expect(future.errors![0]!.message).toMatch(/^capturedAt: expected at most 5 minutes in the future/);

        const malformed = await sync("bad", "has spaces", [app("com.x")]);
        expect(malformed.errors![0]!.message).toMatch(/^deviceId: expected 1-128 characters/);

        const stored = await graph.query(await token("bad", "admin"), DEVICE_APPS, { id: "b-1" });
        expect(stored.data!.device.apps.totalCount).toBe(valid.length);
      });

      it("a bad page size, cursor or filter", async () => {
        const analyst = await token("bad", "analyst");
        // Above 500 the shared operation limits refuse the request before it runs; below 1 the field does.
        expect((await graph.query(analyst, APPS, { first: 501 })).errors![0]!.extensions).toMatchObject({ code: "OPERATION_LIMIT", limit: "maxPageSize" });
        expect((await graph.query(analyst, APPS, { first: 0 })).errors![0]!.message).toMatch(/^first: expected an integer from 1 to 500; got 0/);
        expect((await graph.query(analyst, APPS, { after: "garbage" })).errors![0]!.message).toMatch(/^after: not a cursor/);
        const deviceCursor = Buffer.from(JSON.stringify(["only-one"])).toString("base64url");
        expect((await graph.query(analyst, APPS, { after: deviceCursor })).errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
        expect((await graph.query(analyst, APPS, { filter: { appId: "" } })).errors![0]!.message).toMatch(/^filter.appId: expected 1-256/);
        expect((await graph.query(analyst, APPS, { filter: { versionBelow: "1".repeat(65) } })).errors![0]!.message).toMatch(/^filter.versionBelow: expected 1-64/);
        expect((await graph.query(analyst, VERSION_COUNTS, { appId: "" })).errors![0]!.message).toMatch(/^appId: expected 1-256/);
        expect((await graph.query(analyst, DEVICE_APPS, { id: "b-1", first: 0 })).errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
      });
    });

    describe("sharing rules", () => {
      const TENANT = "sharing";
      const DEVICES: { id: string; platform: Platform; ownership: Ownership }[] = [];
      for (const platform of ["IOS", "ANDROID", "MACOS"] as const) {
        for (const ownership of ["CORPORATE", "PERSONAL"] as const) DEVICES.push({ id: `${platform.toLowerCase()}-${ownership.toLowerCase()}`, platform, ownership });
      }
      /** Every device has one managed and one unmanaged app. */
      const ALL = DEVICES.flatMap((device) => [`${device.id}/com.managed`, `${device.id}/com.unmanaged`]).sort();

      beforeAll(async () => {
        for (const device of DEVICES) {
          await enroll(TENANT, device.id, device.platform, device.ownership);
          const result = await sync(TENANT, device.id, [app("com.managed", { managed: true, version: "2.0" }), app("com.unmanaged", { managed: false, version: "3.1" })]);
          expect(result.errors).toBeUndefined();
        }
      });

      // What a partner sees, for every combination of the two flags (over platform × ownership × managed).
      const PARTNER_SEES: [iosAppSyncEnabled: boolean, includePersonalDevices: boolean, visible: string[]][] = [
        [false, false, []],
        [false, true, []],
        [true, false, ["ios-corporate/com.managed", "ios-corporate/com.unmanaged", "ios-personal/com.managed"]],
        [true, true, ["ios-corporate/com.managed", "ios-corporate/com.unmanaged", "ios-personal/com.managed", "ios-personal/com.unmanaged"]],
      ];

      describe.each(PARTNER_SEES)("iosAppSyncEnabled %s, includePersonalDevices %s", (iosAppSyncEnabled, includePersonalDevices, visible) => {
        beforeAll(() => setSettings(TENANT, iosAppSyncEnabled, includePersonalDevices));

        it("a partner sees exactly the shared apps, in apps, Device.apps and appVersionCounts", async () => {
          const partner = await token(TENANT, "partner");
          const listed = await graph.query(partner, APPS, { first: 500 });
          expect(listed.errors).toBeUndefined();
          expect(ids(listed).sort()).toEqual(visible);
          expect(listed.data!.apps.totalCount).toBe(visible.length);

          for (const device of DEVICES) {
            const own = await graph.query(partner, DEVICE_APPS, { id: device.id });
            const seen = own.data!.device.apps.edges.map((edge: { node: { appId: string } }) => `${device.id}/${edge.node.appId}`);
            expect(seen).toEqual(visible.filter((key) => key.startsWith(`${device.id}/`)));
            expect(own.data!.device.apps.totalCount).toBe(seen.length);
          }

          for (const [appId, version] of [["com.managed", "2.0"], ["com.unmanaged", "3.1"]] as const) {
            const devices = visible.filter((key) => key.endsWith(`/${appId}`)).length;
            const counts = await graph.query(partner, VERSION_COUNTS, { appId });
            expect(counts.data!.appVersionCounts).toEqual(devices === 0 ? [] : [{ version, devices }]);
          }
        });

        it("admins and analysts see every app of the tenant", async () => {
          for (const role of ["admin", "analyst"] as const) {
            const listed = await graph.query(await token(TENANT, role), APPS, { first: 500 });
            expect(ids(listed).sort()).toEqual(ALL);
            expect(listed.data!.apps.totalCount).toBe(ALL.length);
            const counts = await graph.query(await token(TENANT, role), VERSION_COUNTS, { appId: "com.unmanaged" });
            expect(counts.data!.appVersionCounts).toEqual([{ version: "3.1", devices: DEVICES.length }]);
          }
        });

        it("the enforcement role is FORBIDDEN the inventory queries and sees no apps on devices", async () => {
          const enforcement = await token(TENANT, "enforcement");
          expect((await graph.query(enforcement, APPS, {})).errors![0]!.extensions!.code).toBe("FORBIDDEN");
          expect((await graph.query(enforcement, VERSION_COUNTS, { appId: "com.managed" })).errors![0]!.extensions!.code).toBe("FORBIDDEN");
          const own = await graph.query(enforcement, DEVICE_APPS, { id: "ios-corporate" });
          expect(own.errors).toBeUndefined();
          expect(own.data!.device.apps).toEqual({ totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] });
        });
      });

      it("a partner's filters and paging stay within what is shared", async () => {
        await setSettings(TENANT, true, false);
        const partner = await token(TENANT, "partner");
        const unmanaged = await graph.query(partner, APPS, { filter: { managed: false } });
        expect(ids(unmanaged)).toEqual(["ios-corporate/com.unmanaged"]);
        const android = await graph.query(partner, APPS, { filter: { platform: "ANDROID" } });
        expect(android.data!.apps.totalCount).toBe(0);
        const seen: string[] = [];
        let after: string | null = null;
        do {
          const page: any = await graph.query(partner, APPS, { first: 1, after });
          expect(page.data.apps.totalCount).toBe(3);
          seen.push(...ids(page));
          after = page.data.apps.pageInfo.hasNextPage ? page.data.apps.pageInfo.endCursor : null;
        } while (after !== null);
        expect(seen).toEqual(["ios-corporate/com.managed", "ios-corporate/com.unmanaged", "ios-personal/com.managed"]);
      });

      it("follows ownership changes of a device", async () => {
        await setSettings(TENANT, true, false);
        const partner = await token(TENANT, "partner");
        await enroll(TENANT, "ios-moving", "IOS", "CORPORATE");
        await sync(TENANT, "ios-moving", [app("com.unmanaged", { version: "3.1" })]);
        expect(ids(await graph.query(partner, APPS, { filter: { appId: "com.unmanaged" } }))).toContain("ios-moving/com.unmanaged");
        await enroll(TENANT, "ios-moving", "IOS", "PERSONAL");
        expect(ids(await graph.query(partner, APPS, { filter: { appId: "com.unmanaged" } }))).not.toContain("ios-moving/com.unmanaged");
        await graph.query(await token(TENANT, "admin"), RETIRE, { id: "ios-moving" });
      });
    });

    describe("tenant isolation", () => {
      beforeAll(async () => {
        await enroll("alpha", "shared-id");
        await enroll("alpha", "alpha-only");
        await sync("alpha", "shared-id", [app("com.alpha", { managed: true })]);
        await sync("alpha", "alpha-only", [app("com.alpha", { managed: true })]);
        await setSettings("alpha", true, true);
        await setSettings("beta", true, true);
        await enroll("beta", "shared-id", "IOS", "CORPORATE");
        await sync("beta", "shared-id", [app("com.beta")]);
      });

      it("another tenant's inventory does not exist, through the gateway and on the subgraph directly", async () => {
        for (const url of [graph.gatewayUrl, graph.subgraphs.inventory!.url]) {
          for (const role of ["admin", "analyst", "partner"] as const) {
            const beta = await token("beta", role);
            const listed = await graph.query(beta, APPS, { first: 500 }, url);
            expect(ids(listed)).toEqual(["shared-id/com.beta"]);
            expect((await graph.query(beta, APPS, { filter: { appId: "com.alpha" } }, url)).data!.apps.totalCount).toBe(0);
            expect((await graph.query(beta, VERSION_COUNTS, { appId: "com.alpha" }, url)).data!.appVersionCounts).toEqual([]);
          }
          const entities = await graph.query(
            await token("beta", "admin"),
            ENTITY_APPS,
            { representations: [{ __typename: "Device", id: "alpha-only" }, { __typename: "Device", id: "shared-id" }] },
            graph.subgraphs.inventory!.url,
          );
          expect(entities.data!._entities).toEqual([
            { id: "alpha-only", apps: { totalCount: 0, edges: [] } },
            { id: "shared-id", apps: { totalCount: 1, edges: [{ node: { appId: "com.beta" } }] } },
          ]);
          const foreign = await sync("beta", "alpha-only", [app("com.evil")], nextCapture(), url);
          expect(foreign.errors![0]!.extensions!.code).toBe("NOT_FOUND");
        }
        const alpha = await graph.query(await token("alpha", "analyst"), APPS, { first: 500 });
        expect(ids(alpha).sort()).toEqual(["alpha-only/com.alpha", "shared-id/com.alpha"]);
      });

      it("rejects a subgraph call without a valid token", async () => {
        const direct = await graph.query(null, APPS, {}, graph.subgraphs.inventory!.url);
        expect(direct.status).toBe(401);
        expect(direct.errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
      });
    });

    describe("analyst queries", () => {
      const TENANT = "analysis";
      const VERSIONS = ["1.9", "1.10", "1.10.1", "1.2", "1.2.0", "2.0-beta", "2.0", "10.0", "0.9"];

      beforeAll(async () => {
        for (const [i, version] of VERSIONS.entries()) {
          const id = `v-${i}`;
          await enroll(TENANT, id, i % 2 === 0 ? "IOS" : "ANDROID", i % 3 === 0 ? "PERSONAL" : "CORPORATE");
          await sync(TENANT, id, [
            app("com.versioned", { version, name: "Versioned" }),
            app(`com.other.${i}`, { name: i === 0 ? "100% Sure_Thing" : i === 1 ? "100x SureXThing" : `Other ${i}`, validated: i % 2 === 0, managed: i < 3 }),
          ]);
        }
        await enroll(TENANT, "v-extra");
        await sync(TENANT, "v-extra", [app("com.versioned", { version: "1.10" })]);
      });

      it("versionBelow compares dotted versions numerically", async () => {
        const analyst = await token(TENANT, "analyst");
        const below = async (versionBelow: string) => {
          const result = await graph.query(analyst, APPS, { filter: { appId: "com.versioned", versionBelow }, first: 500 });
          expect(result.errors).toBeUndefined();
          return result.data!.apps.edges.map((edge: { node: { version: string } }) => edge.node.version).sort();
        };
        expect(await below("1.10")).toEqual(["0.9", "1.2", "1.2.0", "1.9"]);
        expect(await below("1.9")).toEqual(["0.9", "1.2", "1.2.0"]);
        // "2" is "2.0", and a pre-release of 2.0 is below it.
        expect(await below("2")).toEqual(["0.9", "1.10", "1.10", "1.10.1", "1.2", "1.2.0", "1.9", "2.0-beta"]);
        expect(await below("2.0")).toEqual(["0.9", "1.10", "1.10", "1.10.1", "1.2", "1.2.0", "1.9", "2.0-beta"]);
        expect(await below("10")).toEqual(["0.9", "1.10", "1.10", "1.10.1", "1.2", "1.2.0", "1.9", "2.0", "2.0-beta"]);
        expect(await below("0.9")).toEqual([]);
      });

      it("appVersionCounts groups in SQL, highest version first", async () => {
        const result = await graph.query(await token(TENANT, "analyst"), VERSION_COUNTS, { appId: "com.versioned" });
        expect(result.data!.appVersionCounts).toEqual([
          { version: "10.0", devices: 1 },
          { version: "2.0", devices: 1 },
          { version: "2.0-beta", devices: 1 },
          { version: "1.10.1", devices: 1 },
          { version: "1.10", devices: 2 },
          { version: "1.9", devices: 1 },
          { version: "1.2.0", devices: 1 },
          { version: "1.2", devices: 1 },
          { version: "0.9", devices: 1 },
        ]);
        expect((await graph.query(await token(TENANT, "analyst"), VERSION_COUNTS, { appId: "com.nothing" })).data!.appVersionCounts).toEqual([]);
      });

      it("filters by name substring (case-insensitive, wildcards literal), version, flags, platform and ownership", async () => {
        const analyst = await token(TENANT, "analyst");
        const find = async (filter: Record<string, unknown>) => ids(await graph.query(analyst, APPS, { filter, first: 500 })).sort();
        expect(await find({ nameContains: "SURE" })).toEqual(["v-0/com.other.0", "v-1/com.other.1"]);
        expect(await find({ nameContains: "0% sure_" })).toEqual(["v-0/com.other.0"]);
        expect(await find({ nameContains: "_" })).toEqual(["v-0/com.other.0"]);
        expect(await find({ nameContains: "%" })).toEqual(["v-0/com.other.0"]);
        expect(await find({ nameContains: "versioned", version: "1.10" })).toEqual(["v-1/com.versioned", "v-extra/com.versioned"]);
        expect(await find({ appId: "com.versioned", platform: "IOS", ownership: "PERSONAL" })).toEqual(["v-0/com.versioned", "v-6/com.versioned"]);
        expect(await find({ nameContains: "other", managed: true, validated: true })).toEqual(["v-2/com.other.2"]);
        expect(await find({ nameContains: "sure", managed: true, validated: true })).toEqual(["v-0/com.other.0"]);
        expect(await find({ nameContains: "no such app" })).toEqual([]);
      });

      it("Device.apps pages with cursors and keeps its totalCount", async () => {
        const admin = await token(TENANT, "admin");
        await enroll(TENANT, "v-pages");
        await sync(TENANT, "v-pages", ["e", "a", "d", "c", "b"].map((id) => app(`com.${id}`)));
        const seen: string[] = [];
        let after: string | null = null;
        do {
          const page: any = await graph.query(admin, DEVICE_APPS, { id: "v-pages", first: 2, after });
          expect(page.errors).toBeUndefined();
          expect(page.data.device.apps.totalCount).toBe(5);
          seen.push(...page.data.device.apps.edges.map((edge: { node: { appId: string } }) => edge.node.appId));
          after = page.data.device.apps.pageInfo.hasNextPage ? page.data.device.apps.pageInfo.endCursor : null;
        } while (after !== null);
        expect(seen).toEqual(["com.a", "com.b", "com.c", "com.d", "com.e"]);
      });

      it("paging stays stable while inventories change: no duplicates, no skips of rows that exist throughout", async () => {
        const tenant = "paging";
        const devices = Array.from({ length: 6 }, (_, i) => `p-${i}`);
        const steady = (device: string) => ["com.s1", "com.s2", "com.s3"].map((appId) => app(appId, { name: `${device} ${appId}` }));
        for (const device of devices) {
          await enroll(tenant, device);
          await sync(tenant, device, steady(device));
        }
        // Every row that exists throughout: the steady apps of every device.
        const throughout = devices.flatMap((device) => ["com.s1", "com.s2", "com.s3"].map((appId) => `${device}/${appId}`));

        let round = 0;
        let churning = true;
        const churn = (async () => {
          while (churning) {
            round += 1;
            const device = devices[round % devices.length]!;
            // Transient apps come and go around the steady ones (before, between and after them in key order).
            const transient = [app(`com.a${round}`), app(`com.s1x${round}`), app(`com.z${round}`)];
            const result = await sync(tenant, device, round % 3 === 0 ? steady(device) : [...steady(device), ...transient]);
            expect(result.errors).toBeUndefined();
          }
        })();

        const analyst = await token(tenant, "analyst");
        try {
          for (let pass = 0; pass < 3; pass++) {
            const seen: string[] = [];
            let after: string | null = null;
            do {
              const page: any = await graph.query(analyst, APPS, { first: 4, after });
              expect(page.errors).toBeUndefined();
              seen.push(...ids(page));
              after = page.data.apps.pageInfo.hasNextPage ? page.data.apps.pageInfo.endCursor : null;
            } while (after !== null);
            expect(new Set(seen).size).toBe(seen.length);
            expect(seen).toEqual([...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
            expect(seen.filter((key) => throughout.includes(key))).toEqual(throughout);
          }
        } finally {
          churning = false;
          await churn;
        }
        expect(round).toBeGreaterThan(3);
      });
    });

    describe("federated joins cost a bounded number of SQL statements", () => {
      const TENANT = "joins";
      const SIZE = 100;

      beforeAll(async () => {
        const admin = await token(TENANT, "admin");
        for (let i = 0; i < SIZE; i++) {
          const id = `j-${String(i).padStart(3, "0")}`;
          const enrolled = await graph.query(admin, ENROLL, { input: { id, name: `Phone ${i}`, platform: "IOS", osVersion: "17.4", ownership: "CORPORATE" } });
          expect(enrolled.errors).toBeUndefined();
        }
        await waitFor(async () => (await graph.subgraphs.inventory!.database.dataSource.getRepository("InventoryDevice").count({ where: { tenantId: TENANT } })) === SIZE, 20_000, "all devices consumed");
        for (let i = 0; i < SIZE; i++) {
          const result = await sync(TENANT, `j-${String(i).padStart(3, "0")}`, [app("com.joined")]);
          expect(result.errors).toBeUndefined();
        }
      });

      /** Device fields of the other subgraphs that exist in the composed supergraph right now. */
      function deviceSelection(): string {
        const supergraph = readFileSync(new URL("../../schema/supergraph.graphql", import.meta.url), "utf8");
        const device = /type Device\b[^{]*\{([\s\S]*?)\n\}/.exec(supergraph)?.[1] ?? "";
        const has = (field: string) => new RegExp(`^\\s+${field}\\b`, "m").test(device);
        const fields = ["name"];
        if (has("riskLevel") && graph.subgraphs.threats !== undefined) fields.push("riskLevel");
        if (has("complianceState") && graph.subgraphs.policies !== undefined) fields.push("complianceState");
        if (has("access") && graph.subgraphs.policies !== undefined) fields.push("access { resource allowed }");
        return fields.join(" ");
      }

      async function statementsFor(query: string, variables: Record<string, unknown>) {
        const marks = Object.fromEntries(Object.entries(graph.statements).map(([name, counter]) => [name, counter.mark()]));
        const result = await graph.query(await token(TENANT, "analyst"), query, variables);
        expect(result.errors).toBeUndefined();
        const used = Object.fromEntries(Object.entries(graph.statements).map(([name, counter]) => [name, counter.since(marks[name]!).length]));
        return { result, used };
      }

      it("apps { device { … } } over the gateway: the same statements for 10 or 100 apps", async () => {
        const selection = deviceSelection();
        const query = `query($first: Int) { apps(filter: { appId: "com.joined" }, first: $first) { edges { node { appId device { ${selection} } } } } }`;
        // Background work (outbox sweeps, consumers) also counts: take the quietest of a few runs.
        const quietest = async (first: number) => {
          let best: Record<string, number> | undefined;
          for (let run = 0; run < 3; run++) {
            const { result, used } = await statementsFor(query, { first });
            expect(result.data!.apps.edges).toHaveLength(first);
            expect(result.data!.apps.edges[0].node.device.name).toMatch(/^Phone /);
            if (best === undefined || Object.values(used).reduce((a, b) => a + b) < Object.values(best).reduce((a, b) => a + b)) best = used;
          }
          return best!;
        };
        const small = await quietest(10);
        const large = await quietest(SIZE);
        console.info(`statements per subgraph for device { ${selection} }: 10 apps ${JSON.stringify(small)}, 100 apps ${JSON.stringify(large)}`);
        expect(large).toEqual(small);
        expect(large.inventory).toBe(1);
        expect(large.devices).toBe(1);
        for (const [name, count] of Object.entries(large)) expect(count, name).toBeLessThanOrEqual(3);
      });

      it("devices { apps } resolves every device's apps with one inventory statement", async () => {
        const query = `query { devices(first: ${SIZE}) { edges { node { id apps(first: 5) { totalCount edges { node { appId } } } } } } }`;
        const { result, used } = await statementsFor(query, {});
        const joined = result.data!.devices.edges.filter((edge: { node: { id: string } }) => edge.node.id.startsWith("j-"));
        expect(joined).toHaveLength(SIZE);
        for (const edge of joined) expect(edge.node.apps).toEqual({ totalCount: 1, edges: [{ node: { appId: "com.joined" } }] });
        expect(used.inventory).toBe(1);
      });
    });
  });
}
