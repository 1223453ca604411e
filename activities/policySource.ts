/**
 * The policy a worker decides by, reloaded while it runs: the file at POLICY_FILE is watched, and a
 * new version is validated in full (schema and notice texts, activities/policy.ts) before it is
 * swapped in for decisions not yet taken. A file that does not validate, or that reuses a version
 * this worker already ran with different content, keeps the policy in force: one log line, and the
 * failure count moves (the worker's `begini_policy_load_failures_total`).
 *
 * Polled (read once a second) rather than evented: an editor's rename-and-replace and a Kubernetes
 * ConfigMap's symlink swap both change what the path names without an event on the old inode.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from '../src/logger';
import { parsePolicy, type PolicyConfigError, type Policy } from './policy';

const MISSING = '\u0000missing';

export interface ActivePolicy {
  policy: Policy;
  /** sha256 hex of the policy's canonical content: the same for two files that mean the same. */
  sha256: string;
}

export interface PolicySource {
  active(): ActivePolicy;
  /** Files refused since the worker started. */
  loadFailures(): number;
  close(): void;
}

export const POLICY_POLL_INTERVAL_MS = 1_000;

/**
 * The hash of what the policy says, after validation and defaults, with object keys sorted:
 * comments, layout, key order and YAML-or-JSON do not change it; any rule, threshold or text does.
 */
export function policySha256(policy: Policy): string {
  return createHash('sha256').update(canonicalJson(policy)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function activePolicy(policy: Policy): ActivePolicy {
  return { policy, sha256: policySha256(policy) };
}

/** A policy that never changes (tests, and callers that hand the worker one already loaded). */
export function fixedPolicy(policy: Policy): PolicySource {
  const active = activePolicy(policy);
  return { active: () => active, loadFailures: () => 0, close: () => undefined };
}

/**
 * Watches `path`, starting from `initial` (already loaded from it). Every version this source has
 * had in force is remembered with its hash, so a file that says an old version with new content is
 * refused: a decision's recorded version must name one content only.
 */
export function watchPolicyFile(
  path: string,
  initial: Policy,
  logger: Logger,
  intervalMs = POLICY_POLL_INTERVAL_MS,
): PolicySource {
  let active = activePolicy(initial);
  const seen = new Map([[active.policy.version, active.sha256]]);
  let failures = 0;
  const log = logger.child({ component: 'policy', policyFile: path });

  const refuse = (problems: string[], reason: string) => {
    failures += 1;
    log.error(
      { reason, problems, policyVersion: active.policy.version, policySha256: active.sha256 },
      'policy file refused; the policy in force stays',
    );
  };
  const reload = (text: string) => {
    let next: ActivePolicy;
    try {
      next = activePolicy(parsePolicy(text, path));
    } catch (err) {
      return refuse((err as PolicyConfigError).problems, 'invalid_policy');
    }
    if (next.sha256 === active.sha256) return;
    const known = seen.get(next.policy.version);
    if (known !== undefined && known !== next.sha256) {
      return refuse(
        [`version ${next.policy.version} was already in force with other content (sha256 ${known})`],
        'policy_version_reused',
      );
    }
    seen.set(next.policy.version, next.sha256);
    log.info(
      { policyVersion: next.policy.version, policySha256: next.sha256, previousVersion: active.policy.version },
      'policy reloaded',
    );
    active = next;
  };
  // Each tick reads the file and goes on only when its bytes changed: one verdict (and at most one
  // failure counted) per content, and a change between the caller's load and this watch is seen.
  let lastRead: string | null = null;
  const tick = () => {
    readFile(path, 'utf8').then(
      (text) => {
        if (text === lastRead) return;
        lastRead = text;
        reload(text);
      },
      (err: Error) => {
        if (lastRead === MISSING) return;
        lastRead = MISSING;
        refuse([err.message], 'unreadable_policy');
      },
    );
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    active: () => active,
    loadFailures: () => failures,
    close: () => clearInterval(timer),
  };
}
