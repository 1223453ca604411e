/**
 * The one error hierarchy: whatever we throw on purpose carries a stable snake_case reason, and the
 * entry points' handlers recognise every kind of it by its base class alone.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy } from '../../activities/policy';
import { AuthFailure } from '../../src/auth/principal';
import { JwksUnavailable } from '../../src/auth/remoteJwks';
import { PayloadDecryptionError } from '../../src/codec/aesGcm';
import { ConfigError } from '../../src/config/errors';
import { IntegrationError } from '../../src/errors';
import { EXIT, StartupError, TemporalUnreachableError, UsageError } from '../../src/failures';
import { Rejection } from '../../src/receiver/rejection';

const REASON = /^[a-z]+(_[a-z]+)*$/;

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

test.each([
  ['ConfigError', new ConfigError(['PORT: expected a number'])],
  ['AuthFailure', new AuthFailure('expired_token', 'the token has expired')],
  ['JwksUnavailable', new JwksUnavailable('the JWKS answered HTTP 503')],
  ['PayloadDecryptionError', new PayloadDecryptionError('unknown_key', 'no key k9')],
  ['Rejection', new Rejection(400, 'invalid_body', 'the body is not JSON')],
  ['UsageError', new UsageError('--reason is required')],
  ['TemporalUnreachableError', new TemporalUnreachableError('127.0.0.1:7233', new Error('ECONNREFUSED'))],
])('%s is an IntegrationError with a reason code and its own name', (name, err) => {
  expect(err).toBeInstanceOf(IntegrationError);
  expect(err.reason).toMatch(REASON);
  expect(err.name).toBe(name);
});

test('a bad policy file is a configuration error, so every entry point refuses to start with EX_CONFIG', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'policy-')), 'policy.yaml');
  writeFileSync(file, 'version: 1\nrules: 3\n');
  const err = thrownBy(() => loadPolicy(file));
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).reason).toBe('invalid_policy');
  expect((err as ConfigError).message).toContain(file);
  expect((err as ConfigError).problems.length).toBeGreaterThan(0);
});

test('a failure to start exits with the status its reason maps to', () => {
  expect(new UsageError('x').exitCode).toBe(EXIT.usage);
  expect(new StartupError('port_in_use', 'x').exitCode).toBe(EXIT.portInUse);
  expect(new StartupError('missing_tool', 'x').exitCode).toBe(EXIT.missingTool);
  expect(new TemporalUnreachableError('a:1', 'down').exitCode).toBe(EXIT.unavailable);
});
