import { randomUUID } from 'node:crypto';
import { delivery, DEFAULT_INTEGRATION, malformedSignatures } from './fixtures';
import { scenarios, type Scenario } from './scenarios';
import { send, type SendOptions, type SendResult } from './sender';

export interface RunOptions {
  url: string;
  key: string;
  otherEnvironmentKey?: string;
  integrationId?: string;
  /** For one journey; with --count, the prefix of each journey's uid. */
  uid?: string;
  count?: number;
  concurrency?: number;
  retries?: number;
  backoffMs?: number;
  print?: (line: string) => void;
}

export interface DeliveryOutcome extends SendResult {
  uid: string;
  type: string;
  signing: string;
}

export interface RunSummary {
  scenario: string;
  uids: string[];
  deliveries: DeliveryOutcome[];
  accepted: number;
  rejected: number;
  retried: number;
  /** Every delivery answered as the scenario means it to be. */
  asExpected: boolean;
}

export async function runScenario(name: string, options: RunOptions): Promise<RunSummary> {
  const scenario: Scenario | undefined = scenarios[name];
  if (!scenario) throw new Error(`unknown scenario "${name}"; one of: ${Object.keys(scenarios).join(', ')}`);
  const count = options.count ?? 1;
  const print = options.print ?? (() => undefined);
  const sendOptions: SendOptions = {
    url: options.url,
    key: options.key,
    otherEnvironmentKey: options.otherEnvironmentKey ?? `other-environment-${randomUUID()}`,
    malformedSignature: malformedSignatures()[0]!,
    retries: options.retries ?? 3,
    backoffMs: options.backoffMs ?? 200,
  };
  const uids = Array.from({ length: count }, (_, i) =>
    options.uid ? (count === 1 ? options.uid : `${options.uid}-${i + 1}`) : `SIM-${name}-${randomUUID().slice(0, 8)}`,
  );
  const deliveries: DeliveryOutcome[] = [];

  const journey = async (uid: string) => {
    const now = Math.floor(Date.now() / 1000);
    for (const step of scenario.steps) {
      if (step.pauseMs) await new Promise((r) => setTimeout(r, step.pauseMs));
      const raw = JSON.stringify(
        delivery(step.type, uid, {
          integrationId: options.integrationId ?? DEFAULT_INTEGRATION,
          now: now + (step.at ?? 0),
          details: step.details,
        }),
      );
      const signing = step.signing ?? 'valid';
      const results = await Promise.all(
        Array.from({ length: step.copies ?? 1 }, () => send(raw, signing, sendOptions)),
      );
      for (const result of results) {
        deliveries.push({ ...result, uid, type: step.type, signing });
        print(
          `→ ${step.type.padEnd(28)} ${uid}  sig=${signing.padEnd(17)} ← ${result.status || 'no answer'} ${result.body.slice(0, 120)} (${result.ms} ms, attempt ${result.attempts})`,
        );
      }
    }
  };

  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 1, count)) }, async () => {
      while (next < uids.length) await journey(uids[next++]!);
    }),
  );

  const accepted = deliveries.filter((d) => d.status === 200).length;
  return {
    scenario: name,
    uids,
    deliveries,
    accepted,
    rejected: deliveries.length - accepted,
    retried: deliveries.filter((d) => d.attempts > 1).length,
    asExpected: deliveries.every((d) => (d.status === 200) === scenario.accepted),
  };
}
