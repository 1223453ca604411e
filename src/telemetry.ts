/**
 * OpenTelemetry tracing, off unless asked for: with none of OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER set, nothing is loaded, installed or
 * intercepted. When on, a delivery is one trace: the webhook request (a span of ours),
 * signalWithStart (Temporal's client interceptor), the workflow run and what it schedules
 * (Temporal's workflow interceptors, exported from the sandbox through a sink), each activity
 * (Temporal's activity interceptor) and the LOS call (a span of ours, sent as `traceparent`).
 *
 * Every span passes an allowlist of attributes before any exporter sees it: Temporal's interceptors
 * record the workflow ID, which here is Begini's uid, and copy the whole workflow info (search
 * attributes, memo, …) onto workflow spans.
 */
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
} from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { WorkerPlugin } from '@temporalio/worker';
import type { RequestHandler } from 'express';
import { loadTelemetryConfig } from './config/telemetry';
import { TRACER_NAME } from './tracerName';

export interface Telemetry {
  serviceName: string;
  /** For every Temporal Client: a span per call (SignalWithStartWorkflow, …), its context sent in headers. */
  clientInterceptors: WorkflowClientInterceptor[];
  /** For the Worker: activity spans, and the sink the workflow spans leave the sandbox through. */
  workerPlugin: WorkerPlugin;
  /** Exports what has ended and is still buffered. */
  flush(): Promise<void>;
  /** Exports what is still buffered (best effort: never rejects), then stops tracing in this process. */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** What decides on or off (process.env by default); the OTLP exporter reads process.env itself. */
  env?: Record<string, string | undefined>;
  /** Tests: every span goes here as it ends (through the same allowlist), whatever the environment says. */
  exporter?: SpanExporter;
}

let active: Telemetry | null = null;

/** The tracing this process started, or null: off. */
export function activeTelemetry(): Telemetry | null {
  return active;
}

/**
 * Starts tracing for this process if the environment asks for it (see src/config/telemetry.ts),
 * before any Temporal client or worker is made; once per process. `defaultServiceName` unless
 * OTEL_SERVICE_NAME.
 */
export async function startTelemetry(
  defaultServiceName: string,
  options: TelemetryOptions = {},
): Promise<Telemetry | null> {
  if (active) throw new Error('tracing is already started in this process');
  const config = loadTelemetryConfig(options.env ?? process.env);
  if (!config && !options.exporter) return null;
  // Loaded only when on: a process without tracing never loads the SDK.
  const [resources, base, { NodeTracerProvider }, temporal] = await Promise.all([
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
    import('@temporalio/interceptors-opentelemetry'),
  ]);
  const serviceName = config?.serviceName ?? defaultServiceName;
  const resource = resources
    .detectResourcesSync({
      detectors: [resources.envDetectorSync, resources.hostDetectorSync, resources.processDetectorSync],
    })
    .merge(new resources.Resource({ 'service.name': serviceName }));
  let processor: SpanProcessor;
  if (options.exporter) processor = new base.SimpleSpanProcessor(options.exporter);
  else if (config?.exporter === 'console') processor = new base.SimpleSpanProcessor(new base.ConsoleSpanExporter());
  else {
    // Endpoint, headers, timeout and compression come from the standard OTEL_EXPORTER_OTLP_* variables.
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    processor = new base.BatchSpanProcessor(new OTLPTraceExporter());
  }
  const redacting = new RedactingSpanProcessor(processor);
  const provider = new NodeTracerProvider({ resource, spanProcessors: [redacting] });
  // The global tracer, AsyncLocalStorage context and the OTEL_PROPAGATORS (W3C tracecontext by default).
  provider.register();
  let stopping: Promise<void> | undefined;
  const telemetry: Telemetry = {
    serviceName,
    clientInterceptors: [new temporal.OpenTelemetryWorkflowClientInterceptor()],
    workerPlugin: new temporal.OpenTelemetryPlugin({ resource, spanProcessor: redacting }),
    flush: () => provider.forceFlush(),
    shutdown() {
      stopping ??= (async () => {
        try {
          await provider.shutdown();
        } catch {
          // Spans the collector did not take in time are lost; shutting down goes on regardless.
        } finally {
          trace.disable();
          context.disable();
          propagation.disable();
          active = null;
        }
      })();
      return stopping;
    },
  };
  active = telemetry;
  return telemetry;
}

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);

/**
 * A SERVER span around every request of `route`, or nothing while tracing is off. Always the root
 * of a new trace: the caller is on the internet, and a `traceparent` it sends does not get to
 * place our spans in a trace of its choosing.
 */
export function requestSpans(route: string): RequestHandler[] {
  if (!active) return [];
  const tracer = trace.getTracer(TRACER_NAME);
  return [
    (req, res, next) => {
      const method = HTTP_METHODS.has(req.method) ? req.method : '_OTHER';
      const span = tracer.startSpan(`${method} ${route}`, {
        kind: SpanKind.SERVER,
        root: true,
        attributes: { 'http.request.method': method, 'http.route': route, 'url.scheme': req.protocol },
      });
      res.once('close', () => {
        span.setAttribute('http.response.status_code', res.statusCode);
        // The stable reason code of the answer (accepted, signature_mismatch, …), as in the access log.
        if (typeof res.locals.reason === 'string') span.setAttribute('begini.reason', res.locals.reason);
        if (res.statusCode >= 500 || !res.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
      context.with(trace.setSpan(context.active(), span), next);
    },
  ];
}

/**
 * What may leave the process as an attribute of a span, event or link; everything else is dropped.
 * Not `temporalWorkflowId` nor the workflow info's `workflowId` (the uid), nor its search
 * attributes, memo, parent or last result.
 */
const EXPORTED_ATTRIBUTES = new Set([
  // HTTP semantic conventions, on the webhook request and the LOS call.
  'http.request.method',
  'http.route',
  'http.response.status_code',
  'url.scheme',
  'server.address',
  'server.port',
  'error.type',
  'begini.reason',
  // Temporal's interceptors, and the workflow info the sink copies onto workflow spans.
  'run_id',
  'runId',
  'temporalActivityId',
  'workflowType',
  'namespace',
  'taskQueue',
  'attempt',
  // Span.recordException.
  'exception.type',
  'exception.message',
  'exception.stacktrace',
]);

const WORKFLOW_ID_ATTRIBUTES = ['temporalWorkflowId', 'workflowId'];

/** Hands the next processor a copy of each ended span with only the allowed attributes. */
export class RedactingSpanProcessor implements SpanProcessor {
  constructor(private readonly next: SpanProcessor) {}

  onStart(span: Span, parentContext: Context): void {
    this.next.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    this.next.onEnd(redacted(span));
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

function redacted(span: ReadableSpan): ReadableSpan {
  // Belt and braces: should an error message quote the workflow ID, it is cut out of it too.
  const ids = WORKFLOW_ID_ATTRIBUTES.map((key) => span.attributes[key]).filter(
    (id): id is string => typeof id === 'string' && id.length > 0,
  );
  const scrub = (text: string) => ids.reduce((out, id) => out.split(id).join('[workflow-id]'), text);
  const allowed = (attributes: Attributes): Attributes => {
    const out: Attributes = {};
    for (const [key, value] of Object.entries(attributes)) {
      if (EXPORTED_ATTRIBUTES.has(key)) out[key] = typeof value === 'string' ? scrub(value) : value;
    }
    return out;
  };
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanId: span.parentSpanId,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status.message === undefined ? span.status : { ...span.status, message: scrub(span.status.message) },
    attributes: allowed(span.attributes),
    links: span.links.map((link) => ({ ...link, ...(link.attributes && { attributes: allowed(link.attributes) }) })),
    events: span.events.map((event) => ({
      ...event,
      ...(event.attributes && { attributes: allowed(event.attributes) }),
    })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationLibrary: span.instrumentationLibrary,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}
