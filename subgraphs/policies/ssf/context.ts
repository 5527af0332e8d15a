/** What the transmitter's parts share: configuration, storage, keys, the issuer, and a wake-up signal. */
import type { Environment, SsfConfig } from "../../../lib/config.js";
import type { Logger } from "../../../lib/logger.js";
import type { Sealer } from "./crypto.js";
import type { SsfRepository } from "./data/repository.js";
import type { KeyStore } from "./keys.js";
import { DeliveryMethod } from "./protocol.js";
import type { StreamRecord } from "./data/entities.js";

export interface SsfContext {
  config: SsfConfig;
  env: Environment;
  maxBodyBytes: number;
  repository: SsfRepository;
  keys: KeyStore;
  sealer: Sealer;
  logger: Logger;
  notifier: Notifier;
  /** The issuer in effect (configured, or the policies service's own origin once it listens). */
  issuer(): string;
}

/** In-process wake-ups: new SETs for a stream (push workers and long polls listen). Other replicas find them by polling the table. */
export class Notifier {
  private readonly listeners = new Set<(streamId: string) => void>();

  wake(streamId: string): void {
    for (const listener of [...this.listeners]) listener(streamId);
  }

  listen(listener: (streamId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The endpoint URLs of the transmitter, from the issuer. */
export function endpoints(issuer: string) {
  return {
    metadata: wellKnown(issuer),
    jwks: `${issuer}/ssf/jwks.json`,
    configuration: `${issuer}/ssf/stream`,
    status: `${issuer}/ssf/status`,
    addSubject: `${issuer}/ssf/subjects:add`,
    removeSubject: `${issuer}/ssf/subjects:remove`,
    verification: `${issuer}/ssf/verify`,
    token: `${issuer}/oauth/token`,
    poll: (streamId: string) => `${issuer}/ssf/poll/${encodeURIComponent(streamId)}`,
  };
}

/** SSF §7.2: `/.well-known/ssf-configuration` inserted between the host and the issuer's path. */
export function wellKnown(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.origin}/.well-known/ssf-configuration${path}`;
}

export function methodUri(stream: StreamRecord): DeliveryMethod {
  return stream.deliveryMethod === "push" ? DeliveryMethod.PUSH : DeliveryMethod.POLL;
}
