// The functional mailbox in the background, and sending one round at a time.
//
// While a person is signed in and a mailbox is set, a watcher (receiveImap in watch mode: IDLE,
// reconnection, outbox drain) runs here and pushes each new arrival to the renderer
// (emitMailEvent); it stops at sign-out, which the renderer's idle lock also goes through. The
// watcher unlocks the mailbox password once with the session's key; the events it writes are
// covered by the sign-out checkpoint.
//
// Pli objects (docs/objects.md) are handled without a click: a receipt is recorded, a pushed
// directory applied (and acknowledged) as `receive` does, the signed-in person reading and signing.
//
// Invariant: sending is serialised (`flush`): two rounds must never pick up the same queued row.
import { getMailbox } from '../core/mail/settings.js';
import { ObjectReceiver } from '../core/mail/dispatch.js';
import { flushOutbox, type FlushOptions, type FlushResult } from '../core/mail/outbox.js';
import { receiveImap } from '../core/mail/imap.js';
import type { Context } from '../core/context.js';
import type { WatcherStatus } from '../../shared/ipc.js';
import type { HandlerOptions } from './ports.js';
import type { Session, SessionWatcher } from './session.js';
import { toIpcError } from './views.js';

/** The watcher's safety re-check and outbox drain period (IDLE wakes it at once on new mail). */
const WATCH_TICK_MS = 60_000;
/** How long sign-out waits for the watcher to close its IMAP connection. */
const WATCH_STOP_MS = 3_000;

export type MailWatcher = ReturnType<typeof createMailWatcher>;

export function createMailWatcher(options: Pick<HandlerOptions, 'emitMailEvent'> & Partial<Pick<HandlerOptions, 'home'>>, session: Session) {
  let watcher: { controller: AbortController; done: Promise<void> } | null = null;
  let watcherStatus: WatcherStatus = { state: 'off', error: null, retryInSeconds: null };
  let sending: Promise<unknown> = Promise.resolve();

  const setWatcher = (status: WatcherStatus) => {
    watcherStatus = status;
    options.emitMailEvent({ type: 'watcher', watcher: status });
  };
  const stop = async (): Promise<void> => {
    const running = watcher;
    if (!running) return;
    watcher = null;
    running.controller.abort();
    await Promise.race([running.done, new Promise((resolve) => setTimeout(resolve, WATCH_STOP_MS).unref?.())]);
    setWatcher({ state: 'off', error: null, retryInSeconds: null });
  };
  /** Starts receiving in the background (IDLE) for the signed-in person, when a mailbox is set. */
  const start = (): void => {
    const active = session.active();
    const opened = session.opened();
    if (!active || watcher || !opened || !getMailbox(opened.db)) return;
    const controller = new AbortController();
    const ctx = session.context();
    setWatcher({ state: 'starting', error: null, retryInSeconds: null });
    const done = receiveImap(ctx, {
      as: active.id, watch: true, signal: controller.signal, tickMs: WATCH_TICK_MS,
      onItem: (result) => {
        if (result.isNew) options.emitMailEvent({ type: 'inbox', id: result.row.id, state: result.row.state });
      },
      objects: new ObjectReceiver(ctx, { as: active.id }),
      // A receipt changes what the outbox shows (remis, ouvert); the rest is in the audit log.
      onObject: (result) => {
        if (!controller.signal.aborted && result.kind === 'receipt' && result.result === 'stored') options.emitMailEvent({ type: 'outbox' });
        if (!controller.signal.aborted && result.kind === 'directory' && result.result === 'applied' && typeof result.serial === 'number') options.emitMailEvent({ type: 'directory', serial: result.serial });
      },
      onRound: () => {
        if (!controller.signal.aborted && watcherStatus.state !== 'watching') setWatcher({ state: 'watching', error: null, retryInSeconds: null });
      },
      // The core's news is typed (core/mail/imap.ts MailStatus): react to its kind; the renderer
      // words the error by its code.
      onStatus: (status) => {
        if (controller.signal.aborted) return;
        switch (status.kind) {
          case 'sent':
          case 'failed':
            options.emitMailEvent({ type: 'outbox' });
            break;
          case 'impossible':
            options.emitMailEvent({ type: 'outbox' });
            setWatcher({ state: watcherStatus.state, error: toIpcError(status.error, options.home), retryInSeconds: null });
            break;
          case 'reconnecting':
            setWatcher({ state: 'reconnecting', error: status.error ? toIpcError(status.error, options.home) : null, retryInSeconds: status.retryInSeconds });
            break;
          case 'receive-busy':
          case 'attachment-refused':
          case 'message-refused':
            // Nothing for the screen: another program takes the messages (checked again at the
            // next round); the refused attachment or message is in the audit log and in Pli/Refusés.
            break;
        }
      },
    }).then(() => undefined, (error: unknown) => {
      if (!controller.signal.aborted) setWatcher({ state: 'stopped', error: toIpcError(error, options.home), retryInSeconds: null });
    }).finally(() => {
      if (watcher?.controller === controller) watcher = null;
    });
    watcher = { controller, done };
  };

  const handle: SessionWatcher & { status(): WatcherStatus; flush(ctx: Context, flushOptions: FlushOptions): Promise<FlushResult> } = {
    start,
    stop,
    /** At application quit: no waiting. */
    abort(): void {
      watcher?.controller.abort();
      watcher = null;
    },
    status: () => watcherStatus,
    /** One send at a time (see the header). */
    flush(ctx: Context, flushOptions: FlushOptions): Promise<FlushResult> {
      const run = sending.then(() => flushOutbox(ctx, flushOptions));
      sending = run.catch(() => undefined);
      return run;
    },
  };
  return handle;
}
