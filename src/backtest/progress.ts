/**
 * A progress bar on stderr, drawn only on a terminal (never in CI or into a pipe or file, where it
 * would be noise in a log). A dozen lines of carriage-return writes; no library does it for less.
 */
export interface Progress {
  /** `n` more journeys read. */
  advance(n?: number): void;
  /** The bar's last state, then a new line. */
  done(): void;
}

const WIDTH = 30;
const REDRAW_MS = 100;

export function progressBar(total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || process.env.CI) return { advance: () => {}, done: () => {} };
  const started = Date.now();
  let count = 0;
  let drawnAt = 0;
  const draw = () => {
    drawnAt = Date.now();
    const share = total > 0 ? Math.min(1, count / total) : 1;
    const filled = Math.round(share * WIDTH);
    const rate = count / Math.max(0.001, (drawnAt - started) / 1000);
    stream.write(
      `\r[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${count}/${total} journeys, ${rate.toFixed(0)}/s `,
    );
  };
  return {
    advance(n = 1) {
      count += n;
      if (Date.now() - drawnAt >= REDRAW_MS) draw();
    },
    done() {
      draw();
      stream.write('\n');
    },
  };
}
