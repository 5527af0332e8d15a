/**
 * The configuration of a process that runs services: lib's, plus each
 * service's own section (the signals service's `MTD_SSF_*`), read and checked
 * together so one start reports every problem.
 */
import { loadConfig, type Config } from "../lib/config.js";
import { readSsf, type SsfConfig } from "./signals/config.js";

export interface ServiceConfig extends Config {
  /** The Shared Signals (SSF 1.0 / CAEP 1.0) transmitter: the signals service (`subgraphs/signals/`). */
  ssf: SsfConfig;
}

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  return loadConfig(env, (reader) => ({ ssf: readSsf(reader) }));
}
