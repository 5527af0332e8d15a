/** Module resolution hooks for no-tracing.mjs: `lib/tracing.ts` → `no-tracing-lib.ts`. */
const STUB = new URL("./no-tracing-lib.ts", import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  return resolved.url.endsWith("/lib/tracing.ts") ? { ...resolved, url: STUB } : resolved;
}
