/**
 * Discovery: the Transmitter Configuration Metadata (SSF 1.0 §7) at
 * `/.well-known/ssf-configuration[/<issuer path>]`, and the JWKS. Both are
 * public. Claims with zero elements are omitted (§7.2.2).
 */
import { endpoints, type SsfContext } from "./ssf-context.js";
import { methodNotAllowed, sendPublicJson, type Handler } from "./http.js";
import { DELIVERY_METHODS, OAUTH_SPEC_URN, SPEC_VERSION } from "./protocol.js";

export interface TransmitterMetadata {
  spec_version: string;
  issuer: string;
  jwks_uri: string;
  delivery_methods_supported: string[];
  configuration_endpoint: string;
  status_endpoint: string;
  add_subject_endpoint: string;
  remove_subject_endpoint: string;
  verification_endpoint: string;
  authorization_schemes: { spec_urn: string }[];
  default_subjects: "ALL" | "NONE";
}

export function transmitterMetadata(issuer: string): TransmitterMetadata {
  const urls = endpoints(issuer);
  return {
    spec_version: SPEC_VERSION,
    issuer,
    jwks_uri: urls.jwks,
    delivery_methods_supported: [...DELIVERY_METHODS],
    configuration_endpoint: urls.configuration,
    status_endpoint: urls.status,
    add_subject_endpoint: urls.addSubject,
    remove_subject_endpoint: urls.removeSubject,
    verification_endpoint: urls.verification,
    authorization_schemes: [{ spec_urn: OAUTH_SPEC_URN }],
    // Every subject of the tenant by default; receivers remove the ones they do not want.
    default_subjects: "ALL",
  };
}

export function metadataHandler(context: SsfContext): Handler {
  return async (request, response) => {
    if (request.method !== "GET" && request.method !== "HEAD") throw methodNotAllowed(["GET"]);
    sendPublicJson(response, transmitterMetadata(context.issuer()), 300);
  };
}

export function jwksHandler(context: SsfContext): Handler {
  return async (request, response) => {
    if (request.method !== "GET" && request.method !== "HEAD") throw methodNotAllowed(["GET"]);
    // Short enough that a cached copy sees a new key well before it signs.
    const maxAge = Math.max(0, Math.min(300, Math.floor(context.config.keyPublishAheadSeconds / 2)));
    sendPublicJson(response, context.keys.jwks(), maxAge);
  };
}
