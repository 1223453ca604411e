/**
 * `npm run simulate -- <scenario> [--url] [--key] [--uid] [--integration] [--count N] [--concurrency C]`
 * Signs and sends Begini deliveries to a receiver, by default the local dev stack.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runScenario } from './run';
import { scenarios } from './scenarios';

const usage = `usage: npm run simulate -- <scenario> [options]

scenarios:
${Object.entries(scenarios)
  .map(([name, s]) => `  ${name.padEnd(22)} ${s.description}`)
  .join('\n')}

options:
  --url URL              receiver webhook URL (default http://localhost:\${PORT:-3000}/webhooks/begini)
  --key KEY              API key to sign with (default BEGINI_API_KEY, else the dev stack's .data/dev-api-key)
  --uid UID              the applicant uid (default a fresh SIM-… uid; with --count, a prefix)
  --integration ID       integration_id (default 62137183e877704b06fab0f2)
  --count N              run the scenario for N applicants (default 1)
  --concurrency C        applicants in flight at once (default 1)
  --retries R            retries of a non-200, with backoff, like Begini (default 3)
  --ui URL               Web UI base for links (default http://127.0.0.1:8233)`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      uid: { type: 'string' },
      integration: { type: 'string' },
      count: { type: 'string' },
      concurrency: { type: 'string' },
      retries: { type: 'string' },
      ui: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const name = positionals[0];
  if (values.help || !name || !scenarios[name]) {
    console.error(name && !scenarios[name] ? `unknown scenario "${name}"\n\n${usage}` : usage);
    return values.help ? 0 : 2;
  }
  const devKeyFile = resolve(__dirname, '..', '..', '.data', 'dev-api-key');
  const key =
    values.key ??
    process.env.BEGINI_API_KEY ??
    (existsSync(devKeyFile) ? readFileSync(devKeyFile, 'utf8').trim() : undefined);
  if (!key) {
    console.error('no key: pass --key, set BEGINI_API_KEY, or start `npm run dev` first (it writes .data/dev-api-key)');
    return 2;
  }
  const url = values.url ?? `http://localhost:${process.env.PORT ?? 3000}/webhooks/begini`;
  const positive = (v: string | undefined, fallback: number) => {
    const n = v === undefined ? fallback : Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`expected a whole number, got ${v}`);
    return n;
  };
  console.log(`${name}: ${scenarios[name]!.description} → ${url}`);
  const summary = await runScenario(name, {
    url,
    key,
    uid: values.uid,
    integrationId: values.integration,
    count: Math.max(1, positive(values.count, 1)),
    concurrency: Math.max(1, positive(values.concurrency, 1)),
    retries: positive(values.retries, 3),
    print: (line) => console.log(line),
  });
  const ui = values.ui ?? 'http://127.0.0.1:8233';
  const first = summary.uids[0]!;
  console.log(
    `${summary.asExpected ? 'ok' : 'UNEXPECTED'}: ${summary.scenario} · ${summary.uids.length} journey(s) · ${summary.deliveries.length} deliveries · ${summary.accepted} accepted · ${summary.rejected} rejected · ${summary.retried} retried · ${ui}/namespaces/default/workflows/${encodeURIComponent(first)}`,
  );
  return summary.asExpected ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error((err as Error).message);
    process.exit(2);
  },
);
