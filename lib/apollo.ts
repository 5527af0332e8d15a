/**
 * The one Apollo Server factory, for the gateway and every subgraph: our error
 * formatting (lib/errors.ts), no stack traces, no signal handlers of its own
 * (bin/start.ts drains on SIGTERM), a bounded document store (lib/cache.ts),
 * operation limits and schema exposure (lib/protection.ts), per-request
 * metrics and logs (lib/observability.ts), a subscription sent as a plain
 * HTTP request refused as a client error, and the strings and operation name
 * of every request checked (lib/request-input.ts).
 */
import { ApolloServer, type ApolloServerOptionsWithGateway, type ApolloServerPlugin, type BaseContext } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { GraphQLError, type GraphQLSchema } from "graphql";
import { documentStore } from "./cache.js";
import type { Config } from "./config.js";
import { ErrorCode, formatError } from "./errors.js";
import type { Logger } from "./logger.js";
import { requestObserver, type ObserverOptions } from "./observability.js";
import { protection } from "./protection.js";
import { checkRequestInput, operationNameLimit } from "./request-input.js";

export interface ApolloOptions<TContext extends BaseContext> {
  config: Pick<Config, "env" | "limits" | "introspection" | "landingPage" | "caches">;
  /** The `service` label and log field: `gateway`, `devices`, … */
  service: string;
  logger: Logger;
  /** A subgraph's schema, or the gateway's `ApolloGateway`. */
  schema?: GraphQLSchema;
  gateway?: ApolloServerOptionsWithGateway<TContext>["gateway"];
  requestIdOf: ObserverOptions<TContext>["requestIdOf"];
  callerOf?: ObserverOptions<TContext>["callerOf"];
  /**
   * The transports that serve subscriptions on this service, for the message
   * of the 400 `OPERATION_NOT_SUPPORTED` a subscription sent as a plain HTTP
   * request gets (Apollo would fail it as an internal error).
   */
  subscriptionTransports: string;
  /** Plugins of the service, run after the observer and before the operation limits (cheaper checks first). */
  plugins?: ApolloServerPlugin<TContext>[];
}

export function createApolloServer<TContext extends BaseContext>(options: ApolloOptions<TContext>): ApolloServer<TContext> {
  const { config, service, logger } = options;
  const guard = protection(config, service);
  const common = {
    formatError: formatError(config.env === "production"),
    includeStacktraceInErrorResponses: false,
    // bin/start.ts drains on SIGTERM; Apollo's own handler would stop the server under it and re-raise the signal.
    stopOnTerminationSignals: false,
    // Parsed documents bounded by count (lib/cache.ts).
    documentStore: documentStore(config.caches, service),
    ...guard,
    plugins: [
      // Federated tracing is for Apollo's cloud; it costs every request and we do not send traces there.
      ApolloServerPluginInlineTraceDisabled(),
      requestObserver<TContext>({ service, logger, requestIdOf: options.requestIdOf, callerOf: options.callerOf }),
      subscriptionTransportRequired<TContext>(options.subscriptionTransports),
      requestInputChecked<TContext>(service),
      ...(options.plugins ?? []),
      ...(guard.plugins as ApolloServerPlugin<TContext>[]),
    ],
  };
  if (options.gateway !== undefined) return new ApolloServer<TContext>({ ...common, gateway: options.gateway });
  if (options.schema !== undefined) return new ApolloServer<TContext>({ ...common, schema: options.schema });
  throw new Error("createApolloServer: a schema or a gateway is required");
}

/** A subscription as a plain HTTP request: a client error (400) naming the transports that serve it. */
function subscriptionTransportRequired<TContext extends BaseContext>(transports: string): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== "subscription") return;
          throw new GraphQLError(`Subscriptions are served on /graphql over ${transports}; this request speaks none of them`, {
            extensions: { code: ErrorCode.OPERATION_NOT_SUPPORTED, http: { status: 400 } },
          });
        },
      };
    },
  };
}

/** Strings and the operation name of every request (lib/request-input.ts), before the operation limits and execution. */
function requestInputChecked<TContext extends BaseContext>(service: string): ApolloServerPlugin<TContext> {
  const maxOperationName = operationNameLimit(service);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operationName }) {
          const refused = checkRequestInput(document, request.variables ?? {}, { requested: request.operationName, resolved: operationName }, maxOperationName);
          if (refused !== undefined) throw refused;
        },
      };
    },
  };
}
