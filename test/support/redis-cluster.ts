/**
 * A private three-master Redis Cluster on 127.0.0.1 for tests of
 * `REDIS_CLUSTER_NODES`: three `redis-server --cluster-enabled yes` processes
 * on free ports (their bus ports, +10000, stay below the ephemeral range),
 * joined by `redis-cli --cluster create`, ready once `cluster_state:ok`.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { Redis } from "ioredis";
import { RedisServer } from "./redis-server.js";
import { waitFor } from "./wait.js";

export class RedisCluster {
  private constructor(private readonly servers: RedisServer[]) {}

  /** `host:port` of every master, as `REDIS_CLUSTER_NODES` takes them. */
  get nodes(): string[] {
    return this.servers.map((server) => `127.0.0.1:${server.port}`);
  }

  static async start(masters = 3): Promise<RedisCluster> {
    const servers = Array.from({ length: masters }, () => new RedisServer((dir, port) => ["--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`)], 22_700));
    const cluster = new RedisCluster(servers);
    try {
      await Promise.all(servers.map((server) => server.start()));
      const created = spawnSync("redis-cli", ["--cluster", "create", ...cluster.nodes, "--cluster-replicas", "0", "--cluster-yes"], { encoding: "utf8", timeout: 30_000 });
      if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
      await waitFor(
        async () => {
          const states = await Promise.all(
            servers.map(async (server) => {
              const redis = new Redis(server.url, { lazyConnect: true });
              try {
                await redis.connect();
                return /cluster_state:ok/.test(await redis.cluster("INFO"));
              } finally {
                redis.disconnect();
              }
            }),
          );
          return states.every(Boolean);
        },
        20_000,
        "cluster_state:ok on every node",
      );
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop()));
  }
}
