import { DateTimeResolver, SafeIntResolver } from "graphql-scalars";
import { actorOf } from "../../../lib/audit.js";
import { requireRole } from "../../../lib/auth.js";
import { badUserInput, cursorExpired, notFound } from "../../../lib/errors.js";
import { decodeCursor, encodeCursor, pageSize, toPage } from "../../../lib/paging.js";
import { identifier, text } from "../../../lib/validation.js";
import { exceptionGrant, gracePeriodMinutes, resourceList } from "../input.js";
import type { Context } from "../context.js";
import type { AccessChangeRecord } from "../data/entities.js";
import { stateOf } from "../evaluate.js";
import type { Resolvers } from "../generated/graphql.js";

function sequenceOf(field: string, cursor: string): number {
  return decodeCursor(field, cursor, ["number"] as const)[0];
}

const cursorOf = (change: AccessChangeRecord) => encodeCursor([change.sequence]);

/** Refuses a cursor from before the retained history: its client would silently miss the pruned changes. */
async function retained(context: Context, tenantId: string, after: number): Promise<number> {
  const floor = await context.policies.retainedAfter(tenantId);
  if (after < floor) throw cursorExpired("after", encodeCursor([floor]));
  return after;
}

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
      const after = args.after == null ? 0 : await retained(context, tenantId, sequenceOf("after", args.after));
      const resources = args.resource == null ? undefined : resourceList("resource", [args.resource]);
      const [rows, totalCount] = await Promise.all([
        context.policies.changes(tenantId, { after, resources, limit: first + 1 }),
        context.policies.countChanges(tenantId, args.resource ?? undefined),
      ]);
      return toPage(rows, first, totalCount, cursorOf);
    },

    devicesByCompliance: async (_, args, context) => {
      const { tenantId } = requireRole(context.identity, "admin", "analyst");
      const first = pageSize(args.first, 50);
      const after = args.after == null ? "" : decodeCursor("after", args.after, ["string"] as const)[0];
      const { ids, totalCount } = await context.compliance.page(tenantId, { state: args.state, platform: args.platform ?? undefined }, after, first + 1);
      return toPage(ids.map((id) => ({ id })), first, totalCount, (device) => encodeCursor([device.id]));
    },

    deviceCountsByCompliance: async (_, { platform }, context) => {
      const { tenantId } = requireRole(context.identity, "admin", "analyst");
      const states = ["COMPLIANT", "IN_GRACE_PERIOD", "NONCOMPLIANT"] as const;
      const counts = await context.compliance.counts(tenantId, states, platform ?? undefined);
      return states.map((state, i) => ({ state, count: counts[i]! }));
    },
  },

  Mutation: {
    setCompliancePolicy: (_, { input }, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      return context.policies.setCompliancePolicy(tenantId, {
        platform: input.platform,
        name: text("input.name", input.name, { max: 256 }),
        maxThreatLevel: input.maxThreatLevel,
        gracePeriodMinutes: gracePeriodMinutes("input.gracePeriodMinutes", input.gracePeriodMinutes),
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
        mode: input.mode ?? "ENFORCED",
      }, actorOf(context));
      if (policy === null) throw notFound("ConditionalAccessPolicy", input.id!);
      return policy;
    },

    grantAccessException: (_, { input }, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      return context.exceptions.grant(tenantId, exceptionGrant(input, context.now()), actorOf(context));
    },

    revokeAccessException: (_, { id }, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      return context.exceptions.revoke(tenantId, identifier("id", id), actorOf(context));
    },
  },

  ConditionalAccessPolicy: {
    impact: (policy, _, context) => {
      requireRole(context.identity, "admin", "analyst");
      return { policyId: policy.id };
    },
  },

  PolicyImpact: {
    wouldBlock: (impact, _, context) => context.impact.count(context.identity.tenantId, impact.policyId),
    devices: async (impact, args, context) => {
      const first = pageSize(args.first, 50);
      const after = args.after == null ? "" : decodeCursor("after", args.after, ["string"] as const)[0];
      const tenantId = context.identity.tenantId;
      const [ids, totalCount] = await Promise.all([context.impact.devices(tenantId, impact.policyId, after, first + 1), context.impact.count(tenantId, impact.policyId)]);
      return toPage(ids.map((id) => ({ id })), first, totalCount, (device) => encodeCursor([device.id]));
    },
  },

  Subscription: {
    accessChanged: {
      subscribe: async (_, args, context) => {
        const { tenantId } = requireRole(context.identity, "admin", "analyst", "enforcement");
        const resources = args.resources == null ? undefined : resourceList("resources", args.resources);
        const afterSequence = args.after == null ? undefined : await retained(context, tenantId, sequenceOf("after", args.after));
        return context.accessStream.subscribe({ tenantId, resources, afterSequence });
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
      return state === null ? "COMPLIANT" : stateOf(state);
    },

    complianceDeadline: async (device, _, context) => (await context.deviceState.load(device.id))?.graceDeadline ?? null,

    accessExceptions: (device, _, context) => {
      requireRole(context.identity, "admin", "analyst", "enforcement");
      return context.accessExceptions.load(device.id);
    },

    access: (device, _, context) => {
      requireRole(context.identity, "admin", "analyst", "enforcement");
      return context.decisions.load(device.id);
    },
  },
};
