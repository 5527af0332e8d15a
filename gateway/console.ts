/**
 * Serves the admin console (console/, built into console/dist by
 * `npm run build:console`, which `npm install` runs) at `/console/`, same
 * origin as `/graphql`. Files under `assets/` carry a content hash and are
 * cached for a year; every other path is the app (`index.html`), which routes
 * itself. Every response carries a strict Content-Security-Policy: only this
 * origin's scripts, styles and connections (HTTP and WebSocket), no inline
 * code, no framing.
 */
import { readFile } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { IncomingMessage, ServerResponse } from "node:http";

export const CONSOLE_DIR = fileURLToPath(new URL("../console/dist/", import.meta.url));

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
};

type Route = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>;

/** The `/console` routes for `serve({ routes })`. */
export function consoleRoutes(directory = CONSOLE_DIR): Record<string, Route> {
  const route: Route = async (request, response, url) => {
    if (request.method !== "GET" && request.method !== "HEAD") return reply(response, 405, "text/plain; charset=utf-8", "GET or HEAD only\n", { allow: "GET, HEAD" });
    if (url.pathname === "/console") return reply(response, 308, "text/plain; charset=utf-8", "", { location: "/console/" });
    const relative = decoded(url.pathname.slice("/console/".length));
    if (relative === undefined) return reply(response, 400, "text/plain; charset=utf-8", "malformed path\n");
    const asset = relative.startsWith("assets/") ? resolve(directory, relative) : undefined;
    if (asset !== undefined && !asset.startsWith(directory.endsWith(sep) ? directory : directory + sep)) return reply(response, 404, "text/plain; charset=utf-8", "not found\n");
    const file = asset ?? resolve(directory, "index.html");
    const body = await readFile(file).catch(() => undefined);
    if (body === undefined) {
      return asset === undefined
        ? reply(response, 503, "text/plain; charset=utf-8", "The console is not built: run `npm run build:console`.\n")
        : reply(response, 404, "text/plain; charset=utf-8", "not found\n");
    }
    const cache = asset === undefined ? "no-cache" : "public, max-age=31536000, immutable";
    return reply(response, 200, TYPES[extname(file)] ?? "application/octet-stream", request.method === "HEAD" ? "" : body, { "cache-control": cache });
  };
  return { "/console": route, "/console/": route };
}

function decoded(path: string): string | undefined {
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

function reply(response: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}) {
  response.writeHead(status, {
    "content-type": type,
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    ...headers,
  });
  response.end(body);
}
