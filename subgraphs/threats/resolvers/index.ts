import { DateTimeResolver } from "graphql-scalars";
import { actorOf } from "../../../lib/audit.js";
import { requireRole, type Role } from "../../../lib/auth.js";
import { badUserInput, itemError } from "../../../lib/errors.js";
import { connectorSettings, MAX_REPORTS_PER_BATCH, report } from "../input.js";
import type { Context } from "../context.js";
import type { Report } from "../data/reports.js";
import type { ReportThreatsInput, Resolvers } from "../generated/graphql.js";

/** Who reads the tenant's connector, risk and threats. */
const READERS: Role[] = ["admin", "analyst", "enforcement", "partner"];
/** The order of `deviceCountsByRisk`: the levels lowest first, then no partner data. */
const RISK_ORDER = ["SECURED", "LOW", "MEDIUM", "HIGH", null] as const;
/** Who follows risk changes. */
const SUBSCRIBERS: Role[] = ["enforcement", "admin", "analyst"];

export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,

  Query: {
    mtdConnector: (_, __, context) => {
      const { tenantId } = requireRole(context.identity, ...READERS);
      return context.connectors.current(tenantId);
    },
    mtdConnectors: (_, __, context) => {
      const { tenantId } = requireRole(context.identity, ...READERS);
      return context.connectors.list(tenantId);
    },
    deviceCountsByRisk: async (_, { platform }, context) => {
      const { tenantId } = requireRole(context.identity, ...READERS);
      const counts = await context.assessments.countByLevel(tenantId, platform ?? undefined);
      return RISK_ORDER.map((level) => ({ level, count: counts.get(level) ?? 0 }));
    },
  },

  Mutation: {
    enableMtdConnector: (_, { input }, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      return context.connectors.enable(tenantId, connectorSettings(input), actorOf(context));
    },

    disableMtdConnector: (_, { partner }, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      return context.connectors.disable(tenantId, partner ?? undefined, actorOf(context));
    },

    reportThreats: async (_, { input }, context) => {
      requireRole(context.identity, "partner");
      return ingest(context, input, "input");
    },

    reportThreatsBatch: async (_, { inputs }, context) => {
      const { tenantId, partner } = requireRole(context.identity, "partner");
      if (inputs.length > MAX_REPORTS_PER_BATCH) throw badUserInput("inputs", `expected at most ${MAX_REPORTS_PER_BATCH} reports; got ${inputs.length}`);
      // Input errors stay with their report; the valid ones are applied together.
      const checked = inputs.map((input, i) => {
        try {
          return report(input, context.now(), `inputs[${i}]`);
        } catch (error) {
          return itemError(error, context.logger);
        }
      });
      const valid = checked.filter((item): item is Report => !("code" in item));
      const outcomes = await context.reports.reportMany(tenantId, partner, valid, context.identity.authorization);
      let next = 0;
      return checked.map((item, i) => {
        if ("code" in item) return { reportId: inputs[i]!.reportId, result: null, error: item };
        const outcome = outcomes[next++]!;
        if ("error" in outcome) return { reportId: item.reportId, result: null, error: itemError(outcome.error, context.logger) };
        return { reportId: item.reportId, result: { reportId: item.reportId, duplicate: outcome.duplicate, device: { id: item.deviceId } }, error: null };
      });
    },

    partnerHeartbeat: (_, __, context) => {
      const { tenantId, partner } = requireRole(context.identity, "partner");
      return context.connectors.heartbeat(tenantId, partner);
    },
  },

  Subscription: {
    deviceRiskChanged: {
      subscribe: async (_, __, context) => {
        const { tenantId } = requireRole(context.identity, ...SUBSCRIBERS);
        await context.riskFeed.ready();
        return context.riskFeed.subscribe(tenantId, context.renewLoaders);
      },
    },
  },

  Device: {
    __resolveReference: (reference) => ({ id: reference.id }),

    riskLevel: async (device, _, context) => {
      requireRole(context.identity, ...READERS);
      return (await context.loaders.deviceState.load(device.id))?.level ?? null;
    },

    threats: async (device, { status }, context) => {
      const { role, partner } = requireRole(context.identity, ...READERS);
      const threats = await context.loaders.threats.load(device.id);
      // A partner sees what it reported itself, not another partner's findings.
      return threats.filter((threat) => (status == null || threat.status === status) && (role !== "partner" || threat.partner === partner));
    },
  },
};

async function ingest(context: Context, input: ReportThreatsInput, field: string) {
  const checked = report(input, context.now(), field);
  const { duplicate } = await context.reports.report(context.identity.tenantId, context.identity.partner, checked, context.identity.authorization);
  return { reportId: checked.reportId, duplicate, device: { id: checked.deviceId } };
}
