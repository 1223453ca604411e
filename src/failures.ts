/**
 * Failures to start that know their exit status (sysexits.h) and the one line to print. Near a leaf
 * (it needs only the hierarchy's root), so that the modules that detect them (connections,
 * listeners) need nothing else of ours.
 */
import type { Server } from 'node:net';
import { IntegrationError } from './errors';

export const EXIT = {
  /** EX_USAGE: the command line is wrong. */
  usage: 64,
  /** EX_DATAERR: an input file is malformed (a backtest's outcomes file). */
  data: 65,
  /** EX_CONFIG: the configuration is invalid. */
  config: 78,
  /** EX_UNAVAILABLE: Temporal cannot be reached. */
  unavailable: 69,
  /** EX_OSFILE: a tool it needs is missing (the Temporal CLI). */
  missingTool: 72,
  /** EX_CANTCREAT: a port it must listen on is taken. */
  portInUse: 73,
  /** EX_TEMPFAIL: something failed that can clear; run again later. */
  tempfail: 75,
  /** EX_SOFTWARE: anything else. */
  software: 70,
} as const;

/** Why an entry point did not start, and the exit status each reason ends the process with. */
const EXIT_FOR = {
  usage: EXIT.usage,
  invalid_outcomes: EXIT.data,
  missing_tool: EXIT.missingTool,
  port_in_use: EXIT.portInUse,
  temporal_unreachable: EXIT.unavailable,
  /** Temporal Cloud's namespace lacks what the journeys need; setup-temporal printed the plan. */
  namespace_incomplete: EXIT.config,
} as const;

export type StartupReason = keyof typeof EXIT_FOR;

/** A failure to start that already knows its exit status and the one line to print. */
export class StartupError extends IntegrationError<StartupReason> {
  readonly exitCode: number;
  constructor(reason: StartupReason, message: string) {
    super(reason, message);
    this.exitCode = EXIT_FOR[reason];
  }
}

/** The command line is wrong: the message says what, and how to call it. */
export class UsageError extends StartupError {
  constructor(message: string) {
    super('usage', message);
  }
}

export class TemporalUnreachableError extends StartupError {
  constructor(address: string, cause: unknown) {
    super(
      'temporal_unreachable',
      `Temporal at ${address} is unreachable (${firstLine(cause)}): start it, or point TEMPORAL_ADDRESS at a running server (npm run dev starts one when TEMPORAL_ADDRESS is unset)`,
    );
  }
}

/** Listens, or explains a taken port. */
export function listenOrExplain(server: Server, port: number, host: string, setting: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
        reject(
          new StartupError(
            'port_in_use',
            `cannot listen on ${host}:${port} (${err.code === 'EADDRINUSE' ? 'in use' : 'not permitted'}): stop what holds it, or set ${setting}`,
          ),
        );
      } else reject(err);
    });
    server.listen(port, host, () => resolve());
  });
}

export function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}
