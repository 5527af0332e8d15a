/**
 * What clients of the gateway's subscription transports can rely on: close
 * codes, error codes, and how every failure becomes a GraphQLError (never a
 * plain Error, a CloseEvent or `[object Object]`).
 */
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { ErrorCode, formatError } from "../../lib/errors.js";
import { FORBIDDEN_CLOSE_CODE, OperationErrorCode } from "../../lib/ws-policy.js";

/** The transports subscriptions are served over (also the `transport` label of the subscription metrics). */
export type Transport = "graphql-ws" | "sse" | "multipart";

/** Close codes the gateway sends on its own account (graphql-ws uses 4400-4499 and 4500/4504 for its protocol). */
export enum GatewayCloseCode {
  /** Missing or invalid token in `connection_init`, or the token expired (graphql-ws's own Forbidden). Reconnect with a valid token. */
  Forbidden = FORBIDDEN_CLOSE_CODE,
  /**
   * Ours, outside graphql-ws's range: the client did not read events fast
   * enough: more than `MTD_WS_MAX_QUEUED_EVENTS` were queued for one of its
   * subscriptions. Nothing was skipped; reconnect and resubscribe with
   * `after` = the last cursor received. Stock graphql-ws clients retry
   * unknown codes with the original payload: stop them on this code
   * (`shouldRetry`) or resubscribe from your last cursor.
   */
  SlowConsumer = 4290,
}

export const SLOW_CONSUMER_REASON = "Slow consumer: too many events queued; resubscribe with after = the last cursor you received";

/** Error codes of the subscription endpoint, in addition to lib/errors.ts's. */
export const SubscriptionErrorCode = {
  /** More active subscriptions than allowed per connection or per tenant. */
  TOO_MANY_SUBSCRIPTIONS: "TOO_MANY_SUBSCRIPTIONS",
  /** A query or mutation sent over a subscription transport: those go to HTTP POST /graphql. */
  OPERATION_NOT_SUPPORTED: ErrorCode.OPERATION_NOT_SUPPORTED,
  /** The client fell too far behind (HTTP transports; graphql-ws closes with 4290): `extensions.resumeAfter`: the cursor to resume after (the last delivered, else where it started). */
  SLOW_CONSUMER: "SLOW_CONSUMER",
  /** The gateway's supergraph changed and this subscription's operation no longer plans on it; `extensions.resumeAfter` as above. */
  SUPERGRAPH_CHANGED: "SUPERGRAPH_CHANGED",
  /** The document does not parse or does not validate against the API schema. */
  GRAPHQL_PARSE_FAILED: OperationErrorCode.GRAPHQL_PARSE_FAILED,
  GRAPHQL_VALIDATION_FAILED: OperationErrorCode.GRAPHQL_VALIDATION_FAILED,
  /** The subgraph serving the subscription could not be reached and retries were abandoned. */
  SUBGRAPH_UNAVAILABLE: "SUBGRAPH_UNAVAILABLE",
  /** The gateway began to stop while the subscription was being admitted: subscribe again (another replica serves it). */
  GATEWAY_STOPPING: "GATEWAY_STOPPING",
} as const;

export function tooManySubscriptions(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: SubscriptionErrorCode.TOO_MANY_SUBSCRIPTIONS } });
}

export function gatewayStopping(): GraphQLError {
  return new GraphQLError("the gateway is stopping: subscribe again (another replica serves it)", { extensions: { code: SubscriptionErrorCode.GATEWAY_STOPPING } });
}

/** An error of the HTTP path (e.g. RATE_LIMITED) for the subscription transports: its `extensions.http` (status, headers) is not theirs to send. */
export function withoutHttp(error: GraphQLError): GraphQLError {
  const { http: _http, ...extensions } = error.extensions;
  return new GraphQLError(error.message, { extensions });
}

export function operationNotSupported(kind: string): GraphQLError {
  return new GraphQLError(`Only subscriptions are served over the subscription transports; send this ${kind} as an HTTP POST to /graphql`, {
    extensions: { code: SubscriptionErrorCode.OPERATION_NOT_SUPPORTED },
  });
}

/**
 * Where to resume: the last cursor delivered, else where the subscription
 * started (its `after`, or the head pinned for a live one); nothing for a
 * subscription not resumable, or live and not started on its subgraph yet.
 */
function resumeHint(resumeAfter: string | undefined): string {
  return resumeAfter === undefined ? "resubscribe as you did" : `resubscribe with after = "${resumeAfter}"`;
}

export function slowConsumer(resumeAfter: string | undefined): GraphQLError {
  return new GraphQLError(`Slow consumer: too many events queued; nothing was skipped: ${resumeHint(resumeAfter)}`, {
    extensions: { code: SubscriptionErrorCode.SLOW_CONSUMER, resumeAfter: resumeAfter ?? null },
  });
}

export function supergraphChanged(why: string, resumeAfter: string | undefined): GraphQLError {
  return new GraphQLError(`The gateway's supergraph changed and this subscription no longer exists on it (${why}); ${resumeHint(resumeAfter)} once it does`, {
    extensions: { code: SubscriptionErrorCode.SUPERGRAPH_CHANGED, resumeAfter: resumeAfter ?? null },
  });
}

export function tokenExpired(): GraphQLError {
  return new GraphQLError("token expired: reconnect with a fresh token and resubscribe with after = the last cursor you received", {
    extensions: { code: ErrorCode.UNAUTHENTICATED },
  });
}

/**
 * Several errors that end one subscription. graphql-ws turns an error thrown by
 * a subscription's iterator into a single GraphQLError; the server's `onError`
 * hook unpacks `errors` again so the client receives every one.
 */
export class SubscriptionFailure extends GraphQLError {
  constructor(readonly errors: readonly GraphQLError[]) {
    super(errors[0]?.message ?? "subscription failed", { extensions: errors[0]?.extensions });
    this.name = "SubscriptionFailure";
  }
}

/** Anything thrown or received becomes a GraphQLError; plain objects keep their message and extensions. */
export function toGraphQLError(error: unknown, fallbackCode: string = ErrorCode.INTERNAL_SERVER_ERROR): GraphQLError {
  if (error instanceof GraphQLError) return error;
  if (error instanceof Error) return new GraphQLError(error.message, { originalError: error, extensions: { code: fallbackCode } });
  if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
    const { message, path, extensions } = error as GraphQLFormattedError;
    return new GraphQLError(message, { path, extensions: { code: fallbackCode, ...extensions } });
  }
  return new GraphQLError(String(error), { extensions: { code: fallbackCode } });
}

/**
 * What graphql-ws's client reports when a subscription fails, as GraphQL errors:
 * an array of errors the subgraph sent, a CloseEvent, an ErrorEvent or an Error.
 */
export function upstreamFailure(subgraph: string, failure: unknown): GraphQLError[] {
  if (Array.isArray(failure)) return failure.length === 0 ? [toGraphQLError(`subgraph ${subgraph} failed the subscription`)] : failure.map((error) => toGraphQLError(error));
  if (isCloseEvent(failure)) {
    const reason = failure.reason === "" ? "" : `: ${failure.reason}`;
    if (failure.code === GatewayCloseCode.Forbidden) {
      return [new GraphQLError(`subgraph ${subgraph} refused the token${reason}`, { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
    }
    return [new GraphQLError(`subgraph ${subgraph} closed the connection (${failure.code}${reason})`, { extensions: { code: SubscriptionErrorCode.SUBGRAPH_UNAVAILABLE } })];
  }
  if (isErrorEvent(failure)) {
    return [new GraphQLError(`subgraph ${subgraph} unreachable: ${failure.message || String(failure.error ?? "socket error")}`, { extensions: { code: SubscriptionErrorCode.SUBGRAPH_UNAVAILABLE } })];
  }
  return [toGraphQLError(failure, SubscriptionErrorCode.SUBGRAPH_UNAVAILABLE)];
}

/** Transport failures worth another attempt: the socket dropped, the peer restarted, the network failed. */
export function isRetryable(failure: unknown): boolean {
  if (Array.isArray(failure)) return false; // the subgraph answered: it would answer the same again
  if (isCloseEvent(failure)) {
    // 44xx are protocol and authorization verdicts (4403 token refused or expired, 4400 bad request, …);
    // 4408 (init timeout) and 4499 (terminated: no pong) are transient.
    if (failure.code >= 4400 && failure.code < 4500) return failure.code === 4408 || failure.code === 4499;
    return true;
  }
  return true;
}

export function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === "object" && value !== null && typeof (value as { code?: unknown }).code === "number" && "reason" in value;
}

function isErrorEvent(value: unknown): value is { message: string; error?: unknown } {
  return typeof value === "object" && value !== null && (value as { type?: unknown }).type === "error" && "message" in value;
}

/**
 * The HTTP path's error policy (lib/errors.ts `formatError`) for errors sent over
 * the WebSocket: intentional errors pass, anything else is an internal error,
 * masked in production. Returns GraphQLErrors, which graphql-ws serializes.
 */
export function errorFormatter(production: boolean): (error: GraphQLError) => GraphQLError {
  const format = formatError(production);
  const ours = new Set<unknown>(Object.values(SubscriptionErrorCode));
  return (error) => {
    if (ours.has(error.extensions.code)) return error;
    const formatted = format(error.toJSON());
    return new GraphQLError(formatted.message, { path: formatted.path, extensions: formatted.extensions });
  };
}

/** A failure in one line, for logs: a close code and reason, or a message. */
export function describeFailure(failure: unknown): string {
  if (typeof failure === "object" && failure !== null) {
    const { code, reason, message } = failure as { code?: unknown; reason?: unknown; message?: unknown };
    if (typeof code === "number") return `closed ${code}${typeof reason === "string" && reason !== "" ? ` ${reason}` : ""}`;
    if (typeof message === "string") return message;
  }
  return String(failure);
}
