/** What each standalone bench script (not part of `npm run bench`) does around its measurement. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Writes `report` to bench/results/<time>-<kind>.json; the file's path. */
export function writeResult(kind: string, report: unknown): string {
  const file = resolve(__dirname, 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}-${kind}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${file}`);
  return file;
}

/** Runs `main` when the file is run as a script: exit 0 when it ends, 1 with the error when it throws. */
export function runScript(module: NodeJS.Module, main: () => Promise<void>): void {
  if (require.main !== module) return;
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
