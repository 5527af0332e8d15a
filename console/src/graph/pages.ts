/**
 * Reads a Relay connection to its end (or `maxPages` pages), for views that
 * need the whole list: the access history (the graph
 * has no per-device or newest-first `accessChanges`) and a device search
 * narrowed by compliance, which the console filters after reading.
 */
import { useCallback, useEffect, useState } from "react";
import { useClient, type AnyVariables, type CombinedError, type TypedDocumentNode } from "urql";

interface Connection<T> {
  edges: readonly { node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
  totalCount: number;
}

export interface AllPages<T> {
  nodes: T[];
  /** The last page's end cursor: resume a subscription after it. */
  endCursor: string | null;
  totalCount: number;
  truncated: boolean;
  loading: boolean;
  error?: CombinedError;
  reload(): void;
}

export const PAGE_SIZE = 100;
export const MAX_PAGES = 20;

export function useAllPages<TData, TVariables extends AnyVariables & { after?: string | null }, TNode>(
  document: TypedDocumentNode<TData, TVariables>,
  variables: Omit<TVariables, "after">,
  select: (data: TData) => Connection<TNode>,
  pause = false,
): AllPages<TNode> {
  const client = useClient();
  const [generation, setGeneration] = useState(0);
  const [state, setState] = useState<Omit<AllPages<TNode>, "reload">>({ nodes: [], endCursor: null, totalCount: 0, truncated: false, loading: true });
  const key = JSON.stringify(variables);
  useEffect(() => {
    if (pause) return;
    let cancelled = false;
    setState((previous) => ({ ...previous, loading: true }));
    void (async () => {
      const nodes: TNode[] = [];
      let after: string | null = null;
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const result = await client
          .query(document, { ...JSON.parse(key), after } as TVariables, { requestPolicy: "network-only" })
          .toPromise();
        if (cancelled) return;
        if (result.error || !result.data) {
          setState({ nodes, endCursor: after, totalCount: nodes.length, truncated: false, loading: false, error: result.error });
          return;
        }
        const connection = select(result.data);
        nodes.push(...connection.edges.map((edge) => edge.node));
        after = connection.pageInfo.endCursor ?? after;
        if (!connection.pageInfo.hasNextPage) {
          setState({ nodes, endCursor: after, totalCount: connection.totalCount, truncated: false, loading: false });
          return;
        }
        if (page === MAX_PAGES - 1) setState({ nodes, endCursor: after, totalCount: connection.totalCount, truncated: true, loading: false });
      }
    })();
    return () => {
      cancelled = true;
    };
    // `select` is a pure projection; the variables are compared by value (key).
  }, [client, document, key, generation, pause]);
  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  return { ...state, reload };
}
