/** Shared Signals test helpers: a graph with short retry timings, receivers registered through GraphQL, a management API client. */
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { startGraph, type GraphOptions, type TestGraph } from "../support/graph.js";
import { PollClient, PushReceiver, SetVerifier } from "./receiver.js";

/** Short, test-sized timings: retries in tens of milliseconds, not minutes. */
export const FAST_SSF_ENV: Record<string, string> = {
  MTD_SSF_PUSH_RETRY_BASE_MS: "20",
  MTD_SSF_PUSH_RETRY_MAX_MS: "200",
  MTD_SSF_POLL_WAIT_MAX_MS: "3000",
  MTD_SSF_POLL_REDELIVER_MS: "400",
};

export async function startSsfGraph(options: GraphOptions = {}): Promise<TestGraph> {
  return startGraph({ ...options, env: { ...FAST_SSF_ENV, ...options.env } });
}

/** The transmitter's issuer: the signals service's origin (MTD_SSF_ISSUER unset in tests). */
export function issuerOf(graph: TestGraph): string {
  return new URL(graph.subgraphs.signals!.url).origin;
}

export const REGISTER = /* GraphQL */ `
  mutation Register($input: RegisterSsfReceiverInput!) {
    registerSsfReceiver(input: $input) { clientSecret issuer tokenEndpoint configurationUrl receiver { clientId name audience oktaOrgUrl } }
  }
`;
export const STREAMS = /* GraphQL */ `
  query {
    ssfStreams {
      id deliveryMethod endpointUrl status statusReason eventsDelivered description
      receiver { clientId name }
      health { pending oldestPendingAt lastDeliveredAt lastErrorAt lastError consecutiveFailures deadLetters }
    }
  }
`;
export const DEAD_LETTERS = /* GraphQL */ `
  query($streamId: ID, $first: Int, $after: String) {
    ssfDeadLetters(streamId: $streamId, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id jti eventType deviceId txn attempts error queuedAt failedAt stream { id } } }
    }
  }
`;

export interface Tenant {
  tenantId: string;
  admin: string;
}

export async function tenant(graph: TestGraph, prefix = "ssf"): Promise<Tenant> {
  const tenantId = `${prefix}-${randomUUID().slice(0, 8)}`;
  return { tenantId, admin: await graph.token({ tenantId, role: "admin" }) };
}

export interface Registered {
  clientId: string;
  clientSecret: string;
  audience: string;
  client: SsfClient;
}

export async function register(graph: TestGraph, admin: string, input: Record<string, unknown> = {}): Promise<Registered> {
  const result = await graph.query(admin, REGISTER, { input: { name: "IdP", ...input } });
  expect(result.errors).toBeUndefined();
  const registration = result.data!.registerSsfReceiver;
  return {
    clientId: registration.receiver.clientId,
    clientSecret: registration.clientSecret,
    audience: registration.receiver.audience,
    client: new SsfClient(issuerOf(graph), registration.receiver.clientId, registration.clientSecret),
  };
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** A receiver's side of the management API: client-credentials token, then bearer calls. */
export class SsfClient {
  private cached?: { token: string; scope: string };

  constructor(
    readonly issuer: string,
    readonly clientId: string,
    readonly clientSecret: string,
  ) {}

  async tokenResponse(form: Record<string, string> = { grant_type: "client_credentials" }, basic = true): Promise<ApiResponse> {
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
    const body = new URLSearchParams(form);
    if (basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(this.clientId)}:${encodeURIComponent(this.clientSecret)}`).toString("base64")}`;
    else {
      body.set("client_id", this.clientId);
      body.set("client_secret", this.clientSecret);
    }
    return toResponse(await fetch(`${this.issuer}/oauth/token`, { method: "POST", headers, body }));
  }

  async token(scope = "ssf.manage ssf.read"): Promise<string> {
    if (this.cached?.scope === scope) return this.cached.token;
    const response = await this.tokenResponse({ grant_type: "client_credentials", scope });
    expect(response.status).toBe(200);
    this.cached = { token: response.body.access_token, scope };
    return response.body.access_token;
  }

  /** `token` null: no Authorization header. */
  async call(method: string, path: string, body?: unknown, token?: string | null): Promise<ApiResponse> {
    const bearer = token === undefined ? await this.token() : token;
    const headers: Record<string, string> = { accept: "application/json" };
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    return toResponse(await fetch(`${this.issuer}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
  }

  /** Creates a push stream to `receiver` (or poll, without one). */
  async createStream(body: Record<string, unknown>): Promise<any> {
    const response = await this.call("POST", "/ssf/stream", body);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  }

  verifier(audience: string): SetVerifier {
    return new SetVerifier(this.issuer, audience, `${this.issuer}/ssf/jwks.json`);
  }

  pollClient(audience: string, endpoint: string): PollClient {
    return new PollClient(this.verifier(audience), endpoint, () => this.token());
  }
}

async function toResponse(response: Response): Promise<ApiResponse> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body };
}

/** A receiver with a push stream of `events` (device-compliance-change by default). */
export async function pushStream(
  registered: Registered,
  options: { events?: string[]; authorization?: string; sendAuthorization?: string | null; path?: string } = {},
): Promise<{ receiver: PushReceiver; stream: any }> {
  const receiver = await new PushReceiver({ verifier: registered.client.verifier(registered.audience), authorization: options.authorization, path: options.path }).start();
  const send = options.sendAuthorization === undefined ? options.authorization : (options.sendAuthorization ?? undefined);
  const stream = await registered.client.createStream({
    events_requested: options.events ?? ["https://schemas.openid.net/secevent/caep/event-type/device-compliance-change"],
    delivery: { method: "urn:ietf:rfc:8935", endpoint_url: receiver.url, ...(send === undefined ? {} : { authorization_header: send }) },
  });
  return { receiver, stream };
}
