/** Traces: the standard `OTEL_*` variables. */
import type { OtlpProtocol, TracingConfig } from "../tracing.js";
import type { ConfigReader } from "./reader.js";

export interface ObservabilityConfig {
  /** OpenTelemetry traces (`lib/tracing.ts`): the standard `OTEL_EXPORTER_OTLP_*` and `OTEL_SERVICE_NAME` variables. Default off. */
  tracing: TracingConfig;
}

/** OTLP over HTTP only: `grpc` would load a second networking stack for no gain here. */
const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ["http/protobuf", "http/json"];

export function readObservability(reader: ConfigReader): ObservabilityConfig {
  const endpoint = reader.read("OTEL_EXPORTER_OTLP_ENDPOINT");
  const tracesEndpoint = reader.read("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  if (endpoint !== undefined) reader.checkUrl(endpoint, "OTEL_EXPORTER_OTLP_ENDPOINT", ["http:", "https:"]);
  if (tracesEndpoint !== undefined) reader.checkUrl(tracesEndpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ["http:", "https:"]);
  const protocol = reader.read("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ?? reader.read("OTEL_EXPORTER_OTLP_PROTOCOL") ?? "http/protobuf";
  if (!OTLP_PROTOCOLS.includes(protocol as OtlpProtocol)) {
    reader.problem(`OTEL_EXPORTER_OTLP_PROTOCOL must be one of ${OTLP_PROTOCOLS.join(", ")}; got "${protocol}"`);
  }
  const tracesUrl = tracesEndpoint ?? (endpoint === undefined ? undefined : `${endpoint.replace(/\/+$/, "")}/v1/traces`);
  return { tracing: { endpoint: tracesEndpoint ?? endpoint, tracesUrl, protocol: protocol as OtlpProtocol, serviceName: reader.read("OTEL_SERVICE_NAME") } };
}
