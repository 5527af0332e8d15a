import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import { actorOf } from "../../../lib/audit.js";
import { requireRole } from "../../../lib/auth.js";
import { badUserInput, itemError, notFound, type ItemError } from "../../../lib/errors.js";
import { decodeCursor, encodeCursor, pageSize, toPage } from "../../../lib/paging.js";
import { identifier } from "../../../lib/validation.js";
import type { EnrollValues } from "../data/repository.js";
import { enrollValues, MAX_DEVICES_PER_BATCH, searchTerm } from "../input.js";
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
        search: searchTerm(args.search),
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
      return context.devices.enroll(tenantId, enrollValues(input), actorOf(context));
    },

    enrollDevicesBatch: async (_, { inputs }, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      if (inputs.length > MAX_DEVICES_PER_BATCH) throw badUserInput("inputs", `expected at most ${MAX_DEVICES_PER_BATCH} devices; got ${inputs.length}`);
      // Input errors stay with their item; the valid ones are enrolled together.
      const checked = inputs.map((input, i): { values: EnrollValues } | { id: string | null; error: ItemError } => {
        try {
          return { values: enrollValues(input, `inputs[${i}]`) };
        } catch (error) {
          return { id: input.id ?? null, error: itemError(error, context.logger) };
        }
      });
      const valid = checked.flatMap((item) => ("values" in item ? [item.values] : []));
      const devices = await context.devices.enrollMany(tenantId, valid, actorOf(context));
      let next = 0;
      return checked.map((item) => ("values" in item ? { id: item.values.id, device: devices[next++]!, error: null } : { id: item.id, device: null, error: item.error }));
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
