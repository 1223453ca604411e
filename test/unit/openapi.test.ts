/** The committed OpenAPI document is the one the code generates from its own zod schemas. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openApiDocument } from '../../src/receiver/openapi';

test('docs/openapi.json is what the code generates (run npm run openapi after changing a schema)', () => {
  const committed = JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'docs', 'openapi.json'), 'utf8')) as unknown;
  expect(committed).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
});

test('it documents both contracts, with the reason codes integrators see', () => {
  const document = openApiDocument();
  expect(Object.keys(document.paths ?? {})).toEqual(
    expect.arrayContaining([
      '/webhooks/begini',
      '/healthz',
      '/readyz',
      '/journeys',
      '/journeys/{uid}',
      '/journeys/{uid}/review',
    ]),
  );
  const review = document.paths?.['/journeys/{uid}/review']?.post;
  expect(Object.keys(review?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401', '404', '409']));
  expect(JSON.stringify(review?.responses?.['409'])).toContain('application/problem+json');
});
