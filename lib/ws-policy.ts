/**
 * The graphql-ws transport policy, the same for the gateway
 * (gateway/subscriptions/ws.ts) and every subgraph (subgraphs/subscriptions.ts):
 *
 * - Authentication: `connection_init` carries `{ authorization: "Bearer <JWT>" }`,
 *   verified like an HTTP request's token; a missing or invalid one closes the
 *   socket with 4403 and the reason. When the token expires, `onExpire` runs
 *   (the servers end the subscriptions and close with 4403 "token expired").
 * - Admission of an operation: parse (at most `maxTokens`: OPERATION_LIMIT,
 *   `limit: maxTokens`; else GRAPHQL_PARSE_FAILED), validate
 *   (GRAPHQL_VALIDATION_FAILED), then the request-input rules of
 *   lib/request-input.ts (BAD_USER_INPUT) and the operation limits of
 *   lib/protection.ts (OPERATION_LIMIT, counted by limit).
 * - Metrics: open connections (`mtd_websocket_connections{service}`).
 */
import { getOperationAST, GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from "graphql";
import type { WebSocket } from "ws";
import { callAt } from "./async.js";
import type { Identity, TokenVerifier } from "./auth.js";
import { operationLimit } from "./errors.js";
import { metrics } from "./metrics.js";
import { TOKEN_LIMIT_MESSAGE, type OperationChecker } from "./protection.js";
import { checkRequestInput, operationNameLimit } from "./request-input.js";

/** graphql-ws's Forbidden: the token is missing, invalid or expired. */
export const FORBIDDEN_CLOSE_CODE = 4403;
export const TOKEN_EXPIRED_REASON = "token expired";

export const OperationErrorCode = {
  GRAPHQL_PARSE_FAILED: "GRAPHQL_PARSE_FAILED",
  GRAPHQL_VALIDATION_FAILED: "GRAPHQL_VALIDATION_FAILED",
} as const;

export interface AdmittedConnection {
  identity: Identity;
  /** Cancels the expiry timer and counts the connection as closed. Call once, on close. */
  release(): void;
}

/**
 * Verifies the token of a graphql-ws `connection_init`. On success the
 * connection is counted and `onExpire` armed for the token's expiry; on
 * failure the socket is closed with 4403 and the reason, and undefined returned.
 */
export async function admitConnection(options: {
  verify: TokenVerifier;
  service: string;
  socket: WebSocket;
  connectionParams: Readonly<Record<string, unknown>> | undefined;
  onExpire: (identity: Identity) => void;
}): Promise<AdmittedConnection | undefined> {
  const authorization = options.connectionParams?.authorization;
  let identity: Identity;
  try {
    identity = await options.verify(typeof authorization === "string" ? authorization : undefined);
  } catch (error) {
    const reason = (error as Error).message ?? "invalid token";
    // Close reasons are at most 123 bytes.
    options.socket.close(FORBIDDEN_CLOSE_CODE, `Forbidden: ${reason}`.slice(0, 123));
    return undefined;
  }
  const cancelExpiry = callAt(identity.expiresAt * 1000, () => options.onExpire(identity));
  metrics.websocketConnections.inc({ service: options.service });
  let released = false;
  return {
    identity,
    release: () => {
      if (released) return;
      released = true;
      cancelExpiry();
      metrics.websocketConnections.dec({ service: options.service });
    },
  };
}

/** Parses `query` with at most `maxTokens` tokens; errors carry OPERATION_LIMIT or GRAPHQL_PARSE_FAILED. */
export function parseOperation(query: string, maxTokens: number | undefined): DocumentNode | readonly GraphQLError[] {
  try {
    return parse(query, { maxTokens });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (TOKEN_LIMIT_MESSAGE.test(message)) return [operationLimit("maxTokens", `the document has more than ${maxTokens} tokens (maxTokens)`)];
    return [new GraphQLError(message, { extensions: { code: OperationErrorCode.GRAPHQL_PARSE_FAILED } })];
  }
}

/** Validates against `schema`; every error carries GRAPHQL_VALIDATION_FAILED. */
export function validateOperation(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[] {
  return validate(schema, document).map((error) => new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: OperationErrorCode.GRAPHQL_VALIDATION_FAILED } }));
}

/**
 * The admission checks of a parsed, valid operation with its variables: the
 * request-input rules of lib/request-input.ts (strings, operation name), then
 * the operation limits of lib/protection.ts (a refusal counted for `service`).
 */
export function checkLimits(
  check: OperationChecker,
  service: string,
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
  operationName: string | null | undefined,
): GraphQLError | undefined {
  const resolved = getOperationAST(document, operationName)?.name?.value;
  const malformed = checkRequestInput(document, variables, { requested: operationName, resolved }, operationNameLimit(service));
  if (malformed !== undefined) return malformed;
  const refused = check(schema, document, variables, operationName);
  if (refused !== undefined) metrics.operationLimited.inc({ service, limit: String(refused.extensions.limit) });
  return refused;
}

/** Parse, validate, limits: a document to execute, or the errors to answer. */
export function admitOperation(
  check: OperationChecker,
  service: string,
  schema: GraphQLSchema,
  payload: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null },
  maxTokens: number,
): DocumentNode | readonly GraphQLError[] {
  const document = parseOperation(payload.query, maxTokens);
  if (!("kind" in document)) return document;
  const invalid = validateOperation(schema, document);
  if (invalid.length > 0) return invalid;
  const refused = checkLimits(check, service, schema, document, payload.variables ?? {}, payload.operationName);
  return refused === undefined ? document : [refused];
}
