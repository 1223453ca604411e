/** Turns an Authorization header into a principal, by named token or by JWT, whichever is configured. */
import { jwtVerifier, type JwtSettings } from './jwt';
import { AuthFailure, type Principal } from './principal';
import { verifyToken, type OperatorToken } from './tokensFile';

export interface OperatorAuthSettings {
  tokens: OperatorToken[] | null;
  jwt: JwtSettings | null;
}

export type Authenticate = (authorization: string | undefined) => Promise<Principal>;

/** A JWT is three base64url segments; an opaque token never contains a dot. */
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;
/** Longer than any real credential: refused before hashing or parsing. */
const MAX_CREDENTIAL_CHARS = 8_192;

export function authenticator(settings: OperatorAuthSettings): Authenticate {
  const verifyJwt = settings.jwt ? jwtVerifier(settings.jwt) : null;
  return async (authorization) => {
    const match = /^Bearer +(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new AuthFailure('missing_credentials', 'send Authorization: Bearer <operator token or JWT>');
    const credential = match[1]!;
    if (credential.length > MAX_CREDENTIAL_CHARS) throw new AuthFailure('invalid_token', 'the credential is too long');
    if (verifyJwt && JWT_SHAPE.test(credential)) return verifyJwt(credential);
    if (settings.tokens) return verifyToken(settings.tokens, credential);
    throw new AuthFailure('invalid_token', 'this receiver accepts only JWTs from its identity provider');
  };
}
