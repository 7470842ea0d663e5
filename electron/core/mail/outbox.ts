// Sending containers (docs/mailbox.md sections 2, 3 and 6): encrypt through the containers service
// (policy, roles and audit apply), keep a copy in the profile, queue one outbox row per destination
// mailbox with its Message-ID fixed at queue time, and send with retries and backoff.
import type { DirectoryWarning } from '../authority/directory.js';
import { chmod, mkdir, rename, rm, stat, open, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { DB } from '../profile/profile.js';
import { getIdentity, keyByFingerprint, resolveOwn } from '../profile/identities.js';
import { encryptIntoOutbox } from '../services/containers.js';
import type { ConventionSendInput } from '../authority/convention-exchange.js';
import { fileOutboxRows, filingOf } from '../authority/convention-filing.js';
import { audit, type Context } from '../context.js';
import { folderFault, writeFault } from '../faults.js';
import { inputError, PliError, securityError } from '../errors.js';
import { mailFileMode, NotRegularFileError, openRegularFile, placeNoReplace, readRegularFile } from '../files.js';
import { readInfo, type CipherSource } from '../container/open.js';
import { verifyContainer } from '../container/verify.js';
import { bufferSource } from '../container/sinks.js';
import { checkOutboxTimeMac } from '../profile/integrity.js';
import { refuseProfileFile, refuseProfileFolder } from '../own-files.js';
import { DEFAULT_MAX_MESSAGE_BYTES, getMailbox, requireMailbox, unlockMailboxPassword, type MailboxSettings } from './settings.js';
import { connectionError, serverAnswer, smtpTransport } from './connect.js';
import { holderState, leaseOwner, parseOwner } from './lease.js';
import { sealSentFiles, sentFileList } from './sent-files.js';
import { sealNewOutboxRows, updateOutboxTimed } from './outbox-time.js';

export type OutboxState = 'queued' | 'sending' | 'sent' | 'failed';
export interface OutboxRow {
  id: number; container_id: string; sender_id: string; transport: 'mail' | 'folder'; destination: string;
  message_id: string; path: string; size: number; state: OutboxState; attempts: number;
  next_attempt_at: number; last_error: string | null; queued_at: number; sent_at: number | null;
  /** "host|pid|start" of the process sending it (state 'sending' only). */
  lease_owner?: string | null;
  /** Filed under a convention (migration 10, docs/convention.md 7); null outside one. */
  convention_id?: string | null; period?: string | null; documents?: string | null; subject?: string | null;
  filing_mac?: Buffer | null; destroyed_at?: number | null;
  /** NULL: a container of files; else the kind of Pli object it carries (docs/objects.md). */
  object_kind?: string | null;
  /** The names and sizes of the files sent, sealed (migration 16, sent-files.ts); null before it. */
  files_sealed?: Buffer | null;
  /** The seal of its time and identity (migration 17, outbox-time.ts); null: not proven. */
  time_mac?: Buffer | null;
}

export const MAIL_SUBJECT = 'Pli chiffré';
export const MAIL_BODY = [
  'Bonjour,',
  '',
  'Ce message contient un pli chiffré (fichier joint .pli) destiné à des personnes habilitées de votre organisation.',
  "Il ne peut être ouvert qu'avec le logiciel Pli, sur le poste dédié, par une personne à qui il est adressé :",
  '  - dans l\'application : Réception, puis Ouvrir ;',
  '  - en ligne de commande : pli receive, puis pli open NUMÉRO --out DOSSIER.',
  "Ne transférez pas ce message à une adresse personnelle. En cas de doute, contactez votre officier SSI.",
  '',
  'Message automatique envoyé par Pli.',
].join('\n');

/** Base64 (76-character lines + CRLF) plus headers and the text part. */
export function estimateMessageBytes(containerBytes: number): number {
  const base64 = Math.ceil(containerBytes / 3) * 4;
  return base64 + Math.ceil(base64 / 76) * 2 + 4096;
}

export const attachmentName = (containerId: string): string => `pli-${containerId.slice(0, 16)}.pli`;

/** A Pli object's attachment or folder file: the name only selects what is tried as an object,
 * the signatures decide (docs/objects.md 2). */
export const objectAttachmentName = (kind: string, containerId: string): string => `pli-objet-${kind}-${containerId.slice(0, 16)}.pli`;
export const OBJECT_SUBJECT: Record<string, string> = { receipt: 'Accusé de réception Pli', directory: "Annuaire de l'autorité Pli" };
export const OBJECT_BODY = [
  'Bonjour,',
  '',
  "Ce message contient un objet Pli signé (accusé de réception ou annuaire de l'autorité), traité automatiquement",
  'par le logiciel Pli du poste dédié à la réception. Il ne demande aucune action.',
  '',
  'Message automatique envoyé par Pli.',
].join('\n');

function tooBig(bytes: number, limit: number): PliError {
  const mb = (n: number) => (n / 1_000_000).toFixed(1).replace('.', ',');
  return inputError('too-big', `Pli trop volumineux pour la messagerie : le message ferait environ ${mb(bytes)} Mo, la limite réglée est ${mb(limit)} Mo (pièce jointe d'environ ${mb(Math.floor((limit - 4096) * 0.74))} Mo au plus). Rien n'a été mis en file d'envoi : envoyez moins de fichiers à la fois, ou passez par un dossier (clé USB).`, { bytes, limit });
}

export interface SendRequest {
  as?: string;
  to: string[];
  files: string[];
  /** Overrides the destination mailboxes taken from the recipients' identities. */
  mail?: string[];
  /** Folder transport: write the container into this folder instead of mailing it. */
  folder?: string;
  self?: boolean;
  /** Sent under a convention (docs/convention.md 7): without `to`, to the other parties'
   * habilitated people; without `mail`, to the other parties' functional mailboxes. */
  convention?: ConventionSendInput;
}

export interface SendResult {
  containerId: string; outboxIds: number[]; destinations: string[]; warnings: DirectoryWarning[]; size: number;
  /** Under a convention: what the container was filed under. */
  convention?: { id: string; period: string; documents: string[]; subject?: string };
}

function messageIdFor(containerId: string, user: string): string {
  const domain = user.includes('@') ? user.slice(user.lastIndexOf('@') + 1) : 'pli.invalid';
  return `<pli.${containerId.slice(0, 16)}.${randomBytes(8).toString('hex')}@${domain}>`;
}

/** Encrypts and queues (mail) or writes into the folder. Oversized containers are refused before queueing. */
export async function queueSend(ctx: Context, request: SendRequest): Promise<SendResult> {
  // Before anything (own-files.ts): no attachment is one of the profile's files (reading its
  // database would drop this process's SQLite locks, and mail it), and the folder transport
  // writes nowhere in the profile's folder. The checks open nothing.
  for (const file of request.files) refuseProfileFile(file, ctx.profile.home, 'attach');
  if (request.folder) refuseProfileFolder(request.folder, ctx.profile.home, 'folder');
  const db = ctx.profile.db;
  const settings: MailboxSettings | undefined = request.folder ? getMailbox(db) : requireMailbox(db);
  const limit = request.folder ? Number.POSITIVE_INFINITY : (settings?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
  // Refuse early when the files alone are already too big (no time spent encrypting).
  let plainBytes = 0;
  for (const file of request.files) {
    try {
      plainBytes += (await stat(file)).size;
    } catch {
      throw inputError('missing-file', `Fichier introuvable : ${file}. Vérifiez le chemin.`);
    }
  }
  if (estimateMessageBytes(plainBytes) > limit) throw tooBig(estimateMessageBytes(plainBytes), limit);

  const sender = resolveOwn(db, request.as);
  const outboxDir = path.join(ctx.profile.home, 'outbox');
  await mkdir(outboxDir, { recursive: true, mode: 0o700 });
  const temporary = path.join(outboxDir, `.tmp-${randomBytes(8).toString('hex')}.pli`);
  const result = await encryptIntoOutbox(ctx, {
    as: sender.id, to: request.to, self: request.self ?? true, usePassword: false, files: request.files, out: temporary,
    ...(request.convention ? { convention: request.convention } : {}),
  });
  const filing = filingOf(result.convention?.manifest);
  const under = result.convention ? { convention: result.convention.manifest } : {};
  const containerPath = path.join(outboxDir, `${result.containerId}.pli`);
  try {
    if (estimateMessageBytes(result.size) > limit) throw tooBig(estimateMessageBytes(result.size), limit);
    // The mailbox files' mode of docs/profile.md's table (the sealer makes it 0644): 0600, or 0660
    // in a shared profile, whose outbox folder gives its group rights (another person's flush).
    await chmod(temporary, await mailFileMode(outboxDir));
    await rename(temporary, containerPath);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }

  // Kept sealed in the rows for the lists (issue 15): never in plaintext, never in the log.
  const sentFiles = await sentFileList(request.files);
  const now = Date.now();
  const insert = db.prepare(`INSERT INTO outbox (container_id, sender_id, transport, destination, message_id, path, size, state, attempts, next_attempt_at, queued_at, sent_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`);

  if (request.folder) {
    let target: string;
    try {
      target = await writeToFolder(ctx, { id: 0, container_id: result.containerId, sender_id: sender.id }, request.folder);
    } catch (error) {
      // No row was written for it: the profile's copy would be an orphan that nothing lists,
      // retries or deletes (the folder transport has no queue). The next attempt seals anew.
      await rm(containerPath, { force: true });
      throw error;
    }
    const id = db.transaction(() => {
      const inserted = Number(insert.run(result.containerId, sender.id, 'folder', request.folder, `<folder.${result.containerId}>`, containerPath, result.size, 'sent', now, now, Date.now()).lastInsertRowid);
      sealNewOutboxRows(db, [inserted]);
      if (filing) fileOutboxRows(db, [inserted], filing);
      sealSentFiles(db, [inserted], sentFiles);
      return inserted;
    })();
    audit(ctx, { actor: sender.id, action: 'container.queued', object: result.containerId, detail: { outbox: id, transport: 'folder', destination: request.folder, bytes: result.size } });
    audit(ctx, { actor: sender.id, action: 'container.sent', object: result.containerId, detail: { outbox: id, transport: 'folder', destination: target } });
    return { containerId: result.containerId, outboxIds: [id], destinations: [request.folder], warnings: result.warnings, size: result.size, ...under };
  }

  let destinations: string[];
  if (request.mail && request.mail.length > 0) {
    destinations = request.mail.map((m) => m.trim().toLowerCase());
    for (const m of destinations) {
      if (!/^[^\s@<>]+@[^\s@<>]+$/.test(m)) throw inputError('bad-email', `Adresse de messagerie invalide : ${m}.`);
    }
  } else if (result.convention) {
    // Under a convention, the other parties' functional mailboxes (one per party).
    destinations = result.convention.addresses;
  } else {
    destinations = result.recipients
      .map((id) => getIdentity(db, id)!)
      .filter((row) => row.own !== 1)
      .map((row) => row.email.trim().toLowerCase());
  }
  destinations = [...new Set(destinations)];
  if (destinations.length === 0) {
    await rm(containerPath, { force: true });
    throw inputError('no-destination', "Aucune boîte de destination : tous les destinataires sont des personnes de ce poste. Indiquez une adresse de messagerie, ou un dossier où déposer le pli.");
  }
  const ids = db.transaction(() => {
    const inserted = destinations.map((destination) =>
      Number(insert.run(result.containerId, sender.id, 'mail', destination, messageIdFor(result.containerId, settings!.user), containerPath, result.size, 'queued', now, now, null).lastInsertRowid));
    sealNewOutboxRows(db, inserted);
    if (filing) fileOutboxRows(db, inserted, filing);
    sealSentFiles(db, inserted, sentFiles);
    return inserted;
  })();
  ids.forEach((id, i) => audit(ctx, { actor: sender.id, action: 'container.queued', object: result.containerId, detail: { outbox: id, transport: 'mail', destination: destinations[i], bytes: result.size } }));
  return { containerId: result.containerId, outboxIds: ids, destinations, warnings: result.warnings, size: result.size, ...under };
}

/** What to check when a pli cannot be dropped in a folder (often a USB key). */
const USB_ADVICE = 'Vérifiez que la clé USB est branchée et accessible en écriture, puis recommencez.';

/**
 * Writes DIR/pli-<id>.pli from the profile's copy of the container: the copy read once, without
 * following a symlink and checked to be that container (readOutboxCopy), written under a temporary
 * name (O_EXCL: never through a link planted there) and then linked into place: an existing file
 * at the name (a link, even dangling, included) is never replaced.
 */
async function writeToFolder(ctx: Context, row: CopyRow, folder: string): Promise<string> {
  try {
    await mkdir(folder, { recursive: true });
  } catch (error) {
    throw folderFault(folder, error, USB_ADVICE);
  }
  const target = path.join(folder, attachmentName(row.container_id));
  const temporary = path.join(folder, `.pli-${randomBytes(6).toString('hex')}.part`);
  let placed = false;
  try {
    const out = await open(temporary, 'wx', 0o644);
    let copied: boolean;
    try {
      copied = await copyOutboxCopy(ctx, row, out);
      if (copied) await out.sync();
    } finally {
      await out.close();
    }
    if (!copied) throw securityError('outbox-missing', `La copie du pli ${row.container_id.slice(0, 16)} a disparu du dossier du profil (outbox) avant d'être déposée : rien n'a été écrit. Recommencez l'envoi ; si cela se reproduit, prévenez l'officier SSI.`);
    placed = await placeNoReplace(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw writeFault(target, error, USB_ADVICE); // a PliError (the copy's checks) goes up as it is
  }
  if (!placed) {
    await rm(temporary, { force: true });
    throw inputError('target-exists', `Un fichier ${path.basename(target)} existe déjà dans ${folder} : il n'a pas été remplacé et le pli n'y a pas été déposé. Vérifiez ce fichier, ou choisissez un autre dossier.`, { name: path.basename(target) });
  }
  return target;
}

// ---- the profile's copy of a container to send ---------------------------------------------------

/** What names a row's copy and what it must be: its container and its sender. */
type CopyRow = Pick<OutboxRow, 'id' | 'container_id' | 'sender_id'>;

/** A container id as Pli writes it (32 lowercase hex digits): the only thing a file name is made of. */
const CONTAINER_ID = /^[0-9a-f]{32}$/;
/** The largest copy read into memory (the inbox's bound on a container, inbox.ts). */
const MAX_COPY_BYTES = 200 * 1024 * 1024;

/**
 * For a folder send, which has no size limit: the profile's copy of `row`'s container, opened
 * once without following a link (lstat, then O_NOFOLLOW and the same file once open, as
 * readRegularFile), checked to be that container from that sender (its header), then copied
 * from that very descriptor into `out`, a block at a time: never held whole in memory (a copy of
 * any size; readOutboxCopy's 200 MiB bound refused a large legitimate container as tampered).
 * false: there is no copy.
 */
async function copyOutboxCopy(ctx: Context, row: CopyRow, out: FileHandle): Promise<boolean> {
  let opened;
  try {
    opened = await openRegularFile(copyPathOf(ctx, row));
  } catch (error) {
    if (error instanceof NotRegularFileError) throw copyModified(row, NOT_REGULAR);
    throw error;
  }
  if (!opened) return false;
  const { handle, info } = opened;
  try {
    await checkCopyHeader(row, { size: info.size, read: async (target, offset, length, position) => (await handle.read(target, offset, length, position)).bytesRead });
    const block = Buffer.alloc(Math.min(1 << 20, Math.max(1, info.size)));
    for (let position = 0; position < info.size;) {
      const { bytesRead } = await handle.read(block, 0, Math.min(block.length, info.size - position), position);
      if (bytesRead === 0) throw copyModified(row, 'fichier modifié pendant sa lecture');
      await out.write(block, 0, bytesRead);
      position += bytesRead;
    }
    return true;
  } finally {
    await handle.close();
  }
}

/** The profile's copy of container `containerId`, as queueSend and dispatchObject name it; null
 * for an id Pli never makes (no path is ever made of other text). */
export function outboxCopyPath(home: string, containerId: string): string | null {
  return CONTAINER_ID.test(containerId) ? path.join(home, 'outbox', `${containerId}.pli`) : null;
}

/** The path of `row`'s copy; an id Pli never makes is tampering (no path is made of other text). */
function copyPathOf(ctx: Context, row: CopyRow): string {
  const file = outboxCopyPath(ctx.profile.home, row.container_id);
  if (!file) throw copyModified(row, 'numéro de pli hors format dans la base du profil');
  return file;
}

const NOT_REGULAR = "ce n'est plus un fichier ordinaire (lien ou autre)";

/** The copy's header must name the row's container and the row's sender. */
async function checkCopyHeader(row: CopyRow, source: CipherSource): Promise<void> {
  let header: Awaited<ReturnType<typeof readInfo>>;
  try {
    header = await readInfo(source);
  } catch {
    throw copyModified(row, "ce n'est pas un pli");
  }
  if (header.containerIdHex !== row.container_id) throw copyModified(row, "ce n'est pas le pli de cet envoi");
  if (header.senderId !== row.sender_id) throw copyModified(row, "il n'est pas de l'expéditeur de cet envoi");
}

/** Security error (exit 2): the copy of row `row` is not the container it names. */
function copyModified(row: CopyRow, detail: string): PliError {
  const what = row.id > 0 ? `de l'envoi n° ${row.id}` : `du pli ${row.container_id.slice(0, 16)}`;
  return securityError('outbox-modified', `La copie ${what} dans le dossier du profil (outbox) a été modifiée en dehors de Pli (${detail}) : elle n'est pas envoyée. Prévenez l'officier SSI.`, { id: row.id, detail });
}

/**
 * The bytes of `row`'s container, to send or drop: read ONCE from outbox/<container id>.pli (never
 * the row's `path`, which the profile's attacker can point at any file the person can read),
 * without following a symlink, a regular file only, then checked to BE that container: its header
 * names the row's container id and the row's sender; with `signature`, the sender's signature over
 * the whole container verifies too (under the sender's key with the header's fingerprint). What is
 * returned is what was checked: the caller mails or writes these bytes, never the name again.
 * null: there is no copy. Throws `outbox-modified` (security) for anything else.
 *
 * Cost of the signature: the container's SHA-256 digest (digest.ts) over bytes already in memory,
 * measured ~12-14 ms per SHA-256 pass over 18 MB (what fits the default 25 MB message) on a 2-core
 * machine, as much as the base64 encoding the mail makes of them anyway; an Ed25519 check is <1 ms.
 */
export async function readOutboxCopy(ctx: Context, row: CopyRow, options: { signature: boolean }): Promise<Buffer | null> {
  let bytes: Buffer | null;
  try {
    bytes = await readRegularFile(copyPathOf(ctx, row), MAX_COPY_BYTES);
  } catch (error) {
    if (!(error instanceof NotRegularFileError)) throw error;
    // Too big to be held in memory is no sign of tampering: a mailbox allowed such messages.
    if (error.reason === 'too-big') throw inputError('outbox-too-big', `Le pli ${row.container_id.slice(0, 16)} dépasse 200 Mo : Pli ne l'envoie pas par la messagerie. Envoyez ses fichiers en plusieurs plis, ou déposez-le dans un dossier (clé USB).`, { id: row.id });
    throw copyModified(row, error.reason === 'not-regular' ? NOT_REGULAR : 'fichier modifié pendant sa lecture');
  }
  if (!bytes) return null;
  await checkCopyHeader(row, bufferSource(bytes));
  if (options.signature) {
    try {
      await verifyContainer(bufferSource(bytes), async (parsed) => {
        const key = keyByFingerprint(ctx.profile.db, parsed.senderSigFpr);
        if (!key || key.kind !== 'ed25519' || key.identity_id !== row.sender_id) throw securityError('unknown-sender', 'clé de signature inconnue');
        return { identityId: key.identity_id, publicKey: key.public_key };
      });
    } catch (error) {
      if (error instanceof PliError && error.code === 'profile-tampered') throw error;
      throw copyModified(row, "la signature de l'expéditeur ne correspond pas");
    }
  }
  return bytes;
}

export function listOutbox(db: DB): OutboxRow[] {
  return db.prepare('SELECT * FROM outbox ORDER BY id').all() as OutboxRow[];
}

/**
 * How long a claimed row may stay 'sending' when its sender cannot be checked (another host). On
 * this host the lease is bound to the sending process: once that process is gone, the next flush
 * takes the row back at once.
 */
export const SEND_LEASE_MS = 30 * 60_000;

/**
 * Puts back in the queue the 'sending' rows whose sender is gone (killed, crashed) or whose lease
 * ran out; returns the rows still held by a live process. Compare-and-set on the owner read: a row
 * claimed again meanwhile by a new sender is left alone.
 */
export function reclaimAbandoned(db: DB, now = Date.now()): OutboxRow[] {
  const busy: OutboxRow[] = [];
  const rows = db.prepare("SELECT * FROM outbox WHERE state = 'sending' ORDER BY id").all() as OutboxRow[];
  for (const row of rows) {
    const owner = row.lease_owner ?? null;
    if (row.next_attempt_at > now && holderState(owner) !== 'gone') {
      busy.push(row);
      continue;
    }
    db.prepare("UPDATE outbox SET state = 'queued', next_attempt_at = ?, lease_owner = NULL WHERE id = ? AND state = 'sending' AND lease_owner IS ?")
      .run(now, row.id, owner);
  }
  return busy;
}

/** Process number of the holder of a 'sending' row, for the messages (null when unknown). */
export const senderPid = (row: OutboxRow): number | null => parseOwner(row.lease_owner ?? null)?.pid ?? null;

/** Puts a failed row back in the queue (after the cause, e.g. a wrong address, was fixed). */
export function requeueOutbox(db: DB, id: number): boolean {
  return db.prepare("UPDATE outbox SET state = 'queued', next_attempt_at = 0, last_error = NULL WHERE id = ? AND state = 'failed'").run(id).changes === 1;
}

export const backoffMs = (attempts: number): number => Math.min(2 ** Math.max(0, attempts - 1) * 1000, 5 * 60_000);

export interface FlushOptions {
  as?: string;
  /** Already unlocked password (watch mode keeps it for the session). */
  password?: string;
  /** Ignore next_attempt_at (an explicit `outbox flush`). */
  force?: boolean;
  /** Only these rows. */
  ids?: number[];
}

export interface FlushResult {
  sent: OutboxRow[]; failed: OutboxRow[]; pending: OutboxRow[]; error?: PliError;
  /** Rows being sent by another live process of this workstation (skipped by this flush). */
  busy: OutboxRow[];
}

/**
 * Sends what is due. A temporary failure (server down, 4xx) leaves the row queued with its backoff
 * and stops the round (the next rows would fail the same way); a 5xx answer for one message marks
 * it failed; a TLS or login refusal leaves everything queued and is returned as `error`.
 */
export async function flushOutbox(ctx: Context, options: FlushOptions = {}): Promise<FlushResult> {
  const db = ctx.profile.db;
  const now = Date.now();
  // A row is claimed ('sending') with its sender's identity and a lease in next_attempt_at. It goes
  // back to the queue only when that sender is gone or the lease ran out, so two live flushes never
  // send the same row at once, and a killed sender does not hold it for the whole lease.
  const busy = reclaimAbandoned(db, now);
  let rows = db.prepare(`SELECT * FROM outbox WHERE state = 'queued' AND transport = 'mail' ${options.force ? '' : 'AND next_attempt_at <= ?'} ORDER BY id`)
    .all(...(options.force ? [] : [now])) as OutboxRow[];
  if (options.ids) rows = rows.filter((r) => options.ids!.includes(r.id));
  const result: FlushResult = { sent: [], failed: [], pending: [], busy: options.ids ? busy.filter((r) => options.ids!.includes(r.id)) : busy };
  if (rows.length === 0) return result;
  const settings = requireMailbox(db);
  const password = options.password ?? await unlockMailboxPassword(ctx, options.as);
  const transport = await smtpTransport(settings, password);
  const statement = db.prepare('UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, sent_at = ?, lease_owner = NULL WHERE id = ?');
  // sent_at is covered by the row's time seal: set or cleared together with it (outbox-time.ts).
  const update = (state: OutboxState, attempts: number, next: number, error: string | null, sentAt: number | null, id: number) =>
    updateOutboxTimed(db, id, () => statement.run(state, attempts, next, error, sentAt, id));
  try {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      // Before the claim, with the integrity key in hand if this flush unlocked a holder: the row
      // is the profile attacker's to write (docs/profile.md, "The attacker"). Its seal must verify
      // (a destination or sender changed: refused; no seal, made before migration 17 or without
      // the key: unproven, still sent, the copy's checks below decide), and what is mailed is the
      // profile's own copy of ITS container, read once and checked (never the row's `path`).
      let bytes: Buffer | null;
      try {
        checkOutboxTimeMac(db, row);
        bytes = await readOutboxCopy(ctx, row, { signature: true });
      } catch (error) {
        if (!(error instanceof PliError)) throw error;
        update('failed', row.attempts, row.next_attempt_at, error.message, null, row.id);
        audit(ctx, { actor: row.sender_id, action: 'container.sent', object: row.container_id, outcome: error.kind === 'security' ? 'refused' : 'failed', detail: { outbox: row.id, transport: 'mail', destination: row.destination, reason: error.code } });
        result.failed.push({ ...row, state: 'failed', last_error: error.message });
        result.error ??= error;
        continue;
      }
      if (!bytes) {
        const answer = 'copie du pli introuvable dans le dossier du profil (outbox)';
        update('failed', row.attempts, row.next_attempt_at, answer, null, row.id);
        audit(ctx, { actor: row.sender_id, action: 'container.send-failed', object: row.container_id, outcome: 'failed', detail: { outbox: row.id, destination: row.destination, answer } });
        result.failed.push({ ...row, state: 'failed', last_error: answer });
        continue;
      }
      const claimed = db.prepare("UPDATE outbox SET state = 'sending', attempts = attempts + 1, next_attempt_at = ?, lease_owner = ? WHERE id = ? AND state = 'queued'")
        .run(Date.now() + SEND_LEASE_MS, leaseOwner(), row.id);
      if (claimed.changes !== 1) continue; // another flush (the watcher, the interface) has it
      try {
        // A Pli object (receipt, directory) goes under its own subject and name (docs/objects.md).
        const kind = row.object_kind ?? null;
        const info = await transport.sendMail({
          from: settings.user,
          to: row.destination,
          subject: kind ? OBJECT_SUBJECT[kind] ?? MAIL_SUBJECT : MAIL_SUBJECT,
          text: kind ? OBJECT_BODY : MAIL_BODY,
          messageId: row.message_id,
          headers: kind ? { 'X-Pli-Version': '1', 'X-Pli-Objet': kind } : { 'X-Pli-Version': '1' },
          attachments: [{ filename: kind ? objectAttachmentName(kind, row.container_id) : attachmentName(row.container_id), content: bytes, contentType: 'application/octet-stream' }],
        });
        update('sent', row.attempts + 1, row.next_attempt_at, null, Date.now(), row.id);
        audit(ctx, { actor: row.sender_id, action: 'container.sent', object: row.container_id, detail: { outbox: row.id, transport: 'mail', destination: row.destination, messageId: row.message_id, answer: serverAnswer({ message: info.response }) } });
        result.sent.push({ ...row, state: 'sent' });
      } catch (error) {
        const answer = serverAnswer(error);
        const attempts = row.attempts + 1;
        const { responseCode: code, code: kind } = error as { responseCode?: number; code?: string };
        // Only an answer about THIS message (envelope or content) fails it; connection, TLS and
        // login problems leave it queued.
        if ((kind === 'EENVELOPE' || kind === 'EMESSAGE') && typeof code === 'number' && code >= 500 && code !== 530 && code !== 535) {
          update('failed', attempts, row.next_attempt_at, answer, null, row.id);
          audit(ctx, { actor: row.sender_id, action: 'container.send-failed', object: row.container_id, outcome: 'failed', detail: { outbox: row.id, destination: row.destination, answer } });
          result.failed.push({ ...row, state: 'failed', attempts, last_error: answer });
          continue;
        }
        update('queued', attempts, Date.now() + backoffMs(attempts), answer, null, row.id);
        result.pending.push(...rows.slice(i).map((r) => ({ ...r, last_error: r.id === row.id ? answer : r.last_error })));
        // A refusal of this round for security stays the error to report (exit 2), not hidden by a server down.
        if (result.error?.kind !== 'security') result.error = connectionError(error, 'SMTP', settings.smtp);
        break;
      }
    }
  } finally {
    transport.close();
  }
  return result;
}

/** Sends the given rows, retrying with backoff until they are sent/failed or the wait is over. */
export async function sendWithin(ctx: Context, ids: number[], waitMs: number, options: FlushOptions = {}): Promise<FlushResult> {
  const deadline = Date.now() + waitMs;
  const password = options.password ?? await unlockMailboxPassword(ctx, options.as);
  const total: FlushResult = { sent: [], failed: [], pending: [], busy: [] };
  let delay = 500;
  for (;;) {
    const round = await flushOutbox(ctx, { ...options, password, force: true, ids });
    total.sent.push(...round.sent);
    total.failed.push(...round.failed);
    total.busy = round.busy;
    if (round.error && round.error.kind !== 'temporary') return { ...total, pending: round.pending, error: round.error };
    const left = ctx.profile.db.prepare(`SELECT * FROM outbox WHERE state = 'queued' AND id IN (${ids.map(() => '?').join(',')})`).all(...ids) as OutboxRow[];
    if (left.length === 0) return total;
    if (Date.now() + delay > deadline) return { ...total, pending: left, error: round.error };
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 10_000);
  }
}
