/**
 * The RFC 4180 subset an outcomes export needs: comma-separated fields, double-quoted fields that
 * may hold commas, quotes ("") and line breaks, CRLF or LF records, an optional UTF-8 BOM. No CSV
 * parser is among the project's dependencies, and this subset is small enough to read by hand.
 * Each record keeps the line it starts on, so a problem can name it.
 */
export interface CsvRecord {
  line: number;
  fields: string[];
}

export type CsvProblem = { reason: 'unterminated_quote' | 'stray_quote'; line: number };

export function readCsv(text: string): { records: CsvRecord[]; problem: CsvProblem | null } {
  const records: CsvRecord[] = [];
  const src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let line = 1;
  let i = 0;
  while (i < src.length) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (src[i] === '"') {
        i += 1;
        for (;;) {
          if (i >= src.length) return { records, problem: { reason: 'unterminated_quote', line: start } };
          if (src[i] === '"' && src[i + 1] === '"') {
            field += '"';
            i += 2;
          } else if (src[i] === '"') {
            i += 1;
            break;
          } else {
            if (src[i] === '\n') line += 1;
            field += src[i++];
          }
        }
        if (i < src.length && !',\r\n'.includes(src[i]!)) return { records, problem: { reason: 'stray_quote', line } };
      } else {
        while (i < src.length && !',\r\n'.includes(src[i]!)) {
          if (src[i] === '"') return { records, problem: { reason: 'stray_quote', line } };
          field += src[i++];
        }
      }
      fields.push(field);
      if (src[i] === ',') {
        i += 1;
        continue;
      }
      break;
    }
    if (src[i] === '\r') i += 1;
    if (src[i] === '\n') i += 1;
    line += 1;
    // A blank line (a trailing newline's empty record among them) is no record.
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: start, fields });
  }
  return { records, problem: null };
}
