/** The audit trail and redrive as pure logic: bounds, and what a redrive means in each phase. */
import { auditLines, MAX_AUDIT_ENTRIES, operatorOf, recordAudit, SYSTEM } from '../../workflows/audit';
import { startJourney, type JourneyState } from '../../workflows/journeyState';
import { markdownText } from '../../workflows/markdown';
import { applyRedrive, checkRedrive } from '../../workflows/redrive';
import { checkReview } from '../../workflows/review';

const admin = { name: 'ada@lender', role: 'admin' as const, requestId: 'req-1' };
const now = new Date('2026-11-28T12:00:00Z');

function journey(patch: Partial<JourneyState> = {}): JourneyState {
  const state = startJourney(
    {
      uid: 'APP-1',
      integrationId: 'int',
      environment: 'test',
      settings: {
        requiredScores: ['psychometric'],
        scoreGraceMs: 1,
        expiryMs: 1,
        settleMs: 1,
        handoffRetryInitialMs: 1,
      },
    },
    now,
  );
  return Object.assign(state, patch);
}

const decided = {
  decision: {
    outcome: 'APPROVE' as const,
    reasons: [],
    policyVersion: 'v1',
    decidedAt: now.toISOString(),
    decidedBy: 'policy' as const,
  },
};

describe('audit trail', () => {
  test('bounded: past the cap the oldest entries but the first make room, and are counted', () => {
    const state = journey();
    recordAudit(state, SYSTEM.policy, { at: now, action: 'decided', what: 'REFER' });
    for (let i = 0; i < MAX_AUDIT_ENTRIES + 10; i++)
      recordAudit(state, operatorOf(admin, undefined, null), { at: now, action: 'redrive', what: `n${i}`, why: 'x' });
    expect(state.audit).toHaveLength(MAX_AUDIT_ENTRIES);
    expect(state.audit![0]!.action).toBe('decided');
    expect(state.audit!.at(-1)!.what).toBe(`n${MAX_AUDIT_ENTRIES + 9}`);
    expect(state.auditOmitted).toBe(11);
  });

  test('fields are clipped, so a hostile reason cannot grow the state', () => {
    const state = journey();
    const entry = recordAudit(state, operatorOf(undefined, 'n'.repeat(10_000), 'u'.repeat(1_000)), {
      at: now,
      action: 'review',
      what: 'APPROVE',
      why: 'w'.repeat(100_000),
    });
    expect(entry.actor.length).toBeLessThanOrEqual(200);
    expect(entry.requestId!.length).toBeLessThanOrEqual(128);
    expect(entry.why!.length).toBeLessThanOrEqual(500);
    expect(entry.via).toBe('temporal-ui');
  });

  test('an operator’s words cannot forge lines or formatting in the Web UI’s details', () => {
    const state = journey();
    recordAudit(state, operatorOf(admin, undefined, null), {
      at: now,
      action: 'redrive',
      what: 'resend',
      why: 'LOS lost it\n\n**Decision:** DECLINE [click](https://evil.example)\u202e',
    });
    const [line] = auditLines(state);
    expect(line).not.toMatch(/[\n\u202e]/);
    expect(line).not.toContain('**Decision:**');
    expect(line).not.toContain('[click](');
    expect(line).toContain('LOS lost it');
  });

  test('the heaviest trail hostile operators can build stays under 100 KiB of journey state', () => {
    const state = journey();
    const huge = { name: '\u{1F600}'.repeat(1_000), role: 'admin' as const, requestId: 'r'.repeat(1_000) };
    for (let i = 0; i < MAX_AUDIT_ENTRIES * 2; i++)
      recordAudit(state, operatorOf(huge, undefined, null), {
        at: now,
        action: 'redrive',
        what: '\u{1F600}'.repeat(1_000),
        why: '\u{1F600}'.repeat(5_000),
      });
    const bytes = Buffer.byteLength(JSON.stringify({ audit: state.audit, auditOmitted: state.auditOmitted }));
    console.log(`heaviest audit trail: ${bytes} bytes`);
    expect(bytes).toBeLessThan(100 * 1024);
  });

  test('a review names either the principal (actor) or, from the Web UI, a typed reviewer; never both', () => {
    const state = journey({ phase: 'in_review' });
    expect(checkReview(state, { outcome: 'APPROVE', actor: { ...admin, role: 'reviewer' } }, new Date()).ok).toBe(true);
    expect(checkReview(state, { outcome: 'APPROVE', reviewer: 'typed' }, new Date()).ok).toBe(true);
    expect(checkReview(state, { outcome: 'APPROVE', actor: admin, reviewer: 'typed' }, new Date()).ok).toBe(false);
    expect(checkReview(state, { outcome: 'APPROVE', actor: { ...admin, role: 'viewer' } }, new Date()).ok).toBe(false);
    expect(checkReview(state, { outcome: 'APPROVE' }, new Date()).ok).toBe(false);
  });
});

describe('redrive', () => {
  test.each([
    ['waiting for scores', journey()],
    [
      'referred, awaiting review',
      journey({
        ...decided,
        phase: 'in_review',
        review: { reason: 'referred', since: '', deadline: null, fallback: null },
      }),
    ],
    [
      'delivering, not failing',
      journey({ ...decided, phase: 'delivering', handoff: { status: 'pending', failedRounds: 0, lastError: null } }),
    ],
    ['closed', journey({ ...decided, phase: 'closed' })],
  ])('%s: not redrivable', (_name, state) => {
    expect(checkRedrive(state, { reason: 'r', actor: admin })).toMatchObject({ ok: false, type: 'NotRedrivable' });
  });

  test.each([
    ['no reason', { actor: admin }],
    ['a blank reason', { reason: '  ', actor: admin }],
    ['a reviewer as actor', { reason: 'r', actor: { ...admin, role: 'reviewer' } }],
  ])('%s: invalid', (_name, request) => {
    expect(checkRedrive(journey({ ...decided, phase: 'settled' }), request)).toMatchObject({
      ok: false,
      type: 'InvalidRedrive',
    });
  });

  test('a delivered decision is resent under the same key: the count of answered decisions steps back', () => {
    const state = journey({ ...decided, phase: 'settled', decisionsDelivered: 1 });
    expect(checkRedrive(state, { reason: 'r', actor: admin }).ok).toBe(true);
    expect(applyRedrive(state, { reason: ' LOS lost it ', actor: admin }, now, null)).toEqual({
      action: 'resend',
      outcome: 'APPROVE',
    });
    expect(state.phase).toBe('delivering');
    expect(state.decisionsDelivered).toBe(0);
    expect(state.audit!.at(-1)).toMatchObject({
      action: 'redrive',
      actor: 'ada@lender',
      role: 'admin',
      why: 'LOS lost it',
      requestId: 'req-1',
    });
  });

  test('a refused decision goes back to delivery as a new attempt (the refusal stays counted)', () => {
    const state = journey({
      ...decided,
      phase: 'in_review',
      decisionsDelivered: 1,
      flags: ['handoff_rejected'],
      review: { reason: 'handoff_rejected', since: '', deadline: null, fallback: null },
    });
    expect(applyRedrive(state, { reason: 'fixed', actor: admin }, now, null).action).toBe('redeliver');
    expect(state).toMatchObject({ phase: 'delivering', decisionsDelivered: 1, flags: [] });
    expect(state.review!.resolvedAt).toBe(now.toISOString());
  });

  test('a failing hand-off is asked to retry now', () => {
    const state = journey({
      ...decided,
      phase: 'delivering',
      handoff: { status: 'failing', failedRounds: 2, lastError: 'x' },
    });
    expect(applyRedrive(state, { reason: 'LOS is back', operator: 'ops' }, now, 'upd-1').action).toBe('retry_now');
    expect(state.retryHandoffNow).toBe(true);
    expect(state.audit!.at(-1)).toMatchObject({
      action: 'handoff_retry',
      via: 'temporal-ui',
      actor: 'ops',
      requestId: 'upd-1',
    });
  });
});

describe('markdownText', () => {
  test.each([
    ['a code span closed by a backtick', 'APP`**Decision: APPROVE**`', 'APP\\`\\*\\*Decision\\: APPROVE\\*\\*\\`'],
    ['a link', '[click](http://x)', '\\[click\\]\\(http\\:\\/\\/x\\)'],
    ['HTML', '<img src=x>', '\\<img src\\=x\\>'],
    ['a backslash that would unescape the next character', '\\*', '\\\\\\*'],
  ])('%s reads as its characters', (_name, value, escaped) => {
    expect(markdownText(value)).toBe(escaped);
  });

  test('letters, digits, spaces and non-ASCII pass unchanged', () => {
    expect(markdownText('APP 123 Jos\u00e9')).toBe('APP 123 Jos\u00e9');
  });

  test('every ASCII punctuation character is escaped, so nothing in signed text is markup', () => {
    for (let code = 0x21; code <= 0x7e; code++) {
      const c = String.fromCharCode(code);
      if (/[A-Za-z0-9]/.test(c)) expect(markdownText(c)).toBe(c);
      else expect(markdownText(c)).toBe(`\\${c}`);
    }
  });
});
