/**
 * OpenTelemetry: one signed delivery through the real receiver, Temporal dev server, worker (the
 * traced workflow bundle) and LOS stand-in is one connected trace, exported to memory through the
 * same allowlist an OTLP exporter gets; the LOS receives its `traceparent`; no uid leaves.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { AesGcmCodec, parseCodecKeys } from '../../src/codec/aesGcm';
import { startLos, type Los } from '../../dev/losStandIn';
import { WEBHOOK_PATH } from '../../src/receiver/app';
import { startTelemetry, type Telemetry } from '../../src/telemetry';
import { delivery, newUid, TEST_CODEC_KEYS } from '../support/begini';
import { HISTORY_FIXTURES, TRACED_WORKFLOW_BUNDLE } from '../support/paths';
import { startStack, type Stack } from '../support/stack';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let los: Los;
let stack: Stack;

beforeAll(async () => {
  // Before the stack, as the entry points do: its client and worker pick tracing up when made.
  telemetry = (await startTelemetry('begini-test', { env: {}, exporter }))!;
  los = await startLos();
  // The run's span ends when the journey closes: after the settle period, short here.
  stack = await startStack({ name: 'tracing', los, env: { JOURNEY_SETTLE: '1s' } });
});
afterAll(async () => {
  await stack?.stop();
  await los?.close();
  await telemetry?.shutdown();
});

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('one delivery is one connected trace: webhook → signalWithStart → workflow → activity → LOS', async () => {
  const uid = newUid();
  expect((await stack.send(delivery('psychometric_score.complete', uid))).status).toBe(200);
  await until('the decision at the LOS', () => los.acceptedFor(uid, 'decision').length === 1);
  const named = (name: string) => exporter.getFinishedSpans().find((s) => s.name === name);
  await until('the journey to close and its run span to end', async () => {
    await telemetry.flush();
    return named('RunWorkflow:beginiJourney') !== undefined;
  });

  const spans = exporter.getFinishedSpans();
  const names = spans.map((s) => s.name);
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const one = (name: string): ReadableSpan => {
    const found = spans.filter((s) => s.name === name);
    if (found.length !== 1) throw new Error(`expected one ${name} span, got ${found.length} among ${names.join(', ')}`);
    return found[0]!;
  };
  const parentOf = (span: ReadableSpan) => (span.parentSpanId ? byId.get(span.parentSpanId)?.name : undefined);
  const ancestry = (span: ReadableSpan): string[] => {
    const chain = [span.name];
    for (let s = span; s.parentSpanId && byId.has(s.parentSpanId);) chain.push((s = byId.get(s.parentSpanId)!).name);
    return chain;
  };

  // One trace, rooted at the webhook request.
  const request = one(`POST ${WEBHOOK_PATH}`);
  const traceId = request.spanContext().traceId;
  expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
  expect(request.kind).toBe(SpanKind.SERVER);
  expect(request.parentSpanId).toBeUndefined();
  expect(request.attributes).toMatchObject({ 'http.response.status_code': 200, 'begini.reason': 'accepted' });

  // Every span hangs off it: nothing orphaned, no second root.
  for (const span of spans) expect(ancestry(span).at(-1)).toBe(request.name);

  // The parent chain, link by link.
  expect(parentOf(one('SignalWithStartWorkflow:beginiJourney'))).toBe(request.name);
  expect(parentOf(one('RunWorkflow:beginiJourney'))).toBe('SignalWithStartWorkflow:beginiJourney');
  expect(parentOf(one('HandleSignal:beginiEvent'))).toBe('SignalWithStartWorkflow:beginiJourney');
  expect(parentOf(one('RunActivity:evaluatePolicy'))).toBe('StartActivity:evaluatePolicy');
  expect(ancestry(one('StartActivity:evaluatePolicy'))).toContain('RunWorkflow:beginiJourney');
  expect(parentOf(one('RunActivity:handOff'))).toBe('StartActivity:handOff');
  expect(ancestry(one('StartActivity:handOff'))).toContain('RunWorkflow:beginiJourney');
  const losCall = one('POST');
  expect(losCall.kind).toBe(SpanKind.CLIENT);
  expect(parentOf(losCall)).toBe('RunActivity:handOff');
  expect(losCall.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 200 });

  // The LOS got the trace context of the call that reached it.
  const [handedOff] = los.acceptedFor(uid, 'decision');
  expect(handedOff!.traceparent).toBe(`00-${traceId}-${losCall.spanContext().spanId}-01`);

  // The uid (the workflow ID) reaches no span: Temporal's interceptors record it (temporalWorkflowId,
  // and workflowId with the whole workflow info, search attributes too, on workflow spans), the allowlist drops it.
  const exported = spans.map(({ name, attributes, events, links, status }) => ({
    name,
    attributes,
    events,
    links,
    status,
  }));
  expect(JSON.stringify(exported)).not.toContain(uid);
  expect(Object.keys(one('RunWorkflow:beginiJourney').attributes).sort()).toEqual(
    ['attempt', 'namespace', 'runId', 'taskQueue', 'workflowType'].sort(),
  );

  // The worker's log lines name the span they were logged in.
  const handoffLine = (await stack.logText())
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((line) => line.msg === 'handed off to LOS');
  expect(handoffLine).toMatchObject({ trace_id: traceId, span_id: one('RunActivity:handOff').spanContext().spanId });
});

test('journeys recorded without tracing replay on the traced bundle: tracing can be turned on for open journeys', async () => {
  const files = readdirSync(HISTORY_FIXTURES).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThanOrEqual(5);
  async function* histories() {
    for (const file of files) {
      const json = JSON.parse(readFileSync(resolve(HISTORY_FIXTURES, file), 'utf8')) as object;
      yield { workflowId: file, history: historyFromJSON(json) };
    }
  }
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories(
    {
      workflowBundle: { codePath: TRACED_WORKFLOW_BUNDLE },
      dataConverter: { payloadCodecs: [new AesGcmCodec(parseCodecKeys(TEST_CODEC_KEYS))] },
      plugins: [telemetry.workerPlugin],
    },
    histories(),
  )) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
});
