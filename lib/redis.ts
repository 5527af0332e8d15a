/**
 * One Redis or a Redis Cluster, for the event log and the shared rate limits:
 * `REDIS_URL=redis://host:port` or `REDIS_CLUSTER_NODES=host:port,host:port,…`
 * (ioredis's `Cluster`: it finds the masters from any of the nodes and follows
 * MOVED/ASK). Everything we send touches one key per command, script or
 * pipeline (a stream with its consumer groups, a bucket), or keys under one
 * hash tag (a tenant's subscription count and leases), so no command ever
 * crosses slots.
 */
import { Cluster, Redis, type RedisOptions } from "ioredis";

export interface RedisTarget {
  /** `REDIS_URL`. */
  url?: string;
  /** `REDIS_CLUSTER_NODES`, as `host:port`. */
  clusterNodes?: readonly string[];
}

export type RedisClient = Redis | Cluster;

/** Whether a Redis (single or cluster) is configured; without one the in-process implementations are used. */
export function redisConfigured(target: RedisTarget): boolean {
  return target.url !== undefined || (target.clusterNodes?.length ?? 0) > 0;
}

/** A connection named `name` (`CLIENT LIST` tells which deployment and purpose it serves). */
export function connectRedis(target: RedisTarget, name: string, options: RedisOptions = {}): RedisClient {
  if (target.clusterNodes !== undefined && target.clusterNodes.length > 0) {
    const nodes = target.clusterNodes.map((node) => {
      const [host, port] = splitHostPort(node);
      return { host, port };
    });
    return new Cluster(nodes, { redisOptions: { connectionName: name, ...options }, enableOfflineQueue: options.enableOfflineQueue ?? true });
  }
  if (target.url === undefined) throw new TypeError("connectRedis: expected a url or cluster nodes");
  return new Redis(target.url, { connectionName: name, ...options });
}

/** `host:port` (IPv6 as `[::1]:7000`) into its parts; throws on anything else. */
export function splitHostPort(node: string): [host: string, port: number] {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(node);
  const port = Number(match?.[3]);
  if (match === null || port < 1 || port > 65535) throw new TypeError(`expected host:port, got "${node}"`);
  return [match[1] ?? match[2]!, port];
}
