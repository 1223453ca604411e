/**
 * Text shown in the Temporal Web UI, which renders workflow details as markdown. Signed text (a uid,
 * an integration id, a risk band) and operators' words must read as the characters they are, never
 * as formatting, links or HTML: CommonMark lets a backslash escape any ASCII punctuation, so every
 * one is escaped (a code span cannot hold text safely, since a backtick in the text closes it).
 */
export function markdownText(value: string): string {
  return value.replace(/[!-/:-@[-`{-~]/g, (c) => `\\${c}`);
}
