/**
 * The admin console end to end: the built app served by a real gateway (whole
 * graph on port 0, SQLite, in-process event log), driven in Debian's Chromium.
 * Screenshots of every page go to .ci/out/console/.
 */
import { execFileSync } from "node:child_process";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTENT_SECURITY_POLICY } from "../../gateway/console.js";
import { startGraph, type TestGraph } from "../support/graph.js";
import { waitFor } from "../support/wait.js";
import { accessibilityViolations, chromiumAvailable, cutSockets, installSocketSwitch, launch, openPage, releaseSockets, screenshot, type WatchedPage } from "./browser.js";
import { seedTenant, type Tenant } from "./seed.js";

const WAIT = { timeout: 10_000 };

describe.skipIf(!chromiumAvailable())("admin console in Chromium", () => {
  let graph: TestGraph;
  let tenant: Tenant;
  let browser: Browser;
  let origin: string;
  let admin: WatchedPage;

  beforeAll(async () => {
    execFileSync("npx", ["tsx", "bin/build-console.ts"], { stdio: "inherit" });
    graph = await startGraph();
    origin = new URL(graph.gatewayUrl).origin;
    [tenant, browser] = await Promise.all([seedTenant(graph), launch()]);
    admin = await openPage(browser);
    await installSocketSwitch(admin.page);
    await signIn(admin.page, tenant.admin);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await graph?.stop();
  });

  async function signIn(page: Page, token: string) {
    await page.goto(`${origin}/console/`);
    await page.getByLabel("Access token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("navigation", { name: "Console" }).waitFor(WAIT);
  }

  async function noEditControls(page: Page, where: string) {
    expect(await page.getByRole("button", { name: /Save|Edit|Enable|Disable|New|Create|Retire|Grant|Revoke/ }).count(), where).toBe(0);
    expect(await page.getByRole("checkbox").count(), where).toBe(0);
    expect(await page.getByRole("spinbutton").count(), where).toBe(0);
  }

  const go = async (page: Page, link: string) => {
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: link, exact: true }).click();
    await page.getByRole("heading", { level: 1, name: link }).waitFor(WAIT);
  };
  /** Once a page has loaded: no WCAG 2.1 A/AA violation found by axe-core. */
  const accessible = async (page: Page, where: string) => expect(await accessibilityViolations(page), where).toEqual([]);

  it("serves the app with a strict Content-Security-Policy, deep links included, and nothing outside its build", async () => {
    for (const path of ["/console/", "/console/devices/alice-iphone"]) {
      const response = await fetch(`${origin}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
      expect(await response.text()).toContain('<div id="root">');
    }
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect((await fetch(`${origin}/console/assets/%2e%2e/%2e%2e/package.json`)).status).toBe(404);
    expect((await fetch(`${origin}/console/`, { method: "POST" })).status).toBe(405);
    // The token never travels in a URL: the app keeps it in this tab's sessionStorage only.
    expect(admin.page.url()).not.toContain(tenant.admin);
    expect(await admin.page.evaluate(() => Object.keys(localStorage).length)).toBe(0);
  });

  it("signs an admin in to an overview of risk and compliance, and finds a device by name", async () => {
    const { page } = admin;
    await page.getByRole("heading", { name: "Devices by risk" }).waitFor(WAIT);
    await page.getByRole("img", { name: /1 access changes since .*: 1 revoked, 0 restored/ }).waitFor(WAIT);
    // Bob is HIGH from his report; Alice and Carol have no partner data yet.
    expect(await page.getByRole("region", { name: "Devices by risk" }).innerText()).toMatch(/Secured\s+0\s+Low\s+0\s+Medium\s+0\s+High\s+1\s+No data\s+2/);
    expect(await page.getByRole("region", { name: "Devices by compliance" }).innerText()).toMatch(/Compliant\s+2\s+In grace period\s+0\s+Noncompliant\s+1/);
    await screenshot(page, "overview");
    await accessible(page, "Overview");

    await go(page, "Devices");
    await page.getByRole("row", { name: /Bob Pixel/ }).waitFor(WAIT);
    await page.getByLabel("Search").fill("alice");
    await expect.poll(() => page.getByRole("row", { name: /iPhone|iPad|Pixel/ }).count()).toBe(1);
    expect(await page.getByRole("row", { name: /Alice iPhone/ }).innerText()).toMatch(/iOS\s+No data\s+Compliant/);
    await page.getByLabel("Search").fill("");
    await page.getByLabel("Compliance").selectOption("NONCOMPLIANT");
    await expect.poll(() => page.getByRole("row", { name: /iPhone|iPad|Pixel/ }).count()).toBe(1);
    await page.getByRole("row", { name: /Bob Pixel/ }).waitFor(WAIT);
    await page.getByLabel("Compliance").selectOption("");
    await page.getByLabel("Platform").selectOption("IOS");
    await expect.poll(() => page.getByRole("row", { name: /iPhone|iPad|Pixel/ }).count()).toBe(2);
    await screenshot(page, "devices");

    await page.getByRole("link", { name: "Alice iPhone" }).click();
    await page.getByRole("heading", { level: 1, name: "Alice iPhone" }).waitFor(WAIT);
    await page.getByRole("region", { name: "App inventory" }).getByText("Outlook").waitFor(WAIT);
    expect(await page.getByRole("region", { name: "Access decisions" }).innerText()).toMatch(/exchange\s+Allowed/);
    expect(admin.errors).toEqual([]);
  });

  it("changes a policy, and shows the graph's own words when it refuses one", async () => {
    const { page } = admin;
    await go(page, "Policies");
    await page.getByLabel("iOS highest allowed risk").selectOption("MEDIUM");
    await page.getByRole("button", { name: "Save iOS compliance policy" }).click();
    await page.getByRole("status").filter({ hasText: "Saved" }).waitFor(WAIT);
    const stored = await graph.query(tenant.admin, `{ compliancePolicies { platform maxThreatLevel } }`);
    expect(stored.data!.compliancePolicies).toContainEqual({ platform: "IOS", maxThreatLevel: "MEDIUM" });

    await page.getByRole("button", { name: "New conditional-access policy" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Files");
    await page.getByLabel("Resources (comma-separated)").fill("sharepoint");
    await page.getByRole("button", { name: "Create policy" }).click();
    // No platform chosen: the graph refuses, and its message is shown as it wrote it.
    await page.getByRole("alert").filter({ hasText: "input.platforms: expected at least one platform" }).waitFor(WAIT);
    await page.getByRole("group", { name: "Platforms" }).getByLabel("iOS").check();
    await page.getByRole("combobox", { name: /^Mode/ }).selectOption("REPORT_ONLY");
    await page.getByRole("button", { name: "Create policy" }).click();
    await page.getByRole("row", { name: /Files\s+sharepoint\s+iOS\s+Report only\s+0\s+Enabled/ }).waitFor(WAIT);
    await page.getByRole("button", { name: "Disable Files" }).click();
    await page.getByRole("row", { name: /Files.*Report only.*Disabled/ }).waitFor(WAIT);
    await screenshot(page, "policies");
    await accessible(page, "Policies, editable");
    expect(admin.errors).toEqual([]);
  });

  it("shows a partner's report revoking access live, and resumes after a reconnect without a gap or a duplicate", async () => {
    const { page } = admin;
    await go(page, "Access changes");
    await page.getByRole("status").filter({ hasText: /^Live$/ }).waitFor(WAIT);
    const rows = page.getByRole("region", { name: /Access changes/ }).getByRole("row");
    await page.getByRole("row", { name: /Bob Pixel\s+exchange\s+Revoked/ }).waitFor(WAIT);

    // HIGH is above iOS's MEDIUM: noncompliant, exchange revoked.
    await tenant.report("alice-iphone", "HIGH", "ACTIVE");
    await page.getByRole("row", { name: /Alice iPhone\s+exchange\s+Revoked/ }).waitFor(WAIT);
    expect(await rows.nth(1).innerText()).toMatch(/Alice iPhone/); // newest first, under the header row

    // The connection drops; the restoration happens while the console is away.
    const stored = await tenant.changeCount();
    await cutSockets(page);
    await page.getByRole("status").filter({ hasText: "Reconnecting…" }).waitFor(WAIT);
    await tenant.report("alice-iphone", "HIGH", "RESOLVED");
    await waitFor(async () => (await tenant.changeCount()) > stored, 20_000, "Alice's restoration stored");
    await releaseSockets(page);
    await page.getByRole("row", { name: /Alice iPhone\s+exchange\s+Restored/ }).waitFor(WAIT);
    await page.getByRole("status").filter({ hasText: /^Live$/ }).waitFor(WAIT);

    expect(await page.getByRole("row", { name: /Alice iPhone\s+exchange\s+Revoked/ }).count()).toBe(1);
    expect(await page.getByRole("row", { name: /Alice iPhone\s+exchange\s+Restored/ }).count()).toBe(1);
    expect(await rows.count()).toBe(1 + (await tenant.changeCount()));
    await screenshot(page, "access-changes");
    expect(admin.errors).toEqual([]);
  });

  it("grants an access exception to a revoked device and revokes it again", async () => {
    const { page } = admin;
    await go(page, "Devices");
    await page.getByRole("link", { name: "Bob Pixel" }).click();
    const decisions = page.getByRole("region", { name: "Access decisions" });
    await decisions.getByText("Blocked").waitFor(WAIT);
    await page.getByRole("region", { name: "Threats" }).getByRole("row", { name: /Device is jailbroken\s+Os\s+High\s+Active/ }).waitFor(WAIT);
    await page.getByRole("region", { name: "Access history" }).getByRole("row", { name: /exchange\s+Revoked\s+noncompliant: risk HIGH/ }).waitFor(WAIT);
    await page.getByLabel("Exception resources (comma-separated)").fill("exchange");
    await page.getByLabel("Reason", { exact: true }).fill("CEO travelling");
    await page.getByRole("button", { name: "Grant exception" }).click();
    await page.getByRole("region", { name: "Access exceptions" }).getByRole("row", { name: /exchange\s+CEO travelling/ }).waitFor(WAIT);
    await decisions.getByRole("row", { name: /exchange\s+Allowed\s+exception:/ }).waitFor(WAIT);
    await screenshot(page, "device");
    await accessible(page, "device page, editable");
    await page.getByRole("button", { name: "Revoke exception" }).click();
    await page.getByRole("region", { name: "Access exceptions" }).getByText("No exception.").waitFor(WAIT);
    await decisions.getByText("Blocked").waitFor(WAIT);
    expect(admin.errors).toEqual([]);
  });

  it("manages the partner connectors, inventory sharing and app versions; lists the audit trail", async () => {
    const { page } = admin;
    await go(page, "Partners");
    expect(await page.getByRole("region", { name: "Lookout" }).innerText()).toMatch(/Enabled[\s\S]*iOS, Android, Windows[\s\S]*Windows[\s\S]*60 minutes/);
    // A second partner on a platform Lookout covers: refused, in the graph's words.
    const overlap = { partner: "ZIMPERIUM", enabledPlatforms: ["IOS"], blockOnMissingPartnerData: [], unresponsiveAfterMinutes: 1440 };
    const refused = await graph.query(tenant.admin, `mutation($input: EnableMtdConnectorInput!) { enableMtdConnector(input: $input) { state } }`, { input: overlap });
    expect(refused.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    await page.getByRole("combobox", { name: /^Partner/ }).selectOption("ZIMPERIUM");
    const platforms = page.getByRole("group", { name: "Platforms whose partner data counts" });
    await platforms.getByLabel("iOS").check();
    await page.getByRole("button", { name: "Enable connector" }).click();
    await page.getByRole("alert").filter({ hasText: refused.errors![0]!.message }).waitFor(WAIT);
    await platforms.getByLabel("iOS").uncheck();
    await platforms.getByLabel("macOS").check();
    await page.getByRole("button", { name: "Enable connector" }).click();
    await page.getByRole("region", { name: "Zimperium" }).getByText("Enabled").waitFor(WAIT);
    await screenshot(page, "partners");
    await accessible(page, "Partners, editable");
    await page.getByRole("button", { name: "Disable Zimperium" }).click();
    await page.getByRole("region", { name: "Zimperium" }).getByText("Disabled").waitFor(WAIT);

    await go(page, "Inventory");
    await page.getByLabel("iOS app sync").check();
    await waitFor(async () => (await graph.query(tenant.admin, `{ appInventorySettings { iosAppSyncEnabled } }`)).data!.appInventorySettings.iosAppSyncEnabled, 20_000, "sharing saved");
    await page.getByLabel("App name contains").fill("outlook");
    await page.getByRole("button", { name: "Search apps" }).click();
    await page.getByRole("status").filter({ hasText: "2 installations" }).waitFor(WAIT);
    await page.getByLabel("Version below").fill("4.2400");
    await page.getByRole("button", { name: "Search apps" }).click();
    await page.getByRole("status").filter({ hasText: "1 installations" }).waitFor(WAIT);
    await page.getByRole("button", { name: "Versions of Outlook" }).click();
    await page.getByRole("region", { name: /Devices per version/ }).getByRole("row", { name: /4\.2410\.1\s+1/ }).waitFor(WAIT);
    await screenshot(page, "inventory");
    await accessible(page, "Inventory, editable");

    await go(page, "Audit log");
    await page.getByRole("row", { name: /inventorySettings\.updated/ }).waitFor(WAIT);
    await page.getByRole("row", { name: /conditionalAccessPolicy\.created/ }).first().waitFor(WAIT);
    await screenshot(page, "audit-log");
    expect(admin.errors).toEqual([]);
  });

  it("gives an analyst every page and no edit control; refuses a partner's token", async () => {
    const analyst = await openPage(browser);
    const { page } = analyst;
    await signIn(page, tenant.analyst);
    const loaded: Record<string, () => Promise<void>> = {
      Devices: () => page.getByRole("row", { name: /Alice iPhone/ }).waitFor(WAIT),
      "Access changes": () => page.getByRole("row", { name: /Bob Pixel/ }).first().waitFor(WAIT),
      Policies: () => page.getByRole("cell", { name: "Mail", exact: true }).waitFor(WAIT),
      Partners: () => page.getByRole("region", { name: "Lookout" }).waitFor(WAIT),
      Inventory: () => page.getByRole("region", { name: "Sharing with the partner" }).getByText("On").first().waitFor(WAIT),
      "Audit log": () => page.getByRole("row", { name: /device\.enrolled/ }).first().waitFor(WAIT),
    };
    for (const [link, ready] of Object.entries(loaded)) {
      await go(page, link);
      await ready();
      await noEditControls(page, link);
      await accessible(page, link);
    }
    await go(page, "Devices");
    await page.getByRole("link", { name: "Carol iPad" }).click();
    await page.getByRole("heading", { level: 1, name: "Carol iPad" }).waitFor(WAIT);
    await page.getByRole("region", { name: "Access exceptions" }).waitFor(WAIT);
    await noEditControls(page, "device page");
    await accessible(page, "device page");
    await screenshot(page, "analyst-policies");
    expect(analyst.errors).toEqual([]);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Access token").fill(tenant.partner);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "This console is for admins and analysts; the token's role is partner." }).waitFor(WAIT);
    await analyst.context.close();
  });

  it("works from the keyboard and at phone width", async () => {
    const phone = await openPage(browser, { width: 390, height: 844 });
    const { page } = phone;
    await signIn(page, tenant.admin);
    await page.getByRole("link", { name: "Devices", exact: true }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Devices" }).waitFor(WAIT);
    await page.getByRole("row", { name: /Alice iPhone/ }).waitFor(WAIT);
    for (const link of ["Overview", "Devices", "Access changes", "Policies", "Partners", "Inventory", "Audit log"]) {
      await go(page, link);
      await page.getByRole("status").filter({ hasText: /^Loading/ }).waitFor({ state: "detached", ...WAIT });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, link).toBeLessThanOrEqual(0);
      await screenshot(page, `phone-${link.toLowerCase().replace(/ /g, "-")}`);
    }
    await go(page, "Devices");
    await page.getByRole("link", { name: "Bob Pixel" }).click();
    await page.getByRole("region", { name: "Access history" }).getByRole("row", { name: /Revoked/ }).first().waitFor(WAIT);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), "device page").toBeLessThanOrEqual(0);
    await screenshot(page, "phone-device");
    expect(phone.errors).toEqual([]);
    await phone.context.close();
  });
  it("signs in, skips to the content and moves between pages from the keyboard alone", async () => {
    const keyboard = await openPage(browser);
    const { page } = keyboard;
    const focused = () => page.evaluate(() => (document.activeElement as HTMLElement | null)?.innerText?.trim() || document.activeElement?.id || "");
    await page.goto(`${origin}/console/`);
    // React renders after the load event may have fired: wait for the form before the first key.
    await page.getByLabel("Access token").waitFor(WAIT);
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("token");
    await page.keyboard.insertText(tenant.analyst);
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("Sign in");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor(WAIT);
    // The first Tab reaches the skip link; Enter moves focus to the page's content.
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("Skip to content");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
    // From the top of the page (reloaded: the session stays in this tab), through the navigation to Policies.
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor(WAIT);
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("Skip to content");
    for (const name of ["Overview", "Devices", "Access changes", "Policies"]) {
      await page.keyboard.press("Tab");
      expect(await focused()).toBe(name);
    }
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Policies" }).waitFor(WAIT);
    expect(keyboard.errors).toEqual([]);
    await keyboard.context.close();
  });

  it("pages through a fleet of more than 25 devices, filters narrowing the pages", async () => {
    const fleet = Array.from({ length: 30 }, (_, i) => ({ id: `zz-phone-${String(i + 1).padStart(2, "0")}`, name: `Fleet phone ${String(i + 1).padStart(2, "0")}`, platform: "ANDROID", osVersion: "15", ownership: "CORPORATE" }));
    const enrolled = await graph.query(tenant.admin, `mutation($inputs: [EnrollDeviceInput!]!) { enrollDevicesBatch(inputs: $inputs) { id error { code } } }`, { inputs: fleet });
    expect(enrolled.data!.enrollDevicesBatch.filter((item: { error: unknown }) => item.error !== null)).toEqual([]);
    const { page } = admin;
    await go(page, "Devices");
    await page.getByRole("status").filter({ hasText: "33 of 33 devices" }).waitFor(WAIT);
    const pages = page.getByRole("navigation", { name: "Device pages" });
    await pages.getByText("Page 1 of 2").waitFor(WAIT);
    const deviceRows = page.getByRole("region", { name: "Devices" }).getByRole("row");
    expect(await deviceRows.count()).toBe(1 + 25);
    await pages.getByRole("button", { name: "Next page" }).click();
    await pages.getByText("Page 2 of 2").waitFor(WAIT);
    expect(await deviceRows.count()).toBe(1 + 8);
    await page.getByRole("row", { name: /Fleet phone 30/ }).waitFor(WAIT);
    expect(await page.getByRole("row", { name: /Fleet phone 22/ }).count()).toBe(0);
    expect(await pages.getByRole("button", { name: "Next page" }).isDisabled()).toBe(true);
    // A filter starts again at its first page.
    await page.getByLabel("Platform").selectOption("IOS");
    await pages.getByText("Page 1 of 1").waitFor(WAIT);
    await expect.poll(() => deviceRows.count()).toBe(1 + 2);
    await page.getByLabel("Platform").selectOption("");
    // The search and the compliance filter go to the graph: the requests carry them.
    const searched = page.waitForRequest((request) => request.url().endsWith("/graphql") && /"search":"fleet phone 1"/.test(request.postData() ?? ""));
    await page.getByLabel("Search").fill("fleet phone 1");
    await searched;
    await page.getByRole("status").filter({ hasText: "10 of 33 devices" }).waitFor(WAIT);
    await pages.getByText("Page 1 of 1").waitFor(WAIT);
    await page.getByLabel("Search").fill("");
    const byState = page.waitForRequest((request) => request.url().endsWith("/graphql") && /devicesByCompliance/.test(request.postData() ?? "") && /"state":"COMPLIANT"/.test(request.postData() ?? ""));
    await page.getByLabel("Compliance").selectOption("COMPLIANT");
    await byState;
    await page.getByRole("status").filter({ hasText: "32 of 33 devices" }).waitFor(WAIT);
    await pages.getByText("Page 1 of 2").waitFor(WAIT);
    await pages.getByRole("button", { name: "Next page" }).click();
    await pages.getByText("Page 2 of 2").waitFor(WAIT);
    await expect.poll(() => deviceRows.count()).toBe(1 + 7);
    // Both: the search's matches narrowed by compliance.
    await page.getByLabel("Search").fill("fleet phone 0");
    await page.getByRole("status").filter({ hasText: "9 of 33 devices" }).waitFor(WAIT);
    await page.getByLabel("Compliance").selectOption("");
    await page.getByLabel("Search").fill("");
    expect(admin.errors).toEqual([]);
  });
});
