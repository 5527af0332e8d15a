import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/config.js";
import { loadServiceConfig } from "../../subgraphs/config.js";
import type { TestGraph } from "../support/graph.js";
import { issuerOf, register, startSsfGraph, tenant } from "./support.js";

describe("Shared Signals discovery, keys and tokens", () => {
  let graph: TestGraph;
  let issuer: string;

  beforeAll(async () => {
    graph = await startSsfGraph();
    issuer = issuerOf(graph);
  });
  afterAll(() => graph?.stop());

  it("serves the transmitter configuration metadata (SSF §7) as application/json, without empty arrays", async () => {
    const response = await fetch(`${issuer}/.well-known/ssf-configuration`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata).toEqual({
      spec_version: "1_0",
      issuer,
      jwks_uri: `${issuer}/ssf/jwks.json`,
      delivery_methods_supported: ["urn:ietf:rfc:8935", "urn:ietf:rfc:8936"],
      configuration_endpoint: `${issuer}/ssf/stream`,
      status_endpoint: `${issuer}/ssf/status`,
      add_subject_endpoint: `${issuer}/ssf/subjects:add`,
      remove_subject_endpoint: `${issuer}/ssf/subjects:remove`,
      verification_endpoint: `${issuer}/ssf/verify`,
      authorization_schemes: [{ spec_urn: "urn:ietf:rfc:6749" }],
      default_subjects: "ALL",
    });
    for (const value of Object.values(metadata)) if (Array.isArray(value)) expect(value.length).toBeGreaterThan(0);
  });

  it("publishes RS256 2048-bit keys with kid = JWK thumbprint", async () => {
    const response = await fetch(`${issuer}/ssf/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const { keys } = (await response.json()) as { keys: Record<string, string>[] };
    expect(keys.length).toBeGreaterThanOrEqual(1);
    const { calculateJwkThumbprint } = await import("jose");
    for (const key of keys) {
      expect(key).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", e: "AQAB" });
      expect(Buffer.from(key.n!, "base64url").length * 8).toBe(2048);
      expect(key.d).toBeUndefined();
      expect(await calculateJwkThumbprint({ kty: key.kty!, n: key.n!, e: key.e! }, "sha256")).toBe(key.kid);
    }
  });

  it("issues client-credentials tokens (Basic or form), and refuses bad clients, grants and scopes", async () => {
    const { admin } = await tenant(graph);
    const { client } = await register(graph, admin);

    const basic = await client.tokenResponse({ grant_type: "client_credentials", scope: "ssf.read" });
    expect(basic.status).toBe(200);
    expect(basic.headers.get("cache-control")).toBe("no-store");
    expect(basic.body).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "ssf.read" });
    expect(typeof basic.body.access_token).toBe("string");
    const form = await client.tokenResponse({ grant_type: "client_credentials" }, false);
    expect(form.status).toBe(200);
    expect(form.body.scope).toBe("ssf.manage ssf.read");

    const wrong = await new (client.constructor as typeof import("./support.js").SsfClient)(issuer, client.clientId, "not-the-secret").tokenResponse();
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe("invalid_client");
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic/);
    expect((await client.tokenResponse({ grant_type: "password" })).body.error).toBe("unsupported_grant_type");
    expect((await client.tokenResponse({ grant_type: "client_credentials", scope: "ssf.admin" })).body.error).toBe("invalid_scope");
    expect((await client.tokenResponse({})).body.error).toBe("invalid_request");
  });

  it("requires a valid bearer token on the management API: 401 without or with a bad one, 403 with too little scope", async () => {
    const { admin } = await tenant(graph);
    const { client } = await register(graph, admin);
    const none = await client.call("GET", "/ssf/stream", undefined, null);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await client.call("GET", "/ssf/stream", undefined, "a.b.c")).status).toBe(401);
    // A token of the graph (HS256, another issuer) is not a transmitter token.
    expect((await client.call("GET", "/ssf/stream", undefined, admin)).status).toBe(401);
    const readOnly = await client.token("ssf.read");
    expect((await client.call("GET", "/ssf/stream", undefined, readOnly)).status).toBe(200);
    const create = await client.call("POST", "/ssf/stream", {}, readOnly);
    expect(create.status).toBe(403);
    expect(create.headers.get("www-authenticate")).toMatch(/insufficient_scope/);
  });

  it("a removed receiver's token stops working at once", async () => {
    const { admin } = await tenant(graph);
    const { client, clientId } = await register(graph, admin);
    const token = await client.token();
    expect((await client.call("GET", "/ssf/stream", undefined, token)).status).toBe(200);
    const removed = await graph.query(admin, `mutation($id: ID!) { removeSsfReceiver(clientId: $id) }`, { id: clientId });
    expect(removed.data?.removeSsfReceiver).toBe(true);
    expect((await client.call("GET", "/ssf/stream", undefined, token)).status).toBe(401);
  });
});

describe("Shared Signals issuer in production", () => {
  const production = { NODE_ENV: "production", MTD_JWT_SECRET: "x".repeat(32), MTD_SSF_KEY_ENCRYPTION_KEY: "k".repeat(32) };

  it("requires https (plain http only behind MTD_SSF_ALLOW_HTTP) and a key-encryption key", () => {
    expect(() => loadServiceConfig({ ...production, MTD_SSF_ISSUER: "http://ssf.example.com" })).toThrow(/MTD_SSF_ISSUER must use https:/);
    expect(loadServiceConfig({ ...production, MTD_SSF_ISSUER: "https://ssf.example.com/" }).ssf.issuer).toBe("https://ssf.example.com");
    expect(loadServiceConfig({ ...production, MTD_SSF_ISSUER: "http://ssf.example.com", MTD_SSF_ALLOW_HTTP: "true" }).ssf.issuer).toBe("http://ssf.example.com");
    expect(() => loadServiceConfig({ ...production, MTD_SSF_ISSUER: "https://ssf.example.com?x=1" })).toThrow(/no query or fragment/);
    let error: unknown;
    try {
      loadServiceConfig({ NODE_ENV: "production", MTD_JWT_SECRET: "x".repeat(32), MTD_SSF_ISSUER: "https://ssf.example.com" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join("\n")).toMatch(/requires MTD_SSF_KEY_ENCRYPTION_KEY/);
    // Development and test accept http; production without an issuer leaves the transmitter off.
    expect(loadServiceConfig({ MTD_SSF_ISSUER: "http://127.0.0.1:4003" }).ssf.issuer).toBe("http://127.0.0.1:4003");
    expect(loadServiceConfig(production).ssf.issuer).toBeUndefined();
  });

  it("publishes https metadata and refuses http push endpoints in production", async () => {
    const { MTD_JWT_SECRET: _harnessHasItsOwn, ...env } = production;
    const graph = await startSsfGraph({ env: { ...env, MTD_SSF_ISSUER: "https://ssf.example.com/mtd" } });
    try {
      const signals = new URL(graph.subgraphs.signals!.url).origin;
      // The issuer has a path: the metadata sits at /.well-known/ssf-configuration/mtd (SSF §7.2), the endpoints under /mtd.
      const response = await fetch(`${signals}/.well-known/ssf-configuration/mtd`);
      expect(response.status).toBe(200);
      const metadata = (await response.json()) as Record<string, unknown>;
      expect(metadata.issuer).toBe("https://ssf.example.com/mtd");
      for (const [name, value] of Object.entries(metadata)) {
        if (typeof value === "string" && /(_uri|_endpoint)$/.test(name)) expect(value, name).toMatch(/^https:\/\/ssf\.example\.com\/mtd\//);
      }
      expect((await fetch(`${signals}/.well-known/ssf-configuration`)).status).toBe(404);

      const { admin } = await tenant(graph);
      const okta = await graph.query(admin, `mutation { registerSsfReceiver(input: { name: "Okta", okta: { orgUrl: "http://acme.okta.com" } }) { clientSecret } }`);
      expect(okta.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(okta.errors?.[0]?.message).toMatch(/expected https/);
      const internal = await graph.query(admin, `mutation { registerSsfReceiver(input: { name: "Okta", okta: { orgUrl: "https://10.0.0.7" } }) { clientSecret } }`);
      expect(internal.errors?.[0]?.message).toMatch(/internal address/);
    } finally {
      await graph.stop();
    }
  });
});
