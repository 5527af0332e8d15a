/**
 * Debian's Chromium driven by playwright-core for the console's end-to-end
 * test. Each page records console errors and page errors; a test expects
 * none. `installSocketSwitch` lets a test cut the app's WebSockets and hold
 * reconnects back (every new socket is closed once open while held; 4499, so
 * graphql-ws retries with its backoff, as after a lost connection), to check
 * that a live view resumes without gaps or duplicates.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOTS = join(".ci", "out", "console");

/** Whether the browser suite runs: without Chromium it skips loudly, or fails under MTD_REQUIRE_SERVICES=1 (CI). */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.MTD_REQUIRE_SERVICES === "1") throw new Error(`MTD_REQUIRE_SERVICES=1 but ${CHROMIUM} is missing (apt-get install -y chromium)`);
  console.warn(`\n  !!! SKIPPING BROWSER SUITES: ${CHROMIUM} is missing (apt-get install -y chromium)\n`);
  return false;
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors so far. */
  errors: string[];
}

export async function openPage(browser: Browser, viewport = { width: 1280, height: 860 }): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(10_000); // a failing step names its locator before the test times out
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return { context, page, errors };
}

export async function screenshot(page: Page, name: string) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * axe-core's WCAG 2 A/AA rules on the page as it is shown, as "rule: target"
 * lines (empty when it passes). Evaluated through the DevTools protocol, so
 * the app's Content-Security-Policy stays as it is.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const { violations } = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return violations.flatMap((violation) => violation.nodes.map((node) => `${violation.id}: ${node.target.join(" ")}`));
  });
}

declare global {
  interface Window {
    __sockets: { open: WebSocket[]; held: boolean };
  }
}

export async function installSocketSwitch(page: Page) {
  await page.addInitScript(() => {
    const Native = window.WebSocket;
    window.__sockets = { open: [], held: false };
    window.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        window.__sockets.open.push(this);
        if (window.__sockets.held) this.addEventListener("open", () => this.close(4499, "held by the test"));
      }
    };
  });
}

/** Closes the app's sockets and holds reconnects until `release`. */
export const cutSockets = (page: Page) =>
  page.evaluate(() => {
    window.__sockets.held = true;
    for (const socket of window.__sockets.open.splice(0)) socket.close(4499, "cut by the test");
  });

export const releaseSockets = (page: Page) => page.evaluate(() => void (window.__sockets.held = false));
