/**
 * `npm run token -- --tenant T --role R [--partner P] [--subject S] [--expires-in SECONDS]`
 * prints an HS256 development token signed with MTD_JWT_SECRET or the
 * development secret under ./data (the one `npm start` verifies with), valid
 * for 12 hours by default and never longer than MTD_JWT_MAX_LIFETIME.
 */
import { parseArgs } from "node:util";
import { ROLES, signToken, type Role } from "../lib/auth.js";
import { MTD_PARTNERS, type MtdPartner } from "../lib/domain-enums.js";
import { developmentSecret, loadConfig } from "../lib/config.js";

const { values } = parseArgs({
  options: {
    tenant: { type: "string" },
    role: { type: "string" },
    partner: { type: "string" },
    subject: { type: "string" },
    "expires-in": { type: "string" },
  },
});

const problems: string[] = [];
if (values.tenant === undefined) problems.push("--tenant is required");
if (!ROLES.includes(values.role as Role)) problems.push(`--role must be one of ${ROLES.join(", ")}`);
if (values.role === "partner" && !MTD_PARTNERS.includes(values.partner as MtdPartner)) {
  problems.push(`--partner must be one of ${MTD_PARTNERS.join(", ")}`);
}
const expiresIn = values["expires-in"] === undefined ? undefined : Number(values["expires-in"]);
if (expiresIn !== undefined && !(Number.isInteger(expiresIn) && expiresIn > 0)) problems.push("--expires-in must be a positive integer (seconds)");
if (problems.length > 0) {
  console.error(`usage: npm run token -- --tenant T --role ${ROLES.join("|")} [--partner P]\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  process.exit(2);
}

const config = loadConfig();
const maxLifetime = config.auth.maxLifetimeMs / 1000;
if (expiresIn !== undefined && expiresIn > maxLifetime) {
  console.error(`--expires-in must be at most ${maxLifetime} (MTD_JWT_MAX_LIFETIME): longer tokens are refused`);
  process.exit(2);
}
const secret = developmentSecret(config);
if (secret === undefined) {
  console.error("no HS256 secret: with MTD_JWKS_URL, tokens come from your identity provider");
  process.exit(2);
}
console.log(
  await signToken(secret, {
    tenantId: values.tenant!,
    role: values.role as Role,
    partner: values.partner as MtdPartner | undefined,
    subject: values.subject,
    expiresIn: expiresIn ?? Math.min(12 * 3600, maxLifetime),
  }),
);
