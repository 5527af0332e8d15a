import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import { actorOf } from "../../../lib/audit.js";
import { requireRole } from "../../../lib/auth.js";
import { notFound } from "../../../lib/errors.js";
import { decodeCursor, encodeCursor, pageSize, toPage } from "../../../lib/paging.js";
import { identifier, optionalText, text } from "../../../lib/validation.js";
import { randomUUID } from "node:crypto";
import type { Resolvers } from "../generated/graphql.js";

export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  JSON: JSONResolver,

  Query: {
    device: (_, { id }, context) => context.deviceById.load(identifier("id", id)),

    devices: async (_, args, context) => {
      const first = pageSize(args.first, 50);
      const afterId = args.after == null ? undefined : decodeCursor("after", args.after, ["string"] as const)[0];
      const { rows, totalCount } = await context.devices.list(context.identity.tenantId, {
        first,
        afterId,
        platform: args.platform ?? undefined,
        includeRetired: args.includeRetired ?? false,
      });
      return toPage(rows, first, totalCount, (device) => encodeCursor([device.id]));
    },

    auditLog: async (_, args, context) => {
      const { tenantId } = requireRole(context.identity, "admin", "analyst");
      const first = pageSize(args.first, 50);
      const after = args.after == null ? undefined : decodeCursor("after", args.after, ["number", "string"] as const);
      const { rows, totalCount } = await context.auditLog.page(tenantId, first, after);
      return toPage(rows, first, totalCount, (entry) => encodeCursor([entry.at, entry.id]));
    },
  },

  Mutation: {
    enrollDevice: async (_, { input }, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      return context.devices.enroll(tenantId, {
        id: input.id == null ? randomUUID() : identifier("input.id", input.id),
        name: text("input.name", input.name, { max: 256 }),
        platform: input.platform,
        osVersion: text("input.osVersion", input.osVersion, { max: 64 }),
        ownership: input.ownership,
        userPrincipalName: optionalText("input.userPrincipalName", input.userPrincipalName, { max: 320 }),
      }, actorOf(context));
    },

    retireDevice: async (_, { id }, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      const device = await context.devices.retire(tenantId, identifier("id", id), actorOf(context));
      if (device === null) throw notFound("Device", id);
      return device;
    },
  },

  Device: {
    __resolveReference: (reference, context) => context.deviceById.load(reference.id),
  },

  AuditEntry: {
    at: (entry) => new Date(entry.at),
    before: (entry) => (entry.before === null ? null : JSON.parse(entry.before)),
    after: (entry) => (entry.after === null ? null : JSON.parse(entry.after)),
  },
};
