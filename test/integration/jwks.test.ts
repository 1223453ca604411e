/**
 * The identity provider's JWKS over real HTTP on loopback: every way a provider can misbehave is a
 * 503 jwks_unavailable (never a 401 that blames the token), the answer is read only up to a cap,
 * a removed key stops verifying within the keys' maximum age, and no token forces extra fetches.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import { authenticator } from '../../src/auth/authenticator';
import { jwtVerifier } from '../../src/auth/jwt';
import { AuthFailure } from '../../src/auth/principal';
import { JWKS_LIMITS, type RemoteJwksLimits } from '../../src/auth/remoteJwks';

const ISSUER = 'https://idp.test';
const AUDIENCE = 'begini-operators';

let privateKey: KeyLike;
let publicJwk: JWK;
let answer: (req: http.IncomingMessage, res: http.ServerResponse) => void;
let fetches = 0;
let idp: http.Server;
let url: string;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'ES256' };
  idp = http.createServer((req, res) => {
    fetches++;
    answer(req, res);
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
});
afterAll(async () => {
  idp.closeAllConnections();
  await new Promise((r) => idp.close(r));
});
beforeEach(() => {
  fetches = 0;
  answer = serve({ keys: [publicJwk] });
});

const serve = (body: unknown) => (_req: http.IncomingMessage, res: http.ServerResponse) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

const token = (kid = 'idp-1') =>
  new SignJWT({ sub: 'carla@lender', roles: ['viewer'] })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);

const verifier = (limits?: RemoteJwksLimits, path = '/jwks.json') =>
  jwtVerifier({
    jwks: { url: `${url}${path}`, ...(limits && { limits }) },
    issuer: ISSUER,
    audience: AUDIENCE,
    nameClaim: 'sub',
    rolesClaim: 'roles',
  });

async function reasonOf(verify: ReturnType<typeof jwtVerifier>, jwt: string): Promise<string> {
  try {
    await verify(jwt);
    return 'verified';
  } catch (err) {
    if (err instanceof AuthFailure) return err.reason;
    throw err;
  }
}

test('a JWKS that verifies is used', async () => {
  expect(await reasonOf(verifier(), await token())).toBe('verified');
});

test('a huge JWKS is read only up to the cap, then refused as jwks_unavailable', async () => {
  const chunk = Buffer.alloc(1024 * 1024, ' ');
  let written = 0;
  let closed!: () => void;
  const done = new Promise<void>((r) => (closed = r));
  answer = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"keys":[');
    // 200 MiB unless the client stops reading: each write waits for the socket to drain.
    const more = () => {
      while (written < 200 && !res.destroyed) {
        written++;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    res.on('close', closed);
    more();
  };
  expect(await reasonOf(verifier(), await token())).toBe('jwks_unavailable');
  await done;
  expect(written).toBeLessThan(200);
});

test('a declared Content-Length over the cap is refused before reading', async () => {
  answer = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(JWKS_LIMITS.maxBytes + 1) });
    res.write('{');
  };
  expect(await reasonOf(verifier(), await token())).toBe('jwks_unavailable');
});

test('a redirecting provider is jwks_unavailable, and the redirect is not followed', async () => {
  answer = (req, res) => {
    if (req.url === '/jwks.json') return void res.writeHead(302, { location: `${url}/elsewhere.json` }).end();
    serve({ keys: [publicJwk] })(req, res);
  };
  expect(await reasonOf(verifier(), await token())).toBe('jwks_unavailable');
  expect(fetches).toBe(1);
});

test.each([
  ['not JSON', '<html>502 Bad Gateway</html>'],
  ['JSON without keys', '{"hello":"world"}'],
  ['keys that are not objects', '{"keys":[1,2]}'],
])('a provider answering %s is jwks_unavailable', async (_name, body) => {
  answer = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  expect(await reasonOf(verifier(), await token())).toBe('jwks_unavailable');
});

test('a provider answering an error status is jwks_unavailable', async () => {
  answer = (_req, res) => res.writeHead(500).end();
  expect(await reasonOf(verifier(), await token())).toBe('jwks_unavailable');
});

test('a JWKS with more keys than the cap is refused, even when it holds the signing key', async () => {
  const spare = await Promise.all(
    Array.from({ length: JWKS_LIMITS.maxKeys }, async (_, i) => ({
      ...(await exportJWK((await generateKeyPair('ES256')).publicKey)),
      kid: `spare-${i}`,
      alg: 'ES256',
    })),
  );
  answer = serve({ keys: [publicJwk, ...spare] });
  expect(await reasonOf(verifier(), await token())).toBe('jwks_unavailable');
});

test('a key removed from the JWKS stops verifying within the keys’ maximum age', async () => {
  const limits = { ...JWKS_LIMITS, maxAgeMs: 1_000, cooldownMs: 200 };
  const verify = verifier(limits);
  expect(await reasonOf(verify, await token())).toBe('verified');
  const removedAt = Date.now();
  answer = serve({ keys: [] });
  let reason = 'verified';
  while (reason === 'verified' && Date.now() - removedAt < 10_000) {
    reason = await reasonOf(verify, await token());
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(reason).toBe('invalid_token');
  // The bound is the maximum age, plus one fetch and one poll.
  expect(Date.now() - removedAt).toBeLessThan(limits.maxAgeMs + 1_000);
});

test('tokens with unknown key ids fetch at most once per cooldown, whoever sends them', async () => {
  const verify = verifier({ ...JWKS_LIMITS, cooldownMs: 60_000 });
  expect(await reasonOf(verify, await token())).toBe('verified');
  expect(fetches).toBe(1);
  const reasons = await Promise.all(
    Array.from({ length: 50 }, async (_, i) => reasonOf(verify, await token(`x-${i}`))),
  );
  expect(new Set(reasons)).toEqual(new Set(['invalid_token']));
  expect(fetches).toBe(1);
});

test('a provider that is down after the keys’ maximum age is jwks_unavailable: stale keys never verify', async () => {
  const limits = { ...JWKS_LIMITS, maxAgeMs: 300, cooldownMs: 100 };
  const verify = verifier(limits);
  expect(await reasonOf(verify, await token())).toBe('verified');
  answer = (_req, res) => res.writeHead(503).end();
  const since = Date.now();
  let reason = 'verified';
  while (reason === 'verified' && Date.now() - since < 10_000) {
    reason = await reasonOf(verify, await token());
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(reason).toBe('jwks_unavailable');
});

test('requests without a credential, or with one that is not a JWT, never reach the provider', async () => {
  const authenticate = authenticator({
    tokens: null,
    jwt: {
      jwks: { url: `${url}/jwks.json` },
      issuer: ISSUER,
      audience: AUDIENCE,
      nameClaim: 'sub',
      rolesClaim: 'roles',
    },
  });
  const reasons = await Promise.all(
    [undefined, '', 'Basic abc', 'Bearer opaque-token', 'Bearer a.b'].map((header) =>
      authenticate(header).then(
        () => 'verified',
        (err: AuthFailure) => err.reason,
      ),
    ),
  );
  expect(reasons).toEqual([
    'missing_credentials',
    'missing_credentials',
    'missing_credentials',
    'invalid_token',
    'invalid_token',
  ]);
  expect(fetches).toBe(0);
});
