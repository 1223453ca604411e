/**
 * setup-temporal's Temporal Cloud path, forced onto the real dev server (TEMPORAL_SETUP_MODE=cloud):
 * its checks read a real namespace, it prints the plan for what is missing and changes nothing.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import { searchAttributes } from '../../workflows/definitions';
import { registerSearchAttributes, setRetention } from '../../src/temporal/namespace';

const SETUP = resolve(__dirname, '../../dist/src/temporal/setupMain.js');
let connection: Connection;

beforeAll(async () => {
  connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
});
afterAll(() => connection.close());

function setupInCloudMode(namespace: string) {
  const run = spawnSync(process.execPath, [SETUP], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_RETENTION_DAYS: '30',
      TEMPORAL_SETUP_MODE: 'cloud',
      LOG_LEVEL: 'silent',
    },
  });
  return { status: run.status, stdout: run.stdout };
}

async function registered(namespace: string): Promise<string[]> {
  const listed = await connection.operatorService.listSearchAttributes({ namespace });
  return Object.keys(listed.customAttributes ?? {}).filter((name) => name.startsWith('Begini'));
}

test('a namespace short of retention and attributes: the plan, status 78, and nothing changed; once applied, 0', async () => {
  const namespace = `cloud-check-${randomUUID().slice(0, 8)}`;
  await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('7d') });
  // Other services learn a new namespace through their caches: wait until one answers for it.
  for (let ready = false; !ready;)
    ready = await registered(namespace).then(
      () => true,
      () => false,
    );

  const short = setupInCloudMode(namespace);
  expect(short.status).toBe(78);
  expect(short.stdout).toContain(`tcld namespace retention set --namespace ${namespace} --retention-days 30`);
  const add = short.stdout.split('\n').find((line) => line.startsWith('tcld namespace search-attributes add'));
  for (const a of Object.values(searchAttributes)) expect(add).toContain(`--search-attribute "${a.name}=`);
  // Checked, not changed: Cloud would refuse the calls, so none is made.
  expect(await registered(namespace)).toEqual([]);
  const described = await connection.workflowService.describeNamespace({ namespace });
  expect(Number(described.config!.workflowExecutionRetentionTtl!.seconds)).toBe(7 * 86_400);

  // What an operator's tcld commands do on Cloud.
  await registerSearchAttributes(connection, namespace);
  await setRetention(connection, namespace, 30);
  const ready = setupInCloudMode(namespace);
  expect({ status: ready.status, stdout: ready.stdout }).toEqual({
    status: 0,
    stdout: expect.stringContaining('exists, retention 30 days, search attributes registered'),
  });
});

test('a namespace that does not exist: tcld namespace create, status 78', () => {
  const run = setupInCloudMode(`absent-${randomUUID().slice(0, 8)}`);
  expect(run.status).toBe(78);
  expect(run.stdout).toMatch(/^tcld namespace create --namespace absent-\w+ --region <region> --retention-days 30 /m);
});
