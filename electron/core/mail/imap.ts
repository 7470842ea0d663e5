// Receiving from the functional mailbox over IMAP (docs/mailbox.md section 5): catch up from the
// last UID seen (a new UIDVALIDITY means a rescan), verify and store each .pli attachment, move the
// message to Pli/Traités or Pli/Refusés (never delete), then, with --watch, IDLE and reconnect.
import type { ImapFlow, MessageStructureObject } from 'imapflow';
import type { Readable } from 'node:stream';
import type { DB } from '../profile/profile.js';
import { audit, type Context } from '../services/context.js';
import { PliError } from '../errors.js';
import { requireMailbox, unlockMailboxPassword, type MailboxSettings } from './settings.js';
import { connectionError, imapClient } from './connect.js';
import { ingest, MAX_CONTAINER_BYTES, type IngestResult } from './inbox.js';
import { flushOutbox } from './outbox.js';

export const FOLDER_DONE = ['Pli', 'Traités'];
export const FOLDER_REFUSED = ['Pli', 'Refusés'];
const MOVE_BATCH = 50;

export interface ReceiveOptions {
  as?: string;
  watch?: boolean;
  signal?: AbortSignal;
  password?: string;
  /** Called for every container seen (new or already known). */
  onItem?: (result: IngestResult, origin: string) => void;
  /** Status lines in watch mode (reconnecting, outbox sent...). */
  onStatus?: (line: string) => void;
  /** Called after each catch-up round (tests, benchmark). */
  onRound?: () => void;
  /** Test hook: called when an attachment download has started, before its bytes are read. */
  onDownload?: (uid: number) => Promise<void> | void;
  /** Period of the outbox drain and of the safety re-check in watch mode. */
  tickMs?: number;
}

function findPliParts(node: MessageStructureObject | undefined, out: { part: string; name: string; size: number }[] = []): { part: string; name: string; size: number }[] {
  if (!node) return out;
  const name = node.dispositionParameters?.filename ?? node.parameters?.name ?? '';
  if (node.part && name.toLowerCase().endsWith('.pli')) out.push({ part: node.part, name, size: node.size ?? 0 });
  for (const child of node.childNodes ?? []) findPliParts(child, out);
  return out;
}

const noConnection = (): Error => Object.assign(new Error('Connection not available'), { code: 'NoConnection' });

/** Reads a whole attachment; a connection closing mid-way always fails the read (never hangs, never short). */
async function readAll(client: ImapFlow, stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const onClose = (): void => void stream.destroy(noConnection());
  client.once('close', onClose);
  try {
    if (!client.usable) stream.destroy(noConnection());
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > limit) {
        stream.destroy();
        throw new Error('attachment over the size limit');
      }
      chunks.push(chunk as Buffer);
    }
  } finally {
    client.off('close', onClose);
  }
  // closed during or right after the transfer: maybe short, so never stored; the next round retries
  if (!client.usable) throw noConnection();
  return Buffer.concat(chunks);
}

function getState(db: DB, folder: string): { uidvalidity: string; last_uid: number } | undefined {
  return db.prepare('SELECT uidvalidity, last_uid FROM mail_state WHERE folder = ?').get(folder) as { uidvalidity: string; last_uid: number } | undefined;
}
function setState(db: DB, folder: string, uidvalidity: string, lastUid: number): void {
  db.prepare('INSERT INTO mail_state (folder, uidvalidity, last_uid) VALUES (?, ?, ?) ON CONFLICT(folder) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid')
    .run(folder, uidvalidity, lastUid);
}

async function ensureFolders(client: ImapFlow): Promise<void> {
  const existing = new Set((await client.list()).map((m) => m.path));
  const delimiter = '/';
  for (const folder of [FOLDER_DONE, FOLDER_REFUSED]) {
    if (existing.has(folder.join(delimiter))) continue;
    try {
      await client.mailboxCreate(folder);
    } catch (error) {
      // created meanwhile by another client: fine; anything else surfaces at the MOVE
      if (!/exist/i.test(String((error as { response?: string }).response ?? (error as Error).message))) throw error;
    }
  }
}

/** One catch-up round on the open INBOX. Returns what was seen. */
// One catch-up at a time per profile in this process: a manual "receive" during the IDLE
// watcher's catch-up would otherwise move the same messages twice.
const catchUps = new Map<string, Promise<unknown>>();

function catchUp(ctx: Context, client: ImapFlow, options: ReceiveOptions): Promise<IngestResult[]> {
  const key = ctx.profile.home;
  const previous = catchUps.get(key) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(() => catchUpOnce(ctx, client, options));
  catchUps.set(key, run);
  void run.finally(() => {
    if (catchUps.get(key) === run) catchUps.delete(key);
  }).catch(() => {});
  return run;
}

async function catchUpOnce(ctx: Context, client: ImapFlow, options: ReceiveOptions): Promise<IngestResult[]> {
  const db = ctx.profile.db;
  const mailbox = client.mailbox;
  if (!mailbox) throw new Error('no mailbox selected');
  const uidvalidity = String(mailbox.uidValidity);
  const state = getState(db, 'INBOX');
  let last = state && state.uidvalidity === uidvalidity ? state.last_uid : 0;
  if (!state || state.uidvalidity !== uidvalidity) setState(db, 'INBOX', uidvalidity, 0);
  const results: IngestResult[] = [];
  if (mailbox.exists === 0) return results;
  const found = await client.search({ uid: `${last + 1}:*` }, { uid: true });
  if (!client.usable) throw noConnection();
  const uids = (found || []).filter((u) => u > last).sort((a, b) => a - b);
  if (uids.length === 0) return results;
  let foldersReady = false;
  for (let start = 0; start < uids.length; start += MOVE_BATCH) {
    const batch = uids.slice(start, start + MOVE_BATCH);
    const messages = await client.fetchAll(batch.join(','), { uid: true, bodyStructure: true }, { uid: true });
    if (!client.usable) throw noConnection();
    const toDone: number[] = [];
    const toRefused: number[] = [];
    for (const message of messages.sort((a, b) => a.uid - b.uid)) {
      const parts = findPliParts(message.bodyStructure);
      if (parts.length === 0) continue; // not ours: left untouched in INBOX
      let refused = false;
      for (const part of parts) {
        // base64 is 4/3 of the bytes: anything bigger than the cap is refused without downloading it
        if (part.size > MAX_CONTAINER_BYTES * 1.4) {
          refused = true;
          audit(ctx, { action: 'container.refused', outcome: 'refused', detail: { reason: 'too-big', source: 'imap', origin: `uid ${message.uid} ${part.name}`, encodedBytes: part.size } });
          options.onStatus?.(`Pièce jointe ${part.name} refusée : taille hors limites (message déplacé dans Pli/Refusés).`);
          continue;
        }
        const downloaded = await client.download(String(message.uid), part.part, { uid: true, chunkSize: 1024 * 1024 });
        if (!downloaded || !('content' in downloaded) || !downloaded.content) {
          if (!client.usable) throw noConnection();
          continue;
        }
        await options.onDownload?.(message.uid);
        const bytes = await readAll(client, downloaded.content, MAX_CONTAINER_BYTES);
        const result = await ingest(ctx, bytes, 'imap', `uid ${message.uid} ${part.name}`);
        if (result.row.state === 'refused') refused = true;
        results.push(result);
        options.onItem?.(result, `uid ${message.uid}`);
      }
      (refused ? toRefused : toDone).push(message.uid);
    }
    if (toDone.length + toRefused.length > 0 && !foldersReady) {
      await ensureFolders(client);
      foldersReady = true;
    }
    // Stored first, moved second: a crash in between only means the next round moves them.
    if (toDone.length) await client.messageMove(toDone.join(','), FOLDER_DONE, { uid: true });
    if (toRefused.length) await client.messageMove(toRefused.join(','), FOLDER_REFUSED, { uid: true });
    if (!client.usable) throw noConnection();
    last = batch[batch.length - 1]!;
    setState(db, 'INBOX', uidvalidity, last);
  }
  return results;
}

async function connect(settings: MailboxSettings, password: string): Promise<ImapFlow> {
  const client = imapClient(settings, password);
  try {
    await client.connect();
    await client.mailboxOpen('INBOX');
    return client;
  } catch (error) {
    client.close();
    throw connectionError(error, 'IMAP', settings.imap);
  }
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

/**
 * Receives once (catch-up), or with watch = true until the signal aborts: IDLE, catch-up on each
 * new message, reconnect with backoff after drops, and drain the outbox every tick.
 */
export async function receiveImap(ctx: Context, options: ReceiveOptions = {}): Promise<IngestResult[]> {
  const settings = requireMailbox(ctx.profile.db);
  const password = options.password ?? await unlockMailboxPassword(ctx, options.as);
  const all: IngestResult[] = [];
  if (!options.watch) {
    const client = await connect(settings, password);
    try {
      all.push(...await catchUp(ctx, client, options));
      options.onRound?.();
    } catch (error) {
      throw connectionError(error, 'IMAP', settings.imap);
    } finally {
      client.close();
    }
    return all;
  }

  const tickMs = options.tickMs ?? 30_000;
  let backoff = 1000;
  let lastDrain = 0;
  const drain = async (): Promise<void> => {
    lastDrain = Date.now();
    try {
      const r = await flushOutbox(ctx, { password });
      for (const row of r.sent) options.onStatus?.(`Envoyé : ${row.id} vers ${row.destination}`);
      for (const row of r.failed) options.onStatus?.(`Échec d'envoi : ${row.id} vers ${row.destination} : ${row.last_error}`);
      if (r.error && r.error.kind !== 'temporary') options.onStatus?.(`Envoi impossible : ${r.error.message}`);
    } catch (error) {
      options.onStatus?.(`Envoi impossible : ${(error as Error).message}`);
    }
  };
  while (!options.signal?.aborted) {
    let client: ImapFlow | undefined;
    try {
      client = await connect(settings, password);
      backoff = 1000;
      let wake: () => void = () => undefined;
      const onWake = (): void => wake();
      client.on('exists', onWake);
      client.on('close', onWake);
      options.signal?.addEventListener('abort', onWake, { once: true });
      try {
        for (;;) {
          all.push(...await catchUp(ctx, client, options));
          options.onRound?.();
          if (Date.now() - lastDrain >= tickMs) await drain();
          if (options.signal?.aborted || !client.usable) break;
          const woken = new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, tickMs).unref?.();
          });
          void client.idle().catch(() => undefined);
          await woken;
          if (options.signal?.aborted || !client.usable) break;
        }
      } finally {
        options.signal?.removeEventListener('abort', onWake);
      }
      if (!options.signal?.aborted) options.onStatus?.(`Connexion perdue avec le serveur IMAP ; nouvelle tentative dans ${Math.round(backoff / 1000)} s.`);
    } catch (error) {
      const mapped = error instanceof PliError ? error : connectionError(error, 'IMAP', settings.imap);
      if (mapped.kind !== 'temporary') throw mapped;
      options.onStatus?.(`Connexion perdue (${mapped.message}) ; nouvelle tentative dans ${Math.round(backoff / 1000)} s.`);
    } finally {
      client?.close();
    }
    if (options.signal?.aborted) break;
    await sleep(backoff, options.signal);
    backoff = Math.min(backoff * 2, 30_000);
  }
  return all;
}
