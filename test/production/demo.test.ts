/**
 * `npm run demo` runs to completion with a short duration: the tenant is
 * configured, the partner's threats revoke and restore access, the
 * enforcement service receives every expected change, and the summary says so.
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;

describe("npm run demo", () => {
  it("plays a short demo to the end with every expected change delivered", { timeout: 120_000 }, async () => {
    const child = spawn("npm", ["run", "-s", "demo", "--", "--duration", "5", "--devices", "60"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));

    expect(output, output).toContain("enrolled 60 devices");
    expect(code, output).toBe(0);
    const count = (label: string) => Number(new RegExp(`${label}\\s+(\\d+)`).exec(output)?.[1]);
    expect(count("access revoked")).toBeGreaterThan(0);
    expect(count("access restored")).toBeGreaterThan(0);
    expect(count("missing changes")).toBe(0);
    expect(output).toMatch(/REVOKED\s+exchange\s+.+\(IOS|ANDROID/);
    expect(output).toMatch(/latency report→change\s+p50 \d+ ms\s+p99 \d+ ms/);
    expect(output).toMatch(/rate limited \/ errors\s+\d+ \/ 0/);
  });
});
