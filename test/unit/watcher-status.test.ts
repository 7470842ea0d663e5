// The background watcher (electron/ipc/watcher.ts) reacts to the core's typed news (MailStatus),
// never to a French sentence: outbox changes refresh the outbox, an impossible send and a lost
// connection reach the interface as error data (code + params, the server's reply as the detail).
import { describe, expect, it, vi } from 'vitest';
import type { MailStatus, ReceiveOptions } from '../../electron/core/mail/imap.js';
import { inputError, temporaryError } from '../../electron/core/errors.js';
import type { MailEvent } from '../../shared/ipc.js';

let script: MailStatus[] = [];
vi.mock('../../electron/core/mail/imap.js', () => ({
  receiveImap: async (_ctx: unknown, options: ReceiveOptions) => {
    options.onRound?.();
    for (const status of script) options.onStatus?.(status);
    // Watch mode runs until the sign-out aborts it.
    await new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve(), { once: true }));
    return [];
  },
}));
vi.mock('../../electron/core/mail/settings.js', () => ({ getMailbox: () => ({}) }));

const { createMailWatcher } = await import('../../electron/ipc/watcher.js');

function run(statuses: MailStatus[]): MailEvent[] {
  script = statuses;
  const events: MailEvent[] = [];
  const session = { active: () => ({ id: 'x' }), opened: () => ({ db: {} }), context: () => ({}) };
  const watcher = createMailWatcher({ emitMailEvent: (event) => events.push(event) }, session as never);
  watcher.start();
  watcher.abort();
  return events;
}

describe('the watcher switches on the kind of the core\'s news', () => {
  it('sent and failed refresh the outbox; the watcher keeps watching, no error', () => {
    const events = run([{ kind: 'sent', id: 1, to: 'a@b.test' }, { kind: 'failed', id: 2, to: 'c@d.test', server: '550 unknown user' }]);
    expect(events.filter((e) => e.type === 'outbox')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'watcher').at(-1)).toEqual({ type: 'watcher', watcher: { state: 'watching', error: null, retryInSeconds: null } });
  });

  it('an impossible send refreshes the outbox and shows its error as data', () => {
    const events = run([{ kind: 'impossible', error: inputError('mail-auth', 'Refusé.', { protocol: 'SMTP', host: 'h', port: 465 }) }]);
    expect(events.some((e) => e.type === 'outbox')).toBe(true);
    expect(events.at(-1)).toEqual({ type: 'watcher', watcher: { state: 'watching', retryInSeconds: null,
      error: { kind: 'input', code: 'mail-auth', message: 'Refusé.', params: { protocol: 'SMTP', host: 'h', port: 465 }, detail: null } } });
  });

  it('a lost connection: reconnecting, the delay as a number, the server\'s reply only as the detail', () => {
    const lost = temporaryError('server-unreachable', 'Injoignable (ECONNREFUSED).', undefined, { protocol: 'IMAP', host: 'h', port: 993, server: 'ECONNREFUSED' });
    const events = run([{ kind: 'reconnecting', retryInSeconds: 4, error: lost }]);
    expect(events.at(-1)).toEqual({ type: 'watcher', watcher: { state: 'reconnecting', retryInSeconds: 4,
      error: { kind: 'temporary', code: 'server-unreachable', message: 'Injoignable (ECONNREFUSED).', params: { protocol: 'IMAP', host: 'h', port: 993 }, detail: 'ECONNREFUSED' } } });
  });

  it('another receive in progress or a refused attachment change nothing on screen (no false "reconnecting")', () => {
    const events = run([{ kind: 'receive-busy', error: temporaryError('receive-busy', 'Occupé.') }, { kind: 'attachment-refused', name: 'gros.pli' }]);
    expect(events.filter((e) => e.type === 'watcher').map((e) => e.type === 'watcher' && e.watcher.state)).toEqual(['starting', 'watching']);
    expect(events.some((e) => e.type === 'outbox')).toBe(false);
  });
});
