/**
 * Per-request visibility for any Apollo Server of ours (gateway and
 * subgraphs): the latency histogram by operation, errors by code, one
 * structured log line per request carrying its request id, and the request id
 * echoed to the caller in `x-request-id`.
 *
 * The gateway makes the request id (or keeps a well-formed one from the
 * client) and forwards it to subgraphs in `x-request-id`; a subgraph logs the
 * one it received, so one id follows a request through every service.
 */
import { randomUUID } from "node:crypto";
import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import type { GraphQLError } from "graphql";
import type { Logger } from "./logger.js";
import { metrics, operationLabel } from "./metrics.js";
import { operationNameLimit } from "./request-input.js";
import { nameSpan, spanOf, traceIdOf } from "./tracing.js";

/** What a caller may send as `x-request-id`; anything else is replaced by a fresh id. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id to use for a request that came with `received` (the header's value). */
export function requestIdFrom(received: string | undefined): string {
  return received !== undefined && REQUEST_ID.test(received) ? received : randomUUID();
}

export interface ObserverOptions<TContext> {
  /** The `service` label and log field: `gateway`, `devices`, … */
  service: string;
  logger: Logger;
  requestIdOf: (context: TContext) => string | undefined;
  /** Who asked, for the log line (tenant and subject only, never the token). */
  callerOf?: (context: TContext) => { tenantId?: string; subject?: string; role?: string } | undefined;
}

export function requestObserver<TContext extends BaseContext>({ service, logger, requestIdOf, callerOf }: ObserverOptions<TContext>): ApolloServerPlugin<TContext> {
  const maxOperationName = operationNameLimit(service);
  return {
    async contextCreationDidFail({ error }) {
      // A refused token never reaches requestDidStart: count it here.
      metrics.errors.inc({ service, code: String((error as Partial<GraphQLError>).extensions?.code ?? "INTERNAL_SERVER_ERROR") });
    },
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      const requestId = requestIdOf(contextValue);
      return {
        async willSendResponse({ operation, operationName, response, request }) {
          // The errors as the client sees them: after formatError.
          const errors = response.body.kind === "single" ? (response.body.singleResult.errors ?? []) : [];
          const codes = errors.map((error) => String(error.extensions?.code ?? "INTERNAL_SERVER_ERROR"));
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const type = operation?.operation ?? "unknown";
          // A refused over-long name (lib/request-input.ts) is cut for the label, the span and the log line.
          const name = (operationName ?? request.operationName)?.slice(0, maxOperationName) ?? null;
          metrics.requestDuration.observe({ service, operation: operationLabel(service, name), type }, seconds);
          // The operation's name and type only: never its variables.
          const span = spanOf(contextValue);
          nameSpan(span, `${type} ${name ?? "anonymous"}`, { "graphql.operation.name": name ?? "", "graphql.operation.type": type, "mtd.error_codes": codes });
          for (const code of codes) metrics.errors.inc({ service, code });
          if (requestId !== undefined) response.http.headers.set("x-request-id", requestId);
          const caller = callerOf?.(contextValue);
          // The trace id from the carried span: the gateway has no current span (lib/tracing.ts).
          const fields = { requestId, traceId: traceIdOf(span), operation: name, type, durationMs: Math.round(seconds * 1e6) / 1e3, status: response.http.status ?? 200, ...caller };
          if (codes.length === 0) logger.info(fields, "request");
          else logger.info({ ...fields, errors: codes }, "request failed");
        },
      };
    },
  };
}
