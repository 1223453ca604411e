/** The HTTP ceiling: a bare node:http server that verifies the HMAC and answers 200, nothing else. */
import http from 'node:http';
import { verifySignature } from '../src/begini/verifier';

const keys = [{ id: 'bench', secret: process.env.BEGINI_API_KEY! }];
http
  .createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const ok = verifySignature(Buffer.concat(chunks), req.headers['x-signature'], keys).ok;
      res.writeHead(ok ? 200 : 403, { 'content-type': 'application/json' }).end(ok ? '{"status":"accepted"}' : '{}');
    });
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
