/**
 * Every error a client can see comes from one of these constructors, each with
 * a stable `extensions.code`. Messages say what was expected and what arrived.
 */
import { GraphQLError, type GraphQLFormattedError } from "graphql";

export const ErrorCode = {
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  BAD_USER_INPUT: "BAD_USER_INPUT",
  CONFLICT: "CONFLICT",
  /** The operation exceeds a configured limit (depth, aliases, tokens, directives, cost, page size); nothing ran. */
  OPERATION_LIMIT: "OPERATION_LIMIT",
  /** A token bucket is empty; `extensions.retryAfterSeconds` says when to try again (HTTP 429, `Retry-After`). */
  RATE_LIMITED: "RATE_LIMITED",
  /** The operation cannot be served by this transport (a subscription as a plain HTTP request, a query over a subscription transport); the message names the ones that serve it. */
  OPERATION_NOT_SUPPORTED: "OPERATION_NOT_SUPPORTED",
  /** A cursor older than what is retained; `extensions.oldestCursor` is where to resume (after reconciling current state). */
  CURSOR_EXPIRED: "CURSOR_EXPIRED",
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export function unauthenticated(message = "a valid bearer token is required"): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } } });
}

export function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.FORBIDDEN } });
}

export function notFound(what: string, id: string): GraphQLError {
  return new GraphQLError(`${what} "${id}" not found`, { extensions: { code: ErrorCode.NOT_FOUND } });
}

/** `field` is the input path the client sent, e.g. `input.name` or `apps[3].appId`. */
export function badUserInput(field: string, message: string): GraphQLError {
  return new GraphQLError(`${field}: ${message}`, { extensions: { code: ErrorCode.BAD_USER_INPUT, field } });
}

/** `field`'s cursor points before the retained history; resume after `oldestCursor` once current state is reconciled. */
export function cursorExpired(field: string, oldestCursor: string): GraphQLError {
  return new GraphQLError(`${field}: this cursor is older than the retained history; read the current state, then resume after extensions.oldestCursor`, {
    extensions: { code: ErrorCode.CURSOR_EXPIRED, field, oldestCursor },
  });
}

/** `details` go to `extensions` beside the code (e.g. the `reportId` reused). */
export function conflict(message: string, details: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...details, code: ErrorCode.CONFLICT } });
}

/** `limit` names the limit (`maxDepth`, `maxCost`, …); HTTP 400, raised before execution. */
export function operationLimit(limit: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.OPERATION_LIMIT, limit, http: { status: 400 } } });
}

/** `scope` is `tenant` or `partner`. HTTP 429 with `Retry-After`. */
export function rateLimited(scope: string, retryAfterSeconds: number): GraphQLError {
  const headers = new Map([["retry-after", String(retryAfterSeconds)]]);
  return new GraphQLError(`rate limit of the ${scope} exceeded; retry in ${retryAfterSeconds} s`, {
    extensions: { code: ErrorCode.RATE_LIMITED, scope, retryAfterSeconds, http: { status: 429, headers } },
  });
}

const CLIENT_CODES = new Set<string>(Object.values(ErrorCode));
/** Apollo Server's refusal of an APQ whose sha256Hash is not its query's; it carries no code of its own. */
const APQ_HASH_MISMATCH = "provided sha does not match query";
/** What Apollo Router calls it too. */
export const PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH";
const GRAPHQL_CODES = new Set(["GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_REQUEST", "PERSISTED_QUERY_NOT_FOUND", "PERSISTED_QUERY_NOT_SUPPORTED", "OPERATION_RESOLUTION_FAILURE"]);

/**
 * Apollo Server `formatError`: errors we raised on purpose pass through;
 * anything else is an internal error. In production its message and stack are
 * hidden; in development the message is kept (never the stack).
 *
 * GraphQL's own input coercion errors ("Variable "$x" got invalid value") are
 * reported as BAD_USER_INPUT so clients see one code for bad input; an APQ
 * hash that does not match its query is PERSISTED_QUERY_HASH_MISMATCH (HTTP 400).
 */
export function formatError(production: boolean) {
  return (formatted: GraphQLFormattedError): GraphQLFormattedError => {
    const code = String(formatted.extensions?.code ?? "");
    const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
    if (CLIENT_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      // Apollo Server prefixes errors thrown while building the context; ours are meant as they are.
      return { ...formatted, message: formatted.message.replace(/^Context creation failed: /, ""), extensions };
    }
    if (formatted.message === APQ_HASH_MISMATCH) return { message: `${APQ_HASH_MISMATCH}: extensions.persistedQuery.sha256Hash must be the SHA-256 of query`, extensions: { code: PERSISTED_QUERY_HASH_MISMATCH } };
    if (GRAPHQL_CODES.has(code)) {
      const inputProblem = code === "BAD_REQUEST" || /got invalid value|Expected value of type|Expected type|does not exist in|cannot represent/.test(formatted.message);
      return { ...formatted, extensions: { ...extensions, code: inputProblem ? ErrorCode.BAD_USER_INPUT : code } };
    }
    return {
      message: production ? "Internal server error" : formatted.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

/** How one refused item of a batch mutation is reported (`ReportError`). */
export interface ItemError {
  code: string;
  message: string;
}

/** A refused item of a batch: our errors keep their code and message; anything else is masked (and logged to `logger`). */
export function itemError(error: unknown, logger: { error(attributes: object, message: string): void }): ItemError {
  const code = error instanceof GraphQLError ? String(error.extensions.code ?? "") : "";
  if (CLIENT_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) return { code, message: (error as GraphQLError).message };
  logger.error({ err: error }, "an item of a batch failed");
  return { code: ErrorCode.INTERNAL_SERVER_ERROR, message: "Internal server error" };
}
