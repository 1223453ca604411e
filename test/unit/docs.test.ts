/**
 * The docs as a newcomer reads them: a pointer from a deployment file to a section of a page finds
 * that section, and a table row has the cells its header names (a test cell that slid into the next
 * row reads as the wrong row's proof).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

function filesUnder(dir: string, pattern: RegExp): string[] {
  return readdirSync(resolve(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => pattern.test(f))
    .map((f) => join(dir, f));
}

/** The files an operator reads beside the docs, which point into them. */
const POINTING_FILES = [
  '.env.example',
  'docker-compose.yml',
  'config/README.md',
  ...filesUnder('deploy', /\.(ya?ml|tf|sh)$/),
];
const PAGES = ['README.md', 'BENCHMARKS.md', ...filesUnder('docs', /\.md$/)];

function headings(page: string): string[] {
  return readFileSync(resolve(ROOT, page), 'utf8')
    .split('\n')
    .filter((line) => /^#{1,4} /.test(line))
    .map((line) => line.replace(/^#+ /, '').trim());
}

test.each(POINTING_FILES)('%s: every `page.md, "Section"` names a section that page has', (file) => {
  const text = readFileSync(resolve(ROOT, file), 'utf8');
  const pointers = [...text.matchAll(/((?:README|BENCHMARKS|docs\/[\w-]+)\.md), "([^"]+)"/g)];
  for (const [, page, section] of pointers) {
    expect({ page, section, found: headings(page!).includes(section!) }).toEqual({ page, section, found: true });
  }
  for (const [page] of text.matchAll(/\b(?:README|BENCHMARKS|docs\/[\w-]+)\.md\b/g)) {
    expect(PAGES).toContain(page);
  }
});

/** A row's cells, not counting pipes inside code spans or escaped ones. */
function cells(row: string): number {
  return row
    .replace(/`[^`]*`/g, 'code')
    .replace(/\\\|/g, '')
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|').length;
}

test.each(PAGES)('%s: every table row has as many cells as its header', (page) => {
  const lines = readFileSync(resolve(ROOT, page), 'utf8').split('\n');
  let header: number | undefined;
  lines.forEach((line, i) => {
    if (!line.startsWith('|')) {
      header = undefined;
      return;
    }
    header ??= cells(line);
    expect({ line: i + 1, cells: cells(line) }).toEqual({ line: i + 1, cells: header });
  });
});
