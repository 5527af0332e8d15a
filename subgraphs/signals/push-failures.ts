/**
 * What a failed push attempt leaves behind. Stream health (`lastError`) and
 * dead letters are read by tenant admins and analysts, so they hold a coarse
 * category only, never what the target answered nor the exact socket error
 * (which would make the transmitter an oracle for whatever a URL reaches):
 *
 *   NETWORK                          no connection: refused, unreachable, reset, name not
 *                                    resolved, or refused by the egress rules (indistinguishable)
 *   TLS                              the TLS handshake failed (certificate, protocol)
 *   TIMEOUT                          no complete answer within MTD_SSF_PUSH_TIMEOUT_MS
 *   HTTP_3XX 302, HTTP_4XX 404, HTTP_5XX 503, …   the status class and code
 *   HTTP_4XX 400 invalid_key, …      a 400 with an RFC 8935 error code of the IANA registry
 *   SIGNING                          the SET could not be signed (our side)
 *
 * The detail (error code and message, the start of the body) goes to the
 * server log only.
 */

export interface PushFailure {
  /** Stored and shown: one of the categories above. */
  category: string;
  /** For the server log only. */
  detail: string;
}

/** RFC 8935 §2.4 / IANA "Security Event Token Error Codes". */
const SET_ERROR_CODES = ["invalid_request", "invalid_key", "invalid_issuer", "invalid_audience", "authentication_failed", "access_denied"] as const;

const LOGGED_BODY_CHARS = 200;

/** A response that was not 2xx: its status class and code, and a registered `err` of a 400. */
export function statusFailure(status: number, body: string): PushFailure & { err?: string } {
  const err = status === 400 ? setErrorCode(body) : undefined;
  const category = `HTTP_${Math.floor(status / 100)}XX ${status}${err === undefined ? "" : ` ${err}`}`;
  return { category, err, detail: `${status}${body === "" ? "" : `: ${body.slice(0, LOGGED_BODY_CHARS)}`}` };
}

/** No response: the error of the request (node:http, TLS, the timeout's abort, or EGRESS_REFUSED). */
export function transportFailure(error: unknown): PushFailure {
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  const detail = `${typeof code === "string" ? `${code}: ` : ""}${typeof message === "string" ? message : String(error)}`;
  return { category: transportCategory(typeof code === "string" ? code : "", typeof name === "string" ? name : ""), detail };
}

export function signingFailure(error: unknown): PushFailure {
  return { category: "SIGNING", detail: error instanceof Error ? error.message : String(error) };
}

function transportCategory(code: string, name: string): string {
  if (name === "AbortError" || name === "TimeoutError" || code === "ETIMEDOUT") return "TIMEOUT";
  if (/^(ERR_TLS_|ERR_SSL_|EPROTO$)|CERT|SELF_SIGNED|^UNABLE_TO_/.test(code)) return "TLS";
  return "NETWORK";
}

/** The `err` of an RFC 8935 error body, when it is a registered code. */
function setErrorCode(body: string): string | undefined {
  try {
    const err = (JSON.parse(body) as { err?: unknown }).err;
    return SET_ERROR_CODES.find((code) => code === err);
  } catch {
    return undefined;
  }
}
