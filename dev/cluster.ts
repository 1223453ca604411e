/**
 * A production-shaped Temporal cluster on this host, for the cluster suite and the benchmark: a
 * throwaway PostgreSQL on a loopback port, its schemas created and migrated by
 * deploy/temporal/setup-schema.sh, the receivers' spool database by deploy/spool/create-database.sh,
 * and the four Temporal services as separate processes from the
 * configuration the compose file runs (deploy/temporal/). Every process can be SIGKILLed and
 * started again; PostgreSQL can be restarted the hard way.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort } from '../src/freePort';
import { StartupError } from '../src/failures';
import { startPostgres } from './postgres';

const PROJECT_ROOT = resolve(__dirname, '..');
const DEPLOY_DIR = resolve(PROJECT_ROOT, 'deploy', 'temporal');

export const TEMPORAL_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];

export interface ClusterOptions {
  /** Where the logs go (one file per process). */
  logDir: string;
  /** Fixed for the cluster's life; Temporal's own default for production is 512+, 4 fits two cores. */
  historyShards?: number;
}

export interface TemporalCluster {
  /** The frontend, host:port. */
  address: string;
  /** The variables deploy/temporal/config/production.yaml reads, as this cluster sets them. */
  serverEnv: Record<string, string>;
  /**
   * The receivers' intake spool: a role and database of its own on the cluster's PostgreSQL, made by
   * deploy/spool/create-database.sh as docker-compose makes them (the receivers never hold Temporal's password).
   */
  spoolDatabaseUrl: string;
  kill(service: TemporalService): Promise<void>;
  /** Process ids by part (PostgreSQL: the postmaster and its backends), for CPU accounting. */
  pids(): Record<TemporalService | 'postgres', number[]>;
  /** Services that exited without being killed, e.g. `matching exited 1`. */
  unexpectedExits(): string[];
  start(service: TemporalService): Promise<void>;
  /** `pg_ctl restart -m immediate`: every connection dropped, crash recovery on the way up. */
  restartPostgres(): Promise<void>;
  stop(): Promise<void>;
}

export function ensure(script: string, what: string): string {
  try {
    return execFileSync('bash', [resolve(PROJECT_ROOT, 'scripts', script)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  } catch {
    throw new StartupError('missing_tool', `no ${what} (see the lines above)`);
  }
}

export async function startTemporalCluster(options: ClusterOptions): Promise<TemporalCluster> {
  const serverDir = ensure('ensure-temporal-server', 'Temporal server');
  const pgBin = ensure('ensure-postgres', 'PostgreSQL');
  mkdirSync(options.logDir, { recursive: true });
  const postgres = await startPostgres(pgBin, options.logDir);
  const ports: Record<string, number> = {};
  for (const key of TEMPORAL_SERVICES.flatMap((s) => [`${s}Grpc`, `${s}Membership`])) {
    ports[key] = await freeSmallPort(Object.values(ports));
  }
  const httpPort = await freePort();
  const serverEnv: Record<string, string> = {
    POSTGRES_SEEDS: '127.0.0.1',
    DB_PORT: String(postgres.port),
    POSTGRES_USER: 'temporal',
    POSTGRES_PWD: postgres.password,
    NUM_HISTORY_SHARDS: String(options.historyShards ?? 4),
    BIND_ON_IP: '127.0.0.1',
    FRONTEND_HTTP_PORT: String(httpPort),
    DYNAMIC_CONFIG_FILE_PATH: resolve(DEPLOY_DIR, 'dynamicconfig', 'production.yaml'),
    LOG_LEVEL: 'warn',
    ...Object.fromEntries(
      TEMPORAL_SERVICES.flatMap((s) => [
        [`${s.toUpperCase()}_GRPC_PORT`, String(ports[`${s}Grpc`])],
        [`${s.toUpperCase()}_MEMBERSHIP_PORT`, String(ports[`${s}Membership`])],
      ]),
    ),
  };

  // The deployment's own schema step, with the binaries built from the same server version.
  const schemaLog = openSync(resolve(options.logDir, 'setup-schema.log'), 'a');
  try {
    execFileSync('sh', [resolve(DEPLOY_DIR, 'setup-schema.sh')], {
      env: {
        PATH: process.env.PATH!,
        ...serverEnv,
        TEMPORAL_SQL_TOOL: resolve(serverDir, 'bin', 'temporal-sql-tool'),
        SCHEMA_DIR: resolve(serverDir, 'schema'),
      },
      stdio: ['ignore', schemaLog, schemaLog],
    });
  } catch (err) {
    await postgres.stop();
    throw new Error(`setup-schema.sh failed; see ${options.logDir}/setup-schema.log: ${String(err)}`);
  } finally {
    closeSync(schemaLog);
  }
  const spoolPassword = `spool-${Math.random().toString(36).slice(2)}`;
  try {
    execFileSync('sh', [resolve(PROJECT_ROOT, 'deploy', 'spool', 'create-database.sh')], {
      env: {
        PATH: `${pgBin}:${process.env.PATH!}`,
        PGHOST: '127.0.0.1',
        PGPORT: String(postgres.port),
        PGUSER: 'temporal',
        PGPASSWORD: postgres.password,
        SPOOL_POSTGRES_PASSWORD: spoolPassword,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (err) {
    await postgres.stop();
    throw new Error(`deploy/spool/create-database.sh failed: ${String(err)}`);
  }

  const processes = new Map<TemporalService, ChildProcess>();
  const start = async (service: TemporalService) => {
    const log = createWriteStream(resolve(options.logDir, `temporal-${service}.log`), { flags: 'a' });
    const child = spawn(
      resolve(serverDir, 'bin', 'temporal-server'),
      ['--root', DEPLOY_DIR, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'].concat([
        '--service',
        service,
      ]),
      { env: { PATH: process.env.PATH!, ...serverEnv }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    child.once('exit', (code, signal) => log.end(`${new Date().toISOString()} exited: ${signal ?? code}\n`));
    processes.set(service, child);
  };
  const kill = async (service: TemporalService) => {
    const child = processes.get(service);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  const address = `127.0.0.1:${ports.frontendGrpc}`;
  const stillRunning = () => {
    const dead = [...processes].filter(([, child]) => child.exitCode !== null).map(([s]) => s);
    if (dead.length) throw new Error(`Temporal ${dead.join(', ')} exited; see ${options.logDir}/temporal-*.log`);
  };
  const killed = new Set<ChildProcess>();
  const cluster: TemporalCluster = {
    address,
    serverEnv,
    spoolDatabaseUrl: `postgres://begini_spool:${spoolPassword}@127.0.0.1:${postgres.port}/begini_spool`,
    async kill(service) {
      killed.add(processes.get(service)!);
      await kill(service);
    },
    pids() {
      const byService = Object.fromEntries(
        TEMPORAL_SERVICES.map((s) => [s, processes.get(s)?.pid ? [processes.get(s)!.pid!] : []]),
      ) as Record<TemporalService, number[]>;
      return { ...byService, postgres: postgres.pids() };
    },
    unexpectedExits: () =>
      [...processes]
        .filter(([, child]) => child.exitCode !== null && !killed.has(child))
        .map(([service, child]) => `${service} exited ${child.exitCode}`),
    async start(service) {
      await start(service);
      if (service === 'frontend') await waitForFrontend(address);
    },
    restartPostgres: () => postgres.restart(),
    async stop() {
      process.off('exit', stopNow);
      await Promise.all(TEMPORAL_SERVICES.map((s) => kill(s)));
      await postgres.stop();
    },
  };
  // A runner that exits without stop() (jest's forceExit, a crash) must not leave the cluster up.
  const stopNow = () => {
    for (const child of processes.values()) child.kill('SIGKILL');
    postgres.stopNow();
  };
  process.once('exit', stopNow);
  try {
    // One service first: on a fresh database every service writes the cluster metadata, and
    // those started together race (the loser exits with "version mismatch").
    await start('frontend');
    await waitForFrontend(address, stillRunning);
    for (const service of TEMPORAL_SERVICES.filter((s) => s !== 'frontend')) await start(service);
    await waitForRing(address, stillRunning);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/**
 * A free loopback port below 32768: Temporal keeps each member's ports in a PostgreSQL smallint
 * (cluster_membership), so an ephemeral port from the kernel's range fails the service's start.
 */
async function freeSmallPort(taken: number[]): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!taken.includes(port) && (await isFree(port))) return port;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort(true)));
  });
}

/** Waits until the frontend reaches history and matching (in the system namespace). */
async function waitForRing(address: string, stillRunning: () => void): Promise<void> {
  const connection = await Connection.connect({ address });
  const namespace = 'temporal-system';
  try {
    for (let attempt = 0; ; attempt++) {
      stillRunning();
      try {
        // Only history can say a workflow does not exist; only matching can describe a queue.
        const probe = await connection.workflowService
          .describeWorkflowExecution({ namespace, execution: { workflowId: 'ring-probe' } })
          .then(
            () => 0,
            (err: { code?: number }) => err.code,
          );
        if (probe !== GRPC_NOT_FOUND) throw new Error(`history not reachable yet (${probe})`);
        await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: 'ring-probe' } });
        return;
      } catch (err) {
        if (attempt > 180) throw new Error(`Temporal history or matching never joined: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await connection.close();
  }
}

const GRPC_NOT_FOUND = 5;

/** Waits until the frontend answers from its database. */
async function waitForFrontend(address: string, stillRunning: () => void = () => undefined): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    stillRunning();
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        // Answered from PostgreSQL: the frontend's persistence is up, not only its port.
        await connection.workflowService.describeNamespace({ namespace: 'temporal-system' });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Temporal frontend at ${address} never came up: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
