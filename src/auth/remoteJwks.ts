/**
 * The identity provider's JWKS, fetched with bounds. jose 5's createRemoteJWKSet reads the whole
 * answer (a ~180 MB one took the receiver to 715 MiB), counts no keys, follows no redirect but calls
 * the 302 a bad token, and has no hook to change any of that (jose 6's customFetch would need an
 * ESM-only upgrade). So the fetch is ours; the key selection is jose's own local set.
 */
import {
  createLocalJWKSet,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type KeyLike,
} from 'jose';
import { IntegrationError } from '../errors';

export interface RemoteJwksLimits {
  /** The whole answer, in bytes; a provider's set is a few KiB. */
  maxBytes: number;
  maxKeys: number;
  timeoutMs: number;
  /** Keys are refetched this long after a fetch: the bound on how long a removed key still verifies. */
  maxAgeMs: number;
  /** No fetch within this long of a successful one, whatever tokens (unknown key ids included) arrive. */
  cooldownMs: number;
}

export const JWKS_LIMITS: RemoteJwksLimits = {
  maxBytes: 64 * 1024,
  maxKeys: 32,
  timeoutMs: 5_000,
  maxAgeMs: 5 * 60_000,
  cooldownMs: 30_000,
};

/** The provider's keys could not be had (unreachable, redirecting, over a cap, not a JWKS): it can clear. */
export class JwksUnavailable extends IntegrationError<'jwks_unavailable'> {
  constructor(message: string) {
    super('jwks_unavailable', message);
  }
}

type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<KeyLike | Uint8Array>;

export function boundedRemoteJwks(url: URL, limits: RemoteJwksLimits = JWKS_LIMITS): KeyResolver {
  let local: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = -Infinity;
  let pending: Promise<void> | undefined;

  /**
   * One fetch at a time, and none within the cooldown of the last successful one. After a failed
   * fetch the next request tries again (still one at a time), so a provider that comes back is used
   * at once; callers waiting meanwhile share the one fetch in flight.
   */
  async function reload(): Promise<void> {
    if (!pending) {
      if (Date.now() - fetchedAt < limits.cooldownMs) return;
      pending = fetchKeys(url, limits)
        .then((set) => {
          local = createLocalJWKSet(set);
          fetchedAt = Date.now();
        })
        .finally(() => {
          pending = undefined;
        });
    }
    await pending;
  }

  const fresh = () => local !== undefined && Date.now() - fetchedAt < limits.maxAgeMs;

  return async (header, token) => {
    if (!fresh()) await reload();
    // Stale keys never verify: past their age they are as good as removed.
    if (!fresh()) throw new JwksUnavailable('no current keys from the identity provider');
    try {
      return await local!(header, token);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw err;
      const before = fetchedAt;
      await reload();
      if (fetchedAt === before) throw err;
      return local!(header, token);
    }
  };
}

async function fetchKeys(url: URL, limits: RemoteJwksLimits): Promise<JSONWebKeySet> {
  let response: Response;
  try {
    response = await fetch(url, {
      redirect: 'error',
      signal: AbortSignal.timeout(limits.timeoutMs),
      headers: { accept: 'application/json' },
    });
  } catch (err) {
    throw new JwksUnavailable(`the JWKS could not be fetched: ${(err as Error).name}`);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new JwksUnavailable(`the JWKS answered HTTP ${response.status}`);
  }
  const text = await readAtMost(response, limits);
  let set: unknown;
  try {
    set = JSON.parse(text);
  } catch {
    throw new JwksUnavailable('the JWKS is not JSON');
  }
  const keys = (set as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((k) => k !== null && typeof k === 'object' && !Array.isArray(k)))
    throw new JwksUnavailable('the JWKS holds no keys array');
  if (keys.length > limits.maxKeys)
    throw new JwksUnavailable(`the JWKS holds ${keys.length} keys, over ${limits.maxKeys}`);
  return set as JSONWebKeySet;
}

async function readAtMost(response: Response, limits: RemoteJwksLimits): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > limits.maxBytes) {
    await response.body?.cancel();
    throw new JwksUnavailable(`the JWKS is ${declared} bytes, over ${limits.maxBytes}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > limits.maxBytes) throw new JwksUnavailable(`the JWKS is over ${limits.maxBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (err) {
    await response.body?.cancel().catch(() => undefined);
    if (err instanceof JwksUnavailable) throw err;
    throw new JwksUnavailable(`the JWKS could not be read: ${(err as Error).name}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}
