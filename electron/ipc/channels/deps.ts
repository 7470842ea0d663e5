// What every share of the channel table is given, and the table's type. Each file of channels/
// returns its share `satisfies Partial<Impl>`; handlers.ts checks that the shares make the whole.
import type { z } from 'zod';
import type { Context } from '../../core/context.js';
import type { Channel, ResponseOf, Progress, contract } from '../../../shared/ipc.js';
import type { HandlerOptions, ShellPort } from '../ports.js';
import type { Session } from '../session.js';
import type { MailWatcher } from '../watcher.js';
import type { OfferedFiles } from '../offered.js';
import type { ChosenFiles } from '../chosen.js';

export type Impl = { [C in Channel]: (request: z.output<(typeof contract)[C]['request']>) => Promise<ResponseOf<C>> };

export interface Deps {
  session: Session;
  watcher: MailWatcher;
  shell: ShellPort;
  emitProgress: HandlerOptions['emitProgress'];
  emitMailEvent: HandlerOptions['emitMailEvent'];
  /** Paths this process wrote or was given: the only ones "show in folder" will reveal. */
  revealable: Set<string>;
  /** The .pli files handed to Pli from outside, by reference (offered.ts). */
  offered: OfferedFiles;
  /** The files the person picked or dropped: the only inputs the interface may name (chosen.ts). */
  chosen: ChosenFiles;
}

const PROGRESS_INTERVAL_MS = 100;

/** A progress callback for the core, throttled to one event per interval (the last always sent). */
export function progress(emit: HandlerOptions['emitProgress'], opId: string, phase: Progress['phase']) {
  let last = 0;
  return (done: number, total: number) => {
    const now = Date.now();
    if (done < total && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    emit({ opId, phase, done, total });
  };
}

export const day = () => new Date().toISOString().slice(0, 10);

/** The same context, giving `password` as the container password (never stored nor logged). */
export const withPassword = (ctx: Context, password: string): Context => ({ ...ctx, unlocker: { ...ctx.unlocker, containerPassword: async () => password } });
