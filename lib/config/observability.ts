/** Traces (the standard `OTEL_*` variables) and where metrics are served. */
import type { OtlpProtocol, TracingConfig } from "../tracing.js";
import type { ConfigReader } from "./reader.js";
import { DEFAULT_PORTS, type ServerConfig } from "./server.js";

export interface ObservabilityConfig {
  /**
   * `MTD_METRICS_PORT`: serve `GET /metrics` on this port only, one per process (the process's registry:
   * with `npm start` every service in it, told apart by the `service` label), and not on the public ports.
   * Unset: `/metrics` on every service's own port.
   */
  metricsPort?: number;
  /** OpenTelemetry traces (`lib/tracing.ts`): the standard `OTEL_EXPORTER_OTLP_*` and `OTEL_SERVICE_NAME` variables. Default off. */
  tracing: TracingConfig;
}

/** OTLP over HTTP only: `grpc` would load a second networking stack for no gain here. */
const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ["http/protobuf", "http/json"];

export function readObservability(reader: ConfigReader, server: Pick<ServerConfig, "port">): ObservabilityConfig {
  const metricsPort = reader.integer("MTD_METRICS_PORT", 0, 65535);
  // 0 is a port the OS picks. A fixed one must not be a service's: `PORT`, or with PORT unset a default port (npm start uses them all).
  const servicePorts = server.port === undefined ? Object.values(DEFAULT_PORTS) : [server.port];
  if (metricsPort !== undefined && metricsPort !== 0 && servicePorts.includes(metricsPort)) {
    reader.problem(`MTD_METRICS_PORT must differ from the services' ports (${servicePorts.join(", ")}); got ${metricsPort}`);
  }
  const endpoint = reader.read("OTEL_EXPORTER_OTLP_ENDPOINT");
  const tracesEndpoint = reader.read("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  if (endpoint !== undefined) reader.checkUrl(endpoint, "OTEL_EXPORTER_OTLP_ENDPOINT", ["http:", "https:"]);
  if (tracesEndpoint !== undefined) reader.checkUrl(tracesEndpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ["http:", "https:"]);
  const protocol = reader.read("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ?? reader.read("OTEL_EXPORTER_OTLP_PROTOCOL") ?? "http/protobuf";
  if (!OTLP_PROTOCOLS.includes(protocol as OtlpProtocol)) {
    reader.problem(`OTEL_EXPORTER_OTLP_PROTOCOL must be one of ${OTLP_PROTOCOLS.join(", ")}; got "${protocol}"`);
  }
  const tracesUrl = tracesEndpoint ?? (endpoint === undefined ? undefined : `${endpoint.replace(/\/+$/, "")}/v1/traces`);
  return { metricsPort, tracing: { endpoint: tracesEndpoint ?? endpoint, tracesUrl, protocol: protocol as OtlpProtocol, serviceName: reader.read("OTEL_SERVICE_NAME") } };
}
