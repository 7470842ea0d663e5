// The local inbox (docs/mailbox.md section 4): every received container is checked without being
// decrypted (structure, known signer, signature, certificate at arrival time), stored in the
// profile, and recorded once per distinct bytes; `open` decrypts with the arrival time.
//
// Stored files (docs/mailbox.md section 4). The attacker of docs/profile.md can write the inbox
// folder and the rows. Invariants held here:
// - a stored file is named by the full SHA-256 of its bytes, and an existing name is never
//   replaced (link, never a rename over it): a container cannot take the place of another;
// - `open` never trusts the row's `path`: it derives the file from the profile's inbox folder and
//   the row's sha256, refuses a symlink or anything but a regular file, reads the bytes into
//   memory, checks their SHA-256 against the row, and decrypts those same bytes (nothing is read
//   again from disk, so a file changed after the check changes nothing).
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { rmSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DB } from '../profile/profile.js';
import { keyByFingerprint } from '../profile/identities.js';
import { bufferSource, registerTemporary } from '../container/sinks.js';
import { checkInboxRowMac, holdTrustSeal, inboxRowMac, releaseTrustSeal } from '../profile/integrity.js';
import { prepared } from './statements.js';
import { verifyContainer } from '../container/verify.js';
import { readInfo } from '../container/open.js';
import { requireSigner } from '../services/policy.js';
import { decrypt, type DecryptResult } from '../services/containers.js';
import { audit, type Context } from '../context.js';
import { inputError, PliError, securityError, type ErrorParams } from '../errors.js';
import { refuseProfileFolder } from '../own-files.js';
import { formatFingerprint } from '../../../shared/ids.js';
import { fileInboxRow, filingOf, conventionsAtReception, tieAtReception } from '../authority/convention-filing.js';
import type { ObjectReceiver, ObjectResult } from './dispatch.js';
import { sendOpenedReceipt } from './receipts.js';
import { writePendingToFolder } from './objects.js';
import { NotRegularFileError, placeNoReplace, readRegularFile } from '../files.js';
import { readFault } from '../faults.js';

export type InboxState = 'verified' | 'refused' | 'opened';
export interface InboxRow {
  id: number; container_id: string | null; sha256: string; size: number; state: InboxState; reason: string | null;
  flags: string | null; sender_id: string | null; created_ms: number | null; arrived_at: number;
  source: 'imap' | 'folder'; origin: string | null; path: string; opened_at: number | null;
  /** HMAC over the row under the integrity key (integrity.ts); null: stored without the key. */
  mac: Buffer | null;
  /** Filed at opening (migration 10, docs/convention.md 7): NULL convention_id with filed_at set is « sans convention ». */
  convention_id?: string | null; period?: string | null; documents?: string | null; subject?: string | null;
  filed_at?: number | null; filing_mac?: Buffer | null; destroyed_at?: number | null;
}

/** Creation dates further than this before arrival are flagged (a replayed old container). */
export const OLD_AFTER_MS = 90 * 24 * 3600 * 1000;
/** Hard cap on what is accepted from a mailbox or a folder (well above the sending limit). */
export const MAX_CONTAINER_BYTES = 200 * 1024 * 1024;
/**
 * Refused input larger than this is recorded (SHA-256, size, origin, reason) without its bytes:
 * whoever can mail the functional mailbox must not be able to fill the workstation's disk.
 */
export const JUNK_KEEP_MAX_BYTES = 1024 * 1024;
/** Refused files kept are deleted this long after their arrival (the row stays, flagged 'purged'). */
export const JUNK_RETENTION_MS = 30 * 24 * 3600 * 1000;
/**
 * Refusals at opening that depend only on the container's bytes: the row becomes 'refused' for
 * everyone. A refusal that depends on the person or on this workstation's settings (not addressed,
 * role, passphrase, output folder, directory to renew) leaves the row as it was.
 */
const REFUSED_AT_OPENING = new Set(['malformed', 'bad-manifest', 'tampered', 'commitment', 'bad-signature', 'sender-mismatch', 'bad-kdf-params']);

/**
 * A refusal as data (issue 11, item 2): the code (a PliError's, or the row's stored reason), the
 * values it names, and the core's French sentence, which a front end shows only for a code it has
 * no wording of. The code of a stored row is the profile attacker's to write: outside text.
 */
export interface InboxRefusal { code: string; params: ErrorParams; message: string }

/** `refusal`: why new bytes were refused at reception (the verifier's own error), when they were. */
export interface IngestResult { row: InboxRow; isNew: boolean; refusal?: InboxRefusal }

export function getInboxRow(db: DB, id: number): InboxRow | undefined {
  return prepared(db, 'SELECT * FROM inbox WHERE id = ?').get(id) as InboxRow | undefined;
}

export function listInbox(db: DB): InboxRow[] {
  return db.prepare('SELECT * FROM inbox ORDER BY id').all() as InboxRow[];
}

/** Whether these exact bytes are already in the inbox (then only the IMAP move is left to do). */
export function knownBytes(db: DB, sha256: string): InboxRow | undefined {
  return prepared(db, 'SELECT * FROM inbox WHERE sha256 = ?').get(sha256) as InboxRow | undefined;
}

/**
 * Many ingests (and what follows each: its receipt queued, its events) in one SQLite transaction:
 * one disk sync per batch instead of several per container (issue 13: 200 containers, at 8-17 ms
 * a sync on a loaded machine). Invariants kept (the all-or-nothing rule of docs/mailbox.md 5):
 * - every file placed in the batch is synced to disk, with the inbox folder's entry, BEFORE the
 *   transaction holding its row commits: a row never names a file a crash could lose;
 * - the caller moves the messages on the server only after commit(): until then a crash, a kill
 *   or rollback() leaves them in INBOX, and the next receive stores them again (a file left
 *   without its row is the same bytes under their SHA-256 name: storeBytes keeps it).
 * The transaction is BEGIN IMMEDIATE: the write lock is taken for the whole batch, so the other
 * programs of this workstation wait (busy_timeout) rather than interleave; keep batches short.
 */
export class IngestBatch {
  private readonly unsynced = new Set<string>();
  private active = false;

  constructor(private readonly db: DB, private readonly inboxDir: string) {}

  /** Opens the transaction and checks the trust tables' seal once for the whole batch (issue 13:
   * it was computed twice per container): with the write lock held from here to commit, no other
   * program can change them (holdTrustSeal). A tampered profile fails here, before any container
   * is judged, with nothing left open. */
  begin(): void {
    this.db.exec('BEGIN IMMEDIATE');
    this.active = true;
    try {
      holdTrustSeal(this.db);
    } catch (error) {
      this.rollback();
      throw error;
    }
  }

  /** A file placed in the inbox folder and not synced yet (storeBytes). */
  placed(file: string): void {
    this.unsynced.add(file);
  }

  /** Syncs the files placed (all at once: the disk merges them) and the folder, then commits. */
  async commit(): Promise<void> {
    const files = [...this.unsynced];
    this.unsynced.clear();
    await Promise.all(files.map(syncFile));
    if (files.length > 0) await syncFile(this.inboxDir);
    releaseTrustSeal(this.db);
    this.db.exec('COMMIT');
    this.active = false;
  }

  /** Undoes the rows and events of the batch (nothing on the server was moved yet). */
  rollback(): void {
    releaseTrustSeal(this.db);
    this.unsynced.clear();
    if (this.active && this.db.inTransaction) this.db.exec('ROLLBACK');
    this.active = false;
  }
}

/** fsync of a file or a folder (a folder's entries: where its platform allows opening it). */
async function syncFile(file: string): Promise<void> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY);
  } catch (error) {
    // Windows cannot open a folder: its entries are synced with the file they name.
    if ((error as NodeJS.ErrnoException).code === 'EISDIR' || (error as NodeJS.ErrnoException).code === 'EPERM') return;
    throw error;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Verifies and records one received container. Idempotent on its bytes: the same bytes again
 * return the existing row with isNew = false. The file is written before the row; inside a
 * `batch`, it is synced with the batch's others before the batch commits (IngestBatch).
 */
export async function ingest(ctx: Context, bytes: Buffer, source: 'imap' | 'folder', origin: string, batch?: IngestBatch): Promise<IngestResult> {
  const db = ctx.profile.db;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const existing = knownBytes(db, sha256);
  if (existing) return { row: existing, isNew: false };

  const arrivedAt = Date.now();
  let containerId: string | null = null;
  let senderId: string | null = null;
  let createdMs: number | null = null;
  let state: InboxState = 'verified';
  let reason: string | null = null;
  let refusal: InboxRefusal | undefined;
  const flags: string[] = [];
  try {
    if (bytes.length > MAX_CONTAINER_BYTES) throw securityError('too-big', 'Pli refusé : taille hors limites.');
    const info = await readInfo(bufferSource(bytes));
    containerId = info.containerIdHex;
    senderId = info.senderId;
    createdMs = info.header.createdMs;
    await verifyContainer(bufferSource(bytes), async (header, announced) => {
      const key = keyByFingerprint(db, header.senderSigFpr);
      if (!key || key.kind !== 'ed25519') {
        throw securityError('unknown-sender', `Expéditeur inconnu (identifiant ${announced}, empreinte ${formatFingerprint(header.senderSigFpr)}) : pli refusé. Importez sa carte ou l'annuaire à jour, puis relancez la réception.`, { senderId: announced, fingerprint: formatFingerprint(header.senderSigFpr) });
      }
      if (key.identity_id !== announced) {
        throw securityError('sender-mismatch', "L'expéditeur annoncé dans le pli ne correspond pas à la clé qui l'a signé. Pli refusé ; signalez-le à l'officier SSI.");
      }
      return { identityId: key.identity_id, publicKey: key.public_key };
    });
    requireSigner(db, info.header.senderSigFpr, arrivedAt);
  } catch (error) {
    if (!(error instanceof PliError)) throw error;
    state = 'refused';
    reason = error.code;
    refusal = { code: error.code, params: error.params, message: error.message };
  }
  if (containerId) {
    const sameId = prepared(db, 'SELECT id FROM inbox WHERE container_id = ?').all(containerId) as { id: number }[];
    if (sameId.length > 0) flags.push('same-id-different-bytes');
  }
  if (createdMs !== null && createdMs < arrivedAt - OLD_AFTER_MS) flags.push('old');

  // Refused input over the cap is recorded without its bytes (no file, flag 'not-kept').
  const keep = state !== 'refused' || bytes.length <= JUNK_KEEP_MAX_BYTES;
  if (!keep) flags.push('not-kept');
  const { file, displaced } = keep ? await storeBytes(inboxDirOf(ctx), sha256, bytes, !batch) : { file: storedPath(inboxDirOf(ctx), sha256), displaced: undefined };
  if (keep) batch?.placed(file);
  if (displaced) flags.push('displaced-file');
  // Tied at reception to the conventions of its verified signer (docs/convention.md 8.3).
  const tie = state === 'verified' && senderId ? await conventionsAtReception(db, senderId, arrivedAt) : null;
  // The row and its event in one transaction (one disk sync), after the file is in place.
  const write = db.transaction((): InboxRow => {
    const inserted = prepared(db, `INSERT INTO inbox (container_id, sha256, size, state, reason, flags, sender_id, created_ms, arrived_at, source, origin, path)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(containerId, sha256, bytes.length, state, reason, flags.length ? flags.join(',') : null, senderId, createdMs, arrivedAt, source, origin, file);
    let stored = getInboxRow(db, Number(inserted.lastInsertRowid))!;
    // Sealed in the same transaction when the integrity key is attached: the arrival time that
    // decides a later revocation can then not be moved back without the key (docs/profile.md).
    const mac = inboxRowMac(db, stored);
    if (mac) {
      prepared(db, 'UPDATE inbox SET mac = ? WHERE id = ?').run(mac, stored.id);
      stored = { ...stored, mac };
    }
    if (tie) tieAtReception(db, stored.id, tie);
    if (state === 'verified') {
      audit(ctx, { action: 'container.received', object: containerId, detail: { inbox: stored.id, sender: senderId, sha256, bytes: bytes.length, source, flags, ...(displaced ? { displaced } : {}) } });
    } else {
      audit(ctx, { action: 'container.refused', object: containerId, outcome: 'refused', detail: { inbox: stored.id, reason, sender: senderId, sha256, source, ...(displaced ? { displaced } : {}) } });
    }
    return stored;
  });
  let row: InboxRow;
  try {
    row = write.immediate();
  } catch (error) {
    // Another process stored the same bytes since knownBytes above (two receives at once): the
    // transaction rolled back (no row, no event) and the file is the same bytes; theirs is the row.
    const winner = (error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' ? knownBytes(db, sha256) : undefined;
    if (!winner) throw error;
    return { row: winner, isNew: false };
  }
  return { row, isNew: true, ...(refusal ? { refusal } : {}) };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export const inboxDirOf = (ctx: Context): string => path.join(ctx.profile.home, 'inbox');

/** The stored file of the bytes with this SHA-256 (hex): `<sha256>.pli` in the inbox folder. */
export function storedPath(inboxDir: string, sha256: string): string {
  if (!SHA256_HEX.test(sha256)) throw new Error('not a SHA-256');
  return path.join(inboxDir, `${sha256}.pli`);
}

/** The name used before the full SHA-256 (container id + 48 bits of it): still opened, then moved. */
function legacyPath(inboxDir: string, row: Pick<InboxRow, 'container_id' | 'sha256'>): string | null {
  // The row is the attacker's to edit: only a hex id may become part of a path.
  if (row.container_id !== null && !/^[0-9a-f]{1,64}$/.test(row.container_id)) return null;
  return path.join(inboxDir, `${row.container_id ?? 'malformed'}-${row.sha256.slice(0, 12)}.pli`);
}

/**
 * Writes `bytes` under their SHA-256 name without ever replacing an existing name. A file already
 * there with the same bytes (a run stopped before its row was written) is kept as it is. Anything
 * else under that name (planted: a collision of the full SHA-256 is not expected) is moved aside,
 * to a fresh `.displaced-*` name, never deleted nor overwritten; its name is returned for the log.
 */
async function storeBytes(inboxDir: string, sha256: string, bytes: Buffer, sync = true): Promise<{ file: string; displaced?: string }> {
  const file = storedPath(inboxDir, sha256);
  const temporary = path.join(inboxDir, `.tmp-${randomBytes(6).toString('hex')}`);
  // Registered from before its creation: a signal ending the command removes it (cli/pli.ts).
  const unregister = registerTemporary(() => rmSync(temporary, { force: true }));
  let displaced: string | undefined;
  try {
    // Not synced here inside a batch: IngestBatch.commit() syncs every file before the rows.
    // The folder is made only when missing (the first container; a recursive mkdir for each of 200
    // containers cost more than its write).
    const write = () => writeFile(temporary, bytes, { mode: 0o600, flush: sync, flag: 'wx' });
    await write().catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      await mkdir(inboxDir, { recursive: true, mode: 0o700 });
      await write();
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await placeNoReplace(temporary, file)) return { file, displaced };
      // A symlink, a folder or other bytes under the name are not these bytes: moved aside.
      if ((await readRegularFile(file, bytes.length).catch(() => null))?.equals(bytes)) return { file, displaced };
      const aside = path.join(inboxDir, `.displaced-${Date.now()}-${randomBytes(8).toString('hex')}`);
      // A fresh random name (96 bits): the rename replaces nothing. It moves a symlink itself, not its target.
      await rename(file, aside);
      displaced = path.basename(aside);
    }
    throw securityError('inbox-file-taken', "Le fichier de ce pli dans la boîte de réception est remplacé sans cesse par un autre : pli non enregistré. Signalez-le à l'officier SSI.");
  } finally {
    // unlink, not rm: the temporary is a file this function made (rm's folder walk costs more).
    await unlink(temporary).catch(() => undefined);
    unregister();
  }
}

const modifiedOnDisk = (id: number) => securityError('inbox-modified',
  `Le fichier du pli n° ${id} de la boîte de réception a été modifié sur le disque : il ne correspond plus au pli reçu. Rien n'a été déchiffré ; signalez-le à l'officier SSI.`, { id });

/**
 * The bytes of inbox entry `row`, as received: the file derived from the inbox folder and the
 * row's sha256 (never the row's `path`), a regular file (no symlink), whose SHA-256 is the row's.
 * A row of the former naming whose only file is the old name is checked the same way, then linked
 * to the new name (never over an existing one) and the old name removed.
 */
export async function readStoredContainer(ctx: Context, row: InboxRow): Promise<Buffer> {
  const dir = inboxDirOf(ctx);
  if (!SHA256_HEX.test(row.sha256)) throw modifiedOnDisk(row.id);
  const file = storedPath(dir, row.sha256);
  const legacy = legacyPath(dir, row);
  const read = async (candidate: string): Promise<Buffer | null> => {
    try {
      return await readRegularFile(candidate, MAX_CONTAINER_BYTES);
    } catch (error) {
      if (error instanceof NotRegularFileError) throw modifiedOnDisk(row.id);
      throw error;
    }
  };
  let bytes = await read(file);
  const fromLegacy = bytes === null && legacy !== null;
  if (fromLegacy) bytes = await read(legacy);
  if (bytes === null) {
    throw securityError('inbox-missing', `Le fichier du pli n° ${row.id} a disparu de la boîte de réception : il ne peut pas être ouvert. Signalez-le à l'officier SSI ; demandez à l'expéditeur de le renvoyer.`, { id: row.id });
  }
  if (createHash('sha256').update(bytes).digest('hex') !== row.sha256) throw modifiedOnDisk(row.id);
  if (fromLegacy) {
    // Checked above: the old file holds the received bytes. Linked, never renamed over the new name.
    if (await placeNoReplace(legacy!, file).catch(() => false)) await unlink(legacy!).catch(() => {});
  }
  return bytes;
}

/** What the refused files kept in the inbox folder take (rows refused and not flagged not-kept/purged). */
export function refusedRoom(db: DB): { bytes: number; files: number } {
  const rows = db.prepare("SELECT size, flags FROM inbox WHERE state = 'refused'").all() as { size: number; flags: string | null }[];
  const kept = rows.filter((r) => !(r.flags ?? '').split(',').some((f) => f === 'not-kept' || f === 'purged'));
  return { bytes: kept.reduce((sum, r) => sum + r.size, 0), files: kept.length };
}

/**
 * Deletes the files of refused entries that arrived more than JUNK_RETENTION_MS before `now`; the
 * rows stay, flagged 'purged'. Runs at each receive. The file is derived from the row's sha256
 * (never its path); whoever could change a row to 'refused' could delete the file anyway.
 */
export async function purgeRefused(ctx: Context, now = Date.now()): Promise<number> {
  const db = ctx.profile.db;
  const dir = inboxDirOf(ctx);
  const due = (db.prepare("SELECT * FROM inbox WHERE state = 'refused' AND arrived_at < ?").all(now - JUNK_RETENTION_MS) as InboxRow[])
    .filter((r) => SHA256_HEX.test(r.sha256) && !(r.flags ?? '').split(',').some((f) => f === 'not-kept' || f === 'purged'));
  for (const row of due) {
    await rm(storedPath(dir, row.sha256), { force: true });
    const legacy = legacyPath(dir, row);
    if (legacy) await rm(legacy, { force: true });
    db.prepare('UPDATE inbox SET flags = ? WHERE id = ?').run(row.flags ? `${row.flags},purged` : 'purged', row.id);
  }
  if (due.length > 0) audit(ctx, { action: 'inbox.purged', outcome: 'ok', detail: { inbox: due.map((r) => r.id), bytes: due.reduce((sum, r) => sum + r.size, 0) } });
  return due.length;
}

/**
 * Why a stored entry is refused, as data; null unless refused. Params: the entry's number, when it
 * was refused ('reception' or 'opening') and the sender it announced. The row holds only the code:
 * the sentence is the core's general one (the verifier's own message went with the receipt).
 */
export function inboxRefusal(row: Pick<InboxRow, 'id' | 'state' | 'reason' | 'flags' | 'sender_id'>): InboxRefusal | null {
  if (row.state !== 'refused') return null;
  const atOpening = (row.flags ?? '').split(',').includes('refused-at-opening');
  const code = row.reason ?? 'refused';
  return {
    code,
    params: { id: row.id, when: atOpening ? 'opening' : 'reception', senderId: row.sender_id },
    message: `Le pli n° ${row.id} a été refusé ${atOpening ? "à l'ouverture" : 'à la réception'} (${code}) : il ne s'ouvre pas. Signalez-le à l'officier SSI.`,
  };
}

/**
 * Folder transport: every *.pli directly in the folder; files are left where they are. With
 * `objects`, Pli objects (receipts, directories: docs/objects.md) are handled by it and reported
 * through `onObject`, and each new container gets its receipt written back into the folder.
 * A file that cannot be read (no right to read it, a link, too big, changed while read) is said
 * through `onUnreadable`, and the others are read all the same: the folder is anyone's to write
 * (a USB key, a share), and one file there must not stop every import (a poison file).
 */
export async function receiveFolder(ctx: Context, folder: string, onItem: (result: IngestResult, name: string) => void,
  objects?: ObjectReceiver, onObject?: (result: ObjectResult) => void, onUnreadable?: (name: string, reason: string) => void): Promise<IngestResult[]> {
  // The folder is read, and receipts are written back into it: never the profile's own folder.
  refuseProfileFolder(folder, ctx.profile.home, 'folder');
  // The names as bytes: one that is not UTF-8 (written there by another system, or on purpose)
  // would otherwise come back with U+FFFD, and name no file.
  let names: Buffer[];
  try {
    names = (await readdir(folder, { encoding: 'buffer' }))
      .filter((n) => n.subarray(-4).toString('latin1').toLowerCase() === '.pli' && n[0] !== 0x2e)
      .sort(Buffer.compare);
  } catch {
    throw inputError('missing-folder', `Dossier introuvable ou illisible : ${folder}. Vérifiez que la clé USB est branchée.`);
  }
  await purgeRefused(ctx);
  const results: IngestResult[] = [];
  const prefix = Buffer.from(folder.endsWith(path.sep) ? folder : `${folder}${path.sep}`, 'utf8');
  for (const raw of names) {
    const name = raw.toString('utf8'); // to show and log; the file is opened by its bytes
    let bytes: Buffer | null;
    try {
      // Once, without following a link (a link on the key to a local file is not a received pli).
      bytes = await readRegularFile(Buffer.concat([prefix, raw]), MAX_CONTAINER_BYTES);
    } catch (error) {
      onUnreadable?.(name, !(error instanceof NotRegularFileError) ? readFault(path.join(folder, name), error).message
        : error.reason === 'too-big' ? `« ${name} » dépasse la taille maximale d'un pli : il n'a pas été lu.`
        : error.reason === 'changed' ? `« ${name} » a changé pendant sa lecture : il n'a pas été lu. Relisez le dossier.`
        : `« ${name} » n'est pas un fichier ordinaire (un dossier ou un lien) : il n'a pas été lu.`);
      continue;
    }
    if (!bytes) continue; // gone since the folder was listed
    const object = objects ? await objects.take(bytes, 'folder', name, name) : null;
    if (object) {
      onObject?.(object);
      continue;
    }
    const result = await ingest(ctx, bytes, 'folder', name);
    results.push(result);
    onItem(result, name);
    // Its receipt right away: each row here commits alone, so a receipt kept for later would be
    // lost by a run stopped in between (the next run finds the bytes known and makes none).
    await objects?.ingested(result);
    await objects?.receiptsForBatch();
  }
  // The receipts of containers opened since the last visit go back by the same folder.
  if (objects) await writePendingToFolder(ctx, folder);
  return results;
}

/**
 * The time a revocation of the sender is judged at when entry `row` is opened. Invariant: the
 * stored arrival time is used only when the row's MAC verifies under the attached integrity key;
 * a MAC present and wrong is `profile-tampered`; no MAC (stored without the key, or by an older
 * version) or no key in hand: the arrival cannot be proven, the certificate is judged now
 * (stricter: a sender revoked since is refused). Unsealed rows are never sealed afterwards: rows
 * planted by the attacker would then be sealed too.
 */
export function provenArrival(db: DB, row: InboxRow): number {
  return checkInboxRowMac(db, row) === 'sealed' ? row.arrived_at : Date.now();
}

/** `pli open INBOX-ID`: decrypt as of the (proven) arrival time, then mark the row opened. */
export async function openInbox(ctx: Context, id: number, outDir: string, as?: string): Promise<DecryptResult> {
  // First (decrypt checks it too, but after the stored bytes are read): the files go nowhere in
  // the profile's folder, where a `profile.sqlite-journal` would be rolled into the database.
  refuseProfileFolder(outDir, ctx.profile.home, 'folder');
  const db = ctx.profile.db;
  const row = getInboxRow(db, id);
  if (!row) throw inputError('unknown-inbox', `Aucun pli n° ${id} dans la boîte de réception : vérifiez le numéro dans la liste des plis reçus.`, { id });
  const refused = inboxRefusal(row);
  if (refused) throw securityError(refused.code, refused.message, refused.params);
  let bytes: Buffer;
  try {
    // Before anything else: the stored bytes must be the ones received under this entry.
    bytes = await readStoredContainer(ctx, row);
  } catch (error) {
    if (error instanceof PliError && error.kind === 'security') {
      audit(ctx, { action: 'container.refused', object: row.container_id, outcome: 'refused', detail: { inbox: id, reason: error.code } });
    }
    throw error;
  }
  let result: DecryptResult;
  try {
    // The key is attached only by the unlock inside decrypt (the CLI): the check before it is
    // provisional (a sealed row's stored time), and provenArrival decides after the unlock,
    // before any key of the container is opened.
    result = await decrypt(ctx, {
      as, usePassword: false, input: storedPath(inboxDirOf(ctx), row.sha256), bytes, outDir,
      arrivedAt: row.mac === null ? Date.now() : row.arrived_at,
      proveArrival: () => provenArrival(db, row),
    });
  } catch (error) {
    // Names and contents are inside the encryption: receipt could not check them. A refusal that
    // holds for anyone is recorded on the row, which `inbox` then shows as refused.
    if (error instanceof PliError && error.kind === 'security' && REFUSED_AT_OPENING.has(error.code)) {
      db.prepare("UPDATE inbox SET state = 'refused', reason = ?, flags = ? WHERE id = ? AND state <> 'refused'")
        .run(error.code, row.flags ? `${row.flags},refused-at-opening` : 'refused-at-opening', id);
    }
    throw error;
  }
  // Filed at opening, from the verified manifest (it is inside the encryption: reception cannot
  // read it); sealed under the integrity key the unlock attached (docs/convention.md 7).
  db.transaction(() => {
    db.prepare("UPDATE inbox SET state = 'opened', opened_at = ? WHERE id = ?").run(Date.now(), id);
    fileInboxRow(db, id, filingOf(result.convention));
  })();
  // The "ouvert" receipt when a convention asks for it (docs/objects.md 3); never fails the opening.
  await sendOpenedReceipt(ctx, row, result);
  return result;
}
