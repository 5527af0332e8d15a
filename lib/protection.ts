/**
 * Operation limits and schema exposure, the same at the gateway and in every
 * subgraph: spread `protection(config, service)` into the ApolloServer options.
 *
 * Before anything executes (and, at the gateway, before anything is planned):
 * - tokens: graphql-js's own `maxTokens`, which aborts parsing early;
 * - depth, aliases, directives and cost: graphql-armor's rules;
 * - page sizes: every `first` / `last` argument, whether a literal, a variable
 *   or the schema default, is at most `maxPageSize`, and armor's cost rule
 *   sees that effective value (armor alone multiplies by literals only, so
 *   `first: $n` would cost as much as one item).
 * A refusal is one error with code `OPERATION_LIMIT`, `extensions.limit`
 * naming the limit (`maxTokens`, `maxDepth`, `maxAliases`, `maxDirectives`,
 * `maxCost`, `maxPageSize`) and HTTP status 400. A page size above the cap
 * names its argument first, like other bad input: `first: expected an integer
 * from 1 to 500; got 501 (maxPageSize)`.
 *
 * Introspection and the landing page follow `MTD_INTROSPECTION` /
 * `MTD_LANDING_PAGE` (on in development, off in production); with
 * introspection off, "Did you mean …" suggestions are stripped from errors
 * too, so they cannot be used to map the schema.
 */
import type { ApolloServerPlugin, BaseContext, GraphQLRequestContext } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import {
  GraphQLError,
  Kind,
  TypeInfo,
  validate,
  valueFromASTUntyped,
  visit,
  visitWithTypeInfo,
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import type { Config, OperationLimits } from "./config.js";
import { operationLimit } from "./errors.js";
import { metrics } from "./metrics.js";

/** Arguments that size a list: their value multiplies the cost of the selection below. */
const LIST_SIZE_ARGUMENTS = new Set(["first", "last"]);

export interface Protection {
  introspection: boolean;
  parseOptions: { maxTokens: number };
  allowBatchedHttpRequests: false;
  plugins: ApolloServerPlugin<BaseContext>[];
}

/** ApolloServer options for `service` (`gateway`, `devices`, …). */
export function protection(config: Pick<Config, "limits" | "introspection" | "landingPage">, service: string): Protection {
  const check = operationChecker(config.limits);
  const armorPlugins = new ApolloArmor({
    blockFieldSuggestion: { enabled: !config.introspection },
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    maxAliases: { enabled: false },
    maxDepth: { enabled: false },
    maxDirectives: { enabled: false },
  }).protect().plugins;

  const limitsPlugin: ApolloServerPlugin<BaseContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext: GraphQLRequestContext<BaseContext>) {
          const error = check(requestContext.schema, requestContext.document!, requestContext.request.variables ?? {}, requestContext.operationName);
          if (error !== undefined) {
            metrics.operationLimited.inc({ service, limit: String(error.extensions.limit) });
            throw error;
          }
        },
        async didEncounterErrors({ errors }) {
          // graphql-js aborted parsing at `maxTokens`: report it like the other limits.
          for (const error of errors) {
            if (error.extensions.code === "GRAPHQL_PARSE_FAILED" && TOKEN_LIMIT_MESSAGE.test(error.message)) {
              Object.assign(error.extensions, { code: "OPERATION_LIMIT", limit: "maxTokens", http: { status: 400 } });
              error.message = `the document has more than ${config.limits.maxTokens} tokens (maxTokens)`;
              metrics.operationLimited.inc({ service, limit: "maxTokens" });
            }
          }
        },
      };
    },
  };

  return {
    introspection: config.introspection,
    parseOptions: { maxTokens: config.limits.maxTokens },
    allowBatchedHttpRequests: false,
    plugins: [
      limitsPlugin,
      ...(armorPlugins as ApolloServerPlugin<BaseContext>[]),
      config.landingPage ? ApolloServerPluginLandingPageLocalDefault({ footer: false }) : ApolloServerPluginLandingPageDisabled(),
    ],
  };
}

/** graphql-js: "Syntax Error: Document contains more that 2000 tokens. Parsing aborted." */
export const TOKEN_LIMIT_MESSAGE = /Document contains more th(?:at|an) \d+ tokens/;

const PRIORITY = ["maxDepth", "maxAliases", "maxDirectives", "maxCost"];

export type OperationChecker = (schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>, operationName?: string | null) => GraphQLError | undefined;

/**
 * Checks depth, aliases, directives, page sizes and cost of a parsed,
 * validated document with its variables; returns the first refusal. Also for
 * transports outside Apollo Server (graphql-ws `onSubscribe`).
 */
export function operationChecker(limits: OperationLimits): OperationChecker {
  // Each armor rule reports through its own handler, so the error names its limit.
  const report = (limit: string) => (context: ValidationContext | null, error: GraphQLError) => {
    context?.reportError(operationLimit(limit, `${error.message.replace(/^Syntax Error: /, "")} (${limit})`));
  };
  const callbacks = (limit: string) => ({ propagateOnRejection: false, onReject: [report(limit)] });
  const rules: ValidationRule[] = new ApolloArmor({
    blockFieldSuggestion: { enabled: false },
    maxTokens: { enabled: false },
    maxDepth: { n: limits.maxDepth, ...callbacks("maxDepth") },
    maxAliases: { n: limits.maxAliases, ...callbacks("maxAliases") },
    maxDirectives: { n: limits.maxDirectives, ...callbacks("maxDirectives") },
    costLimit: { maxCost: limits.maxCost, ...callbacks("maxCost") },
  }).protect().validationRules;

  const checkNow: OperationChecker = (schema, document, variables, operationName) => {
    const sized = withListSizes(schema, document, variables, operationName, limits.maxPageSize);
    if (sized instanceof GraphQLError) return sized;
    // Structural limits first: they are what a client fixes first.
    const [refusal] = [...validate(schema, sized, rules)].sort((a, b) => PRIORITY.indexOf(String(a.extensions.limit)) - PRIORITY.indexOf(String(b.extensions.limit)));
    return refusal;
  };

  // Apollo Server hands the same DocumentNode to every request of the same
  // query (its document cache), so the verdict is remembered per schema,
  // document, operation and the values of its Int variables (the only ones a
  // list size can come from). A repeated query costs a map lookup.
  const verdicts = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, GraphQLError | null>>>();
  return (schema, document, variables, operationName) => {
    let byDocument = verdicts.get(schema);
    if (byDocument === undefined) verdicts.set(schema, (byDocument = new WeakMap()));
    let byKey = byDocument.get(document);
    if (byKey === undefined) byDocument.set(document, (byKey = new Map()));
    const key = verdictKey(document, variables, operationName);
    const known = byKey.get(key);
    // A fresh error per request: errors get decorated on their way out.
    if (known !== undefined) return known === null ? undefined : operationLimit(String(known.extensions.limit), known.message);
    const verdict = checkNow(schema, document, variables, operationName);
    if (byKey.size >= VERDICTS_PER_DOCUMENT) byKey.delete(byKey.keys().next().value!);
    byKey.set(key, verdict ?? null);
    return verdict;
  };
}

/** Distinct variable values remembered per document (oldest forgotten first). */
const VERDICTS_PER_DOCUMENT = 64;

/** The operation name and the values of the operation's `Int` variables. */
function verdictKey(document: DocumentNode, variables: Record<string, unknown>, operationName: string | null | undefined): string {
  const ints: unknown[] = [operationName ?? ""];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION || (operationName && definition.name?.value !== operationName)) continue;
    for (const variable of definition.variableDefinitions ?? []) {
      const type = variable.type.kind === Kind.NON_NULL_TYPE ? variable.type.type : variable.type;
      if (type.kind === Kind.NAMED_TYPE && type.name.value === "Int") ints.push(variables[variable.variable.name.value] ?? null);
    }
  }
  return JSON.stringify(ints);
}

/**
 * The document with every list-size argument replaced by its effective value
 * as a literal, or the refusal when one exceeds `maxPageSize`.
 */
function withListSizes(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>, operationName: string | null | undefined, maxPageSize: number): DocumentNode | GraphQLError {
  const typeInfo = new TypeInfo(schema);
  // Variables the request left out take their default from the operation.
  const values: Record<string, unknown> = {};
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION || (operationName && definition.name?.value !== operationName)) continue;
    for (const variable of definition.variableDefinitions ?? []) {
      if (variable.defaultValue !== undefined) values[variable.variable.name.value] = valueFromASTUntyped(variable.defaultValue);
    }
  }
  Object.assign(values, variables);
  let refusal: GraphQLError | undefined;
  const sized = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      OperationDefinition(node) {
        // Other operations of the document do not run: leave them out.
        if (operationName && node.name?.value !== operationName) return null;
        return undefined;
      },
      Field(node: FieldNode) {
        const definition = typeInfo.getFieldDef();
        if (definition === null || definition === undefined) return undefined;
        let changed = false;
        const args: ArgumentNode[] = [...(node.arguments ?? [])];
        for (const argument of definition.args) {
          if (!LIST_SIZE_ARGUMENTS.has(argument.name)) continue;
          const index = args.findIndex((a) => a.name.value === argument.name);
          const given = (index === -1 ? undefined : valueFromASTUntyped(args[index]!.value, values)) ?? argument.defaultValue;
          if (typeof given !== "number") continue;
          if (given > maxPageSize) {
            refusal ??= pageTooLarge(argument.name, maxPageSize, given);
            continue;
          }
          const literal: ArgumentNode = { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: argument.name }, value: { kind: Kind.INT, value: String(Math.max(0, Math.trunc(given))) } };
          if (index === -1) args.push(literal);
          else args[index] = literal;
          changed = true;
        }
        return changed ? { ...node, arguments: args } : undefined;
      },
    }),
  );
  return refusal ?? sized;
}

function pageTooLarge(argument: string, maxPageSize: number, given: number): GraphQLError {
  return operationLimit("maxPageSize", `${argument}: expected an integer from 1 to ${maxPageSize}; got ${given} (maxPageSize)`);
}
