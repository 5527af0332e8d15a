import { DateTimeResolver, SafeIntResolver } from "graphql-scalars";
import { actorOf } from "../../../lib/audit.js";
import { requireRole } from "../../../lib/auth.js";
import { badUserInput, forbidden, notFound } from "../../../lib/errors.js";
import { decodeCursor, pageSize } from "../../../lib/paging.js";
import { identifier, optionalText, text } from "../../../lib/validation.js";
import type { Context } from "../context.js";
import type { AppFilterValues, AppValues, Viewer } from "../data/repository.js";
import type { AppFilter, AppInput, Resolvers } from "../generated/graphql.js";

/** Apps per snapshot. */
export const MAX_APPS_PER_SNAPSHOT = 5000;
/** How far in the future a snapshot's `capturedAt` may lie (clock skew between MDM and us). */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  SafeInt: SafeIntResolver,

  Query: {
    appInventorySettings: (_, __, context) => context.inventory.settings(context.identity.tenantId),

    apps: async (_, args, context) => {
      const viewer = inventoryViewer(context);
      const first = pageSize(args.first, 100);
      const after = args.after == null ? undefined : decodeCursor("after", args.after, ["string", "string"] as const);
      return context.inventory.list(viewer, appFilter(args.filter), { first, after });
    },

    appVersionCounts: (_, { appId }, context) => context.inventory.versionCounts(inventoryViewer(context), text("appId", appId, { max: 256 })),
  },

  Mutation: {
    setAppInventorySettings: (_, { input }, context) => {
      const { tenantId, subject } = requireRole(context.identity, "admin");
      return context.inventory.setSettings(tenantId, { iosAppSyncEnabled: input.iosAppSyncEnabled, includePersonalDevices: input.includePersonalDevices }, subject, actorOf(context));
    },

    syncAppInventory: async (_, args, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      const deviceId = identifier("deviceId", args.deviceId);
      if (args.capturedAt.getTime() > Date.now() + MAX_CLOCK_SKEW_MS) {
        throw badUserInput("capturedAt", `expected at most 5 minutes in the future; got ${args.capturedAt.toISOString()}`);
      }
      const apps = snapshot(args.apps);
      const outcome = await context.inventory.sync(tenantId, deviceId, args.capturedAt, apps);
      if (outcome.kind === "unknown-device") throw notFound("Device", deviceId);
      return { device: { __typename: "Device", id: deviceId }, appCount: outcome.appCount, stale: outcome.kind === "stale", capturedAt: outcome.capturedAt };
    },
  },

  Device: {
    // Nothing to load: the inventory holds no Device fields but `apps`, whose
    // loader applies tenant and visibility in SQL (an unknown or foreign device
    // simply has no visible apps).
    __resolveReference: (reference) => ({ __typename: "Device", id: reference.id }),
    apps: (device, args, context) => {
      const first = pageSize(args.first, 100);
      const afterAppId = args.after == null ? undefined : decodeCursor("after", args.after, ["string"] as const)[0];
      return context.appsOfDevice(first, afterAppId).load(device.id);
    },
  },

  InstalledApp: {
    device: (app) => ({ __typename: "Device", id: app.deviceId }),
  },

  InstalledAppConnection: {
    totalCount: (page) => page.count(),
  },
};

/** The caller's view of the inventory; the enforcement role has none. */
function inventoryViewer(context: Context): Viewer {
  if (context.viewer === null) throw forbidden(`role ${context.identity.role} may not read app inventories; requires admin, analyst or partner`);
  return context.viewer;
}

function appFilter(filter: AppFilter | null | undefined): AppFilterValues {
  if (filter == null) return {};
  const values: AppFilterValues = {};
  if (filter.appId != null) values.appId = text("filter.appId", filter.appId, { max: 256 });
  if (filter.nameContains != null) values.nameContains = text("filter.nameContains", filter.nameContains, { max: 256 }).toLowerCase();
  if (filter.version != null) values.version = text("filter.version", filter.version, { min: 0, max: 64 });
  if (filter.versionBelow != null) values.versionBelow = text("filter.versionBelow", filter.versionBelow, { max: 64 });
  if (filter.managed != null) values.managed = filter.managed;
  if (filter.validated != null) values.validated = filter.validated;
  if (filter.platform != null) values.platform = filter.platform;
  if (filter.ownership != null) values.ownership = filter.ownership;
  return values;
}

/** Validates a whole snapshot before anything is stored; errors name `apps[i].field`. */
function snapshot(apps: readonly AppInput[]): AppValues[] {
  if (apps.length > MAX_APPS_PER_SNAPSHOT) throw badUserInput("apps", `expected at most ${MAX_APPS_PER_SNAPSHOT} apps; got ${apps.length}`);
  const seen = new Map<string, number>();
  return apps.map((app, index) => {
    const field = (name: string) => `apps[${index}].${name}`;
    const appId = text(field("appId"), app.appId, { max: 256 });
    const first = seen.get(appId);
    if (first !== undefined) throw badUserInput(field("appId"), `expected an app id unique in the snapshot; got ${JSON.stringify(appId)} again (first at apps[${first}])`);
    seen.set(appId, index);
    return {
      appId,
      name: text(field("name"), app.name, { max: 256 }),
      version: text(field("version"), app.version, { min: 0, max: 64 }),
      shortVersion: optionalText(field("shortVersion"), app.shortVersion, { min: 0, max: 64 }),
      bundleSize: size(field("bundleSize"), app.bundleSize),
      dynamicSize: size(field("dynamicSize"), app.dynamicSize),
      validated: app.validated,
      managed: app.managed,
    };
  });
}

function size(field: string, value: number | null | undefined): number | null {
  if (value == null) return null;
  if (value < 0) throw badUserInput(field, `expected a non-negative SafeInt; got ${value}`);
  return value;
}
