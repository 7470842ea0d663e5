// The functional mailbox (its settings and test), the outbox and the inbox. The mailbox password
// crosses once, renderer → main, in mailbox:set, and is never sent back (the core seals it for the
// workstation's people). Sending goes through the watcher's `flush`: one send at a time.
import path from 'node:path';
import { PliError, inputError } from '../../core/errors.js';
import { getMailbox, readCaFile, setMailbox, unlockMailbox, type MailboxSettings } from '../../core/mail/settings.js';
import { probeMailbox } from '../../core/mail/probe.js';
import { listOutbox, queueSend } from '../../core/mail/outbox.js';
import { listInbox, openInbox, receiveFolder, refusedRoom } from '../../core/mail/inbox.js';
import { receiveImap } from '../../core/mail/imap.js';
import { ANY_FILE, MAX_CA_BYTES, readChosen } from '../files.js';
import { countResults, toEndpoint, toInboxDetails, toInboxItem, toIpcError, toMailboxView, toOutboxDetails, toOutboxItem, toRetentionView } from '../views.js';
import { inboxDetails, outboxDetails } from '../../core/mail/lists.js';
import type { IpcError } from '../../../shared/ipc.js';
import type { Deps, Impl } from './deps.js';

/** The refusals of a stored mailbox row that entering the settings again puts right. */
const UNPROVEN_ROW = new Set(['mailbox-unsealed', 'mailbox-tampered', 'no-profile-key']);

export function mailChannels({ session: s, watcher, shell, emitProgress, emitMailEvent, revealable, chosen }: Deps) {
  /** The mailbox CA chosen in the dialog, held until the settings are saved. */
  let pendingCa: { pem: string; fileName: string } | null = null;
  const done = (opId: string) => emitProgress({ opId, phase: 'done', done: 1, total: 1 });

  return {
    async 'mailbox:get'() {
      const settings = s.exists() ? getMailbox(s.profile().db) : undefined;
      return { settings: settings ? toMailboxView(settings) : null, watcher: watcher.status() };
    },

    async 'mailbox:chooseCa'() {
      s.require();
      const file = await shell.openFile({ title: 'Autorité de certification interne (fichier PEM)', filters: [{ name: 'Certificat PEM', extensions: ['pem', 'crt', 'cer'] }, ANY_FILE] });
      if (!file) return { status: 'cancelled' };
      await readChosen(file, MAX_CA_BYTES, 'un certificat PEM', s.profile().home);
      pendingCa = { pem: readCaFile(file), fileName: path.basename(file) };
      return { status: 'done', fileName: pendingCa.fileName };
    },

    async 'mailbox:set'(request) {
      const active = s.require();
      const ctx = s.context();
      // Kept values (the CA, an empty password) come from the unsealed row, never from the columns as
      // stored: an edited CA or server is refused there instead of being sealed anew (docs/profile.md).
      const stored = getMailbox(ctx.profile.db);
      let existing: Awaited<ReturnType<typeof unlockMailbox>> | undefined;
      if (stored && (request.ca === 'keep' || !request.password)) {
        try {
          existing = await unlockMailbox(ctx, active.id);
        } catch (error) {
          // A row that cannot be proven (saved by an earlier Pli, changed outside Pli, or not
          // sealed for this person) is what these very words ask to enter again: with the
          // password typed, nothing is taken from it, and a CA it names must be chosen again.
          if (!request.password || !(error instanceof PliError) || !UNPROVEN_ROW.has(error.code)) throw error;
          if (request.ca === 'keep' && stored.caPem !== null) {
            throw inputError('ca-choose-again', 'L’autorité de certification enregistrée avec la boîte ne peut pas être reprise telle quelle : cliquez sur « Choisir le fichier de l’autorité… », choisissez-la de nouveau (ou retirez-la), puis enregistrez.');
          }
        }
      }
      let caPem: string | null;
      if (request.ca === 'keep') caPem = existing?.settings.caPem ?? null;
      else if (request.ca === 'none') caPem = null;
      else if (pendingCa) caPem = pendingCa.pem;
      else throw inputError('no-ca-chosen', 'Aucun fichier d’autorité de certification choisi : cliquez sur « Choisir le fichier de l’autorité… », puis enregistrez.');
      const settings: MailboxSettings = {
        imap: toEndpoint(request.imap, 'Serveur IMAP'), smtp: toEndpoint(request.smtp, 'Serveur SMTP'), user: request.user.trim(),
        caPem, maxMessageBytes: Math.round(request.maxMessageMb * 1_000_000),
      };
      let password = request.password;
      if (!password) {
        if (!existing) throw inputError('password-required', 'Mot de passe de la boîte obligatoire au premier réglage : tapez-le, puis enregistrez.');
        // Left empty on edit: unchanged (unsealed above with the session's key, sealed again).
        password = existing.password;
      }
      await watcher.stop();
      await setMailbox(ctx, settings, password);
      pendingCa = null;
      watcher.start();
      return { settings: toMailboxView(settings) };
    },

    async 'mailbox:test'() {
      const active = s.require();
      const lines = await probeMailbox(s.context(), active.id);
      return { lines: lines.map((line) => ({ what: line.what, ok: line.ok, text: line.text, code: line.error?.code ?? null })) };
    },

    async 'outbox:send'(request) {
      const active = s.require();
      chosen.require(request.files);
      const ctx = s.context();
      let folder: string | undefined;
      if (request.transport === 'folder') {
        folder = (await shell.chooseFolder({ title: 'Dossier où déposer le pli (clé USB, partage…)' })) ?? undefined;
        if (!folder) return { status: 'cancelled' };
        s.still(active);
      }
      emitProgress({ opId: request.opId, phase: 'seal', done: 0, total: 0 });
      const convention = request.convention
        ? { convention: request.convention.id, period: request.convention.period, documents: request.convention.documents, ...(request.convention.subject !== undefined ? { subject: request.convention.subject } : {}) }
        : undefined;
      const result = await queueSend(ctx, { as: active.id, to: request.to, files: request.files, folder, self: request.self, ...(convention ? { convention } : {}) });
      emitMailEvent({ type: 'outbox' });
      let sendError: IpcError | null = null;
      if (!folder) {
        const count = result.outboxIds.length;
        emitProgress({ opId: request.opId, phase: 'send', done: 0, total: count });
        const flushed = await watcher.flush(ctx, { as: active.id, force: true, ids: result.outboxIds });
        sendError = flushed.error ? toIpcError(flushed.error) : null;
        emitProgress({ opId: request.opId, phase: 'send', done: count, total: count });
        emitMailEvent({ type: 'outbox' });
      } else {
        revealable.add(folder);
      }
      done(request.opId);
      const items = listOutbox(ctx.profile.db).filter((row) => result.outboxIds.includes(row.id)).map(toOutboxItem);
      return {
        status: 'done', containerId: result.containerId, destinations: result.destinations, size: result.size, warnings: result.warnings, items, sendError,
        ...(result.convention ? { convention: result.convention } : {}),
      };
    },

    async 'outbox:list'() {
      s.require();
      const db = s.profile().db;
      const rows = listOutbox(db);
      return { items: rows.map(toOutboxItem).reverse(), details: (await outboxDetails(db, rows)).map(toOutboxDetails) };
    },

    async 'outbox:flush'(request) {
      const active = s.require();
      const ctx = s.context();
      emitProgress({ opId: request.opId, phase: 'send', done: 0, total: 0 });
      try {
        const result = await watcher.flush(ctx, { as: active.id, force: true, ids: request.ids });
        return { sent: result.sent.length, failed: result.failed.length, pending: result.pending.length, error: result.error ? toIpcError(result.error) : null };
      } finally {
        done(request.opId);
        emitMailEvent({ type: 'outbox' });
      }
    },

    async 'inbox:list'() {
      s.require();
      const db = s.profile().db;
      const rows = listInbox(db);
      return {
        items: rows.map((row) => toInboxItem(db, row)).reverse(), mailbox: getMailbox(db) !== undefined, watcher: watcher.status(), refusedRoom: refusedRoom(db),
        retention: toRetentionView(s.retentionNotice()),
        details: (await inboxDetails(db, rows)).map(toInboxDetails),
      };
    },

    async 'inbox:receive'(request) {
      const active = s.require();
      const ctx = s.context();
      emitProgress({ opId: request.opId, phase: 'receive', done: 0, total: 0 });
      try {
        const results = await receiveImap(ctx, {
          as: active.id,
          onItem: (result) => { if (result.isNew) emitMailEvent({ type: 'inbox', id: result.row.id, state: result.row.state }); },
        });
        return countResults(results);
      } finally {
        done(request.opId);
      }
    },

    async 'inbox:importFolder'(request) {
      const active = s.require();
      const folder = await shell.chooseFolder({ title: 'Dossier contenant les plis reçus (clé USB…)' });
      if (!folder) return { status: 'cancelled' };
      s.still(active);
      const ctx = s.context();
      emitProgress({ opId: request.opId, phase: 'receive', done: 0, total: 0 });
      try {
        // The first few said one by one, the rest counted: a folder of 10,000 links must not make
        // the answer too long for the interface to take (the import itself is done).
        const unreadable: string[] = [];
        let more = 0;
        const results = await receiveFolder(ctx, folder, (result) => {
          if (result.isNew) emitMailEvent({ type: 'inbox', id: result.row.id, state: result.row.state });
        }, undefined, undefined, (_name, reason) => {
          if (unreadable.length < 20) unreadable.push(reason.slice(0, 2000));
          else more++;
        });
        if (more > 0) unreadable.push(`… et ${more} autre${more > 1 ? 's' : ''}.`);
        return { status: 'done', folder, ...countResults(results), unreadable, unreadableCount: unreadable.length - (more > 0 ? 1 : 0) + more };
      } finally {
        done(request.opId);
      }
    },

    async 'inbox:open'(request) {
      const active = s.require();
      const ctx = s.context();
      const outDir = await shell.chooseFolder({ title: 'Dossier où enregistrer les fichiers du pli' });
      if (!outDir) return { status: 'cancelled' };
      s.still(active);
      emitProgress({ opId: request.opId, phase: 'open', done: 0, total: 0 });
      const result = await openInbox(ctx, request.id, outDir, active.id);
      done(request.opId);
      emitMailEvent({ type: 'inbox', id: request.id, state: 'opened' });
      revealable.add(outDir);
      for (const file of result.files) revealable.add(file.path);
      return {
        status: 'done', id: request.id, containerId: result.containerId, senderId: result.senderId, senderName: result.senderName,
        outDir, files: result.files.map((f) => ({ name: f.name, path: f.path, size: f.size, sha256: f.sha256 })),
        convention: result.convention,
      };
    },
  } satisfies Partial<Impl>;
}
