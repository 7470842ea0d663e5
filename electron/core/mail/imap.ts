// Receiving from the functional mailbox over IMAP (docs/mailbox.md section 5): catch up from the
// last UID seen (a new UIDVALIDITY means a rescan), verify and store each .pli attachment, move the
// message to Pli/Traités or Pli/Refusés (never delete), then, with --watch, IDLE and reconnect.
import type { ImapFlow, MessageStructureObject } from 'imapflow';
import type { Readable } from 'node:stream';
import type { DB } from '../profile/profile.js';
import { audit, type Context } from '../context.js';
import { PliError, temporaryError } from '../errors.js';
import { requireMailbox, unlockMailboxPassword, type MailboxSettings } from './settings.js';
import { connectionError, imapClient, preloadMail, serverAnswer } from './connect.js';
import { inboxDirOf, ingest, IngestBatch, MAX_CONTAINER_BYTES, purgeRefused, type IngestResult } from './inbox.js';
import { flushOutbox } from './outbox.js';
import { holderState, leaseOwner, parseOwner } from './lease.js';
import type { ObjectReceiver, ObjectResult } from './dispatch.js';

export const FOLDER_DONE = ['Pli', 'Traités'];
export const FOLDER_REFUSED = ['Pli', 'Refusés'];
const MOVE_BATCH = 50;
/** SMTP connections used at once for the receipts a receive queued. */
const SEND_LANES = 4;

export interface ReceiveOptions {
  as?: string;
  watch?: boolean;
  signal?: AbortSignal;
  password?: string;
  /** Called for every container seen (new or already known). */
  onItem?: (result: IngestResult, origin: string) => void;
  /** What happens in watch mode (outbox sent, connection lost...), as data: each front end words it. */
  onStatus?: (status: MailStatus) => void;
  /** Pli objects (receipts, directories: docs/objects.md): handled by it, and each new container's
   * receipt queued; released (keys wiped) after each round. */
  objects?: ObjectReceiver;
  /** Called for every Pli object handled. */
  onObject?: (result: ObjectResult) => void;
  /** Called after each catch-up round (tests, benchmark). */
  onRound?: () => void;
  /** Test hook: called when an attachment download has started, before its bytes are read. */
  onDownload?: (uid: number) => Promise<void> | void;
  /** Period of the outbox drain and of the safety re-check in watch mode. */
  tickMs?: number;
  /** How long a catch-up waits for another process's receive on this profile (default 20 s). */
  lockWaitMs?: number;
  /**
   * Each batch of messages stored in one SQLite transaction (IngestBatch: one disk sync per batch,
   * not several per container). Only for a process that writes nothing else to this profile while
   * it receives (the CLI's `pli receive`): any other write of the same process made meanwhile would
   * join the batch's transaction. The desktop app, whose other actions share the connection, leaves it off.
   */
  batchWrites?: boolean;
}

/**
 * The watch mode's news, typed: the CLI prints its French line from it, the interface reacts to
 * the kind and words it through i18n. `server` is a mail server's own reply (outside text).
 */
export type MailStatus =
  /** An outbox row left: `to` is its destination mailbox. */
  | { kind: 'sent'; id: number; to: string }
  /** The server refused an outbox row for good (its reply kept in the row). */
  | { kind: 'failed'; id: number; to: string; server: string | null }
  /** Sending could not run at all (settings, authentication, TLS...): `error` says why. */
  | { kind: 'impossible'; error: Error }
  /** An attachment too big to download: the message went to Pli/Refusés (recorded in the audit log). */
  | { kind: 'attachment-refused'; name: string }
  /**
   * A whole message refused, moved to Pli/Refusés (recorded in the audit log): more than
   * MAX_PLI_PARTS Pli parts (`too-many-parts`, none fetched), or the server refused to give its
   * parts (`fetch-refused`; `server`: its answer, outside text).
   */
  | { kind: 'message-refused'; reason: 'too-many-parts' | 'fetch-refused'; uid: number; parts: number; server?: string }
  /** Another Pli program of this workstation is receiving: it takes the messages; checked again later. */
  | { kind: 'receive-busy'; error: PliError }
  /** The connection was lost: a new attempt in `retryInSeconds` (`error`: why, when known). */
  | { kind: 'reconnecting'; retryInSeconds: number; error: PliError | null };

/** Media types that mark a Pli container even without a .pli file name. */
export const PLI_CONTENT_TYPES = ['application/vnd.pli', 'application/x-pli'];

export interface PliPart { part: string; name: string; size: number; type: string; encoding: string }

function findPliParts(node: MessageStructureObject | undefined, out: PliPart[] = []): PliPart[] {
  if (!node) return out;
  const name = node.dispositionParameters?.filename ?? node.parameters?.name ?? '';
  const type = (node.type ?? '').toLowerCase();
  if (node.part && (name.toLowerCase().endsWith('.pli') || PLI_CONTENT_TYPES.includes(type))) {
    out.push({ part: node.part, name: name || 'pli', size: node.size ?? 0, type, encoding: (node.encoding ?? '').toLowerCase() });
  }
  for (const child of node.childNodes ?? []) findPliParts(child, out);
  return out;
}

/** Quoted-printable to bytes (RFC 2045 6.7): soft line breaks removed, =XX decoded, nothing else touched. */
export function decodeQuotedPrintable(raw: Buffer): Buffer {
  const text = raw.toString('latin1').replace(/[ \t]+(?=\r?\n)/g, '').replace(/=\r?\n/g, '');
  return Buffer.from(text.replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
}

/**
 * The bytes of a text-typed part carrying a container, as sent: only the transfer encoding is
 * undone (imapflow's download would also convert a text part's charset, which corrupts the
 * container). Read whole into memory: its encoded size was checked against the cap already.
 */
async function fetchRawPart(client: ImapFlow, uid: number, part: PliPart): Promise<Buffer> {
  const message = await client.fetchOne(String(uid), { uid: true, bodyParts: [part.part] }, { uid: true });
  if (!client.usable) throw noConnection();
  const raw = message ? message.bodyParts?.get(part.part) : undefined;
  if (!raw) throw noConnection();
  return decodePart(raw, part.encoding);
}

const noConnection = (): Error => Object.assign(new Error('Connection not available'), { code: 'NoConnection' });

/** Attachments at most this big (encoded) come with the others of their batch in one FETCH. */
const INLINE_PART_MAX = 2 * 1024 * 1024;
/** At most this many encoded bytes per batched FETCH... */
const INLINE_FETCH_MAX = 16 * 1024 * 1024;
/**
 * ...and in all, for the messages whose parts are fetched together (inlineWindow): they are held
 * until stored, and 50 messages of 100 parts could otherwise hold gigabytes, whatever each command
 * asks. The next messages' parts are fetched once these are stored.
 */
const INLINE_BATCH_MAX = 16 * 1024 * 1024;
/**
 * At most this many Pli parts in one message (docs/mailbox.md section 5): Pli mails one container
 * per message. A message with more is refused whole (`too-many-parts`), none of its parts fetched.
 */
export const MAX_PLI_PARTS = 100;
/** At most this many body parts named in one FETCH command... */
const FETCH_PARTS_MAX = 25;
/** ...and at most this many characters of part names (servers cap a command line: Dovecot at 64 KB). */
const FETCH_PARTS_CHARS_MAX = 2048;

/** The bytes of a part from its transfer encoding (the raw body section as the server sent it). */
function decodePart(raw: Buffer, encoding: string): Buffer {
  if (encoding === 'base64') return Buffer.from(raw.toString('latin1'), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(raw);
  return raw;
}

/** Server answers that say "not now" (RFC 5530, throttling): the round fails and is run again later. */
const TEMPORARY_ANSWERS = new Set(['UNAVAILABLE', 'INUSE', 'THROTTLED', 'SERVERBUG']);

/**
 * Whether a failed command was the server refusing it (a tagged NO or BAD, the connection still
 * up) for a reason other than "not now": then it is about what was asked, e.g. one message's parts.
 * A connection lost, a timeout, a throttled or unavailable server is never that.
 */
function refusedByServer(client: ImapFlow, error: unknown): boolean {
  if (!client.usable || error === null || typeof error !== 'object') return false;
  const e = error as { responseStatus?: unknown; serverResponseCode?: unknown; code?: unknown };
  if (e.responseStatus !== 'NO' && e.responseStatus !== 'BAD') return false;
  if (e.code === 'ETHROTTLE') return false;
  return !(typeof e.serverResponseCode === 'string' && TEMPORARY_ANSWERS.has(e.serverResponseCode.toUpperCase()));
}

/**
 * A message's parts cut into the lists one FETCH names: at most FETCH_PARTS_MAX parts,
 * FETCH_PARTS_CHARS_MAX characters of part names and INLINE_FETCH_MAX encoded bytes each (every
 * part here is at most INLINE_PART_MAX: each list holds at least one).
 */
function fetchSlices(parts: PliPart[]): PliPart[][] {
  const slices: PliPart[][] = [];
  let slice: PliPart[] = [];
  let bytes = 0;
  let chars = 0;
  for (const part of parts) {
    const length = part.part.length + ' BODY.PEEK[]'.length;
    if (slice.length > 0 && (slice.length >= FETCH_PARTS_MAX || bytes + part.size > INLINE_FETCH_MAX || chars + length > FETCH_PARTS_CHARS_MAX)) {
      slices.push(slice);
      slice = [];
      bytes = 0;
      chars = 0;
    }
    slice.push(part);
    bytes += part.size;
    chars += length;
  }
  if (slice.length > 0) slices.push(slice);
  return slices;
}

/**
 * The next messages whose small parts are fetched together (fetchSmallParts), from `from` on: the
 * parts at most INLINE_PART_MAX, while their encoded sizes add up to at most INLINE_BATCH_MAX (the
 * first message always, its parts past the bound streamed alone in their turn, as big ones are).
 * `end`: the first message not in this window.
 */
export function inlineWindow(messages: { uid: number; parts: PliPart[] }[], from: number): { end: number; messages: { uid: number; parts: PliPart[] }[] } {
  let total = 0;
  const window: { uid: number; parts: PliPart[] }[] = [];
  let end = from;
  for (; end < messages.length; end++) {
    let parts = messages[end]!.parts.filter((p) => p.size <= INLINE_PART_MAX);
    const bytes = parts.reduce((n, p) => n + p.size, 0);
    if (total + bytes > INLINE_BATCH_MAX) {
      if (window.length > 0) break;
      // Alone and still past the bound: its first parts up to it.
      let kept = 0;
      let count = 0;
      while (count < parts.length && kept + parts[count]!.size <= INLINE_BATCH_MAX) kept += parts[count++]!.size;
      parts = parts.slice(0, count);
    }
    total += bytes;
    window.push({ uid: messages[end]!.uid, parts });
  }
  return { end, messages: window };
}

interface SmallParts {
  /** uid -> part -> bytes. */
  parts: Map<number, Map<string, Buffer>>;
  /** uid -> the server's answer, for the messages whose parts the server refused to give. */
  refused: Map<number, string>;
}

/**
 * The small Pli parts of these messages, fetched raw in few commands and decoded here (as
 * fetchRawPart: no charset conversion). Messages whose part lists are the same share commands;
 * each command names a bounded list (fetchSlices: its line stays a few KB) and asks for at most
 * INLINE_FETCH_MAX encoded bytes, the first message's included. An IMAP literal arrives whole or
 * not at all: a connection lost mid-way fails the fetch (checked with client.usable), never gives
 * a short part. A command the server refuses (refusedByServer) is asked again message by message;
 * a message whose own command is refused is in `refused` (its problem, not the round's); anything
 * else (connection lost, server unavailable) fails the round, which is run again later.
 */
async function fetchSmallParts(client: ImapFlow, messages: { uid: number; parts: PliPart[] }[], options: ReceiveOptions): Promise<SmallParts> {
  const out: SmallParts = { parts: new Map(), refused: new Map() };
  const groups = new Map<string, { uid: number; parts: PliPart[]; bytes: number }[]>();
  for (const m of messages) {
    for (const slice of fetchSlices(m.parts)) {
      const key = slice.map((p) => p.part).join(' ');
      groups.set(key, [...(groups.get(key) ?? []), { uid: m.uid, parts: slice, bytes: slice.reduce((n, p) => n + p.size, 0) }]);
    }
  }
  const fetchInto = async (chunk: { uid: number; parts: PliPart[] }[]): Promise<void> => {
    await options.onDownload?.(chunk[0]!.uid);
    // Each message decoded as it arrives (not fetchAll): its raw, encoded copy is garbage at once,
    // not held with the whole command's (a receive's peak memory, bench/README.md). What a failed
    // command had given is dropped with it: kept only once the command has ended.
    const decoded = new Map<number, Map<string, Buffer>>();
    const wantedOf = new Map(chunk.map((m) => [m.uid, m]));
    for await (const message of client.fetch(chunk.map((m) => m.uid).join(','), { uid: true, bodyParts: chunk[0]!.parts.map((p) => p.part) }, { uid: true })) {
      const wanted = wantedOf.get(message.uid);
      if (!wanted) continue;
      const got = decoded.get(message.uid) ?? new Map<string, Buffer>();
      for (const part of wanted.parts) {
        const raw = message.bodyParts?.get(part.part);
        if (raw) got.set(part.part, decodePart(raw, part.encoding));
      }
      decoded.set(message.uid, got);
    }
    if (!client.usable) throw noConnection();
    for (const [uid, got] of decoded) out.parts.set(uid, new Map([...(out.parts.get(uid) ?? []), ...got]));
  };
  for (const group of groups.values()) {
    for (let i = 0; i < group.length;) {
      const chunk: typeof group = [];
      let bytes = 0;
      while (i < group.length && !out.refused.has(group[i]!.uid) && (chunk.length === 0 || bytes + group[i]!.bytes <= INLINE_FETCH_MAX)) {
        bytes += group[i]!.bytes;
        chunk.push(group[i++]!);
      }
      if (chunk.length === 0) {
        i++; // a message already refused: nothing more of it is asked
        continue;
      }
      try {
        await fetchInto(chunk);
      } catch (error) {
        if (!refusedByServer(client, error)) throw error;
        if (chunk.length === 1) {
          out.refused.set(chunk[0]!.uid, serverAnswer(error));
          continue;
        }
        // Which message the server refuses: each alone.
        for (const m of chunk) {
          try {
            await fetchInto([m]);
          } catch (alone) {
            if (!refusedByServer(client, alone)) throw alone;
            out.refused.set(m.uid, serverAnswer(alone));
          }
        }
      }
    }
  }
  for (const uid of out.refused.keys()) out.parts.delete(uid);
  return out;
}

/** One attachment alone: streamed (a big container), or raw for a text-typed part; null if gone. */
async function downloadPart(client: ImapFlow, uid: number, part: PliPart, options: ReceiveOptions): Promise<Buffer | null> {
  if (part.type.startsWith('text/')) {
    // A container sent as text: raw bytes, whatever the declared charset.
    await options.onDownload?.(uid);
    return fetchRawPart(client, uid, part);
  }
  const downloaded = await client.download(String(uid), part.part, { uid: true, chunkSize: 1024 * 1024 });
  if (!downloaded || !('content' in downloaded) || !downloaded.content) {
    if (!client.usable) throw noConnection();
    return null;
  }
  await options.onDownload?.(uid);
  return readAll(client, downloaded.content, MAX_CONTAINER_BYTES);
}

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
      if (!/exist/i.test(serverAnswer(error))) throw error;
    }
  }
}

/** The receive lock's lease, renewed while held: a holder on another host that died frees it after this. */
export const RECEIVE_LOCK_MS = 2 * 60_000;
const RECEIVE_LOCK = 'receive';

/**
 * Takes the profile's receive lock (table mail_lock) in one BEGIN IMMEDIATE transaction: free,
 * expired, or held by a process of this host that is gone. Returns the holder's owner when it is
 * taken by someone alive.
 */
export function tryReceiveLock(db: DB, now = Date.now()): { taken: true } | { taken: false; holder: string } {
  const owner = leaseOwner();
  return db.transaction(() => {
    const held = db.prepare('SELECT owner, expires_at FROM mail_lock WHERE name = ?').get(RECEIVE_LOCK) as { owner: string; expires_at: number } | undefined;
    // Our own process: the in-process queue (catchUps) already serialises its rounds.
    if (held && held.owner !== owner && held.expires_at > now && holderState(held.owner) !== 'gone') return { taken: false as const, holder: held.owner };
    db.prepare('INSERT INTO mail_lock (name, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at')
      .run(RECEIVE_LOCK, owner, now + RECEIVE_LOCK_MS);
    return { taken: true as const };
  }).immediate();
}

export function releaseReceiveLock(db: DB): void {
  db.prepare('DELETE FROM mail_lock WHERE name = ? AND owner = ?').run(RECEIVE_LOCK, leaseOwner());
}

const receiveBusy = (holder: string): PliError => {
  const pid = parseOwner(holder)?.pid;
  return temporaryError('receive-busy', `Une réception est déjà en cours sur ce poste${pid ? ` (processus ${pid})` : ''} pour ce profil : rien n'a été relevé par celle-ci. Réessayez dans quelques instants.`);
};

/** Runs `run` holding the receive lock, waiting at most `waitMs` for another process to finish. */
async function withReceiveLock<T>(ctx: Context, waitMs: number, run: () => Promise<T>): Promise<T> {
  const db = ctx.profile.db;
  const deadline = Date.now() + waitMs;
  for (;;) {
    const attempt = tryReceiveLock(db);
    if (attempt.taken) break;
    if (Date.now() >= deadline) throw receiveBusy(attempt.holder);
    await new Promise((r) => setTimeout(r, 250));
  }
  const renew = setInterval(() => {
    try {
      db.prepare('UPDATE mail_lock SET expires_at = ? WHERE name = ? AND owner = ?').run(Date.now() + RECEIVE_LOCK_MS, RECEIVE_LOCK, leaseOwner());
    } catch {
      // a busy database now: the next tick renews, well before the lease runs out
    }
  }, RECEIVE_LOCK_MS / 4);
  renew.unref?.();
  try {
    return await run();
  } finally {
    clearInterval(renew);
    releaseReceiveLock(db);
  }
}

/** One catch-up round on the open INBOX. Returns what was seen. */
// One catch-up at a time per profile in this process: a manual "receive" during the IDLE
// watcher's catch-up would otherwise move the same messages twice. Across processes, the receive
// lock in the database does the same (docs/mailbox.md section 5).
const catchUps = new Map<string, Promise<unknown>>();

function catchUp(ctx: Context, client: ImapFlow, options: ReceiveOptions, sendQueued?: () => Promise<void>): Promise<IngestResult[]> {
  const key = ctx.profile.home;
  const previous = catchUps.get(key) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(() => withReceiveLock(ctx, options.lockWaitMs ?? 20_000, () => catchUpOnce(ctx, client, options, sendQueued)));
  catchUps.set(key, run);
  void run.finally(() => {
    if (catchUps.get(key) === run) catchUps.delete(key);
  }).catch(() => {});
  return run;
}

/**
 * `sendQueued`: sends the receipts queued so far; called after each batch is stored and moved, and
 * left running while the next batch is fetched and stored (the SMTP answers overlap the IMAP
 * ones), one call at a time. With batchWrites, its outbox writes join the next batch's
 * transaction: a crash before that commit sends them again (same Message-ID; a receipt is stored
 * once however often it arrives: docs/objects.md 3).
 */
async function catchUpOnce(ctx: Context, client: ImapFlow, options: ReceiveOptions, sendQueued?: () => Promise<void>): Promise<IngestResult[]> {
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
  let sending: Promise<void> = Promise.resolve();
  try {
    for (let start = 0; start < uids.length; start += MOVE_BATCH) {
    const batch = uids.slice(start, start + MOVE_BATCH);
    const messages = await client.fetchAll(batch.join(','), { uid: true, bodyStructure: true, envelope: true }, { uid: true });
    if (!client.usable) throw noConnection();
    messages.sort((a, b) => a.uid - b.uid);
    // The small attachments in a few FETCH commands (not one round trip each), for as many
    // messages as INLINE_BATCH_MAX allows at a time (inlineWindow); big ones are streamed one by
    // one below, never held together in memory.
    // A message with more Pli parts than MAX_PLI_PARTS is refused below: none of them is fetched.
    const wanted = messages.map((m) => {
      const parts = findPliParts(m.bodyStructure);
      return { uid: m.uid, parts: parts.length > MAX_PLI_PARTS ? [] : parts };
    });
    const inline: SmallParts = { parts: new Map(), refused: new Map() };
    let fetchedUpTo = 0;
    const fetchWindow = async (from: number): Promise<void> => {
      const window = inlineWindow(wanted, from);
      const got = await fetchSmallParts(client, window.messages, options);
      for (const [uid, parts] of got.parts) inline.parts.set(uid, parts);
      for (const [uid, answer] of got.refused) inline.refused.set(uid, answer);
      fetchedUpTo = window.end;
    };
    await fetchWindow(0);
    const toDone: number[] = [];
    const toRefused: number[] = [];
    // With batchWrites, the batch's rows, receipts and events in one transaction (IngestBatch);
    // what is reported waits for its commit (a rolled-back row is never announced).
    const tx = options.batchWrites ? new IngestBatch(db, inboxDirOf(ctx)) : undefined;
    const announce: (() => void)[] = [];
    const report = (f: () => void): void => void (tx ? announce.push(f) : f());
    // The receipts of what was stored: one per sender for the batch (docs/objects.md 3.1), made
    // before the rows commit (with batchWrites, inside the same transaction): a container stored
    // is never left without its receipt, whatever moment a kill comes.
    const receiptsDone = async (): Promise<void> => {
      await options.objects?.receiptsForBatch();
    };
    tx?.begin();
    try {
      for (const [index, message] of messages.entries()) {
        if (index >= fetchedUpTo) {
          // The next messages' small parts, once those before are stored: no write lock is held
          // while they download (as for a big one, below).
          await receiptsDone();
          await tx?.commit();
          try {
            await fetchWindow(index);
          } finally {
            tx?.begin();
          }
        }
        const parts = findPliParts(message.bodyStructure);
        if (parts.length === 0) continue; // not ours: left untouched in INBOX
        let refused = false;
        // The sender as the message claims it: recorded with refused input (not proof of anything).
        const from = message.envelope?.from?.[0]?.address;
        const origin = (part: PliPart): string => `uid ${message.uid} ${part.name}${from ? ` de ${from}` : ''}`;
        // The whole message refused, none of its parts stored (the parts already stored stay).
        const refuseMessage = (reason: 'too-many-parts' | 'fetch-refused', server?: string): void => {
          audit(ctx, { action: 'container.refused', outcome: 'refused', detail: { reason, source: 'imap', origin: `uid ${message.uid}${from ? ` de ${from}` : ''}`, parts: parts.length, ...(server ? { server } : {}) } });
          report(() => options.onStatus?.({ kind: 'message-refused', reason, uid: message.uid, parts: parts.length, ...(server ? { server } : {}) }));
          toRefused.push(message.uid);
        };
        if (parts.length > MAX_PLI_PARTS) {
          refuseMessage('too-many-parts');
          continue;
        }
        const serverRefusal = inline.refused.get(message.uid);
        if (serverRefusal !== undefined) {
          refuseMessage('fetch-refused', serverRefusal);
          continue;
        }
        let fetchRefused: string | undefined;
        for (const part of parts) {
          // base64 is 4/3 of the bytes: anything bigger than the cap is refused without downloading it
          if (part.size > MAX_CONTAINER_BYTES * 1.4) {
            refused = true;
            audit(ctx, { action: 'container.refused', outcome: 'refused', detail: { reason: 'too-big', source: 'imap', origin: origin(part), encodedBytes: part.size } });
            report(() => options.onStatus?.({ kind: 'attachment-refused', name: part.name }));
            continue;
          }
          let bytes = inline.parts.get(message.uid)?.get(part.part);
          inline.parts.get(message.uid)?.delete(part.part); // held no longer than needed
          if (!bytes) {
            // Streamed alone: the batch's rows are committed first, so that no write lock is held
            // while a big attachment downloads.
            await receiptsDone();
            await tx?.commit();
            let got: Buffer | null;
            try {
              got = await downloadPart(client, message.uid, part, options);
            } catch (error) {
              // The server refusing this message's part is this message's problem (fetchSmallParts).
              if (!refusedByServer(client, error)) throw error;
              fetchRefused = serverAnswer(error);
              break;
            } finally {
              tx?.begin();
            }
            if (!got) continue;
            bytes = got;
          }
          const object = options.objects ? await options.objects.take(bytes, 'imap', origin(part), part.name) : null;
          if (object) {
            // Filed like a container: a refused object under Pli/Refusés, anything else Pli/Traités.
            if (object.result === 'refused') refused = true;
            report(() => options.onObject?.(object));
            continue;
          }
          const result = await ingest(ctx, bytes, 'imap', origin(part), tx);
          if (result.row.state === 'refused') refused = true;
          report(() => {
            results.push(result);
            options.onItem?.(result, `uid ${message.uid}`);
          });
          await options.objects?.ingested(result);
          // Without a batch transaction each row has committed alone: its receipt right away, as a
          // receipt kept for later would be lost by a stop in between (the bytes are then known).
          if (!tx) await receiptsDone();
        }
        inline.parts.delete(message.uid); // what is left of it (its parts after a refusal) is let go
        if (fetchRefused !== undefined) refuseMessage('fetch-refused', fetchRefused);
        else (refused ? toRefused : toDone).push(message.uid);
      }
      await receiptsDone();
      await tx?.commit();
    } catch (error) {
      // What was fully stored stays stored (each ingest is whole: its savepoint), as it did one
      // commit at a time: its files synced, then committed; the messages stay in INBOX.
      try {
        await receiptsDone();
        await tx?.commit();
      } catch {
        tx?.rollback();
        options.objects?.dropPending();
      }
      throw error;
    } finally {
      for (const f of announce) f();
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
    if (sendQueued && start + MOVE_BATCH < uids.length) {
      await sending;
      sending = sendQueued();
    }
    }
  } finally {
    await sending;
  }
  return results;
}

/** Pli objects (receipts, acknowledgements) waiting in the outbox to go by mail. */
const queuedObjects = (db: DB): number[] =>
  db.prepare("SELECT id FROM outbox WHERE object_kind IS NOT NULL AND transport = 'mail' AND state = 'queued' ORDER BY id").pluck().all() as number[];

async function connect(settings: MailboxSettings, password: string): Promise<ImapFlow> {
  const client = await imapClient(settings, password);
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
  // Receipts go by SMTP at the end of the round: its library loads during the unlock too.
  if (!options.password) preloadMail(Boolean(options.objects));
  const password = options.password ?? await unlockMailboxPassword(ctx, options.as);
  const all: IngestResult[] = [];
  await purgeRefused(ctx);
  // Receipts and acknowledgements queued by a round leave at its end (not at the next tick), with
  // those queued since the last receive: an "ouvert" receipt queued by an opening, one left behind
  // by a server down at the time.
  const sendObjects = async (): Promise<void> => {
    options.objects?.release();
    await sendQueued();
  };
  const sendQueued = async (): Promise<void> => {
    const ids = [...new Set([...(options.objects?.queued.splice(0) ?? []), ...(options.objects ? queuedObjects(ctx.profile.db) : [])])];
    if (ids.length === 0) return;
    // A few connections at once: each message waits on the server's answers (and Postfix's own
    // disk sync), not on this process. Each row is claimed by one flush only (outbox.ts).
    const lanes = Math.min(SEND_LANES, Math.ceil(ids.length / 8));
    const rounds = await Promise.all(Array.from({ length: lanes }, (_, lane) =>
      flushOutbox(ctx, { password, force: true, ids: ids.filter((_, i) => i % lanes === lane) }).catch(() => null)));
    for (const r of rounds) for (const row of r?.sent ?? []) options.onStatus?.({ kind: 'sent', id: row.id, to: row.destination });
  };
  if (!options.watch) {
    const client = await connect(settings, password);
    try {
      all.push(...await catchUp(ctx, client, options, options.objects ? sendQueued : undefined));
      options.onRound?.();
    } catch (error) {
      throw connectionError(error, 'IMAP', settings.imap);
    } finally {
      client.close();
      options.objects?.release();
    }
    await sendObjects();
    return all;
  }

  const tickMs = options.tickMs ?? 30_000;
  let backoff = 1000;
  let lastDrain = 0;
  const drain = async (): Promise<void> => {
    lastDrain = Date.now();
    await purgeRefused(ctx).catch(() => 0);
    try {
      const r = await flushOutbox(ctx, { password });
      for (const row of r.sent) options.onStatus?.({ kind: 'sent', id: row.id, to: row.destination });
      for (const row of r.failed) options.onStatus?.({ kind: 'failed', id: row.id, to: row.destination, server: row.last_error });
      if (r.error && r.error.kind !== 'temporary') options.onStatus?.({ kind: 'impossible', error: r.error });
    } catch (error) {
      options.onStatus?.({ kind: 'impossible', error: error instanceof Error ? error : new Error(String(error)) });
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
          try {
            all.push(...await catchUp(ctx, client, options, options.objects ? sendQueued : undefined));
          } catch (error) {
            // Another process is receiving for this profile: it takes the messages; check again later.
            if (!(error instanceof PliError && error.code === 'receive-busy')) throw error;
            options.onStatus?.({ kind: 'receive-busy', error });
          }
          await sendObjects();
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
      if (!options.signal?.aborted) options.onStatus?.({ kind: 'reconnecting', retryInSeconds: Math.round(backoff / 1000), error: null });
    } catch (error) {
      const mapped = error instanceof PliError ? error : connectionError(error, 'IMAP', settings.imap);
      if (mapped.kind !== 'temporary') throw mapped;
      options.onStatus?.({ kind: 'reconnecting', retryInSeconds: Math.round(backoff / 1000), error: mapped });
    } finally {
      client?.close();
      options.objects?.release();
    }
    if (options.signal?.aborted) break;
    await sleep(backoff, options.signal);
    backoff = Math.min(backoff * 2, 30_000);
  }
  return all;
}
