/**
 * One push request (an RFC 8935 POST) over `node:http` / `node:https`, on
 * the push worker's own keep-alive agents. Redirects are never followed.
 *
 * With `strict` (production without MTD_SSF_ALLOW_HTTP, like the checks at
 * registration) the endpoint's host is judged by the egress rules as written
 * before anything is sent (streams stored before a rule existed are covered
 * too), and every address its name resolves to is judged when the socket
 * connects (`guardedLookup`): a refused destination fails with
 * `EGRESS_REFUSED` and nothing reaches it. Without `strict` names are still
 * resolved through `resolve`, unchecked (local receivers in development).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { guardedLookup, hostProblem, refused, systemResolver, type Resolver } from "./egress.js";

/** The most of a response body read (a 400's `err` is all we use). */
const MAX_BODY_BYTES = 2048;

export interface PushTransportOptions {
  strict: boolean;
  timeoutMs: number;
  /** How host names are resolved. Default: the system resolver. */
  resolve?: Resolver;
}

export interface PushResponse {
  status: number;
  retryAfter: string | null;
  /** At most MAX_BODY_BYTES of it. */
  body: string;
}

export class PushTransport {
  private readonly http = new HttpAgent({ keepAlive: true });
  private readonly https = new HttpsAgent({ keepAlive: true });
  private readonly lookup: ReturnType<typeof guardedLookup>;

  constructor(private readonly options: PushTransportOptions) {
    const resolve = options.resolve ?? systemResolver;
    this.lookup = guardedLookup(resolve, options.strict);
  }

  /** POSTs `body`; rejects with the socket, TLS, timeout or `EGRESS_REFUSED` error when no response came. */
  async post(endpoint: string, headers: Record<string, string>, body: string): Promise<PushResponse> {
    const url = new URL(endpoint);
    const problem = this.options.strict ? hostProblem(url.hostname) : undefined;
    if (problem !== undefined) throw refused(problem);
    const secure = url.protocol === "https:";
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = (secure ? httpsRequest : httpRequest)(
        url,
        {
          method: "POST",
          headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
          agent: secure ? this.https : this.http,
          lookup: this.lookup,
          signal: AbortSignal.timeout(this.options.timeoutMs),
        },
        resolve,
      );
      request.on("error", reject);
      request.end(body);
    });
    const retryAfter = response.headers["retry-after"];
    return { status: response.statusCode ?? 0, retryAfter: typeof retryAfter === "string" ? retryAfter : null, body: await readLimited(response) };
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

async function readLimited(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= MAX_BODY_BYTES) break; // leaving the loop destroys the response
    }
  } catch {
    // a body cut short (timeout, reset) says nothing more
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString("utf8");
}
