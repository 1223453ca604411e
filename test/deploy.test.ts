/**
 * The deployment files, checked with real tools since no Docker engine runs here: the compose file
 * with a compose implementation's own parser, the Dockerfile with hadolint.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

const ROOT = resolve(__dirname, '..');

function composeProject(env: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'compose-'));
  copyFileSync(resolve(ROOT, 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
  copyFileSync(resolve(ROOT, 'Dockerfile'), join(dir, 'Dockerfile'));
  writeFileSync(join(dir, '.env'), env);
  return dir;
}

function compose(dir: string, ...args: string[]): string {
  return execFileSync('docker-compose', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('docker-compose.yml is valid with the variables of .env.example filled in', () => {
  const example = readFileSync(resolve(ROOT, '.env.example'), 'utf8')
    .replace(/^POSTGRES_PASSWORD=$/m, 'POSTGRES_PASSWORD=only-for-validation')
    .replace(/^CODEC_AUTH_TOKEN=$/m, 'CODEC_AUTH_TOKEN=only-for-validation-0123456789');
  const dir = composeProject(example);
  compose(dir, 'config', '-q');
  const config = parseYaml(compose(dir, 'config')) as { services: Record<string, Record<string, unknown>>; volumes: Record<string, unknown> };
  expect(Object.keys(config.services).sort()).toEqual(['codec', 'postgresql', 'receiver', 'temporal', 'temporal-setup', 'temporal-ui', 'worker']);
  expect(String((config.services['temporal-ui']!.environment as Record<string, string>).TEMPORAL_CODEC_ENDPOINT)).toMatch(/^http:\/\/localhost:8088\/codec\//);
  // Scalable: no fixed name and no host port on the worker.
  expect(config.services.worker!.container_name).toBeUndefined();
  expect(config.services.worker!.ports).toBeUndefined();
  expect(String(config.services.temporal!.image)).toMatch(/^temporalio\/auto-setup:\d+\.\d+\.\d+$/);
  expect(String(config.services['temporal-ui']!.image)).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
  for (const name of ['postgresql', 'temporal', 'receiver', 'worker']) expect(config.services[name]!.restart).toBe('unless-stopped');
  expect(Object.keys(config.volumes)).toContain('postgresql-data');
});

test('docker-compose.yml refuses to run without a database password', () => {
  const dir = composeProject('BEGINI_API_KEY=x\nCODEC_AUTH_TOKEN=only-for-validation-0123456789\n');
  expect(() => compose(dir, 'config', '-q')).toThrow(/POSTGRES_PASSWORD/);
});

test('.env.example holds no secret values', () => {
  const lines = readFileSync(resolve(ROOT, '.env.example'), 'utf8').split('\n');
  for (const name of ['POSTGRES_PASSWORD', 'BEGINI_API_KEY', 'LOS_CALLBACK_SECRET', 'OPERATOR_API_TOKEN', 'PAYLOAD_CODEC_KEYS', 'CODEC_AUTH_TOKEN']) {
    expect(lines).toContain(`${name}=`);
  }
});

test('the Dockerfile passes hadolint', () => {
  expect(execFileSync('hadolint', [resolve(ROOT, 'Dockerfile')], { encoding: 'utf8' })).toBe('');
});
