import type { CombinedError } from "urql";

/** The graph's own words: each GraphQL error's message, without urql's "[GraphQL]" prefix. */
export function errorText(error: CombinedError): string {
  if (error.graphQLErrors.length > 0) return error.graphQLErrors.map((e) => e.message).join("; ");
  return error.networkError?.message ?? error.message;
}
