/**
 * The deployment files, checked with real tools since no Docker engine runs here: the compose file
 * with a compose implementation's own parser, the Dockerfile with hadolint, the build's inputs with
 * the compiler.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

const ROOT = resolve(__dirname, '..', '..');

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

type Service = Record<string, unknown>;

function resolvedServices(env: string): Record<string, Service> {
  return (parseYaml(compose(composeProject(env), 'config')) as { services: Record<string, Service> }).services;
}

/** Each bind or volume a resolved service mounts, from either the short or the long syntax. */
function mounts(service: Service): Array<{ source: string; target: string; readOnly: boolean }> {
  return ((service.volumes ?? []) as Array<string | { source: string; target: string; read_only?: boolean }>).map(
    (v) => {
      if (typeof v !== 'string') return { source: v.source, target: v.target, readOnly: v.read_only === true };
      const [source, target, mode] = v.split(':');
      return { source: source!, target: target!, readOnly: mode === 'ro' };
    },
  );
}

function envFile(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}=${value}\n`)
    .join('');
}

/** Fills `NAME=` lines of an env file; throws if a name has no such line, so a rename is noticed. */
function fillEnv(env: string, values: Record<string, string>): string {
  return Object.entries(values).reduce((text, [name, value]) => {
    const line = new RegExp(`^${name}=$`, 'm');
    if (!line.test(text)) throw new Error(`no empty ${name}= line to fill`);
    return text.replace(line, `${name}=${value}`);
  }, env);
}

/** The variables docker-compose.yml requires (`:?`) besides the database password. */
const REQUIRED_FOR_VALIDATION = {
  CODEC_AUTH_TOKEN: 'only-for-validation-0123456789',
  PAYLOAD_CODEC_KEYS: 'v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  LOS_CALLBACK_URL: 'https://los.invalid/decisions',
  LOS_CALLBACK_SECRET: 'only-for-validation-los-secret',
  SPOOL_POSTGRES_PASSWORD: 'onlyforvalidation0123',
};

/** A host-side view of a compose port, from either the short or the long syntax. */
function portMapping(port: unknown): { hostIp: string | undefined; published: number | undefined; target: number } {
  if (typeof port === 'object' && port !== null) {
    const p = port as { host_ip?: string; published?: number | string; target: number | string };
    return {
      hostIp: p.host_ip,
      published: p.published === undefined ? undefined : Number(p.published),
      target: Number(p.target),
    };
  }
  const parts = String(port)
    .replace(/\/\w+$/, '')
    .split(':');
  const target = Number(parts.pop());
  const published = parts.length ? Number(parts.pop()) : undefined;
  return { hostIp: parts.length ? parts.join(':') : undefined, published, target };
}

test('docker-compose.yml is valid with the variables of .env.example filled in', () => {
  const example = fillEnv(readFileSync(resolve(ROOT, '.env.example'), 'utf8'), {
    POSTGRES_PASSWORD: 'only-for-validation',
    ...REQUIRED_FOR_VALIDATION,
  });
  const dir = composeProject(example);
  compose(dir, 'config', '-q');
  const config = parseYaml(compose(dir, 'config')) as {
    services: Record<string, Record<string, unknown>>;
    volumes: Record<string, unknown>;
  };
  expect(Object.keys(config.services).sort()).toEqual([
    'alertmanager',
    'codec',
    'postgresql',
    'prometheus',
    'receiver',
    'spool-database',
    'temporal',
    'temporal-schema',
    'temporal-setup',
    'temporal-ui',
    'worker',
  ]);
  expect(
    String((config.services['temporal-ui']!.environment as Record<string, string>).TEMPORAL_CODEC_ENDPOINT),
  ).toMatch(/^http:\/\/localhost:8088\/codec\//);
  // Scalable: no fixed name and no host port on the worker.
  expect(config.services.worker!.container_name).toBeUndefined();
  expect(config.services.worker!.ports).toBeUndefined();
  // temporalio/server plus admin-tools (auto-setup is deprecated), at the version the cluster suite
  // builds and runs: deploy/temporal/VERSION.
  const version = readFileSync(resolve(ROOT, 'deploy/temporal/VERSION'), 'utf8').trim();
  expect(config.services.temporal!.image).toBe(`temporalio/server:${version}`);
  expect(String(config.services['temporal-schema']!.image)).toMatch(
    new RegExp(`^temporalio/admin-tools:${version.replace(/\./g, '\\.')}-tctl-[\\d.]+-cli-[\\d.]+$`),
  );
  expect(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8')).not.toContain('auto-setup');
  expect(String(config.services['temporal-ui']!.image)).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
  for (const name of ['postgresql', 'temporal', 'receiver', 'worker'])
    expect(config.services[name]!.restart).toBe('unless-stopped');
  expect(Object.keys(config.volumes)).toContain('postgresql-data');
});

test('the monitoring profile: Prometheus and Alertmanager, off by default, with the tested files', () => {
  const raw = parseYaml(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { profiles?: string[]; volumes?: string[]; healthcheck?: { test: string[] } }>;
  };
  const profiled = Object.entries(raw.services).filter(([, service]) => service.profiles);
  expect(profiled.map(([name, service]) => [name, service.profiles])).toEqual([
    ['prometheus', ['monitoring']],
    ['alertmanager', ['monitoring']],
  ]);
  const mounted = profiled.flatMap(([, service]) => service.volumes ?? []).filter((v) => v.startsWith('./'));
  expect(mounted.map((v) => v.split(':')[0]).sort()).toEqual([
    './deploy/monitoring/alertmanager.yml',
    './deploy/monitoring/alerts.yml',
    './deploy/monitoring/prometheus.yml',
  ]);
  for (const volume of mounted) expect(existsSync(resolve(ROOT, volume.split(':')[0]!))).toBe(true);
  // prometheus.yml loads its rules from beside itself: both land in /etc/prometheus.
  expect(mounted.filter((v) => v.includes(':/etc/prometheus/')).length).toBe(2);
  // The worker is healthy when ready (running, polling, connected), not merely when it answers.
  expect(raw.services.worker!.healthcheck!.test.join(' ')).toContain('http://127.0.0.1:9464/readyz');
});

test('docker-compose.yml refuses to run without a database password', () => {
  // Everything else required is set, so the refusal is about the password alone.
  const dir = composeProject(envFile({ BEGINI_API_KEY: 'x', ...REQUIRED_FOR_VALIDATION }));
  expect(() => compose(dir, 'config', '-q')).toThrow(/POSTGRES_PASSWORD/);
});

test('.env.example holds no secret values', () => {
  const lines = readFileSync(resolve(ROOT, '.env.example'), 'utf8').split('\n');
  for (const name of [
    'POSTGRES_PASSWORD',
    'BEGINI_API_KEY',
    'LOS_CALLBACK_SECRET',
    'PAYLOAD_CODEC_KEYS',
    'CODEC_AUTH_TOKEN',
  ]) {
    expect(lines).toContain(`${name}=`);
  }
  // The plaintext allowance is documented but off unless an operator turns it on.
  expect(lines).toContain('# PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL=');
  expect(lines.filter((l) => l.startsWith('PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL='))).toEqual([]);
});

test('docker-compose.yml hands each service only its own secrets', () => {
  // Distinct, recognisable values; none contains another. The last one is named by nothing in the
  // compose file (like a deployments file's fromEnv key): with env_file it would reach every service.
  const secrets = {
    POSTGRES_PASSWORD: 'SECRET-postgres-password-1f0c',
    BEGINI_API_KEY: 'SECRET-begini-api-key-2e1d',
    PAYLOAD_CODEC_KEYS: 'v1:SECRET-payload-codec-keys-3d2e',
    CODEC_AUTH_TOKEN: 'SECRET-codec-auth-token-4c3f-0123456789',
    LOS_CALLBACK_URL: 'https://SECRET-los-callback-url-5b4a.invalid/decisions',
    LOS_CALLBACK_SECRET: 'SECRET-los-callback-secret-6a5b',
    SPOOL_POSTGRES_PASSWORD: 'SECRETspoolpostgrespassword9f8e',
    BEGINI_KEY_UNLISTED: 'SECRET-begini-key-unlisted-8e7d',
  };
  const services = resolvedServices(envFile({ ...secrets, LOG_LEVEL: 'info' }));

  // The whole resolved service, not only `environment`: a secret in a command or a label leaks too.
  const received = Object.fromEntries(
    Object.entries(services).map(([name, service]) => {
      const text = JSON.stringify(service);
      return [
        name,
        Object.keys(secrets)
          .filter((secret) => text.includes(secrets[secret as keyof typeof secrets]))
          .sort(),
      ];
    }),
  );
  expect(received).toEqual({
    postgresql: ['POSTGRES_PASSWORD'],
    temporal: ['POSTGRES_PASSWORD'],
    'temporal-schema': ['POSTGRES_PASSWORD'],
    // The browser calls the codec endpoint with the token in the path.
    'temporal-ui': ['CODEC_AUTH_TOKEN'],
    'temporal-setup': [],
    codec: ['CODEC_AUTH_TOKEN', 'PAYLOAD_CODEC_KEYS'],
    // Creates the spool's role: the admin password, and the role's.
    'spool-database': ['POSTGRES_PASSWORD', 'SPOOL_POSTGRES_PASSWORD'],
    // Internet-facing: never the LOS secret or where decisions go, nor Temporal's database password.
    receiver: ['BEGINI_API_KEY', 'PAYLOAD_CODEC_KEYS', 'SPOOL_POSTGRES_PASSWORD'],
    worker: ['LOS_CALLBACK_SECRET', 'LOS_CALLBACK_URL', 'PAYLOAD_CODEC_KEYS'],
    // The monitoring profile sees metrics only.
    prometheus: [],
    alertmanager: [],
  });
  expect((services.receiver!.environment as Record<string, string>).BEGINI_API_KEY).toBe(secrets.BEGINI_API_KEY);
  expect((services.worker!.environment as Record<string, string>).LOS_CALLBACK_SECRET).toBe(
    secrets.LOS_CALLBACK_SECRET,
  );

  // `docker-compose config` inlines env_file into environment, so look at the file itself.
  const raw = parseYaml(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, Service>;
  };
  for (const name of ['temporal-setup', 'codec', 'receiver', 'worker']) {
    expect({ service: name, env_file: raw.services[name]!.env_file }).toEqual({ service: name, env_file: undefined });
  }
});

test('the compose file runs the Temporal configuration and schema script the cluster suite runs', () => {
  const services = resolvedServices(
    envFile({ POSTGRES_PASSWORD: 'only-for-validation', BEGINI_API_KEY: 'x', ...REQUIRED_FOR_VALIDATION }),
  );
  for (const name of ['temporal', 'temporal-schema']) {
    expect(
      mounts(services[name]!).some((m) => m.source.endsWith('/deploy/temporal') && m.target === '/etc/temporal/deploy'),
    ).toBe(true);
  }
  expect(JSON.stringify(services['temporal-schema']!.entrypoint)).toContain('/etc/temporal/deploy/setup-schema.sh');
  const entrypoint = JSON.stringify(services.temporal!.entrypoint);
  expect(entrypoint).toContain('--root /etc/temporal/deploy --config config --env production');
  const environment = services.temporal!.environment as Record<string, string>;
  expect(environment.DYNAMIC_CONFIG_FILE_PATH).toBe('/etc/temporal/deploy/dynamicconfig/production.yaml');
  for (const file of ['config/production.yaml', 'dynamicconfig/production.yaml', 'setup-schema.sh']) {
    expect(readFileSync(resolve(ROOT, 'deploy/temporal', file), 'utf8').length).toBeGreaterThan(0);
  }
  // More than one history shard, as the cluster suite runs it.
  expect(Number(environment.NUM_HISTORY_SHARDS)).toBeGreaterThan(1);
  expect(services.temporal!.depends_on).toMatchObject({
    'temporal-schema': { condition: 'service_completed_successfully' },
  });
});

/** The settings that name a file the container reads at start: without a mount it refuses to start. */
const FILE_SETTINGS = {
  BEGINI_DEPLOYMENTS_FILE: '/config/deployments.yaml',
  OPERATOR_TOKENS_FILE: '/config/operators.yaml',
  POLICY_FILE: '/config/policy.yaml',
};

test('every service that takes a file setting mounts config/ read-only at /config, where the setting points', () => {
  const dir = composeProject(
    envFile({
      POSTGRES_PASSWORD: 'only-for-validation',
      BEGINI_API_KEY: 'x',
      ...REQUIRED_FOR_VALIDATION,
      ...FILE_SETTINGS,
    }),
  );
  const { services } = parseYaml(compose(dir, 'config')) as { services: Record<string, Service> };
  const readers = Object.fromEntries(
    Object.entries(services)
      .map(([name, service]) => [
        name,
        Object.keys(FILE_SETTINGS).filter((k) => k in ((service.environment as object | undefined) ?? {})),
      ])
      .filter(([, settings]) => settings!.length),
  );
  expect(readers).toEqual({
    receiver: ['BEGINI_DEPLOYMENTS_FILE', 'OPERATOR_TOKENS_FILE'],
    worker: ['POLICY_FILE'],
  });
  for (const [name, settings] of Object.entries(readers)) {
    const environment = services[name]!.environment as Record<string, string>;
    for (const setting of settings as Array<keyof typeof FILE_SETTINGS>) {
      expect({ name, setting, value: environment[setting] }).toEqual({ name, setting, value: FILE_SETTINGS[setting] });
    }
    expect({ name, mounts: mounts(services[name]!).filter((m) => m.target === '/config') }).toEqual({
      name,
      mounts: [{ source: join(dir, 'config'), target: '/config', readOnly: true }],
    });
  }
  // The directory ships, explained, so the mount has a source on a fresh clone.
  expect(existsSync(resolve(ROOT, 'config/README.md'))).toBe(true);
});

test('every variable .env.example names reaches a service', () => {
  const example = readFileSync(resolve(ROOT, '.env.example'), 'utf8');
  const named = [...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  expect(named.length).toBeGreaterThan(10);
  const composeFile = readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8');
  expect(named.filter((name) => !composeFile.includes(`\${${name}:`))).toEqual([]);
});

test('the receiver publishes its internal port on loopback only', () => {
  const services = resolvedServices(
    envFile({ POSTGRES_PASSWORD: 'only-for-validation', BEGINI_API_KEY: 'x', ...REQUIRED_FOR_VALIDATION }),
  );
  const receiver = services.receiver!;
  const environment = receiver.environment as Record<string, string>;
  expect(environment.INTERNAL_HOST).toBe('0.0.0.0');
  const internalPort = Number(environment.INTERNAL_PORT);
  expect(internalPort).toBe(9465);
  const ports = (receiver.ports as unknown[]).map(portMapping);
  expect(ports.filter((p) => p.target === internalPort)).toEqual([
    { hostIp: '127.0.0.1', published: internalPort, target: internalPort },
  ]);
  // The webhook port stays public.
  expect(ports.filter((p) => p.target === 3000)).toEqual([{ hostIp: undefined, published: 3000, target: 3000 }]);
});

test('the Dockerfile passes hadolint', () => {
  expect(execFileSync('hadolint', [resolve(ROOT, 'Dockerfile')], { encoding: 'utf8' })).toBe('');
});

test('the build (and so the image) compiles only shipped code: nothing from dev/, test/ or bench/', () => {
  // The compiler follows imports, so a shipped file importing the harness would pull it in here.
  const inputs = execFileSync(
    resolve(ROOT, 'node_modules/.bin/tsc'),
    ['-p', 'tsconfig.build.json', '--listFilesOnly'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  )
    .split('\n')
    .map((file) => relative(ROOT, file.trim()))
    .filter((file) => file && !file.startsWith('node_modules/') && !file.startsWith('..'));
  expect(inputs).toEqual(
    expect.arrayContaining(['src/receiver/main.ts', 'src/worker/main.ts', 'workflows/journey.ts']),
  );
  expect(inputs.filter((file) => /^(dev|test|bench)\//.test(file))).toEqual([]);
  const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
  expect(dockerfile).not.toMatch(/^COPY\s+(dev|test|bench)\b/m);
});
