/**
 * `Query._service { sdl }` is the subgraph's whole schema, federation
 * directives included. The gateway composes from its supergraph file and never
 * asks for it, so with introspection off (the production default) it is for
 * admins only, like the schema itself: any other role is FORBIDDEN. With
 * introspection on (development, or `MTD_INTROSPECTION=true`) every
 * authenticated caller may read it, as they may introspect.
 */
import type { GraphQLSchema } from "graphql";
import { requireRole } from "../lib/auth.js";
import type { RequestContext } from "./context.js";

/** Installs the role check on the schema's `_service` field unless introspection is on. */
export function guardServiceSdl(schema: GraphQLSchema, introspection: boolean): void {
  const field = schema.getQueryType()?.getFields()._service;
  if (introspection || field?.resolve === undefined) return;
  const resolve = field.resolve;
  field.resolve = (source, args, context: RequestContext, info) => {
    requireRole(context.identity, "admin");
    return resolve(source, args, context, info);
  };
}
