// What the tests of the reader of states (read.ts) share: a small state and its figures, the
// answer of a reader that died, and waiting for a condition on another process.
import type { readState } from '../../electron/core/indicators/read.js';
import { istRows, toCsv } from './indicators-fixtures.js';

/** An IST state of three figures (1, 2, 3), as CSV. */
export const small = (): Buffer => toCsv(istRows({ integrite: 1, biens: 2, ordre: 3 }), ';', 'utf-8');
export const SMALL_FIGURES = [1, 2, 3];
/** A reading's figures in order, or its reason. */
export const figures = (r: Awaited<ReturnType<typeof readState>>): number[] | string => (r.recognised ? r.figures.map((f) => f.value).sort((a, b) => a - b) : r.reason);
/** The answer when the reader died while reading (a signal, the heap limit). */
export const HEAP_REASON = 'fichier illisible (mémoire de lecture dépassée ou tableur abîmé)';

export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Waits until `test()` holds, looking every `step` ms, for at most `ms`. */
export async function until(test: () => boolean, ms = 5000, step = 10): Promise<void> {
  for (const end = Date.now() + ms; !test();) {
    if (Date.now() > end) throw new Error('not in time');
    await new Promise((resolve) => setTimeout(resolve, step));
  }
}
