/**
 * A throwaway PostgreSQL for tests and the benchmark: the cluster's persistence (cluster.ts) and the
 * receiver's intake spool. Debian's server binaries (scripts/ensure-postgres), run as `postgres`.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { freePort } from '../src/freePort';

export interface Postgres {
  port: number;
  password: string;
  /** Synchronous, for an exiting process. */
  stopNow(): void;
  pids(): number[];
  restart(): Promise<void>;
  /** Starts it again after stopNow(), on the same data. */
  start(): Promise<void>;
  /** A URL for a client, as the superuser, to the default database. */
  url: string;
  stop(): Promise<void>;
}

/**
 * A throwaway PostgreSQL in a fresh data directory under the system temp dir (the `postgres` user
 * must be able to reach it), password-authenticated on loopback only.
 */
export async function startPostgres(bin: string, logDir: string): Promise<Postgres> {
  const port = await freePort();
  const password = `cluster-${Math.random().toString(36).slice(2)}`;
  const dataDir = mkdtempSync(resolve(tmpdir(), 'begini-cluster-pg-'));
  const asRoot = userInfo().uid === 0;
  // initdb refuses to run as root: run PostgreSQL as Debian's `postgres` user, which owns the dir.
  const run = (tool: string, args: string[]) => {
    const command = asRoot ? 'runuser' : resolve(bin, tool);
    const argv = asRoot ? ['-u', 'postgres', '--', resolve(bin, tool), ...args] : args;
    execFileSync(command, argv, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dataDir });
  };
  const passwordFile = resolve(dataDir, 'pw');
  writeFileSync(passwordFile, password);
  if (asRoot) {
    const owner = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const group = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    chownSync(dataDir, Number(owner), Number(group));
    chownSync(passwordFile, Number(owner), Number(group));
  }
  const pgData = resolve(dataDir, 'data');
  run('initdb', [
    '-D',
    pgData,
    '-U',
    'temporal',
    `--pwfile=${passwordFile}`,
    '--auth=scram-sha-256',
    '--no-sync',
    '-E',
    'UTF8',
  ]);
  // Enough connections for four services' pools; the socket dir is ours, not /var/run/postgresql.
  const serverOptions = `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c max_connections=300`;
  const logFile = resolve(dataDir, 'postgres.log');
  const pgCtl = (...args: string[]) => run('pg_ctl', ['-D', pgData, '-l', logFile, '-o', serverOptions, '-w', ...args]);
  pgCtl('start');
  return {
    port,
    password,
    url: `postgres://temporal:${password}@127.0.0.1:${port}/postgres`,
    pids() {
      try {
        const postmaster = Number(readFileSync(resolve(pgData, 'postmaster.pid'), 'utf8').split('\n')[0]);
        const children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' });
        return [postmaster, ...children.split('\n').filter(Boolean).map(Number)];
      } catch {
        return [];
      }
    },
    stopNow() {
      try {
        pgCtl('stop', '-m', 'immediate');
      } catch {
        // Already stopped.
      }
    },
    async restart() {
      pgCtl('restart', '-m', 'immediate');
    },
    async start() {
      pgCtl('start');
    },
    async stop() {
      try {
        pgCtl('stop', '-m', 'fast');
      } finally {
        try {
          execFileSync('cp', [logFile, resolve(logDir, 'postgres.log')]);
        } catch {
          // The log is a convenience; a missing one must not fail the teardown.
        }
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
