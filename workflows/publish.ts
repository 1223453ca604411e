import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { condition, patched, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { auditLines } from './audit';
import { searchAttributes as sa } from './definitions';
import { stageOf, type JourneyState } from './journeyState';
import { markdownText as text } from './markdown';

/** Well under the server's limits, so a replay of any run stays quick. */
const MAX_HISTORY_EVENTS = 2_000;
/**
 * Keyword search attributes are capped by the server (2 KiB by default) and an oversized upsert
 * fails the workflow. Values come from signed deliveries, so each is clipped well below that.
 */
export const MAX_KEYWORD_CHARS = 128;

function keyword(value: string | null | undefined): string | null {
  return value == null ? null : value.slice(0, MAX_KEYWORD_CHARS);
}

/**
 * Bytes as well as events: a few hundred large deliveries stay under the event bound while nearing
 * the server's size limit (50 MB by default; it warns at 10 MB). Below the server's own
 * continue-as-new suggestion (4 MiB by default), which a cluster's dynamic config may raise.
 */
export const MAX_HISTORY_BYTES = 2 * 1024 * 1024;

/**
 * Runs recorded before this patch continued as new by event count (and the server's suggestion)
 * only. Asked only once the byte bound is passed, so no other run gains a marker.
 */
export const CONTINUE_AS_NEW_BY_HISTORY_BYTES = 'continue-as-new-by-history-bytes';

export function historyIsLong(): boolean {
  const info = workflowInfo();
  if (info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS) return true;
  return info.historySize > MAX_HISTORY_BYTES && patched(CONTINUE_AS_NEW_BY_HISTORY_BYTES);
}

/**
 * Journeys recorded before this patch upserted search attributes wherever state changed, up to
 * three times in one workflow task; after it, at most once per task (each upsert is a history
 * event and a billable action). Local-activity steps sit behind the same patch (see journey.ts).
 */
export const ONE_PUBLISH_PER_TASK = 'one-publish-per-task';

export interface Publisher {
  /** Says that what operators see may have changed. */
  (): void;
  /** From here on, changes are pushed once the workflow has run to its next wait. */
  coalesce(): void;
  /** Pushes a pending change now: before the run completes or continues as new. */
  flush(): void;
  /** Holds pushes back while `work` runs: a local activity resolves within the same task. */
  hold<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Wraps the main loop's wait condition: once it holds, pushes wait for the loop's next step to
   * end (`stepDone`), so a signal and the step it causes push once.
   */
  wakeWhen(ready: () => boolean): () => boolean;
  stepDone(): void;
}

/**
 * Pushes what operators see (search attributes and current details) only when it changed, so a
 * duplicate storm does not add an upsert to history per delivery.
 */
export function publisher(journey: JourneyState): Publisher {
  let lastAttributes = '';
  let lastDetails = '';
  let coalescing = false;
  let dirty = false;
  let holds = 0;
  let stepping = false;

  const push = () => {
    dirty = false;
    const pairs = attributesOf(journey);
    const attributes = JSON.stringify(pairs.map((p) => p.value));
    if (attributes !== lastAttributes) {
      upsertSearchAttributes(pairs);
      lastAttributes = attributes;
    }
    const details = describe(journey);
    if (details !== lastDetails) {
      setCurrentDetails(details);
      lastDetails = details;
    }
  };
  const settled = () => dirty && holds === 0 && !stepping;

  const publish = (() => {
    // patched() is asked here, on the first change after the first task, so its marker shares a
    // task (and an action) with the first local activity's instead of adding one to the first task.
    if (coalescing && patched(ONE_PUBLISH_PER_TASK)) dirty = true;
    else push();
  }) as Publisher;
  publish.coalesce = () => {
    if (coalescing) return;
    coalescing = true;
    void (async () => {
      for (;;) {
        await condition(settled);
        // One more round of condition checks: whatever this activation woke (the main loop after a
        // signal, say) runs to its next wait first, so the signal and the step it caused push once.
        await condition(() => true);
        if (settled()) push();
      }
    })();
  };
  publish.flush = () => {
    if (dirty) push();
  };
  publish.wakeWhen = (ready) => () => {
    if (!ready()) return false;
    stepping = true;
    return true;
  };
  publish.stepDone = () => {
    stepping = false;
  };
  publish.hold = async <T>(work: () => Promise<T>): Promise<T> => {
    holds++;
    try {
      return await work();
    } finally {
      holds--;
    }
  };
  return publish;
}

function attributesOf(journey: JourneyState): SearchAttributeUpdatePair[] {
  const latest = Object.values(journey.scores).sort((a, b) => b.scoredAt - a.scoredAt)[0];
  const primary = journey.scores.psychometric ?? latest;
  // Only where a challenger ran: every other journey's upserts stay as they were recorded, and a
  // namespace that never runs one needs no such attribute.
  const arm = journey.experiment ? [{ key: sa.policyArm, value: journey.experiment.arm }] : [];
  return [
    ...arm,
    { key: sa.stage, value: stageOf(journey) },
    { key: sa.integrationId, value: keyword(journey.integrationId) },
    { key: sa.flags, value: journey.flags.length ? [...journey.flags] : null },
    { key: sa.lastEventType, value: keyword(journey.lastEventType) },
    { key: sa.decision, value: journey.decision?.outcome ?? null },
    { key: sa.riskBand, value: keyword(primary?.riskBand) },
    { key: sa.scoreConfidence, value: keyword(primary?.scoreConfidence) },
    { key: sa.platform, value: keyword(primary?.platform) },
    { key: sa.handoff, value: journey.handoff.status === 'not_started' ? null : journey.handoff.status },
    {
      key: sa.reviewSince,
      value: journey.phase === 'in_review' && journey.review ? new Date(journey.review.since) : null,
    },
  ] as SearchAttributeUpdatePair[];
}

function describe(journey: JourneyState): string {
  // Risk bands, confidences and the LOS's error text come from outside; escaped like every other
  // outside text, so the markdown here is only ever this code's.
  const lines = [`**Stage:** ${stageOf(journey)}`];
  const { decision } = journey;
  if (decision) {
    lines.push(
      `**Decision:** ${decision.outcome} (${decision.reasons.map(text).join(', ')}) · policy ${text(decision.policyVersion)} · by ${decision.decidedBy}`,
    );
  }
  const { experiment } = journey;
  if (experiment) {
    const shadow = experiment.shadow
      ? ` · shadow ${experiment.shadow.outcome} (${experiment.shadow.reasons.map(text).join(', ')})`
      : '';
    lines.push(
      `**Policy arm:** ${experiment.arm} (${experiment.mode}, challenger share ${experiment.share} %)${shadow}`,
    );
  }
  const scores = Object.values(journey.scores).map(
    (s) =>
      `${s.kind} ${s.score} band ${text(s.riskBand)}${s.scoreConfidence ? ` confidence ${text(s.scoreConfidence)}` : ''}`,
  );
  if (scores.length) lines.push(`**Scores:** ${scores.join('; ')}`);
  if (journey.phase === 'in_review' && journey.review) {
    lines.push(
      `**Review:** ${text(journey.review.reason)} since ${journey.review.since}${journey.review.deadline ? `, fallback ${journey.review.fallback} at ${journey.review.deadline}` : ''}`,
    );
  }
  lines.push(
    `**Hand-off:** ${journey.handoff.status}${journey.handoff.lastError ? ` (${text(journey.handoff.lastError)})` : ''}`,
  );
  const quarantined = journey.counts.quarantined ? `, ${journey.counts.quarantined} quarantined` : '';
  lines.push(
    `**Deliveries:** ${journey.counts.deliveries} (${journey.counts.duplicates} duplicate, ${journey.counts.late} late${quarantined})`,
  );
  if (journey.flags.length) lines.push(`**Flags:** ${journey.flags.join(', ')}`);
  const audit = auditLines(journey);
  if (audit.length) lines.push(`**Audit (latest):**\n\n${audit.map((line) => `- ${line}`).join('\n')}`);
  return lines.join('\n\n');
}
