/**
 * Helpers for the gateway's subscription suites: real graphql-ws clients, a
 * TCP proxy that can cut a link like a network failure, and a tenant set up
 * so that partner reports flip devices between compliant and not.
 */
import { createServer, type Server as HttpServer } from "node:http";
import { connect, createServer as createTcpServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { createClient, type Client, type ExecutionResult } from "graphql-ws";
import WebSocket, { WebSocketServer } from "ws";
import { createTokenVerifier } from "../../lib/auth.js";
import type { Config, SubscriptionLimits } from "../../lib/config.js";
import { createLogger } from "../../lib/logger.js";
import { SubscriptionEngine } from "../../gateway/subscriptions/engine.js";
import { serveWebSocket } from "../../gateway/subscriptions/ws.js";
import { loadSupergraph } from "../../gateway/supergraph.js";
import { deferred, waitFor, type Deferred } from "../support/wait.js";
import { inlineReport } from "../support/report-documents.js";

/**
 * For live-only subscriptions (no cursor to replay from): repeats `act` until
 * the stream receives something, so the test knows it is live. Compare what it
 * received with what was stored from its first event on.
 */
export async function untilLive(stream: Received, act: (attempt: number) => Promise<void>, attempts = 20): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    await act(attempt);
    try {
      await stream.count(1, 1000, "a first live event");
      return;
    } catch {
      if (stream.error !== undefined) throw new Error(`subscription failed: ${JSON.stringify(stream.error)}`);
    }
  }
  throw new Error(`no live event after ${attempts} attempts`);
}

export const wsUrl = (httpUrl: string) => httpUrl.replace(/^http/, "ws");

export interface Closed {
  code: number;
  reason: string;
}

/** One graphql-ws subscription's results, as they arrive. */
export class Received {
  readonly results: ExecutionResult<Record<string, any>>[] = [];
  error: unknown;
  completed = false;
  readonly ended: Deferred<void> = deferred();
  dispose: () => void = () => {};

  get data() {
    return this.results.map((result) => result.data);
  }

  async count(n: number, timeoutMs = 10_000, what = `${n} results`): Promise<ExecutionResult<Record<string, any>>[]> {
    await waitFor(() => this.results.length >= n || this.error !== undefined, timeoutMs, what);
    if (this.results.length < n) throw new Error(`subscription failed before ${what}: ${JSON.stringify(this.error)}`);
    return this.results.slice(0, n);
  }
}

/** A graphql-ws client (the reference implementation, on `ws`) that records every subscription. */
export class Subscriber {
  readonly client: Client;
  readonly closed: Deferred<Closed> = deferred();
  socket: WebSocket | undefined;
  readonly connected: Deferred<void> = deferred();

  constructor(url: string, authorization: string | undefined | null) {
    this.client = createClient({
      url: wsUrl(url),
      webSocketImpl: WebSocket,
      connectionParams: authorization === null ? undefined : { authorization: authorization === undefined ? undefined : `Bearer ${authorization}` },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
      on: {
        opened: (socket) => void (this.socket = socket as WebSocket),
        connected: () => this.connected.resolve(),
        closed: (event) => {
          const { code, reason } = event as Closed;
          this.closed.resolve({ code, reason: String(reason) });
          this.connected.reject(new Error(`closed ${code} ${String(reason)}`));
        },
      },
    });
    this.connected.promise.catch(() => {});
  }

  subscribe(query: string, variables?: Record<string, unknown>): Received {
    const received = new Received();
    received.dispose = this.client.subscribe(
      { query, variables },
      {
        next: (result) => void received.results.push(result as ExecutionResult<Record<string, any>>),
        error: (error) => {
          received.error = error;
          received.ended.resolve();
        },
        complete: () => {
          received.completed = true;
          received.ended.resolve();
        },
      },
    );
    return received;
  }

  async dispose() {
    await this.client.dispose();
  }
}

/** A TCP proxy in front of `target` whose link can be cut (every connection reset, new ones refused) and restored. */
export async function startProxy(targetUrl: string): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let down = false;
  const server = createTcpServer((client) => {
    if (down) return client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(a);
      a.pipe(b);
      a.on("error", () => b.destroy());
      a.on("close", () => {
        sockets.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const cut = () => {
    down = true;
    for (const socket of sockets) socket.resetAndDestroy();
  };
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    cut,
    restore: () => void (down = false),
    close: async () => {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The subscription engine alone on its own port (no Apollo Server), so a test
 * can read its upstream counters. Same wiring as gateway/server.ts.
 */
export async function startSubscriptionEngine(
  config: Config,
  overrides: { limits?: Partial<SubscriptionLimits>; subgraphUrls?: Partial<Config["subgraphUrls"]>; supergraphSdl?: string } = {},
): Promise<{ url: string; engine: SubscriptionEngine; stop(): Promise<void> }> {
  const server: HttpServer = createServer((_request, response) => response.writeHead(404).end());
  const wss = new WebSocketServer({ server, path: "/graphql" });
  const engine = new SubscriptionEngine({
    supergraphSdl: overrides.supergraphSdl ?? loadSupergraph(),
    subgraphUrls: { ...config.subgraphUrls, ...overrides.subgraphUrls },
    limits: { ...config.subscriptions, ...overrides.limits },
    operationLimits: config.limits,
    logger: createLogger(config.logLevel, "test"),
    production: false,
  });
  const disposeWebSocket = serveWebSocket({ wss, engine, verify: createTokenVerifier(config.auth) });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    engine,
    stop: async () => {
      await disposeWebSocket();
      await engine.dispose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Query = <T = Record<string, any>>(token: string | null, query: string, variables?: Record<string, unknown>) => Promise<{ data?: T | null; errors?: { message: string; extensions?: Record<string, unknown> }[] }>;

export const ACCESS_CHANGES = /* GraphQL */ `
  query Changes($after: String) { accessChanges(first: 500, after: $after) { edges { cursor node { sequence resource allowed device { id } } } pageInfo { hasNextPage endCursor } } }
`;

export interface StoredChange {
  cursor: string;
  sequence: number;
  resource: string;
  allowed: boolean;
  deviceId: string;
}

/**
 * A tenant where iOS devices must be at most LOW risk to reach `resources`,
 * with LOOKOUT connected: `revoke(id)` reports a HIGH threat (every resource
 * revoked), `restore(id)` resolves it (every resource restored).
 */
export class Tenant {
  private reports = 0;
  private lastObserved = 0;
  /** Reports sent with their values inline (every report a new document) instead of as variables. */
  inlineReports = false;

  private constructor(
    readonly id: string,
    private readonly query: Query,
    readonly admin: string,
    readonly enforcement: string,
    readonly partner: string,
  ) {}

  static async create(
    tenantId: string,
    query: Query,
    token: (claims: { tenantId: string; role: "admin" | "enforcement" | "partner"; partner?: "LOOKOUT" }) => Promise<string>,
    resources: string[] = ["exchange", "sharepoint"],
  ): Promise<Tenant> {
    const tenant = new Tenant(tenantId, query, await token({ tenantId, role: "admin" }), await token({ tenantId, role: "enforcement" }), await token({ tenantId, role: "partner", partner: "LOOKOUT" }));
    await tenant.ok(`mutation { setCompliancePolicy(input: { platform: IOS, name: "iOS", maxThreatLevel: LOW }) { id } }`);
    await tenant.ok(`mutation($r: [String!]!) { setConditionalAccessPolicy(input: { name: "needs compliance", resources: $r, platforms: [IOS], enabled: true }) { id } }`, { r: resources });
    await tenant.ok(`mutation { enableMtdConnector(input: { partner: LOOKOUT, enabledPlatforms: [IOS] }) { state } }`);
    return tenant;
  }

  /**
   * A tenant whose events are wide, to fill a slow client's buffers: three
   * policies of 50 resources each, so every event about its device `s-1`
   * (revoked as a baseline) can carry 150 decisions. `head` is the cursor to
   * subscribe after; `baseline` the number of changes stored so far.
   */
  static async wide(tenantId: string, query: Query, token: Parameters<typeof Tenant.create>[2]): Promise<{ tenant: Tenant; head: string; baseline: number }> {
    const resources = (policy: number) => Array.from({ length: 50 }, (_, i) => `app-${policy}-${i}`);
    const tenant = await Tenant.create(tenantId, query, token, resources(0));
    for (const policy of [1, 2]) {
      await tenant.ok(`mutation($r: [String!]!) { setConditionalAccessPolicy(input: { name: "more", resources: $r, platforms: [IOS], enabled: true }) { id } }`, { r: resources(policy) });
    }
    const head = await tenant.baseline("s-1");
    return { tenant, head, baseline: (await tenant.stored(150)).length };
  }

  async enroll(id: string, name = `iPhone ${id}`) {
    await this.ok(`mutation($input: EnrollDeviceInput!) { enrollDevice(input: $input) { id } }`, {
      input: { id, name, platform: "IOS", osVersion: "17.4.1", ownership: "CORPORATE" },
    });
  }

  /** Reports an active HIGH threat: the device becomes noncompliant. Resolves when the report is accepted. */
  revoke(deviceId: string) {
    return this.report(deviceId, "ACTIVE");
  }

  /** Resolves the threat: the device is compliant again. */
  restore(deviceId: string) {
    return this.report(deviceId, "RESOLVED");
  }

  private async report(deviceId: string, status: "ACTIVE" | "RESOLVED") {
    // Observations must move forward for the latest to win.
    this.lastObserved = Math.max(Date.now() - 60_000, this.lastObserved + 1);
    const input = {
      reportId: `${this.id}-${deviceId}-${++this.reports}`,
      deviceId,
      observedAt: new Date(this.lastObserved).toISOString(),
      threats: [{ externalId: "jailbreak", category: "DEVICE", severity: "HIGH", title: "Jailbroken", status }],
    };
    // The threats subgraph learns of an enrollment through the event log: until then the device is NOT_FOUND.
    await waitFor(
      async () => {
        const result = this.inlineReports
          ? await this.query(this.partner, inlineReport(input, "reportId"))
          : await this.query(this.partner, `mutation($input: ReportThreatsInput!) { reportThreats(input: $input) { reportId } }`, { input });
        if (result.errors === undefined) return true;
        if (result.errors[0]?.extensions?.code === "NOT_FOUND") return false;
        throw new Error(`reportThreats: ${JSON.stringify(result.errors)}`);
      },
      10_000,
      `threats to know ${deviceId}`,
    );
  }

  /** Every stored access change of the tenant, in sequence order. */
  async changes(): Promise<StoredChange[]> {
    const all: StoredChange[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = await this.ok(ACCESS_CHANGES, { after }, this.enforcement);
      for (const edge of page.accessChanges.edges) {
        all.push({ cursor: edge.cursor, sequence: edge.node.sequence, resource: edge.node.resource, allowed: edge.node.allowed, deviceId: edge.node.device.id });
      }
      if (!page.accessChanges.pageInfo.hasNextPage) return all;
      after = page.accessChanges.pageInfo.endCursor;
    }
  }

  /** Waits until `count` changes are stored and returns them. */
  async stored(count: number, timeoutMs = 10_000): Promise<StoredChange[]> {
    let changes: StoredChange[] = [];
    await waitFor(async () => (changes = await this.changes()).length >= count, timeoutMs, `${count} stored changes of ${this.id}`);
    return changes;
  }

  /**
   * Enrolls `deviceId` and revokes it, so the tenant has a change to subscribe
   * after: a subscription with `after` replays from there, with no race
   * against the subscription being set up. Returns the last cursor.
   */
  async baseline(deviceId: string, name?: string): Promise<string> {
    await this.enroll(deviceId, name);
    const before = (await this.changes()).length;
    await this.revoke(deviceId);
    return (await this.stored(before + 2)).at(-1)!.cursor;
  }

  async ok(document: string, variables?: Record<string, unknown>, token = this.admin): Promise<any> {
    const result = await this.query(token, document, variables);
    if (result.errors !== undefined) throw new Error(`${document.slice(0, 60)}…: ${JSON.stringify(result.errors)}`);
    return result.data;
  }
}
