/**
 * `--outcomes FILE`: what became of the loans, as the LOS knows it, keyed to the journeys by uidRef.
 * A CSV with a header row of two columns: the applicant, `uid` or `uidRef` (a uid is turned into its
 * uidRef at once and never kept, printed or written), and the label, `defaulted` (true or false) or
 * `days_past_due` (a whole number; bad at `badDpd` or more). Every problem is reported with its
 * reason code and line; none is fatal alone, all of them are listed before the run is refused.
 */
import { readFileSync } from 'node:fs';
import { StartupError } from '../failures';
import { uidRef } from '../logger';
import { readCsv } from './csv';

export const ID_COLUMNS = ['uid', 'uidRef'] as const;
export const LABEL_COLUMNS = ['defaulted', 'days_past_due'] as const;
export type LabelColumn = (typeof LABEL_COLUMNS)[number];
/** Days past due from which a loan counts as bad when `--bad-dpd` is not given: 90+ dpd, the usual default definition. */
export const DEFAULT_BAD_DPD = 90;

export type OutcomesReason =
  | 'unreadable_file'
  | 'unterminated_quote'
  | 'stray_quote'
  | 'empty_file'
  | 'unknown_column'
  | 'duplicate_column'
  | 'missing_id_column'
  | 'missing_label_column'
  | 'wrong_field_count'
  | 'bad_value'
  | 'duplicate_uid';

export interface OutcomesProblem {
  reason: OutcomesReason;
  /** 1-based line of the file the problem is on (the header is line 1). */
  line: number;
  message: string;
}

/** What a known loan turned out as. */
export interface Performance {
  bad: boolean;
  /** Only with a `days_past_due` file. */
  daysPastDue?: number;
}

export interface Outcomes {
  label: LabelColumn;
  /** The threshold a `days_past_due` file was read with; null for `defaulted`. */
  badDpd: number | null;
  byRef: Map<string, Performance>;
}

/** At most this many problems are listed; the count says how many there were. */
const LISTED = 20;

/** The file's problems, each `line N: reason: what`, after one summary line. Never quotes a value. */
export class OutcomesError extends StartupError {
  constructor(
    readonly file: string,
    readonly problems: OutcomesProblem[],
  ) {
    const listed = problems.slice(0, LISTED).map((p) => `\n  line ${p.line}: ${p.reason}: ${p.message}`);
    const more = problems.length > LISTED ? `\n  … ${problems.length - LISTED} more` : '';
    super(
      'invalid_outcomes',
      `--outcomes: ${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}${listed.join('')}${more}`,
    );
  }
}

export function readOutcomesFile(file: string, badDpd: number = DEFAULT_BAD_DPD): Outcomes {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new OutcomesError(file, [
      { reason: 'unreadable_file', line: 0, message: (err as NodeJS.ErrnoException).code ?? 'unreadable' },
    ]);
  }
  const { outcomes, problems } = parseOutcomes(text, badDpd);
  if (problems.length > 0 || !outcomes) throw new OutcomesError(file, problems);
  return outcomes;
}

/** The parse itself, pure, for the unit tests: outcomes when there are no problems. */
export function parseOutcomes(
  text: string,
  badDpd: number,
): { outcomes: Outcomes | null; problems: OutcomesProblem[] } {
  const problems: OutcomesProblem[] = [];
  const { records, problem } = readCsv(text);
  if (problem) problems.push({ ...problem, message: 'the CSV cannot be read past this line' });
  const [header, ...rows] = records;
  if (!header) {
    if (!problem) problems.push({ reason: 'empty_file', line: 1, message: 'no header row' });
    return { outcomes: null, problems };
  }
  const readable = problems.length;
  const columns = header.fields.map((f) => f.trim());
  const known = new Set<string>([...ID_COLUMNS, ...LABEL_COLUMNS]);
  for (const name of columns)
    if (!known.has(name))
      problems.push({
        reason: 'unknown_column',
        line: header.line,
        message: `column "${name.slice(0, 40)}" is none of ${[...known].join(', ')}`,
      });
  const ids = columns.filter((c) => (ID_COLUMNS as readonly string[]).includes(c));
  const labels = columns.filter((c) => (LABEL_COLUMNS as readonly string[]).includes(c));
  for (const [found, kind, names] of [
    [ids, 'id', ID_COLUMNS],
    [labels, 'label', LABEL_COLUMNS],
  ] as const) {
    if (found.length === 0)
      problems.push({
        reason: kind === 'id' ? 'missing_id_column' : 'missing_label_column',
        line: header.line,
        message: `one of ${names.join(', ')} is needed`,
      });
    if (found.length > 1)
      problems.push({
        reason: 'duplicate_column',
        line: header.line,
        message: `one ${kind} column only, found ${found.join(', ')}`,
      });
  }
  // Without a usable header no row can be read.
  if (problems.length > readable) return { outcomes: null, problems };
  const idColumn = columns.indexOf(ids[0]!);
  const label = labels[0] as LabelColumn;
  const labelColumn = columns.indexOf(label);
  const byRef = new Map<string, Performance>();
  const firstLine = new Map<string, number>();
  for (const { line, fields } of rows) {
    if (fields.length !== columns.length) {
      problems.push({
        reason: 'wrong_field_count',
        line,
        message: `${fields.length} fields, the header has ${columns.length}`,
      });
      continue;
    }
    const id = fields[idColumn]!.trim();
    const ref = applicantRef(ids[0]!, id);
    if (ref === null) {
      problems.push({
        reason: 'bad_value',
        line,
        message:
          ids[0] === 'uid' ? 'empty uid' : 'a uidRef is 16 lowercase hexadecimal characters (the logs and reports)',
      });
      continue;
    }
    const performance = labelled(label, fields[labelColumn]!.trim(), badDpd);
    if (!performance) {
      problems.push({
        reason: 'bad_value',
        line,
        message: label === 'defaulted' ? 'defaulted is true or false' : 'days_past_due is a whole number, 0 or more',
      });
      continue;
    }
    const earlier = firstLine.get(ref);
    if (earlier !== undefined) {
      // The line numbers say which rows; the applicant itself is not repeated here.
      problems.push({ reason: 'duplicate_uid', line, message: `the same applicant as line ${earlier}` });
      continue;
    }
    firstLine.set(ref, line);
    byRef.set(ref, performance);
  }
  return {
    outcomes: problems.length ? null : { label, badDpd: label === 'days_past_due' ? badDpd : null, byRef },
    problems,
  };
}

function applicantRef(column: string, value: string): string | null {
  if (column === 'uid') return value ? uidRef(value) : null;
  return /^[0-9a-f]{16}$/.test(value) ? value : null;
}

function labelled(label: LabelColumn, value: string, badDpd: number): Performance | null {
  if (label === 'defaulted') {
    const v = value.toLowerCase();
    return v === 'true' ? { bad: true } : v === 'false' ? { bad: false } : null;
  }
  if (!/^\d+$/.test(value)) return null;
  const daysPastDue = Number(value);
  return { bad: daysPastDue >= badDpd, daysPastDue };
}
