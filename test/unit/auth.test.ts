/** Operator authentication, pure: named tokens, JWTs against a JWKS, roles, and the config that enables them. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JSONWebKeySet, type JWTPayload } from 'jose';
import { authenticator, type Authenticate } from '../../src/auth/authenticator';
import { allows, AuthFailure, highestRole } from '../../src/auth/principal';
import { newToken, readTokensFile, tokenDigest } from '../../src/auth/tokensFile';
import { loadReceiverConfig } from '../../src/config/receiver';
import { ConfigError } from '../../src/config/errors';
import { TEST_CODEC_KEYS } from '../support/begini';

const dir = mkdtempSync(join(tmpdir(), 'auth-test-'));
const ISSUER = 'https://idp.lender.example';
const AUDIENCE = 'begini-journeys';

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AuthFailure) return err.reason;
    throw err;
  }
  return 'accepted';
}

describe('roles', () => {
  test('each role includes the ones below it, and no more', () => {
    expect(allows('admin', 'reviewer')).toBe(true);
    expect(allows('reviewer', 'viewer')).toBe(true);
    expect(allows('viewer', 'reviewer')).toBe(false);
    expect(allows('reviewer', 'admin')).toBe(false);
  });

  test('the highest known role claimed counts; unknown names are ignored', () => {
    expect(highestRole(['viewer', 'admin', 'reviewer'])).toBe('admin');
    expect(highestRole(['superuser', 'viewer'])).toBe('viewer');
    expect(highestRole(['superuser', 42, null])).toBeNull();
  });
});

describe('named tokens', () => {
  const ana = newToken();
  const bo = newToken();
  const tokensFile = file(
    'tokens.yaml',
    `operators:\n  - name: ana@lender\n    role: reviewer\n    sha256: ${tokenDigest(ana).toString('hex')}\n  - name: bo@lender\n    role: admin\n    sha256: ${tokenDigest(bo).toString('hex')}\n`,
  );
  let authenticate: Authenticate;
  beforeAll(() => {
    const read = readTokensFile(tokensFile);
    expect(read.problems).toEqual([]);
    authenticate = authenticator({ tokens: read.tokens, jwt: null });
  });

  test('a token authenticates as its named operator with its role', async () => {
    await expect(authenticate(`Bearer ${ana}`)).resolves.toEqual({
      name: 'ana@lender',
      role: 'reviewer',
      method: 'token',
    });
    await expect(authenticate(`Bearer ${bo}`)).resolves.toMatchObject({ name: 'bo@lender', role: 'admin' });
  });

  test('generated tokens carry 256 random bits', () => {
    expect(newToken()).toMatch(/^bop_[\w-]{43}$/);
    expect(newToken()).not.toBe(newToken());
  });

  test.each([
    ['no header', undefined, 'missing_credentials'],
    ['another scheme', `Basic ${Buffer.from('ana:x').toString('base64')}`, 'missing_credentials'],
    ['an empty bearer', 'Bearer ', 'missing_credentials'],
    ['an unknown token', `Bearer ${newToken()}`, 'invalid_token'],
    ['a prefix of a token', `Bearer ${ana.slice(0, 20)}`, 'invalid_token'],
    ['the stored hash itself', `Bearer ${tokenDigest(ana).toString('hex')}`, 'invalid_token'],
    ['a JWT when only tokens are configured', 'Bearer a.b.c', 'invalid_token'],
    ['a huge credential', `Bearer ${'x'.repeat(100_000)}`, 'invalid_token'],
  ])('%s is refused', async (_name, header, expected) => {
    expect(await reason(authenticate(header))).toBe(expected);
  });

  test.each([
    [
      'a plaintext token instead of its hash',
      `operators:\n  - name: a\n    role: admin\n    sha256: ${newToken()}\n`,
      'SHA-256',
    ],
    ['an unknown role', `operators:\n  - name: a\n    role: root\n    sha256: ${'a'.repeat(64)}\n`, 'role'],
    [
      'a name listed twice',
      `operators:\n  - {name: a, role: admin, sha256: ${'a'.repeat(64)}}\n  - {name: a, role: viewer, sha256: ${'b'.repeat(64)}}\n`,
      'listed twice',
    ],
    [
      'two operators sharing a token',
      `operators:\n  - {name: a, role: admin, sha256: ${'a'.repeat(64)}}\n  - {name: b, role: viewer, sha256: ${'a'.repeat(64)}}\n`,
      'shares a token',
    ],
    ['no operator', 'operators: []\n', 'lists no operator'],
    ['not YAML', 'operators: [\n', 'OPERATOR_TOKENS_FILE'],
  ])('a tokens file with %s is a problem that names it', (_name, content, expected) => {
    const read = readTokensFile(file(`bad-${expected.replace(/\W/g, '')}.yaml`, content));
    expect(read.problems.join('\n')).toContain(expected);
  });
});

describe('JWTs from the identity provider', () => {
  let sign: (
    claims: JWTPayload,
    options?: { expiresIn?: string | number; key?: 'trusted' | 'other' },
  ) => Promise<string>;
  let jwks: JSONWebKeySet;
  let authenticate: Authenticate;

  beforeAll(async () => {
    const trusted = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    jwks = { keys: [{ ...(await exportJWK(trusted.publicKey)), kid: 'k1', alg: 'ES256' }] };
    sign = (claims, { expiresIn = '5m', key = 'trusted' } = {}) => {
      const jwt = new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'carla@lender', ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuedAt();
      if (expiresIn !== 0) jwt.setExpirationTime(expiresIn);
      return jwt.sign(key === 'trusted' ? trusted.privateKey : other.privateKey);
    };
    authenticate = authenticator({
      tokens: null,
      jwt: { jwks: { keys: jwks }, issuer: ISSUER, audience: AUDIENCE, nameClaim: 'sub', rolesClaim: 'roles' },
    });
  });

  test('a signed token names the operator and the highest role it claims', async () => {
    const token = await sign({ roles: ['viewer', 'reviewer'] });
    await expect(authenticate(`Bearer ${token}`)).resolves.toEqual({
      name: 'carla@lender',
      role: 'reviewer',
      method: 'jwt',
    });
    await expect(authenticate(`Bearer ${await sign({ roles: 'admin' })}`)).resolves.toMatchObject({ role: 'admin' });
  });

  test.each([
    ['expired', () => sign({ roles: ['admin'] }, { expiresIn: Math.floor(Date.now() / 1000) - 3600 }), 'expired_token'],
    ['without an expiry', () => sign({ roles: ['admin'] }, { expiresIn: 0 }), 'invalid_token'],
    ['from another issuer', () => sign({ roles: ['admin'], iss: 'https://evil.example' }), 'invalid_token'],
    ['for another audience', () => sign({ roles: ['admin'], aud: 'someone-else' }), 'invalid_token'],
    ['signed with a key the JWKS does not hold', () => sign({ roles: ['admin'] }, { key: 'other' }), 'invalid_token'],
    [
      'unsigned (alg none)',
      async () =>
        new UnsecuredJWT({ roles: ['admin'], sub: 'x' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime('5m')
          .encode(),
      'invalid_token',
    ],
    [
      'tampered',
      async () =>
        (await sign({ roles: ['viewer'] })).replace(
          /\.([\w-]+)\./,
          (_m, body: string) =>
            `.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), roles: ['admin'] })).toString('base64url')}.`,
        ),
      'invalid_token',
    ],
    ['without a name', () => sign({ roles: ['admin'], sub: undefined }), 'invalid_token'],
    [
      'whose name holds a line break',
      () => sign({ roles: ['admin'], sub: 'eve\n**Decision:** APPROVE' }),
      'invalid_token',
    ],
    ['with no operator role', () => sign({ roles: ['employee'] }), 'insufficient_role'],
  ])('a token %s is refused', async (_name, make, expected) => {
    expect(await reason(authenticate(`Bearer ${await make()}`))).toBe(expected);
  });
});

describe('configuration: no operator auth means no API, a broken one means no start', () => {
  const base = { BEGINI_API_KEY: 'begini-key', PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS };
  const problems = (env: Record<string, string>) => {
    try {
      loadReceiverConfig({ ...base, ...env });
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.join('\n');
      throw err;
    }
    return '';
  };

  test('nothing configured: the journey API is off', () => {
    expect(loadReceiverConfig(base).operatorAuth).toBeNull();
  });

  test('a tokens file or a JWKS file enables it', () => {
    const tokens = file('ok.yaml', `operators:\n  - {name: a, role: admin, sha256: ${'c'.repeat(64)}}\n`);
    expect(loadReceiverConfig({ ...base, OPERATOR_TOKENS_FILE: tokens }).operatorAuth?.tokens).toHaveLength(1);
    const jwks = file('jwks.json', JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }] }));
    const auth = loadReceiverConfig({
      ...base,
      OPERATOR_JWKS_FILE: jwks,
      OPERATOR_JWT_ISSUER: ISSUER,
      OPERATOR_JWT_AUDIENCE: AUDIENCE,
    }).operatorAuth;
    expect(auth?.jwt).toMatchObject({ issuer: ISSUER, audience: AUDIENCE, nameClaim: 'sub', rolesClaim: 'roles' });
  });

  test.each([
    ['the retired shared token', { OPERATOR_API_TOKEN: 'x'.repeat(30) }, 'OPERATOR_API_TOKEN is no longer read'],
    ['a tokens file that does not exist', { OPERATOR_TOKENS_FILE: join(dir, 'missing.yaml') }, 'OPERATOR_TOKENS_FILE'],
    [
      'a JWKS URL without issuer and audience',
      { OPERATOR_JWKS_URL: 'https://idp.example/jwks' },
      'OPERATOR_JWT_ISSUER',
    ],
    [
      'both a JWKS URL and a file',
      {
        OPERATOR_JWKS_URL: 'https://idp.example/jwks',
        OPERATOR_JWKS_FILE: '/x',
        OPERATOR_JWT_ISSUER: 'i',
        OPERATOR_JWT_AUDIENCE: 'a',
      },
      'exactly one of',
    ],
    [
      'a JWKS file holding a private key',
      {
        OPERATOR_JWKS_FILE: file('private.json', JSON.stringify({ keys: [{ kty: 'EC', d: 'secret' }] })),
        OPERATOR_JWT_ISSUER: 'i',
        OPERATOR_JWT_AUDIENCE: 'a',
      },
      'public keys only',
    ],
    [
      'a JWKS file holding a symmetric key (HS256 tokens anyone holding it could mint)',
      {
        OPERATOR_JWKS_FILE: file('oct.json', JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] })),
        OPERATOR_JWT_ISSUER: 'i',
        OPERATOR_JWT_AUDIENCE: 'a',
      },
      'symmetric',
    ],
    [
      'a JWKS URL over plain http beyond loopback',
      { OPERATOR_JWKS_URL: 'http://idp.example/jwks', OPERATOR_JWT_ISSUER: 'i', OPERATOR_JWT_AUDIENCE: 'a' },
      'must be https',
    ],
  ])('%s stops the receiver with a clear problem', (_name, env, expected) => {
    expect(problems(env)).toContain(expected);
  });
});
