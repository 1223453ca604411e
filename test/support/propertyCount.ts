import { appendFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

const FILE = resolve(__dirname, '..', '..', 'test-results', 'property-cases.log');

/** Records how many generated cases a property ran, so the suite's total can be reported. */
export function recordCases(property: string, runs: number): void {
  mkdirSync(resolve(FILE, '..'), { recursive: true });
  appendFileSync(FILE, `${runs}\t${property}\n`);
}
