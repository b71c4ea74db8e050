/** Progress on stderr, the same for every command that reports it. */

/** "1200/3000 sources, 410/s, ETA 4 s" (no total in tile mode until the end); `unit` names what is counted. */
export function progressLine(done: number, total: number | undefined, seconds: number, unit = 'sources'): string {
  const rate = seconds > 0 ? done / seconds : 0;
  const eta = total === undefined || rate === 0 ? '' : `, ETA ${Math.ceil((total - done) / rate)} s`;
  return `${done}${total === undefined ? '' : `/${total}`} ${unit}, ${rate.toFixed(0)}/s${eta}`;
}

/** `[########------------]` for a fraction done, 20 cells wide. */
export function progressBar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** Progress lines on stderr for `command`: live on a terminal, one every 10 s in a log file (batch jobs), and the last. */
export function stderrProgress(command: string, quiet: boolean, unit?: string): (done: number, total: number | undefined) => void {
  const started = performance.now();
  let lastReport = 0;
  return (done, total) => {
    const now = performance.now();
    const tty = process.stderr.isTTY === true;
    if (quiet || (done !== total && now - lastReport < (tty ? 250 : 10_000))) return;
    lastReport = now;
    const line = progressLine(done, total, (now - started) / 1000, unit);
    process.stderr.write(tty ? `\r${command}: ${total === undefined ? '' : `${progressBar(done / total)} `}${line}${done === total ? '\n' : ''}` : `${command}: ${line}\n`);
  };
}
