import vectors from '../../src/begini/signature-vectors.json';
import { sign, verifySignature } from '../../src/begini/verifier';

describe('verifySignature, driven by src/begini/signature-vectors.json', () => {
  test.each(vectors.vectors.map((v) => [v.name, v] as const))('%s', (_name, vector) => {
    const body = Buffer.from(vector.body_base64, 'base64');
    const keys = vector.keys.map((k) => ({ id: k.id, secret: k.key }));
    expect(verifySignature(body, vector.header ?? undefined, keys)).toEqual(vector.expect);
  });

  test('sign() agrees with the vectors', () => {
    const signed = vectors.vectors.filter((v) => v.expect.ok && v.header === v.header?.trim().toLowerCase());
    expect(signed.length).toBeGreaterThan(3);
    for (const v of signed)
      expect(sign(Buffer.from(v.body_base64, 'base64'), v.keys.find((k) => k.id === v.expect.keyId)!.key)).toBe(
        v.header,
      );
  });

  test('a repeated header is refused, never guessed between', () => {
    const body = Buffer.from('{}');
    const good = sign(body, 'k');
    expect(verifySignature(body, [good, good], [{ id: 'a', secret: 'k' }])).toEqual({
      ok: false,
      reason: 'malformed_signature',
    });
  });
});
