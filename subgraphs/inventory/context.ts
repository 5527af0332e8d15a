import DataLoader from "dataloader";
import { encodeCursor } from "../../lib/paging.js";
import type { RequestContext } from "../context.js";
import type { AppPage, InventoryRepository, Viewer } from "./data/repository.js";

export interface Context extends RequestContext {
  inventory: InventoryRepository;
  /**
   * What the caller may see of the inventory: everything of the tenant (admin,
   * analyst), the shared part (partner), or nothing (enforcement).
   */
  viewer: Viewer | null;
  /**
   * Per request: the `Device.apps` page of every device the request touches,
   * one SQL statement per batch. One loader per distinct `(first, after)`.
   */
  appsOfDevice(first: number, afterAppId: string | undefined): DataLoader<string, AppPage>;
}

export function createContext(base: RequestContext, inventory: InventoryRepository): Context {
  const { tenantId, role } = base.identity;
  const viewer: Viewer | null =
    role === "admin" || role === "analyst" ? { tenantId, scope: "tenant" } : role === "partner" ? { tenantId, scope: "partner" } : null;
  const loaders = new Map<string, DataLoader<string, AppPage>>();
  return {
    ...base,
    inventory,
    viewer,
    appsOfDevice: (first, afterAppId) => {
      const key = JSON.stringify([first, afterAppId ?? null]);
      let loader = loaders.get(key);
      if (loader === undefined) {
        loader = new DataLoader(async (deviceIds) => {
          const found: Awaited<ReturnType<InventoryRepository["appsOfDevices"]>> = viewer === null ? new Map() : await inventory.appsOfDevices(viewer, deviceIds, { first, afterAppId });
          return deviceIds.map((deviceId): AppPage => {
            const entry = found.get(deviceId);
            const edges = (entry?.rows ?? []).map((node) => ({ cursor: encodeCursor([node.appId]), node }));
            const total = entry?.total ?? 0;
            return {
              edges,
              pageInfo: { hasNextPage: entry?.hasNextPage ?? false, endCursor: edges.at(-1)?.cursor ?? null },
              count: () => Promise.resolve(total),
            };
          });
        });
        loaders.set(key, loader);
      }
      return loader;
    },
  };
}
