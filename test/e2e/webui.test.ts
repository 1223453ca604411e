/**
 * A real browser (Debian's Chromium, driven by playwright-core) against the dev server's Web UI:
 * an operator finds a simulated applicant by uid and sees the journey's decision and summary.
 * The screenshots are kept under test-results/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runScenario } from '../../src/simulator/run';
import { startDevServer, type DevServer } from '../../dev/devServer';
import { registerSearchAttributes } from '../../src/temporal/namespace';
import { AesGcmCodec, parseCodecKeys } from '../../src/codec/aesGcm';
import { startCodecServer } from '../../src/codec/server';
import { createLogger } from '../../src/logger';
import { TEST_CODEC_KEYS, TEST_KEY } from '../support/begini';
import { freePort } from '../../src/freePort';
import { startStack, type Stack } from '../support/stack';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = resolve(__dirname, '..', '..', 'test-results', 'screenshots');

const CODEC_TOKEN = 'webui-codec-token-5d2a9c1e7f30';
let server: DevServer;
let codec: { url: string; close(): Promise<void> };
let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const uiPort = await freePort();
  // Payloads are encrypted: the UI shows them only through the codec endpoint, as in `npm run dev`.
  codec = await startCodecServer({
    codec: new AesGcmCodec(parseCodecKeys(TEST_CODEC_KEYS), { acceptPlaintext: true }),
    token: CODEC_TOKEN,
    corsOrigins: [`http://127.0.0.1:${uiPort}`],
    logger: createLogger('codec', 'silent'),
    host: '127.0.0.1',
    port: 0,
  });
  server = await startDevServer({
    port: await freePort(),
    uiPort,
    dbFile: null,
    extraArgs: ['--ui-codec-endpoint', `${codec.url}/codec/${CODEC_TOKEN}`],
  });
  const connection = await Connection.connect({ address: server.address });
  await registerSearchAttributes(connection, 'default');
  await connection.close();
  stack = await startStack({ name: 'webui', temporalAddress: server.address });
  // The flags keep Chromium from reaching for the network, which this machine does not have.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await server?.stop();
  await codec?.close();
});

/** Polls `read` until `ok` holds, returning the last value read either way. */
async function eventually(
  read: () => Promise<string>,
  ok: (text: string) => boolean,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = await read();
  while (!ok(text) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    text = await read();
  }
  return text;
}

/** The summary, details and current details render as markdown in sandboxed frames. */
async function textOfAllFrames(page: Page): Promise<string> {
  const texts = await Promise.all(page.frames().map((frame) => frame.innerText('body').catch(() => '')));
  return texts.join('\n');
}

test('an operator finds a simulated uid in the Web UI and sees its decision and summary, decrypted', async () => {
  const summary = await runScenario('happy', { url: stack.webhookUrl, key: TEST_KEY });
  const uid = summary.uids[0]!;
  await stack.waitForJourney(uid, (v) => v.stage === 'decided');

  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${server.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(`WorkflowId = "${uid}"`)}`);
  const row = page.locator(`a[href*="/workflows/${uid}/"]`).first();
  await row.waitFor({ timeout: 30_000 });
  await page.screenshot({ path: resolve(SCREENSHOTS, 'workflow-list.png') });
  await row.click();

  await page.getByRole('tab', { name: 'User Metadata' }).click();
  const text = await eventually(
    () => textOfAllFrames(page),
    (t) => t.includes('Decision: APPROVE') && t.includes('Begini journey'),
    30_000,
  );
  expect(text).toContain('Decision: APPROVE (low_risk_band)');
  expect(text).toContain('Begini journey (test)');
  expect(text).toContain('Stage: decided');
  expect(await page.getByText('hand APPROVE to LOS').isVisible()).toBe(true);
  await page.screenshot({ path: resolve(SCREENSHOTS, 'journey-user-metadata.png') });

  await page.getByRole('tab', { name: 'Search Attributes' }).click();
  const attributes = await eventually(
    () => page.locator('main').innerText(),
    (t) => t.includes('BeginiDecision'),
    15_000,
  );
  expect(attributes).toContain('"BeginiDecision": "APPROVE"');
  expect(attributes).toContain('"BeginiStage": "decided"');
  await page.screenshot({ path: resolve(SCREENSHOTS, 'journey-search-attributes.png') });
  await page.close();
});
