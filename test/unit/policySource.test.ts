/**
 * The policy a worker decides by, reloaded from its file: the content hash, and what a changed file
 * does (swapped in, or refused with the old policy kept and the failure counted).
 */
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { loadPolicy, policySchema } from '../../activities/policy';
import { policySha256, watchPolicyFile, type PolicySource } from '../../activities/policySource';
import { createLogger } from '../../src/logger';
import { TEST_DATA_DIR } from '../support/paths';

const SHIPPED = resolve(__dirname, '..', '..', 'activities', 'default-policy.yaml');
const shipped = loadPolicy(SHIPPED);
/** The file as written (durations as text), to write variants of. */
const raw = parseYaml(readFileSync(SHIPPED, 'utf8')) as Record<string, any>;

test('the hash is of the content: comments, layout, key order and YAML or JSON do not change it; a threshold does', () => {
  const dir = mkdtempSync(resolve(TEST_DATA_DIR, 'policy-hash-'));
  const asJson = resolve(dir, 'policy.json');
  const reordered = Object.fromEntries(Object.entries(raw).reverse());
  writeFileSync(asJson, JSON.stringify(reordered, null, 4));
  expect(policySha256(loadPolicy(asJson))).toBe(policySha256(shipped));
  // Defaults are content: a rule that spells out the default priority means the same.
  const explicit = policySchema.parse({
    ...raw,
    rules: raw.rules.map((r: Record<string, unknown>) => ({ ...r, priority: r.priority ?? 100 })),
  });
  expect(policySha256(explicit)).toBe(policySha256(shipped));
  const stricter = { ...shipped, review: { ...shipped.review, deadline: shipped.review.deadline + 1 } };
  expect(policySha256(stricter)).not.toBe(policySha256(shipped));
  expect(policySha256(shipped)).toMatch(/^[0-9a-f]{64}$/);
});

describe('a watched policy file', () => {
  let file: string;
  let source: PolicySource;
  // Atomically, as the docs ask: a reader never sees a half-written file.
  const write = (policy: unknown) => {
    writeFileSync(`${file}.next`, toYaml(policy));
    renameSync(`${file}.next`, file);
  };
  async function until(what: () => boolean): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!what()) {
      if (Date.now() > deadline)
        throw new Error(
          `the source never changed: ${source.active().policy.version}, ${source.loadFailures()} failures`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  beforeEach(() => {
    file = resolve(mkdtempSync(resolve(TEST_DATA_DIR, 'policy-watch-')), 'policy.yaml');
    writeFileSync(file, readFileSync(SHIPPED));
    source = watchPolicyFile(file, loadPolicy(file), createLogger('policy-test', 'silent'), 20);
  });
  afterEach(() => source.close());

  test('a valid new version is swapped in, with its hash', async () => {
    const next = { ...raw, version: 'reference-2026-12', defaultOutcome: 'DECLINE' };
    write(next);
    await until(() => source.active().policy.version === 'reference-2026-12');
    expect(source.active().sha256).toBe(policySha256(policySchema.parse(next)));
    expect(source.loadFailures()).toBe(0);
  });

  test('an invalid file keeps the policy in force and counts the failure', async () => {
    const before = source.active();
    write({ ...raw, version: 'broken', rules: [{ code: 'x', outcome: 'DECLINE', when: {} }] });
    await until(() => source.loadFailures() === 1);
    expect(source.active()).toBe(before);
    // Fixed: the next good file is taken.
    write({ ...raw, version: 'fixed' });
    await until(() => source.active().policy.version === 'fixed');
    expect(source.loadFailures()).toBe(1);
  });

  test('a version already in force with other content is refused', async () => {
    write({ ...raw, version: 'v2' });
    await until(() => source.active().policy.version === 'v2');
    const v2 = source.active().sha256;
    write({ ...raw, version: 'v2', defaultOutcome: 'APPROVE' });
    await until(() => source.loadFailures() === 1);
    expect(source.active()).toMatchObject({ sha256: v2 });
    // The shipped version again with its own content is no conflict: back to it.
    write(raw);
    await until(() => source.active().policy.version === shipped.version);
    expect(source.loadFailures()).toBe(1);
  });
});
