/**
 * A client we did not write checks both contracts against the live stack: Schemathesis (from PyPI)
 * generates requests from docs/openapi.json, signs webhook bodies with a hook, sends the operator
 * token, and checks every response against the document (status, content type, body) and that no
 * 5xx but the deliberate 503 occurs.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { startLos, type Los } from '../../dev/losStandIn';
import { TEST_KEY } from '../support/begini';
import { OPERATORS, operatorsEnv } from '../support/operators';
import { TEST_DATA_DIR } from '../support/paths';
import { startStack, type Stack } from '../support/stack';

const ROOT = resolve(__dirname, '..', '..');
// A reviewer: every read and review is exercised, and the admin-only redrives answer their documented 403.
const TOKEN = OPERATORS.reviewer.token;
const CHECKS = 'status_code_conformance,content_type_conformance,response_schema_conformance,no_server_error_but_503';
let los: Los;
let stack: Stack;

beforeAll(async () => {
  los = await startLos();
  stack = await startStack({ name: 'schemathesis', los, env: operatorsEnv('schemathesis') });
});
afterAll(async () => {
  await stack.stop();
  await los.close();
});

function schemathesis(url: string, paths: string, extra: string[] = []): Promise<{ code: number; output: string }> {
  const args = [
    'run',
    resolve(ROOT, 'docs/openapi.json'),
    '--url',
    url,
    '--include-path-regex',
    paths,
    '--checks',
    CHECKS,
  ];
  args.push(
    '--max-examples',
    '25',
    '--seed',
    '20261128',
    '--workers',
    '1',
    '--request-timeout',
    '30',
    '--no-color',
    ...extra,
  );
  const env = {
    ...process.env,
    SCHEMATHESIS_HOOKS: 'hooks',
    PYTHONPATH: resolve(__dirname, '..', 'schemathesis'),
    BEGINI_API_KEY: TEST_KEY,
  };
  return new Promise((done) => {
    execFile('st', args, { env, cwd: TEST_DATA_DIR, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** The summary lines Schemathesis prints (operations, cases, failures), for the log and the note. */
const summary = (output: string) =>
  output
    .split('\n')
    .filter((line) => /operations|test cases|passed|failed|errors?/i.test(line))
    .slice(-6)
    .join('\n');

test('the webhook and the health checks conform to the OpenAPI document', async () => {
  const { code, output } = await schemathesis(stack.receiver.url, '^/(webhooks/begini|healthz|readyz)$');
  console.log(`schemathesis, public listener:\n${summary(output)}`);
  if (code !== 0) console.log(output.slice(-6_000));
  expect(code).toBe(0);
  // The signing hook works: generated deliveries were verified and accepted, not just refused.
  const metrics = await (await fetch(`${stack.receiver.internalUrl}/metrics`)).text();
  expect(
    Number(/begini_webhook_requests_total\{status="200",reason="accepted"\} (\d+)/.exec(metrics)?.[1] ?? 0),
  ).toBeGreaterThan(0);
});

test('the journey API conforms to the OpenAPI document', async () => {
  const { code, output } = await schemathesis(stack.receiver.internalUrl, '^/journeys', [
    '-H',
    `Authorization: Bearer ${TOKEN}`,
  ]);
  console.log(`schemathesis, internal listener:\n${summary(output)}`);
  if (code !== 0) console.log(output.slice(-6_000));
  expect(code).toBe(0);
});
