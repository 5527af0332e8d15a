/**
 * Plans client subscriptions on Apollo's query planner: the `primary` fetch
 * goes upstream to the subgraph that owns the root field, and per event the
 * ordinary plan `Sequence[primary, rest]` runs with the event standing in for
 * the primary's response (see execute.ts).
 *
 * Resumable fields (a directive imported from the resumable spec and composed
 * into the supergraph, e.g. `@resumable(cursorField: "cursor", afterArgument: "after")`)
 * are found on the supergraph's field definitions, never by name. For them the
 * client's document is rewritten before planning: the cursor field is always
 * selected under a reserved alias (stripped again before delivery), and the
 * resume argument is bound to a reserved variable, so the upstream subscription
 * can be re-established after the last cursor it received.
 *
 * Plans are cached per document and operation name, at most `maxPlans` of them
 * (least recently used out, `lib/cache.ts`); a new supergraph gets a new
 * planner (and an empty cache).
 */
import { buildOperationContext } from "@apollo/gateway";
import { operationFromDocument, Supergraph, type Schema } from "@apollo/federation-internals";
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from "@apollo/query-planner";
import {
  getNamedType,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  isInputType,
  Kind,
  parseType,
  valueFromAST,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";
import { BoundedCache } from "../../lib/cache.js";
import { badUserInput } from "../../lib/errors.js";
import { parseOperation, validateOperation } from "../../lib/ws-policy.js";
import { operationNotSupported, SubscriptionErrorCode } from "./protocol.js";

export type OperationContext = ReturnType<typeof buildOperationContext>;

/** The identity of the resumable spec a subgraph links to (`@link(url: "https://mtd-graph.dev/resumable/v1.0")`). */
export const RESUMABLE_SPEC = "https://mtd-graph.dev/resumable";
/** Alias under which the gateway always selects the cursor of a resumable field. */
export const CURSOR_ALIAS = "_resumeCursor";
/** Variable the gateway binds a resumable field's resume argument to. */
export const RESUME_VARIABLE = "_resumeAfter";

export interface Resumable {
  /** Field of the payload that carries the cursor. */
  cursorField: string;
  /** Argument of the subscription field that resumes after a cursor. */
  afterArgument: string;
}

export interface SubscriptionPlan {
  /** The client's document plus the gateway's additions (cursor alias, resume variable). */
  readonly document: DocumentNode;
  readonly operationName: string | undefined;
  /** The client's operation as written: its variables are what the client sends. */
  readonly clientOperation: OperationDefinitionNode;
  /** Fetch from the subgraph owning the root field: what goes upstream. */
  readonly primary: FetchNode;
  /** `Sequence[primary, rest]`, executed once per event. */
  readonly queryPlan: QueryPlan;
  readonly operationContext: OperationContext;
  /** Response key of the root field (its alias, else its name). */
  readonly rootKey: string;
  /** Name of the root field. */
  readonly rootField: string;
  /** Set for resumable root fields. */
  readonly resume?: ResumePlan;
  readonly supergraph: PlannedSupergraph;
}

export interface ResumePlan extends Resumable {
  /** The resume argument's value as the client wrote it (literal or variable), if any. */
  readonly initial: ValueNode | undefined;
  readonly argumentType: GraphQLInputType;
}

/** What a request binds a plan to. */
export interface BoundVariables {
  /** The client's variables, with the resume variable set to the client's own `after` (or null). */
  variables: Record<string, unknown>;
  /** The client's initial resume cursor (`after`), for resumable fields. */
  after?: string | null;
}

export interface PlannerOptions {
  /** Parsing stops past this many tokens (`OPERATION_LIMIT`, `limit: maxTokens`), as on the HTTP path. Default: no limit. */
  maxTokens?: number;
  /** Plans kept per supergraph (`MTD_CACHE_SUBSCRIPTION_PLANS`). Default 1000. */
  maxPlans?: number;
}

export type PlanResult = { plan: SubscriptionPlan; errors?: undefined } | { plan?: undefined; errors: readonly GraphQLError[] };

/** One supergraph, its schemas, its planner and its plan cache. */
export class PlannedSupergraph {
  readonly api: Schema;
  readonly apiSchema: GraphQLSchema;
  readonly supergraphSchema: GraphQLSchema;
  /** Resumable Subscription fields by name, read from the supergraph. */
  readonly resumable: ReadonlyMap<string, Resumable>;
  readonly subgraphNames: readonly string[];
  /** Each subgraph's URL as the supergraph's `join__graph` names it. */
  readonly subgraphUrls: ReadonlyMap<string, string>;
  private readonly planner: QueryPlanner;
  private readonly cache: BoundedCache<PlanResult>;

  constructor(
    readonly sdl: string,
    private readonly options: PlannerOptions = {},
  ) {
    this.cache = new BoundedCache({ service: "gateway", name: "subscription_plans", maxEntries: options.maxPlans ?? 1000 });
    const supergraph = Supergraph.build(sdl);
    this.api = supergraph.apiSchema();
    this.apiSchema = this.api.toGraphQLJSSchema();
    this.supergraphSchema = supergraph.schema.toGraphQLJSSchema();
    this.planner = new QueryPlanner(supergraph);
    this.subgraphNames = supergraph.subgraphs().names();
    this.subgraphUrls = new Map(supergraph.subgraphs().values().map((subgraph) => [subgraph.name, subgraph.url]));
    const directive = supergraph.schema.coreFeatures?.getByIdentity(RESUMABLE_SPEC)?.directiveNameInSchema("resumable");
    this.resumable = directive === undefined ? new Map() : resumableFields(this.supergraphSchema, this.apiSchema, directive);
  }

  /** Plans (or returns the cached plan of) a subscription document. Errors are GraphQL errors for the client. */
  plan(query: string, operationName: string | undefined): PlanResult {
    const key = `${operationName ?? ""}\u0000${query}`;
    const cached = this.cache.read(key);
    if (cached !== undefined) return cached;
    const result = this.build(query, operationName);
    this.cache.write(key, result);
    return result;
  }

  private build(query: string, operationName: string | undefined): PlanResult {
    const document = parseOperation(query, this.options.maxTokens);
    if (!("kind" in document)) return { errors: document };
    const invalid = validateOperation(this.apiSchema, document);
    if (invalid.length > 0) return { errors: invalid };
    const operation = getOperationAST(document, operationName);
    if (operation === null || operation === undefined) {
      const message = operationName === undefined ? "the document has several operations: operationName is required" : `no operation named "${operationName}" in the document`;
      return { errors: [new GraphQLError(message, { extensions: { code: SubscriptionErrorCode.GRAPHQL_VALIDATION_FAILED } })] };
    }
    if (operation.operation !== "subscription") return { errors: [operationNotSupported(operation.operation)] };

    const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
    const roots = rootFields(operation.selectionSet, fragments);
    const root = roots[0]!; // validation guarantees exactly one root field
    const rootKey = root.alias?.value ?? root.name.value;
    const resumable = this.resumable.get(root.name.value);

    let planned = document;
    let resume: ResumePlan | undefined;
    if (resumable !== undefined) {
      const reserved = reservedNameUse(document);
      if (reserved !== undefined) return { errors: [badUserInput(reserved, "this name is reserved by the gateway for resumable subscriptions")] };
      const argumentType = this.apiSchema.getSubscriptionType()!.getFields()[root.name.value]!.args.find((arg) => arg.name === resumable.afterArgument)!.type;
      resume = { ...resumable, argumentType, initial: root.arguments?.find((arg) => arg.name.value === resumable.afterArgument)?.value };
      planned = withResume(document, operation, new Set(roots), resumable, argumentType);
    }

    let queryPlan: QueryPlan;
    try {
      queryPlan = this.planner.buildQueryPlan(operationFromDocument(this.api, planned, { operationName }));
    } catch (error) {
      return { errors: [error instanceof GraphQLError ? error : new GraphQLError(`cannot plan this subscription: ${(error as Error).message}`, { extensions: { code: SubscriptionErrorCode.GRAPHQL_VALIDATION_FAILED } })] };
    }
    const node = queryPlan.node;
    if (node?.kind !== "Subscription" || node.primary.kind !== "Fetch") {
      return { errors: [new GraphQLError("cannot plan this subscription: expected a primary fetch from one subgraph", { extensions: { code: SubscriptionErrorCode.GRAPHQL_VALIDATION_FAILED } })] };
    }
    const sequence: PlanNode = node.rest === undefined ? node.primary : { kind: "Sequence", nodes: [node.primary, node.rest] };
    return {
      plan: {
        document: planned,
        operationName,
        clientOperation: operation,
        primary: node.primary,
        queryPlan: { kind: "QueryPlan", node: sequence },
        operationContext: buildOperationContext({ schema: this.apiSchema, operationDocument: planned, operationName }),
        rootKey,
        rootField: root.name.value,
        resume,
        supergraph: this,
      },
    };
  }
}

/**
 * Coerces the client's variables against its operation (BAD_USER_INPUT
 * errors), and binds the resume variable to the client's own `after`.
 */
export function bindVariables(plan: SubscriptionPlan, raw: Record<string, unknown> | null | undefined): { bound: BoundVariables; errors?: undefined } | { bound?: undefined; errors: readonly GraphQLError[] } {
  const coerced = getVariableValues(plan.supergraph.apiSchema, plan.clientOperation.variableDefinitions ?? [], raw ?? {});
  if (coerced.errors !== undefined) {
    return { errors: coerced.errors.map((error) => new GraphQLError(error.message, { extensions: { code: "BAD_USER_INPUT" } })) };
  }
  const variables: Record<string, unknown> = { ...(raw ?? {}) };
  if (plan.resume === undefined) return { bound: { variables } };
  const initial = plan.resume.initial === undefined ? null : valueFromAST(plan.resume.initial, plan.resume.argumentType, coerced.coerced);
  const after = typeof initial === "string" ? initial : null;
  variables[RESUME_VARIABLE] = after;
  return { bound: { variables, after } };
}

/** Keeps the planner of the current supergraph; `update` with a new SDL makes a new one. */
export class Planners {
  private currentPlanner: PlannedSupergraph;

  constructor(
    sdl: string,
    private readonly options: PlannerOptions = {},
  ) {
    this.currentPlanner = new PlannedSupergraph(sdl, options);
  }

  get current(): PlannedSupergraph {
    return this.currentPlanner;
  }

  /** Returns true when the SDL differs and a new planner was built. */
  update(sdl: string): boolean {
    if (sdl === this.currentPlanner.sdl) return false;
    this.currentPlanner = new PlannedSupergraph(sdl, this.options);
    return true;
  }
}

/** Subscription fields carrying the resumable directive, checked against the API schema. */
function resumableFields(supergraphSchema: GraphQLSchema, apiSchema: GraphQLSchema, directive: string): Map<string, Resumable> {
  const found = new Map<string, Resumable>();
  const subscription = supergraphSchema.getSubscriptionType();
  const api = apiSchema.getSubscriptionType();
  if (subscription === null || subscription === undefined || api === null || api === undefined) return found;
  for (const field of Object.values(subscription.getFields())) {
    const node = field.astNode?.directives?.find((d) => d.name.value === directive);
    if (node === undefined) continue;
    const argument = (name: string) => {
      const value = node.arguments?.find((arg) => arg.name.value === name)?.value;
      return value?.kind === Kind.STRING ? value.value : undefined;
    };
    const cursorField = argument("cursorField");
    const afterArgument = argument("afterArgument");
    const apiField = api.getFields()[field.name];
    if (cursorField === undefined || afterArgument === undefined || apiField === undefined) {
      throw new Error(`@${directive} on Subscription.${field.name} needs string arguments cursorField and afterArgument`);
    }
    const payload = getNamedType(apiField.type);
    if (!("getFields" in payload) || !(cursorField in payload.getFields())) {
      throw new Error(`@${directive} on Subscription.${field.name}: its type ${payload.name} has no field "${cursorField}"`);
    }
    const resumeArgument = apiField.args.find((arg) => arg.name === afterArgument);
    if (resumeArgument === undefined || !isInputType(resumeArgument.type)) {
      throw new Error(`@${directive} on Subscription.${field.name}: the field has no argument "${afterArgument}"`);
    }
    found.set(field.name, { cursorField, afterArgument });
  }
  return found;
}


/** The root field nodes, through inline fragments and fragment spreads. */
function rootFields(selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>): FieldNode[] {
  const fields: FieldNode[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) fields.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) fields.push(...rootFields(selection.selectionSet, fragments));
    else {
      const fragment = fragments.get(selection.name.value);
      if (fragment !== undefined) fields.push(...rootFields(fragment.selectionSet, fragments));
    }
  }
  return fields;
}

/** A reserved alias or variable name the client used, if any. */
function reservedNameUse(document: DocumentNode): string | undefined {
  let used: string | undefined;
  visit(document, {
    Field: (node) => {
      if (node.alias?.value === CURSOR_ALIAS) used = `alias ${CURSOR_ALIAS}`;
    },
    Variable: (node) => {
      if (node.name.value === RESUME_VARIABLE) used = `variable $${RESUME_VARIABLE}`;
    },
  });
  return used;
}

/**
 * The document with the cursor selected under CURSOR_ALIAS in every root
 * field node and the resume argument bound to $RESUME_VARIABLE.
 */
function withResume(document: DocumentNode, operation: OperationDefinitionNode, roots: ReadonlySet<FieldNode>, resumable: Resumable, argumentType: GraphQLInputType): DocumentNode {
  const variable = { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: RESUME_VARIABLE } } as const;
  return visit(document, {
    OperationDefinition: (node) => {
      if (node !== operation) return undefined;
      return {
        ...node,
        variableDefinitions: [...(node.variableDefinitions ?? []), { kind: Kind.VARIABLE_DEFINITION, variable, type: parseType(String(argumentType)) }],
      };
    },
    Field: (node) => {
      if (!roots.has(node)) return undefined;
      return {
        ...node,
        arguments: [...(node.arguments ?? []).filter((arg) => arg.name.value !== resumable.afterArgument), { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: resumable.afterArgument }, value: variable }],
        selectionSet: {
          kind: Kind.SELECTION_SET,
          selections: [
            ...(node.selectionSet?.selections ?? []),
            { kind: Kind.FIELD, alias: { kind: Kind.NAME, value: CURSOR_ALIAS }, name: { kind: Kind.NAME, value: resumable.cursorField } },
          ],
        },
      };
    },
  });
}
