/**
 * What every request's inputs must be, whatever the field, at the gateway and
 * in every subgraph, over HTTP and WebSocket, before anything runs:
 * - every string (in the variables, in the document's argument literals and
 *   variable defaults) is well-formed Unicode without NUL (`wellFormed` in
 *   lib/validation.ts): a lone surrogate or a NUL cannot be stored in a
 *   utf8mb4 column and breaks clients that decode the text again;
 * - the operation name (the request's `operationName` and the name of the
 *   operation that runs) has at most `MAX_OPERATION_NAME_LENGTH` characters.
 * A refusal is `BAD_USER_INPUT` naming the field (`input.name`,
 * `threats[2].title`, `operationName`), HTTP 400.
 */
import { GraphQLError, Kind, visit, type DocumentNode, type ValueNode } from "graphql";
import { badUserInput } from "./errors.js";
import { malformedText, wellFormed } from "./validation.js";

/** Longest operation name a client may send. */
export const MAX_OPERATION_NAME_LENGTH = 256;
/**
 * A subgraph also serves the gateway's fetches, which the query planner names
 * `<client's name>__<subgraph>__<n>`: a subgraph accepts this much more, so
 * every name the gateway accepts passes through.
 */
const GATEWAY_FETCH_NAME_ALLOWANCE = 64;

/** The longest operation name `service` accepts: `gateway`, or a subgraph's name. */
export function operationNameLimit(service: string): number {
  return service === "gateway" ? MAX_OPERATION_NAME_LENGTH : MAX_OPERATION_NAME_LENGTH + GATEWAY_FETCH_NAME_ALLOWANCE;
}

/** Documents whose literals passed: Apollo Server hands the same DocumentNode to every request of the same query. */
const wellFormedLiterals = new WeakSet<DocumentNode>();

/** The first refusal of the request's inputs, or undefined. */
export function checkRequestInput(
  document: DocumentNode,
  variables: Readonly<Record<string, unknown>>,
  operationName: { requested: string | null | undefined; resolved: string | null | undefined },
  maxOperationName: number,
): GraphQLError | undefined {
  try {
    for (const name of [operationName.requested, operationName.resolved]) {
      if (typeof name === "string" && name.length > maxOperationName) {
        throw badUserInput("operationName", `expected at most ${maxOperationName} characters; got ${name.length}`);
      }
    }
    const malformed = malformedText("", variables);
    if (malformed !== undefined) throw badUserInput(malformed.field, malformed.problem);
    if (!wellFormedLiterals.has(document)) {
      visit(document, {
        Argument: (node) => checkLiteral(node.name.value, node.value),
        VariableDefinition: (node) => (node.defaultValue === undefined ? undefined : checkLiteral(node.variable.name.value, node.defaultValue)),
      });
      wellFormedLiterals.add(document);
    }
    return undefined;
  } catch (error) {
    if (error instanceof GraphQLError) return withBadRequestStatus(error);
    throw error;
  }
}

function checkLiteral(path: string, node: ValueNode): undefined {
  if (node.kind === Kind.STRING) wellFormed(path, node.value);
  else if (node.kind === Kind.LIST) node.values.forEach((item, index) => checkLiteral(`${path}[${index}]`, item));
  else if (node.kind === Kind.OBJECT) for (const field of node.fields) checkLiteral(`${path}.${field.name.value}`, field.value);
  return undefined;
}

/** Refused before execution, like the operation limits: a client error. */
function withBadRequestStatus(error: GraphQLError): GraphQLError {
  Object.assign(error.extensions, { http: { status: 400 } });
  return error;
}
