/** A service of the graph as its own process (`bin/start.ts gateway` or `subgraph <name>`), for scale-out and shutdown tests. */
import { spawn, type ChildProcess } from "node:child_process";
import { waitFor } from "./wait.js";

const ROOT = new URL("../../", import.meta.url).pathname;

/**
 * One service process (`bin/start.ts gateway` or `subgraph <name>`). The first
 * start listens on a port the OS picks (read from the process's own
 * "listening" log line, so a readiness probe can never be answered by some
 * other server); a restart reuses that port, as a restarted replica would.
 */
export class Service {
  child: ChildProcess | undefined;
  port: number | undefined;
  private output = "";

  constructor(
    readonly name: string,
    readonly args: string[],
    private readonly env: Record<string, string>,
    /** Node's own flags, before the script (e.g. `--cpu-prof`). */
    private readonly nodeArgs: string[] = [],
  ) {}

  /** The last 4,000 characters the process wrote (its log lines). */
  get recentOutput(): string {
    return this.output;
  }

  get url() {
    if (this.port === undefined) throw new Error(`${this.name} has not started`);
    return `http://127.0.0.1:${this.port}/graphql`;
  }

  async start(): Promise<void> {
    this.output = "";
    // The "listening" line is logged at info.
    const env = { ...process.env, ...this.env, PORT: String(this.port ?? 0), LOG_LEVEL: "info" };
    const child = spawn(process.execPath, [...this.nodeArgs, "--import", "tsx", "bin/start.ts", ...this.args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    let pending = "";
    let listening: string | undefined;
    child.stdout!.on("data", (chunk) => {
      const text = String(chunk);
      this.output = (this.output + text).slice(-4000);
      if (listening !== undefined) return;
      const lines = (pending + text).split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        if (!line.includes('listening"')) continue;
        const { url } = JSON.parse(line) as { url?: string };
        if (url !== undefined) listening = url;
      }
    });
    child.stderr!.on("data", (chunk) => (this.output = (this.output + String(chunk)).slice(-4000)));
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode}:\n${this.output}`);
        return listening !== undefined;
      },
      // Generous: on a loaded machine a process compiling its sources under tsx takes tens of seconds to listen.
      120_000,
      `${this.name} listening`,
    );
    this.port = Number(new URL(listening!).port);
    const ready = await fetch(`http://127.0.0.1:${this.port}/health/ready`);
    if (!ready.ok) throw new Error(`${this.name} not ready: ${await ready.text()}`);
  }

  /** kill -9: no shutdown, no goodbye to anyone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
