// The local inbox (docs/mailbox.md section 4): every received container is checked without being
// decrypted (structure, known signer, signature, certificate at arrival time), stored in the
// profile, and recorded once per distinct bytes; `open` decrypts with the arrival time.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DB } from '../profile/profile.js';
import { getIdentity, keyByFingerprint } from '../profile/identities.js';
import { bufferSource } from '../container/sinks.js';
import { verifyContainer } from '../container/verify.js';
import { readInfo } from '../container/open.js';
import { requireSigner } from '../services/policy.js';
import { decrypt, type DecryptResult } from '../services/containers.js';
import { audit, type Context } from '../services/context.js';
import { inputError, PliError, securityError } from '../errors.js';
import { formatFingerprint } from '../../../shared/ids.js';

export type InboxState = 'verified' | 'refused' | 'opened';
export interface InboxRow {
  id: number; container_id: string | null; sha256: string; size: number; state: InboxState; reason: string | null;
  flags: string | null; sender_id: string | null; created_ms: number | null; arrived_at: number;
  source: 'imap' | 'folder'; origin: string | null; path: string; opened_at: number | null;
}

/** Creation dates further than this before arrival are flagged (a replayed old container). */
export const OLD_AFTER_MS = 90 * 24 * 3600 * 1000;
/** Hard cap on what is accepted from a mailbox or a folder (well above the sending limit). */
export const MAX_CONTAINER_BYTES = 200 * 1024 * 1024;

export interface IngestResult { row: InboxRow; isNew: boolean; message?: string }

export function getInboxRow(db: DB, id: number): InboxRow | undefined {
  return db.prepare('SELECT * FROM inbox WHERE id = ?').get(id) as InboxRow | undefined;
}

export function listInbox(db: DB): InboxRow[] {
  return db.prepare('SELECT * FROM inbox ORDER BY id').all() as InboxRow[];
}

/** Whether these exact bytes are already in the inbox (then only the IMAP move is left to do). */
export function knownBytes(db: DB, sha256: string): InboxRow | undefined {
  return db.prepare('SELECT * FROM inbox WHERE sha256 = ?').get(sha256) as InboxRow | undefined;
}

/**
 * Verifies and records one received container. Idempotent on its bytes: the same bytes again
 * return the existing row with isNew = false. The file is written before the row.
 */
export async function ingest(ctx: Context, bytes: Buffer, source: 'imap' | 'folder', origin: string): Promise<IngestResult> {
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
  let message: string | undefined;
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
        throw securityError('unknown-sender', `Expéditeur inconnu (identifiant ${announced}, empreinte ${formatFingerprint(header.senderSigFpr)}) : pli refusé. Importez sa carte ou l'annuaire à jour, puis relancez la réception.`);
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
    message = error.message;
  }
  if (containerId) {
    const sameId = db.prepare('SELECT id FROM inbox WHERE container_id = ?').all(containerId) as { id: number }[];
    if (sameId.length > 0) flags.push('same-id-different-bytes');
  }
  if (createdMs !== null && createdMs < arrivedAt - OLD_AFTER_MS) flags.push('old');

  const inboxDir = path.join(ctx.profile.home, 'inbox');
  await mkdir(inboxDir, { recursive: true, mode: 0o700 });
  const file = path.join(inboxDir, `${containerId ?? 'malformed'}-${sha256.slice(0, 12)}.pli`);
  const temporary = path.join(inboxDir, `.tmp-${randomBytes(6).toString('hex')}`);
  await writeFile(temporary, bytes, { mode: 0o600, flush: true });
  await rename(temporary, file);
  // The row and its event in one transaction (one disk sync), after the file is in place.
  const row = db.transaction((): InboxRow => {
    const inserted = db.prepare(`INSERT INTO inbox (container_id, sha256, size, state, reason, flags, sender_id, created_ms, arrived_at, source, origin, path)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(containerId, sha256, bytes.length, state, reason, flags.length ? flags.join(',') : null, senderId, createdMs, arrivedAt, source, origin, file);
    const stored = getInboxRow(db, Number(inserted.lastInsertRowid))!;
    if (state === 'verified') {
      audit(ctx, { action: 'container.received', object: containerId, detail: { inbox: stored.id, sender: senderId, sha256, bytes: bytes.length, source, flags } });
    } else {
      audit(ctx, { action: 'container.refused', object: containerId, outcome: 'refused', detail: { inbox: stored.id, reason, sender: senderId, sha256, source } });
    }
    return stored;
  }).immediate();
  return { row, isNew: true, message };
}

/** One line for `receive` and `inbox`: id, sender, state. */
export function describeInboxRow(db: DB, row: InboxRow): string {
  const sender = row.sender_id ? getIdentity(db, row.sender_id) : undefined;
  const who = sender ? `${sender.name} (${sender.org})` : row.sender_id ? `expéditeur inconnu ${row.sender_id}` : 'expéditeur illisible';
  const state = row.state === 'verified' ? 'vérifié' : row.state === 'opened' ? 'ouvert' : `refusé (${row.reason})`;
  const flags = row.flags ? `  ATTENTION : ${row.flags.split(',').map((f) => (f === 'old' ? 'créé il y a plus de 90 jours' : f === 'same-id-different-bytes' ? 'même identifiant de pli déjà reçu avec un autre contenu' : f)).join(', ')}` : '';
  return `${row.id}  ${who}  ${state}${flags}`;
}

/** Folder transport: every *.pli directly in the folder; files are left where they are. */
export async function receiveFolder(ctx: Context, folder: string, onItem: (result: IngestResult, name: string) => void): Promise<IngestResult[]> {
  let names: string[];
  try {
    names = (await readdir(folder)).filter((n) => n.toLowerCase().endsWith('.pli') && !n.startsWith('.')).sort();
  } catch {
    throw inputError('missing-folder', `Dossier introuvable ou illisible : ${folder}. Vérifiez que la clé USB est branchée.`);
  }
  const results: IngestResult[] = [];
  for (const name of names) {
    const file = path.join(folder, name);
    const info = await stat(file);
    if (!info.isFile()) continue;
    if (info.size > MAX_CONTAINER_BYTES) continue;
    const result = await ingest(ctx, await readFile(file), 'folder', name);
    results.push(result);
    onItem(result, name);
  }
  return results;
}

/** `pli open INBOX-ID`: decrypt as of the arrival time, then mark the row opened. */
export async function openInbox(ctx: Context, id: number, outDir: string, as?: string): Promise<DecryptResult> {
  const db = ctx.profile.db;
  const row = getInboxRow(db, id);
  if (!row) throw inputError('unknown-inbox', `Aucun pli n° ${id} dans la boîte de réception (voir pli inbox).`);
  if (row.state === 'refused') {
    throw securityError(row.reason ?? 'refused', `Le pli n° ${id} a été refusé à la réception (${row.reason}) : il ne s'ouvre pas. Signalez-le à l'officier SSI.`);
  }
  const result = await decrypt(ctx, { as, usePassword: false, input: row.path, outDir, arrivedAt: row.arrived_at });
  db.prepare("UPDATE inbox SET state = 'opened', opened_at = ? WHERE id = ?").run(Date.now(), id);
  return result;
}

export async function removeQuietly(file: string): Promise<void> {
  await rm(file, { force: true });
}
