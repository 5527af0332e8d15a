/** The admin surface of the Shared Signals transmitter (the signals subgraph). Thin: `admin.ts` does the work. */
import DataLoader from "dataloader";
import { actorOf } from "../../../lib/audit.js";
import { requireRole } from "../../../lib/auth.js";
import { badUserInput, forbidden } from "../../../lib/errors.js";
import { decodeCursor, encodeCursor, pageSize, toPage } from "../../../lib/paging.js";
import { identifier, optionalText, text } from "../../../lib/validation.js";
import type { Context } from "../context.js";
import type { Resolvers, SsfStreamStatus } from "../generated/graphql.js";
import type { SsfAdmin, StreamHealth } from "../admin.js";
import type { DeliveryRecord, ReceiverRecord, StreamRecord } from "../data/entities.js";
import { EVENTS_SUPPORTED, type StreamStatus } from "../protocol.js";

interface Loaders {
  health: DataLoader<StreamRecord, StreamHealth>;
  receiver: DataLoader<string, ReceiverRecord | null>;
  streams: DataLoader<string, StreamRecord[]>;
  stream: DataLoader<string, StreamRecord | null>;
}

/** Per request: keyed by the request's context, never shared between callers. */
const perRequest = new WeakMap<Context, Loaders>();

function loaders(context: Context, admin: SsfAdmin): Loaders {
  let found = perRequest.get(context);
  if (found === undefined) {
    const tenantId = context.identity.tenantId;
    const tenantStreams = () => admin.streams(tenantId);
    found = {
      health: new DataLoader((streams) => admin.health(streams), { cacheKeyFn: (stream) => stream.streamId }),
      receiver: new DataLoader((ids) => admin.receiversByIds(tenantId, ids)),
      streams: new DataLoader(async (clientIds) => {
        const all = await tenantStreams();
        return clientIds.map((id) => all.filter((stream) => stream.clientId === id));
      }),
      stream: new DataLoader(async (ids) => {
        const all = new Map((await tenantStreams()).map((stream) => [stream.streamId, stream]));
        return ids.map((id) => all.get(id) ?? null);
      }),
    };
    perRequest.set(context, found);
  }
  return found;
}

function transmitter(context: Context): SsfAdmin {
  if (context.ssf === undefined) throw forbidden("the Shared Signals transmitter is off: set MTD_SSF_ISSUER on the signals service");
  return context.ssf;
}

const toStatus = (status: SsfStreamStatus) => status.toLowerCase() as StreamStatus;
const beforeOf = (cursor: string) => {
  const [sequence] = decodeCursor("after", cursor, ["number"] as const);
  if (sequence < 1) throw badUserInput("after", "not a cursor returned by this field");
  return sequence;
};

export const resolvers: Resolvers = {
  Query: {
    ssfReceivers: (_, __, context) => {
      const { tenantId } = requireRole(context.identity, "admin", "analyst");
      return context.ssf === undefined ? [] : context.ssf.receivers(tenantId);
    },
    ssfStreams: (_, __, context) => {
      const { tenantId } = requireRole(context.identity, "admin", "analyst");
      return context.ssf === undefined ? [] : context.ssf.streams(tenantId);
    },
    ssfDeadLetters: async (_, args, context) => {
      const { tenantId } = requireRole(context.identity, "admin", "analyst");
      const first = pageSize(args.first, 50);
      if (context.ssf === undefined) return toPage<DeliveryRecord>([], first, 0, () => "");
      const { rows, totalCount } = await context.ssf.deadLetters(tenantId, {
        streamId: args.streamId == null ? undefined : identifier("streamId", args.streamId),
        before: args.after == null ? undefined : beforeOf(args.after),
        limit: first + 1,
      });
      return toPage(rows, first, totalCount, (row) => encodeCursor([row.sequence]));
    },
  },

  Mutation: {
    registerSsfReceiver: (_, { input }, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      return transmitter(context).registerReceiver(tenantId, {
        name: text("input.name", input.name, { max: 256 }),
        audience: optionalText("input.audience", input.audience, { max: 512 }) ?? undefined,
        okta: input.okta == null ? undefined : { orgUrl: text("input.okta.orgUrl", input.okta.orgUrl, { max: 400 }), sessionRevoked: input.okta.sessionRevoked ?? false },
      }, actorOf(context));
    },
    rotateSsfReceiverSecret: (_, { clientId }, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      return transmitter(context).rotateSecret(tenantId, identifier("clientId", clientId), actorOf(context));
    },
    removeSsfReceiver: async (_, { clientId }, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      await transmitter(context).removeReceiver(tenantId, identifier("clientId", clientId), actorOf(context));
      return true;
    },
    setSsfStreamStatus: (_, args, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      return transmitter(context).setStreamStatus(tenantId, identifier("id", args.id), toStatus(args.status), optionalText("reason", args.reason, { max: 256 }), actorOf(context));
    },
    redeliverSsfDeadLetters: (_, { streamId }, context) => {
      const { tenantId } = requireRole(context.identity, "admin");
      return transmitter(context).redeliverDeadLetters(tenantId, identifier("streamId", streamId), actorOf(context));
    },
  },

  SsfReceiver: {
    streams: (receiver, _, context) => loaders(context, transmitter(context)).streams.load(receiver.clientId),
  },

  SsfStream: {
    id: (stream) => stream.streamId,
    receiver: async (stream, _, context) => (await loaders(context, transmitter(context)).receiver.load(stream.clientId))!,
    deliveryMethod: (stream) => (stream.deliveryMethod === "push" ? "PUSH" : "POLL"),
    endpointUrl: (stream, _, context) => transmitter(context).endpointUrl(stream),
    status: (stream) => stream.status.toUpperCase() as SsfStreamStatus,
    eventsDelivered: (stream) => EVENTS_SUPPORTED.filter((event) => stream.eventsRequested.includes(event)),
    health: (stream, _, context) => loaders(context, transmitter(context)).health.load(stream),
  },

  SsfDeadLetter: {
    id: (row) => row.jti,
    stream: async (row, _, context) => (await loaders(context, transmitter(context)).stream.load(row.streamId))!,
    error: (row) => row.lastError ?? "unknown",
    queuedAt: (row) => new Date(row.createdAt),
    failedAt: (row) => new Date(row.finishedAt ?? row.createdAt),
  },

  SsfDeliveryHealth: {
    oldestPendingAt: (health) => (health.oldestPendingAt === null ? null : new Date(health.oldestPendingAt)),
    deadLetters: (health) => health.dead,
  },
};
