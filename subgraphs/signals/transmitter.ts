/**
 * The Shared Signals transmitter (SSF 1.0, CAEP 1.0), the heart of the
 * signals service: it consumes `compliance.changed` from the event log and
 * delivers signed CAEP SETs to the receivers each tenant registers, by push
 * (RFC 8935) or poll (RFC 8936). Its endpoints are served on the signals
 * port; its tables are `ssf_*` in the signals database.
 *
 *   fanout.ts   event log → per-stream SET queue (ssf_deliveries)
 *   push.ts     queue → receivers' endpoints        poll.ts   receivers ← queue
 *   streams.ts  SSF management API                  oauth.ts  token endpoint, bearer checks
 *   metadata.ts discovery + JWKS                    keys.ts   signing keys, rotation
 *   admin.ts    what the GraphQL admin surface does (resolvers/)
 */
import { randomUUID } from "node:crypto";
import type { AuditTrail } from "../../lib/audit.js";
import type { ServiceConfig } from "../config.js";
import { COMPLIANCE_CHANGED } from "../../lib/events/catalog.js";
import { consumeEvents } from "../../lib/events/consumer.js";
import type { Outbox } from "../../lib/events/outbox.js";
import type { EventLog, Disposable } from "../../lib/events/types.js";
import type { Logger } from "../../lib/logger.js";
import type { ServeOptions } from "../../lib/server.js";
import type { DataSource } from "typeorm";
import { SsfAdmin } from "./admin.js";
import { Notifier, type SsfContext } from "./ssf-context.js";
import { keyEncryptionSecret, Sealer } from "./crypto.js";
import { SsfRepository } from "./data/repository.js";
import { Fanout, OutOfOrder, SSF_CONSUMER_GROUP } from "./fanout.js";
import { HttpError, respond, type Handler } from "./http.js";
import { KeyStore } from "./keys.js";
import { jwksHandler, metadataHandler } from "./metadata.js";
import { ReceiverAuth } from "./oauth.js";
import { PollApi } from "./poll.js";
import { PushWorker } from "./push.js";
import { PushTransport } from "./push-transport.js";
import { TokenEndpointLimits } from "./token-limits.js";
import { createTokenBuckets } from "../../lib/rate-limit/index.js";
import type { Resolver } from "./egress.js";
import { StreamApi } from "./streams.js";

export interface SsfOptions {
  config: ServiceConfig;
  dataSource: DataSource;
  events: EventLog;
  logger: Logger;
  /** The signals service's audit trail and outbox: configuration changes of receivers and streams are recorded. */
  audit?: { trail: AuditTrail; outbox: Pick<Outbox, "flush"> };
  /** How push endpoints' host names are resolved. Default: the system resolver (tests inject one). */
  resolve?: Resolver;
}

export interface Transmitter {
  admin: SsfAdmin;
  /** Routes for `serve` (metadata, JWKS, management API, poll, token). */
  routes: NonNullable<ServeOptions<never>["routes"]>;
  /**
   * Starts keys, the event consumer and the push worker. `origin` is the
   * signals service's own origin: the issuer when MTD_SSF_ISSUER is unset.
   */
  start(origin: string): Promise<void>;
  dispose(): Promise<void>;
}

/** The transmitter, or undefined when it is off (production without MTD_SSF_ISSUER). */
export function createTransmitter(options: SsfOptions): Transmitter | undefined {
  const { config, dataSource, events } = options;
  const logger = options.logger.child({ component: "ssf" });
  if (config.ssf.issuer === undefined && config.env === "production") {
    logger.info("ssf: transmitter off (set MTD_SSF_ISSUER to turn it on)");
    return undefined;
  }
  let issuer = config.ssf.issuer;
  if (issuer === undefined && config.databaseUrl !== undefined) {
    logger.warn("ssf: MTD_SSF_ISSUER is unset: the issuer is this replica's own address; set it when several signals replicas share the database");
  }
  const sealer = new Sealer(keyEncryptionSecret(config));
  const context: SsfContext = {
    config: config.ssf,
    strictEgress: config.env === "production" && !config.ssf.allowHttp,
    maxBodyBytes: Math.min(config.maxBodyBytes, 256 * 1024),
    repository: new SsfRepository(dataSource),
    keys: new KeyStore(
      dataSource,
      sealer,
      {
        rotationMs: config.ssf.keyRotationSeconds * 1000,
        publishAheadMs: config.ssf.keyPublishAheadSeconds * 1000,
        retainMs: config.ssf.keyRetainSeconds * 1000,
      },
      logger,
    ),
    sealer,
    logger,
    notifier: new Notifier(),
    issuer: () => {
      if (issuer === undefined) throw new Error("ssf: issuer not known before start()");
      return issuer;
    },
    audit: options.audit,
  };
  const tokenLimits = new TokenEndpointLimits(createTokenBuckets({ redis: config.redis, redisPrefix: config.redisPrefix }), config.ssf.tokenRateLimits, logger);
  const auth = new ReceiverAuth(context, tokenLimits);
  const streams = new StreamApi(context, auth);
  const poll = new PollApi(context, auth);
  const fanout = new Fanout(context);
  const push = new PushWorker(context, new PushTransport({ strict: context.strictEgress, timeoutMs: config.ssf.pushTimeoutMs, resolve: options.resolve }));
  let consumer: Disposable | undefined;
  let started = false;

  // Routes live under the issuer's path, if it has one (behind a reverse proxy with a prefix).
  const prefix = issuer === undefined ? "" : new URL(issuer).pathname.replace(/\/+$/, "");
  const ssf: Handler = async (request, response, url) => {
    const path = url.pathname.slice(`${prefix}/ssf/`.length);
    switch (path) {
      case "jwks.json":
        return jwksHandler(context)(request, response, url);
      case "stream":
        return streams.configuration(request, response, url);
      case "status":
        return streams.status(request, response, url);
      case "subjects:add":
        return streams.subjects(request, response, "added");
      case "subjects:remove":
        return streams.subjects(request, response, "removed");
      case "verify":
        return streams.verify(request, response);
      default:
        if (path.startsWith("poll/")) return poll.handle(request, response, decodeURIComponent(path.slice("poll/".length)));
        throw new HttpError(404, "not_found", `no endpoint ${url.pathname}`);
    }
  };
  const ready = (handler: Handler): Handler =>
    respond(async (request, response, url) => {
      if (!started) throw new HttpError(503, "temporarily_unavailable", "the transmitter is starting", { "retry-after": "1" });
      return handler(request, response, url);
    });

  return {
    admin: new SsfAdmin(context),
    routes: {
      [`/.well-known/ssf-configuration${prefix}`]: ready(metadataHandler(context)),
      [`${prefix}/ssf/`]: ready(ssf),
      [`${prefix}/oauth/token`]: ready(auth.token),
    },
    async start(origin) {
      issuer ??= origin;
      await context.keys.start();
      consumer = consumeEvents(events, "policies", [COMPLIANCE_CHANGED], { group: SSF_CONSUMER_GROUP, consumer: `signals-${randomUUID()}`, logger }, async (event) => {
        try {
          await fanout.handle(event);
        } catch (error) {
          if (error instanceof OutOfOrder) logger.debug({ eventId: event.id }, error.message);
          else logger.error({ err: error, eventId: event.id, type: event.type }, "ssf: fan-out failed; the event will be retried");
          throw error;
        }
      });
      push.start();
      started = true;
      logger.info({ issuer }, "ssf: transmitter started");
    },
    async dispose() {
      started = false;
      await consumer?.dispose();
      await push.stop();
      await tokenLimits.close();
      context.keys.stop();
    },
  };
}
