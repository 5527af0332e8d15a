/**
 * Builds the admin console (console/) into console/dist, which the gateway
 * serves at /console/. `npm install` runs it (the `prepare` script). An
 * install without dev dependencies (`npm ci --omit=dev`) has no Vite: then it
 * says so and leaves the console unbuilt instead of failing the install.
 */
import { fileURLToPath } from "node:url";

const configFile = fileURLToPath(new URL("../console/vite.config.ts", import.meta.url));

let vite: typeof import("vite");
try {
  vite = await import("vite");
} catch {
  console.warn("build-console: vite is not installed (no dev dependencies); /console stays unbuilt");
  process.exit(0);
}
// React's production build, whatever NODE_ENV the caller runs with (vitest sets "test").
process.env.NODE_ENV = "production";
await vite.build({ configFile, mode: "production" });
console.log("build-console: console/dist built");
