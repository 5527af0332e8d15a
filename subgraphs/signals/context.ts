import type { RequestContext } from "../context.js";
import type { SsfAdmin } from "./admin.js";

export interface Context extends RequestContext {
  /** The transmitter's admin side; undefined when the transmitter is off (production without MTD_SSF_ISSUER). */
  ssf?: SsfAdmin;
}
