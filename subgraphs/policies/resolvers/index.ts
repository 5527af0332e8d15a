import { DateTimeResolver, SafeIntResolver } from "graphql-scalars";
import { actorOf } from "../../../lib/audit.js";
import { requireRole } from "../../../lib/auth.js";
import { badUserInput, notFound } from "../../../lib/errors.js";
import { decodeCursor, encodeCursor, pageSize, toPage } from "../../../lib/paging.js";
import { identifier, text } from "../../../lib/validation.js";
import type { Context } from "../context.js";
import type { AccessChangeRecord } from "../data/entities.js";
import type { Resolvers } from "../generated/graphql.js";

const MAX_RESOURCES = 50;
const RESOURCE_NAME = /^[A-Za-z0-9._:/-]{1,128}$/;

/** Resource names: 1-128 characters of `[A-Za-z0-9._:/-]`, distinct, at most 50. */
function resourceList(field: string, resources: readonly string[], allowEmpty = false): string[] {
  if (!allowEmpty && resources.length === 0) throw badUserInput(field, "expected at least one resource");
  if (resources.length > MAX_RESOURCES) throw badUserInput(field, `expected at most ${MAX_RESOURCES} resources; got ${resources.length}`);
  const seen = new Set<string>();
  resources.forEach((resource, index) => {
    if (!RESOURCE_NAME.test(resource)) throw badUserInput(`${field}[${index}]`, `expected 1-128 characters of [A-Za-z0-9._:/-]; got ${JSON.stringify(resource.slice(0, 40))}`);
    if (seen.has(resource)) throw badUserInput(`${field}[${index}]`, `duplicate resource "${resource}"`);
    seen.add(resource);
  });
  return [...seen];
}

function sequenceOf(field: string, cursor: string): number {
  const [sequence] = decodeCursor(field, cursor, ["number"] as const);
  if (!Number.isSafeInteger(sequence) || sequence < 0) throw badUserInput(field, "not a cursor returned by this field");
  return sequence;
}

const cursorOf = (change: AccessChangeRecord) => encodeCursor([change.sequence]);

export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  SafeInt: SafeIntResolver,

  Query: {
    compliancePolicies: (_, __, context) => context.policies.compliancePolicies(requireRole(context.identity, "admin", "analyst", "enforcement").tenantId),

    conditionalAccessPolicies: (_, __, context) =>
      context.policies.conditionalAccessPolicies(requireRole(context.identity, "admin", "analyst", "enforcement").tenantId),

    accessChanges: async (_, args, context) => {
      const { tenantId } = requireRole(context.identity, "admin", "analyst", "enforcement");
      const first = pageSize(args.first, 100);
      const after = args.after == null ? 0 : sequenceOf("after", args.after);
      const resources = args.resource == null ? undefined : resourceList("resource", [args.resource]);
      const [rows, totalCount] = await Promise.all([
        context.policies.changes(tenantId, { after, resources, limit: first + 1 }),
        context.policies.countChanges(tenantId, args.resource ?? undefined),
      ]);
      return toPage(rows, first, totalCount, cursorOf);
    },
  },

  Mutation: {
    setCompliancePolicy: (_, { input }, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      return context.policies.setCompliancePolicy(tenantId, {
        platform: input.platform,
        name: text("input.name", input.name, { max: 256 }),
        maxThreatLevel: input.maxThreatLevel,
      }, actorOf(context));
    },

    setConditionalAccessPolicy: async (_, { input }, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      const platforms = [...new Set(input.platforms)];
      if (platforms.length === 0) throw badUserInput("input.platforms", "expected at least one platform");
      if (platforms.length !== input.platforms.length) throw badUserInput("input.platforms", "platforms must be distinct");
      const policy = await context.policies.setConditionalAccessPolicy(tenantId, {
        id: input.id == null ? undefined : identifier("input.id", input.id),
        name: text("input.name", input.name, { max: 256 }),
        resources: resourceList("input.resources", input.resources),
        platforms,
        enabled: input.enabled,
      }, actorOf(context));
      if (policy === null) throw notFound("ConditionalAccessPolicy", input.id!);
      return policy;
    },
  },

  Subscription: {
    accessChanged: {
      subscribe: (_, args, context) => {
        const { tenantId } = requireRole(context.identity, "admin", "analyst", "enforcement");
        return context.accessStream.subscribe({
          tenantId,
          resources: args.resources == null ? undefined : resourceList("resources", args.resources),
          afterSequence: args.after == null ? undefined : sequenceOf("after", args.after),
        });
      },
      resolve: (change: AccessChangeRecord, _args: unknown, context: Context) => {
        // A subscription's context lives as long as the subscription: DataLoader caches are per event.
        context.deviceState.clearAll();
        context.decisions.clearAll();
        return change;
      },
    },
  },

  AccessChange: {
    cursor: cursorOf,
    device: (change) => ({ id: change.deviceId }),
  },

  Device: {
    __resolveReference: (reference) => ({ id: reference.id }),

    complianceState: async (device, _, context) => {
      const state = await context.deviceState.load(device.id);
      // A device policies has not heard of yet has no policy-relevant facts: nothing makes it noncompliant.
      return state === null || state.compliant ? "COMPLIANT" : "NONCOMPLIANT";
    },

    access: (device, _, context) => {
      requireRole(context.identity, "admin", "analyst", "enforcement");
      return context.decisions.load(device.id);
    },
  },
};
