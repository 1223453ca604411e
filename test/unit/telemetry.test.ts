/** Tracing's switch, its allowlist and the log fields (unit tier: in-memory, no sockets). */
import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { loadTelemetryConfig } from '../../src/config/telemetry';
import { ConfigError } from '../../src/config/errors';
import { createLogger } from '../../src/logger';
import { activeTelemetry, requestSpans, startTelemetry } from '../../src/telemetry';

function logLines(run: (log: ReturnType<typeof createLogger>) => void): Array<Record<string, unknown>> {
  const lines: string[] = [];
  run(createLogger('t', 'info', { write: (line: string) => void lines.push(line) }));
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('configuration', () => {
  test('off unless an endpoint or an exporter is named', () => {
    expect(loadTelemetryConfig({})).toBeNull();
    expect(loadTelemetryConfig({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_HEADERS: 'a=b' })).toBeNull();
    expect(loadTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBeNull();
    expect(loadTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({
      exporter: 'otlp',
      serviceName: null,
    });
    expect(
      loadTelemetryConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c/v1/traces', OTEL_SERVICE_NAME: 'rx-1' }),
    ).toEqual({ exporter: 'otlp', serviceName: 'rx-1' });
    expect(loadTelemetryConfig({ OTEL_TRACES_EXPORTER: 'console' })).toEqual({
      exporter: 'console',
      serviceName: null,
    });
    expect(
      loadTelemetryConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }),
    ).toBeNull();
    expect(loadTelemetryConfig({ OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBeNull();
  });

  test('a bad setting is refused, naming it', () => {
    for (const env of [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      { OTEL_TRACES_EXPORTER: 'zipkin' },
    ]) {
      expect(() => loadTelemetryConfig(env)).toThrow(ConfigError);
      expect(() => loadTelemetryConfig(env)).toThrow(Object.keys(env).at(-1)!);
    }
  });
});

describe('tracing off', () => {
  test('with no OTEL_* variables nothing is installed, intercepted or logged', async () => {
    expect(await startTelemetry('begini-receiver', { env: {} })).toBeNull();
    expect(activeTelemetry()).toBeNull();
    expect(requestSpans('/webhooks/begini')).toEqual([]);
    const span = trace.getTracer('t').startSpan('s');
    expect(span.isRecording()).toBe(false);
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    expect(carrier).toEqual({});
    const [line] = logLines((log) => context.with(trace.setSpan(context.active(), span), () => log.info('inside')));
    expect(line).not.toHaveProperty('trace_id');
  });
});

describe('tracing on', () => {
  const exporter = new InMemorySpanExporter();
  afterAll(async () => {
    await activeTelemetry()?.shutdown();
  });

  test('every span passes the allowlist: no workflow ID (uid) reaches an exporter', async () => {
    const telemetry = await startTelemetry('begini-worker', { env: {}, exporter });
    expect(telemetry?.serviceName).toBe('begini-worker');
    const uid = 'APP-0042-secret-loan-number';
    trace.getTracer('t').startActiveSpan('RunActivity:handOff', (span) => {
      span.setAttributes({
        temporalWorkflowId: uid,
        workflowId: uid,
        searchAttributes: JSON.stringify({ BeginiStage: ['decided'] }),
        temporalActivityId: '2',
        'http.route': '/webhooks/begini',
      });
      span.recordException(new Error(`Workflow execution already finished: ${uid}`));
      span.setStatus({ code: SpanStatusCode.ERROR, message: `no such workflow ${uid}` });
      span.end();
    });
    await telemetry!.flush();
    const [exported] = exporter.getFinishedSpans();
    expect(exported!.attributes).toEqual({ temporalActivityId: '2', 'http.route': '/webhooks/begini' });
    expect(exported!.resource.attributes['service.name']).toBe('begini-worker');
    expect(JSON.stringify({ ...exported, resource: undefined })).not.toContain(uid);
    expect(exported!.status.message).toBe('no such workflow [workflow-id]');
  });

  test('a line logged inside a span carries its trace_id and span_id; outside, none', () => {
    const tracer = trace.getTracer('t');
    let ids = { traceId: '', spanId: '' };
    const lines = logLines((log) => {
      tracer.startActiveSpan('work', (span) => {
        ids = span.spanContext();
        log.info('inside');
        span.end();
      });
      log.info('outside');
    });
    expect(lines[0]).toMatchObject({ msg: 'inside', trace_id: ids.traceId, span_id: ids.spanId });
    expect(lines[1]).not.toHaveProperty('trace_id');
  });

  test('shutdown stops tracing in the process', async () => {
    await activeTelemetry()!.shutdown();
    expect(activeTelemetry()).toBeNull();
    expect(trace.getTracer('t').startSpan('s').isRecording()).toBe(false);
  });
});
