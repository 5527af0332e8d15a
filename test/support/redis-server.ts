/**
 * A private `redis-server` process for tests that stop and restart Redis: the
 * shared one at 127.0.0.1:6379 serves every other suite and must never go down.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./wait.js";

/** Whether `redis-server` can be run here. */
export const redisServerInstalled = spawnSync("redis-server", ["--version"]).status === 0;

/**
 * A port that is free now, below Linux's ephemeral range (32768+): the OS never
 * hands it to an outgoing connection, so it is still free when Redis restarts
 * on it. If some other process listens on it first, redis-server refuses to
 * start and `start()` picks another.
 */
async function freePort(below = 32_000): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * (below - 20_000));
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (!free) continue;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }
}

/**
 * `redis-server` on 127.0.0.1 and a port of its own, persisting like a
 * production Redis holding a durable event log: append-only file, fsync on
 * every write, in a temporary directory. A restart (`start()` after `kill()`)
 * reuses the port and the directory, so streams and consumer groups survive.
 */
export class RedisServer {
  /** Where the append-only file lives, from the first start until `stop()`. */
  dir: string | undefined;
  port: number | undefined;
  private child: ChildProcess | undefined;
  private output = "";

  constructor(
    /** More `redis-server` arguments (e.g. cluster mode). */
    private readonly extraArgs: (dir: string, port: number) => string[] = () => [],
    /** Ports are picked below this (cluster nodes need port + 10000 for their bus, below the ephemeral range too). */
    private readonly portsBelow = 32_000,
  ) {}

  get url(): string {
    if (this.port === undefined) throw new Error("redis-server has not started");
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts on a free port (first start) or the previous one (restart); resolves once it accepts connections. */
  async start(): Promise<void> {
    this.dir ??= mkdtempSync(join(tmpdir(), "mtd-redis-"));
    for (let attempt = 1; ; attempt++) {
      const port = this.port ?? (await freePort(this.portsBelow));
      try {
        await this.spawn(port);
        this.port = port;
        return;
      } catch (error) {
        // The port was taken between picking and binding: a restart must keep its port, a first start tries another.
        if (this.port !== undefined || attempt === 5 || !/Address already in use/i.test(this.output)) throw error;
      }
    }
  }

  /** kill -9: no shutdown, no final fsync (every write was fsynced already). */
  async kill(): Promise<void> {
    await this.signal("SIGKILL");
  }

  /** Stops the server and deletes its files. */
  async stop(): Promise<void> {
    await this.signal("SIGKILL");
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private async spawn(port: number): Promise<void> {
    this.output = "";
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", this.dir!, ...this.extraArgs(this.dir!, port)];
    const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    let spawnError: Error | undefined;
    child.on("error", (error) => (spawnError = error));
    const collect = (chunk: Buffer) => (this.output = (this.output + String(chunk)).slice(-4000));
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    try {
      await waitFor(
        () => {
          if (spawnError !== undefined) throw spawnError;
          if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}:\n${this.output}`);
          return this.output.includes("Ready to accept connections");
        },
        10_000,
        `redis-server on port ${port}`,
      );
    } catch (error) {
      if (spawnError === undefined) await this.signal("SIGKILL");
      throw error;
    }
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  }
}
