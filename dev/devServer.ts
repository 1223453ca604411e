/**
 * Starts a Temporal dev server from the CLI that scripts/ensure-temporal provides, and waits for
 * it with a health check (the SDK's own launcher allows only 5 s, too little on a cold start).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { StartupError } from '../src/failures';

export interface DevServerOptions {
  port: number;
  /** null: no Web UI. */
  uiPort: number | null;
  /** null: in memory. */
  dbFile: string | null;
  ip?: string;
  log?: (line: string) => void;
  extraArgs?: string[];
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const PROJECT_ROOT = resolve(__dirname, '..');

export function ensureTemporalCli(): string {
  try {
    return execFileSync('bash', [resolve(PROJECT_ROOT, 'scripts/ensure-temporal')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  } catch {
    // scripts/ensure-temporal has said why, on stderr.
    throw new StartupError(
      'missing_tool',
      'no Temporal CLI (see the lines above): install Go, or the CLI, or set TEMPORAL_CLI_PATH',
    );
  }
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  for (const port of [options.port, options.uiPort]) {
    if (port !== null && !(await portIsFree(port, ip))) {
      throw new StartupError(
        'port_in_use',
        `port ${port} on ${ip} is in use: stop what holds it (another Temporal dev server?), or set TEMPORAL_ADDRESS to use a server that is already running`,
      );
    }
  }
  const cli = ensureTemporalCli();
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(options.port), '--log-level', 'warn'];
  if (options.uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort));
  // As deploy/temporal/dynamicconfig/production.yaml has it: the backlog statistics the receivers
  // defer applications by (src/receiver/backlog.ts) are at most half a second old, not five.
  args.push('--dynamic-config-value', 'matching.TaskQueueInfoByBuildIdTTL="500ms"');
  if (options.dbFile) {
    mkdirSync(dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  args.push(...(options.extraArgs ?? []));

  // The CLI picks its other ports (HTTP API, internal services) at random: one can collide with a
  // port another process on a busy machine takes at the same moment, and the server then exits
  // while starting. That clears on a second try; what the server said is kept for the error.
  const log = options.log ?? (() => undefined);
  const address = `${ip}:${options.port}`;
  for (let attempt = 1; ; attempt++) {
    const said: string[] = [];
    const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const hear = (chunk: Buffer) => {
      log(chunk.toString());
      said.push(chunk.toString());
      if (said.length > 20) said.shift();
    };
    child.stdout!.on('data', hear);
    child.stderr!.on('data', hear);
    const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
    const server: DevServer = {
      address,
      uiUrl: options.uiPort === null ? null : `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${options.uiPort}`,
      process: child,
      async stop(signal = 'SIGTERM') {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      },
    };
    try {
      await waitUntilServing(address, 60_000, () => child.exitCode !== null);
      return server;
    } catch (err) {
      await server.stop('SIGKILL');
      if (child.exitCode === null || attempt === START_ATTEMPTS) {
        const output = said.join('').trim().slice(-2_000);
        throw output ? new Error(`${(err as Error).message}; it said: ${output}`) : err;
      }
    }
  }
}

/** Tries at starting the dev server when it exits while starting (see startDevServer). */
const START_ATTEMPTS = 3;

export async function waitUntilServing(
  address: string,
  timeoutMs: number,
  gaveUp: () => boolean = () => false,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (gaveUp()) throw new Error(`Temporal at ${address} exited while starting`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`Temporal at ${address} did not become ready in ${timeoutMs} ms: ${(lastError as Error)?.message}`);
}

function portIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolvePort) => {
    const probe = createServer();
    probe.once('error', () => resolvePort(false));
    probe.listen(port, host, () => probe.close(() => resolvePort(true)));
  });
}
