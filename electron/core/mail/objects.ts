// Pli objects (docs/objects.md): signed things that are not a container of files — a receipt, the
// authority's directory — carried by the same transports as containers. One mechanism for every
// kind: an object is a v1 container (docs/format.md) signed by a person of the sending workstation
// and encrypted to the members of the receiving organisation, whose only file is `pli-objet.json`,
// itself a signed text with the label of its kind.
//
// Invariants held here:
// - a name or a mail header (`pli-objet-…`, X-Pli-Objet) only selects what is tried as an object:
//   the container's signature (a known, certified sender) and the inner text's own signature
//   decide; anything else is left to the inbox as an ordinary container;
// - an object is opened in memory only (at most OBJECT_MAX_BYTES), nothing is written to disk;
// - the inner signature is checked by each kind against the key it must come from (the outer
//   signer's for a receipt, the pinned authority's for a directory).
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open as openFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sealToBuffer, type RecipientKey } from '../container/seal.js';
import { openStream, readInfo, type PlainSink } from '../container/open.js';
import type { Manifest } from '../container/manifest.js';
import { bufferSource } from '../container/sinks.js';
import { xwingWrapInfo, type ParsedHeader } from '../container/format.js';
import { unwrapFromXWing, ed25519Sign, ed25519Verify } from '../crypto/keys.js';
import { signedDigest } from '../crypto/primitives.js';
import { currentKeys, getIdentity, keyByFingerprint, type IdentityRow, type UnlockedIdentity } from '../profile/identities.js';
import { requireRecipient, requireSigner } from '../services/policy.js';
import { audit, type Context } from '../context.js';
import { folderFault, writeFault } from '../faults.js';
import { mailFileMode, placeNoReplace, readRegularFile } from '../files.js';
import { inputError, PliError, securityError } from '../errors.js';
import { refuseProfileFolder } from '../own-files.js';
import { getMailbox } from './settings.js';
import { objectAttachmentName, readOutboxCopy } from './outbox.js';
import { sealNewOutboxRows, updateOutboxTimed } from './outbox-time.js';

/** The one file of an object container. */
export const OBJECT_FILE = 'pli-objet.json';
/** The kinds of object; each has its own signature label (crypto/labels.ts). */
export type ObjectKind = 'receipt' | 'directory';
/** An object container is small (one chunk of payload): anything bigger is not tried as one. */
export const OBJECT_MAX_BYTES = 256 * 1024;
/** The inner signed text's limit (a directory of a few hundred certificates fits easily). */
const OBJECT_TEXT_MAX = 200 * 1024;

/** A name that marks an object candidate: the attachment or the file in the exchange folder. */
export const isObjectName = (name: string): boolean => /^pli-objet-/i.test(path.basename(name));

/** A person's signed object text (receipts): `{"pli": kind, "v": 1, "body": "…", "signature": "…"}`. */
export async function signObjectText(kind: 'receipt', body: unknown, sigSecret: Uint8Array): Promise<string> {
  const text = JSON.stringify(body);
  const signature = await ed25519Sign(sigSecret, signedDigest(kind, Buffer.from(text, 'utf8')));
  return `${JSON.stringify({ pli: kind, v: 1, body: text, signature: Buffer.from(signature).toString('base64') })}\n`;
}

export interface ObjectText { kind: string; body: string; signature: Buffer; text: string }

/** The outer shape of an inner text, not trusted yet; null when it is no object text. */
export function parseObjectText(text: string): ObjectText | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const v = value as { pli?: unknown; v?: unknown; body?: unknown; signature?: unknown };
  if (!v || typeof v !== 'object' || typeof v.pli !== 'string' || v.v !== 1 || typeof v.body !== 'string' || typeof v.signature !== 'string') return null;
  if (v.signature.length > 200) return null;
  return { kind: v.pli, body: v.body, signature: Buffer.from(v.signature, 'base64'), text };
}

export async function objectSignedBy(object: ObjectText, kind: 'receipt', publicKey: Uint8Array): Promise<boolean> {
  return object.kind === kind && ed25519Verify(publicKey, signedDigest(kind, Buffer.from(object.body, 'utf8')), object.signature);
}

/** The encryption keys of these people (each must be a valid recipient now). */
function recipientKeys(ctx: Context, people: IdentityRow[]): RecipientKey[] {
  const now = Date.now();
  return people.map((row) => {
    requireRecipient(ctx.profile.db, row, now);
    const { enc } = currentKeys(ctx.profile.db, row.id);
    return { keyFpr: enc.fpr, publicKey: enc.public_key };
  });
}

export interface SealedObject { kind: ObjectKind; containerId: string; bytes: Buffer }

/** Seals `text` as an object of `kind`, signed by `signer`, for `people` (an organisation's members). */
export async function sealObject(ctx: Context, kind: ObjectKind, text: string, signer: UnlockedIdentity, people: IdentityRow[]): Promise<SealedObject> {
  const keys = recipientKeys(ctx, people);
  if (keys.length === 0) throw inputError('no-recipient', "Aucun destinataire valide pour l'objet Pli.");
  const { bytes, result } = await sealToBuffer([{ name: OBJECT_FILE, data: Buffer.from(text, 'utf8'), mtime: null }], {
    senderId: signer.id,
    signing: { keyFpr: signer.current.sigFpr, secretKey: signer.current.sigSecret },
    recipients: { kind: 'keys', keys },
  });
  return { kind, containerId: result.containerId.toString('hex'), bytes };
}

/** Where an object goes: the functional mailboxes (queued in the outbox), an exchange folder, or
 * kept queued until the next `receive --folder` writes it into the folder it reads. */
export type ObjectDestination = { mail: string[] } | { folder: string } | { pendingFolder: true };

function messageIdFor(containerId: string, user: string | undefined): string {
  const domain = user?.includes('@') ? user.slice(user.lastIndexOf('@') + 1) : 'pli.invalid';
  return `<pli.objet.${containerId.slice(0, 16)}.${randomBytes(8).toString('hex')}@${domain}>`;
}

/**
 * Queues a sealed object to mailboxes (outbox rows with their object kind: sent by the same
 * flush as containers), or writes it into the folder under `pli-objet-KIND-ID.pli` (temporary name
 * placed without replacing anything: writeObjectToFolder). Returns the outbox ids (none for a folder).
 */
export async function dispatchObject(ctx: Context, object: SealedObject, senderId: string, to: ObjectDestination): Promise<number[]> {
  const db = ctx.profile.db;
  if ('folder' in to) {
    refuseProfileFolder(to.folder, ctx.profile.home, 'folder'); // never in the profile's folder (own-files.ts)
    const target = await writeObjectToFolder(object, to.folder);
    audit(ctx, { actor: senderId, action: 'object.sent', object: object.containerId, detail: { kind: object.kind, transport: 'folder', destination: target, bytes: object.bytes.length } });
    return [];
  }
  const outboxDir = path.join(ctx.profile.home, 'outbox');
  await mkdir(outboxDir, { recursive: true, mode: 0o700 });
  const file = path.join(outboxDir, `${object.containerId}.pli`);
  await writeFile(file, object.bytes, { mode: 0o600, flag: 'wx', flush: true });
  // As the containers' copies (outbox.ts): readable by the group of a shared profile, whose other
  // people's flushes send it.
  const mode = await mailFileMode(outboxDir);
  if (mode !== 0o600) await chmod(file, mode);
  const now = Date.now();
  if ('pendingFolder' in to) {
    // A folder row left 'queued': flushOutbox sends only mail rows; writePendingToFolder writes it.
    const id = db.transaction(() => {
      const inserted = Number(db.prepare(`INSERT INTO outbox (container_id, sender_id, transport, destination, message_id, path, size, state, attempts, next_attempt_at, queued_at, sent_at, object_kind)
        VALUES (?, ?, 'folder', '', ?, ?, ?, 'queued', 0, ?, ?, NULL, ?)`).run(object.containerId, senderId, `<folder.${object.containerId}>`, file, object.bytes.length, now, now, object.kind).lastInsertRowid);
      sealNewOutboxRows(db, [inserted]); // objects are sealed like containers (docs/profile.md)
      return inserted;
    })();
    audit(ctx, { actor: senderId, action: 'object.sent', object: object.containerId, detail: { kind: object.kind, transport: 'folder', outbox: id, destination: null, bytes: object.bytes.length } });
    return [id];
  }
  const insert = db.prepare(`INSERT INTO outbox (container_id, sender_id, transport, destination, message_id, path, size, state, attempts, next_attempt_at, queued_at, sent_at, object_kind)
    VALUES (?, ?, 'mail', ?, ?, ?, ?, 'queued', 0, ?, ?, NULL, ?)`);
  const user = getMailbox(db)?.user;
  const destinations = [...new Set(to.mail.map((m) => m.trim().toLowerCase()))];
  const ids = db.transaction(() => {
    const inserted = destinations.map((d) => Number(insert.run(object.containerId, senderId, d, messageIdFor(object.containerId, user), file, object.bytes.length, now, now, object.kind).lastInsertRowid));
    sealNewOutboxRows(db, inserted);
    return inserted;
  })();
  ids.forEach((id, i) => audit(ctx, { actor: senderId, action: 'object.sent', object: object.containerId, detail: { kind: object.kind, transport: 'mail', outbox: id, destination: destinations[i], bytes: object.bytes.length } }));
  return ids;
}

/** What to check when a pli cannot be dropped in a folder (often a USB key). */
const USB_ADVICE = 'Vérifiez que la clé USB est branchée et accessible en écriture, puis recommencez.';

/**
 * Writes the object into `folder` under its name: a temporary name (O_EXCL: never through a link
 * planted there), synced, then placed without replacing anything (files.ts placeNoReplace, as a
 * container dropped in a folder, outbox.ts): a file at the name, a link (even dangling) included,
 * is left as it is and the object is refused there ('target-exists'). That very object already
 * there (a run stopped after placing it, before its row was marked sent) counts as written.
 */
async function writeObjectToFolder(object: SealedObject, folder: string): Promise<string> {
  try {
    await mkdir(folder, { recursive: true });
  } catch (error) {
    throw folderFault(folder, error, USB_ADVICE);
  }
  const target = path.join(folder, objectAttachmentName(object.kind, object.containerId));
  const temporary = path.join(folder, `.pli-${randomBytes(6).toString('hex')}.part`);
  let placed = false;
  try {
    await writeFile(temporary, object.bytes, { flag: 'wx' });
    const handle = await openFile(temporary, 'r+');
    await handle.sync();
    await handle.close();
    placed = await placeNoReplace(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw writeFault(target, error, USB_ADVICE);
  }
  if (!placed) {
    await rm(temporary, { force: true });
    // Read without following a link, bounded by the object's size: only these very bytes count.
    const there = await readRegularFile(target, object.bytes.length).catch(() => null);
    if (there?.equals(object.bytes)) return target;
    const name = path.basename(target);
    throw inputError('target-exists', `Un fichier ${name} existe déjà dans ${folder} : il n'a pas été remplacé et l'objet Pli (accusé de réception ou annuaire) n'y a pas été déposé. Vérifiez ce fichier (déplacez-le s'il n'a rien à faire là), puis recommencez.`, { name });
  }
  return target;
}

/** Collects the one small file of an object container in memory. */
class ObjectSink implements PlainSink {
  parts: Buffer[] = [];
  size = 0;
  manifest: Manifest | null = null;
  async begin(manifest: Manifest): Promise<void> {
    // Not an object: refused before a byte is kept (the caller then treats it as a container).
    if (manifest.files.length !== 1 || manifest.files[0]!.name !== OBJECT_FILE || manifest.files[0]!.size > OBJECT_TEXT_MAX) throw new NotAnObject();
    this.manifest = manifest;
  }
  async write(_index: number, parts: Buffer[]): Promise<void> {
    for (const part of parts) {
      this.size += part.length;
      if (this.size > OBJECT_TEXT_MAX) throw new NotAnObject();
      this.parts.push(Buffer.from(part)); // copied: the parts are lent
    }
  }
  async commit(): Promise<void> {}
  async abort(): Promise<void> {
    for (const p of this.parts) p.fill(0);
    this.parts = [];
  }
}

class NotAnObject extends Error {}

export interface OpenedObject {
  containerId: string;
  sha256: string;
  /** The outer container's signer: a known person whose certificate was valid at arrival. */
  sender: IdentityRow;
  senderSigPublic: Buffer;
  object: ObjectText;
}

export type OpenOutcome =
  | { opened: OpenedObject }
  /** Not an object (or not one this workstation can read): the caller handles the bytes as a container. */
  | { notObject: 'not-object' | 'not-addressed' | 'unknown-sender' | 'too-big' }
  /** An object container that is refused (bad signature, tampered, revoked sender…). */
  | { refused: PliError };

/**
 * Tries `bytes` as an object addressed to `reader`: the outer container verified (known signer,
 * certificate valid now, signature over every byte), decrypted in memory, its manifest exactly
 * the one object file. The inner text is returned parsed but not yet trusted: each kind checks it.
 */
export async function openObject(ctx: Context, bytes: Buffer, reader: UnlockedIdentity): Promise<OpenOutcome> {
  const db = ctx.profile.db;
  if (bytes.length > OBJECT_MAX_BYTES) return { notObject: 'too-big' };
  let header: ParsedHeader;
  let senderId: string;
  try {
    const info = await readInfo(bufferSource(bytes));
    header = info.header;
    senderId = info.senderId;
  } catch {
    return { notObject: 'not-object' };
  }
  const key = keyByFingerprint(db, header.senderSigFpr);
  if (!key || key.kind !== 'ed25519') return { notObject: 'unknown-sender' };
  const entry = header.recipients.find((e) => e.type === 'xwing' && reader.keySets.some((k) => k.encFpr.equals(e.keyFpr)));
  if (!entry || entry.type !== 'xwing') return { notObject: 'not-addressed' };
  try {
    if (key.identity_id !== senderId) throw securityError('sender-mismatch', "L'expéditeur annoncé dans l'objet Pli ne correspond pas à la clé qui l'a signé : refusé.");
    // An object carries no file: a reader may sign it. Each kind keeps its own checks (a receipt's
    // inner signer is the container's and one of its recipients; a directory is verified against
    // the pinned authority whoever carries it).
    requireSigner(db, header.senderSigFpr, Date.now(), 'reader');
  } catch (error) {
    if (error instanceof PliError) return { refused: error };
    throw error;
  }
  const sink = new ObjectSink();
  try {
    await openStream(bufferSource(bytes), sink, {
      resolveSigner: async () => ({ identityId: key.identity_id, publicKey: key.public_key }),
      unwrapFileKey: async (h) => {
        const keySet = reader.keySets.find((k) => k.encFpr.equals(entry.keyFpr))!;
        const fileKey = await unwrapFromXWing(entry.kemCiphertext, keySet.encSecret, entry.wrapped, h.containerId, xwingWrapInfo(entry.keyFpr));
        if (!fileKey) throw securityError('tampered', "La clé de l'objet Pli est invalide : il a été modifié ou abîmé.");
        return fileKey;
      },
    });
  } catch (error) {
    if (error instanceof NotAnObject) return { notObject: 'not-object' };
    if (error instanceof PliError) return { refused: error };
    throw error;
  }
  const text = Buffer.concat(sink.parts).toString('utf8');
  const object = parseObjectText(text);
  if (!object) return { notObject: 'not-object' };
  return {
    opened: {
      containerId: header.containerId.toString('hex'), sha256: createHash('sha256').update(bytes).digest('hex'),
      sender: getIdentity(db, key.identity_id)!, senderSigPublic: key.public_key, object,
    },
  };
}

/**
 * Writes the objects kept for the folder transport (receipts of containers opened since) into
 * `folder`, the one `receive --folder` reads; each row is then marked sent. Returns how many.
 */
export async function writePendingToFolder(ctx: Context, folder: string): Promise<number> {
  const db = ctx.profile.db;
  const rows = db.prepare("SELECT * FROM outbox WHERE transport = 'folder' AND state = 'queued' AND object_kind IS NOT NULL ORDER BY id").all() as { id: number; container_id: string; sender_id: string; path: string; object_kind: string }[];
  let written = 0;
  for (const row of rows) {
    // The row is the profile attacker's to edit: the file is derived from the container id (hex),
    // never read from the row's path, so no other file of the workstation can be copied out.
    if (!/^[0-9a-f]{32}$/.test(row.container_id)) continue;
    let bytes: Buffer | null;
    try {
      // Read once without following a link, and checked to be that object from that sender, as a
      // flush reads a copy (outbox.ts): a link planted there would copy any file onto the key.
      bytes = await readOutboxCopy(ctx, row, { signature: false });
    } catch (error) {
      if (!(error instanceof PliError)) throw error;
      audit(ctx, { actor: row.sender_id, action: 'object.sent', object: row.container_id, outcome: 'refused', detail: { kind: row.object_kind, transport: 'folder', outbox: row.id, reason: error.code } });
      continue; // never written; the row stays queued, seen in pli outbox
    }
    if (!bytes) continue; // its copy is gone: nothing to write (the row stays queued, seen in pli outbox)
    let target: string;
    try {
      target = await writeObjectToFolder({ kind: row.object_kind as ObjectKind, containerId: row.container_id, bytes }, folder);
    } catch (error) {
      // Another file under its name: left as it is, this row stays queued, the next ones are
      // written (one planted file must not stop every receipt, nor the folder's import).
      if (!(error instanceof PliError && error.code === 'target-exists')) throw error;
      audit(ctx, { actor: row.sender_id, action: 'object.sent', object: row.container_id, outcome: 'refused', detail: { kind: row.object_kind, transport: 'folder', outbox: row.id, reason: error.code } });
      continue;
    }
    updateOutboxTimed(db, row.id, () => db.prepare("UPDATE outbox SET state = 'sent', destination = ?, sent_at = ? WHERE id = ? AND state = 'queued'").run(folder, Date.now(), row.id));
    audit(ctx, { actor: row.sender_id, action: 'object.sent', object: row.container_id, detail: { kind: row.object_kind, transport: 'folder', outbox: row.id, destination: target, bytes: bytes.length } });
    written++;
  }
  return written;
}
