/**
 * OpenTelemetry tracing (src/telemetry.ts): on only when an exporter is asked for. Only these are
 * read here; the SDK itself reads the rest of the standard OTEL_* variables (headers, timeout,
 * compression, sampler, batch sizes, resource attributes, propagators).
 */
import { z } from 'zod';
import { parseEnv, printable, type Env } from './env';

const otlpProtocol = z.literal('http/protobuf', {
  error: 'only http/protobuf is supported (an OpenTelemetry Collector takes it on port 4318)',
});
const telemetryEnvSchema = z.object({
  OTEL_SDK_DISABLED: z
    .string()
    .transform((value) => value.trim().toLowerCase() === 'true')
    .optional(),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'console', 'none']).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  OTEL_SERVICE_NAME: printable(128).optional(),
});

export interface TelemetryConfig {
  exporter: 'otlp' | 'console';
  /** OTEL_SERVICE_NAME; null: the process's own default. */
  serviceName: string | null;
}

/** Null, tracing off, unless OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT or OTEL_TRACES_EXPORTER asks for it. */
export function loadTelemetryConfig(rawEnv: Env = process.env): TelemetryConfig | null {
  const e = parseEnv(telemetryEnvSchema, rawEnv);
  const asked =
    e.OTEL_TRACES_EXPORTER ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : 'none');
  if (e.OTEL_SDK_DISABLED || asked === 'none') return null;
  return { exporter: asked, serviceName: e.OTEL_SERVICE_NAME ?? null };
}
