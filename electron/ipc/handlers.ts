// The IPC handler table: every request the interface can make, over the core services. This file
// only assembles it; each job has its file:
//   ports.ts    what the table is given (ShellPort, options) and gives back (HandlerTable);
//   session.ts  the profile, the signed-in person's keys (lent, wiped), checkpoints, integrity key;
//   watcher.ts  the mailbox watcher and send serialisation;
//   views.ts    mappers to the contract's shapes; files.ts  the files read and written (never replaced);
//   channels/   the channel bodies, one file per area, each returning its share of the table.
// No Electron import: main binds this table to ipcMain, and the end-to-end tests bind the very same
// table to a loopback HTTP bridge (test/e2e/bridge.ts). Secrets never leave main: the renderer
// learns ids and names; the one secret sent back is a provisioned key file's one-time passphrase,
// which the officer must read on screen to dictate it.
import { z } from 'zod';
import { provideZod } from '../core/zod.js';
import { inputError } from '../core/errors.js';
import { isChannel } from '../../shared/channels.js';
import { contract, type Channel, type Envelope } from '../../shared/ipc.js';
import type { HandlerOptions, HandlerTable } from './ports.js';
import { createSession } from './session.js';
import { createMailWatcher } from './watcher.js';
import { toIpcError } from './views.js';
import type { Deps, Impl } from './channels/deps.js';
import { profileChannels } from './channels/profile.js';
import { identityChannels } from './channels/identities.js';
import { containerChannels } from './channels/containers.js';
import { auditChannels } from './channels/audit.js';
import { authorityChannels } from './channels/authority.js';
import { mailChannels } from './channels/mail.js';
import { layoutChannels } from './channels/layout.js';
import { createOfferedFiles } from './offered.js';
import { createChosenFiles } from './chosen.js';
import { indicatorChannels } from './channels/indicators.js';
import { conventionChannels } from './channels/conventions.js';
import { createNotifier } from './notifier.js';
import { listChannels } from './channels/lists.js';

export type { DesktopNotification, HandlerOptions, HandlerTable, ShellPort } from './ports.js';

// This process already holds zod's ES module (the IPC schemas): the core's schemas use it too.
provideZod(z);

export function createHandlers(options: HandlerOptions): HandlerTable {
  const session = createSession(options);
  const watcher = createMailWatcher(options, session);
  session.useWatcher(watcher);
  const deps: Deps = {
    session, watcher, shell: options.shell, emitProgress: options.emitProgress, emitMailEvent: options.emitMailEvent, revealable: new Set<string>(),
    offered: createOfferedFiles(() => options.emitOffered?.()),
    chosen: createChosenFiles(() => session.active()?.id ?? null),
  };
  // Typed as the whole table: a channel of the contract missing from every share fails to compile.
  const impl: Impl = {
    ...profileChannels(deps), ...identityChannels(deps), ...containerChannels(deps),
    ...auditChannels(deps), ...authorityChannels(deps), ...mailChannels(deps),
    ...layoutChannels(deps),
    ...indicatorChannels(deps),
    ...conventionChannels(deps),
    ...listChannels(deps),
  };
  const checkNotifications = createNotifier(session, options.notify);

  return {
    async invoke(channel: string, payload: unknown): Promise<Envelope<Channel>> {
      try {
        // Only the contract's channels, each request parsed against its schema before any work.
        if (!isChannel(channel)) throw inputError('unknown-channel', `Canal inconnu : ${channel.slice(0, 60)}.`);
        const request = contract[channel].request.parse(payload ?? {});
        const run = impl[channel] as (r: unknown) => Promise<unknown>;
        const before = session.active();
        const value = await run(request);
        // Someone just signed in: their due periods are notified at once (then on main's timer).
        if (session.active() !== null && session.active() !== before) void checkNotifications();
        return { ok: true, value } as Envelope<Channel>;
      } catch (error) {
        return { ok: false, error: toIpcError(error, options.home) };
      } finally {
        // Sign the chain head with the session's key when this call used it (session.ts).
        try {
          await session.checkpoint();
        } catch {
          // Never fails the call: the next checkpoint covers these events.
        }
      }
    },
    offerFile(candidate: string): string | null {
      return deps.offered.offer(candidate);
    },
    chooseFile(candidate: unknown): boolean {
      return deps.chosen.choose(candidate);
    },
    checkNotifications,
    close() {
      session.close();
    },
  };
}
