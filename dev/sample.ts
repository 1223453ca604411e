/** A signed sample delivery for the dev stack, so the first thing a newcomer sends is a real one. */
import { randomBytes } from 'node:crypto';
import { sign } from '../src/begini/verifier';

export function sampleScoreDelivery(uid: string, integrationId = '62137183e877704b06fab0f2'): string {
  const now = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    uid,
    integration_id: integrationId,
    event: {
      type: 'psychometric_score.complete',
      details: {
        application_started_at: now - 600,
        application_completed_at: now - 300,
        scored_at: now,
        platform: 'WEB',
        calculated: {
          score: 42,
          risk_band: 'B',
          score_confidence: 'HIGH',
          traits: [{ key: 'consistency', value: 7, risk_band: 'A' }],
        },
      },
    },
  });
}

export function generateDevKey(): string {
  return `dev_${randomBytes(24).toString('hex')}`;
}

export function curlCommand(url: string, bodyFile: string, body: string, key: string): string {
  return [
    `curl -sS -X POST ${url}`,
    `-H 'content-type: application/json'`,
    `-H 'x-signature: ${sign(body, key)}'`,
    `--data-binary @${bodyFile}`,
  ].join(' \\\n    ');
}
