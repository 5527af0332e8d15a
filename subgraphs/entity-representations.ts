/**
 * `Query._entities(representations:)` takes `_Any`: whatever JSON a caller
 * sends reaches the `__resolveReference` resolvers unless it is checked. This
 * wraps the resolver `buildSubgraphSchema` made with one check of every
 * representation, from the schema alone: an object whose `__typename` is one
 * of the subgraph's entity types (the members of `_Entity`) and whose other
 * fields are exactly that type's `@key` fields, each a string of 1-256
 * characters (our keys are ID or String fields). Anything else is
 * BAD_USER_INPUT naming the representation (`representations[3].id`) before
 * any resolver runs.
 */
import { getNamedType, isUnionType, Kind, type GraphQLObjectType, type GraphQLSchema } from "graphql";
import { badUserInput } from "../lib/errors.js";

/** The longest string key field value accepted (ids are at most 128 characters). */
const MAX_KEY_LENGTH = 256;

/** Installs the check on the schema's `_entities` field, if it has one (a subgraph without entities has none). */
export function guardEntityRepresentations(schema: GraphQLSchema): void {
  const field = schema.getQueryType()?.getFields()._entities;
  const union = schema.getType("_Entity");
  if (field?.resolve === undefined || union === undefined || !isUnionType(union)) return;
  const entities = new Map(union.getTypes().map((type) => [type.name, keyFields(type)]));
  const resolve = field.resolve;
  field.resolve = (source, args: { representations: unknown[] }, context, info) => {
    args.representations.forEach((representation, i) => checkRepresentation(entities, representation, `representations[${i}]`));
    return resolve(source, args, context, info);
  };
}

function checkRepresentation(entities: ReadonlyMap<string, readonly string[]>, representation: unknown, path: string): void {
  if (typeof representation !== "object" || representation === null || Array.isArray(representation)) {
    throw badUserInput(path, `expected an object with __typename and its key fields; got ${kindOf(representation)}`);
  }
  const { __typename: typename, ...fields } = representation as Record<string, unknown>;
  const keys = typeof typename === "string" ? entities.get(typename) : undefined;
  if (keys === undefined) {
    throw badUserInput(`${path}.__typename`, `expected one of the entity types ${[...entities.keys()].join(", ")}; got ${typeof typename === "string" ? JSON.stringify(typename.slice(0, 64)) : kindOf(typename)}`);
  }
  for (const name of Object.keys(fields)) {
    if (!keys.includes(name)) throw badUserInput(`${path}.${name.slice(0, 64)}`, `expected only the key fields of ${typename} (${keys.join(", ")})`);
  }
  for (const name of keys) {
    const value = fields[name];
    if (typeof value !== "string" || value.length < 1 || value.length > MAX_KEY_LENGTH) {
      throw badUserInput(`${path}.${name}`, `expected a string of 1-${MAX_KEY_LENGTH} characters; got ${kindOf(value)}`);
    }
  }
}

/** An entity type's key fields, from its `@key(fields: "a b")` directives: flat keys of ID or String fields (all our keys are). */
function keyFields(type: GraphQLObjectType): string[] {
  const keys = new Set<string>();
  for (const node of [type.astNode, ...(type.extensionASTNodes ?? [])]) {
    for (const directive of node?.directives ?? []) {
      if (directive.name.value !== "key") continue;
      const fields = directive.arguments?.find((argument) => argument.name.value === "fields")?.value;
      if (fields?.kind !== Kind.STRING || /[{}]/.test(fields.value)) throw new Error(`${type.name}: the representation check supports flat @key(fields:) only`);
      for (const name of fields.value.split(/[\s,]+/).filter(Boolean)) {
        const field = type.getFields()[name];
        const keyType = field === undefined ? undefined : getNamedType(field.type).name;
        if (keyType !== "ID" && keyType !== "String") throw new Error(`${type.name}: the representation check supports ID and String key fields only; ${name} is ${keyType ?? "not a field"}`);
        keys.add(name);
      }
    }
  }
  return [...keys];
}

/** What arrived, without echoing it: `an object`, `a string of 300 characters`, `1e+400`. */
function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return `an ${typeof value}`;
}
