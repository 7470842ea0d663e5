// The names and sizes of the files a container sent from here carries (issue 15: « file names and
// sizes » on each container). The sender's workstation keeps no plaintext copy of them: the outbox
// row holds them sealed in `outbox.files_sealed` (migration 16, docs/profile.md "Outbox rows: the
// names of the files sent").
//
// The attacker of docs/profile.md reads and writes the database but knows no passphrase. Invariants
// held here:
// - the names are encrypted (AES-256-GCM) under a key derived from the profile's integrity key K,
//   which only an unlocked session holds: the column alone tells no name;
// - the row's identity (id, container, sender, destination) is the AEAD's additional data: a value
//   planted, copied from another row or changed by one byte never decrypts, and is reported
//   `unreadable` (« illisible ») on its row alone, never shown as genuine;
// - a row without a value (sent before migration 16, or with no integrity key on the profile) is
//   `none`: the lists show the file count and size as before.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { DB } from '../profile/profile.js';
import { attachedSubkey } from '../profile/integrity.js';
import { KDF_INFO } from '../crypto/labels.js';

const LABEL = KDF_INFO.outboxFiles;
/** Format of the column: version (1) ‖ nonce (12) ‖ ciphertext ‖ tag (16). */
const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** More names than a send may carry (the contract allows 1000 files): a value beyond is not Pli's. */
const MAX_FILES = 1000;

export interface SentFile { name: string; size: number }
export type SentFiles =
  | { state: 'none' }
  | { state: 'locked' }
  | { state: 'unreadable' }
  | { state: 'known'; files: SentFile[] };

interface RowIdentity { id: number; container_id: string; sender_id: string; destination: string }

/** The additional data: the label, then the row's identity, each field length-prefixed. */
function additionalData(row: RowIdentity): Buffer {
  const parts = [LABEL, String(row.id), row.container_id, row.sender_id, row.destination].map((text) => {
    const bytes = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  });
  return Buffer.concat(parts);
}

/** HKDF(K, outboxFiles), derived once per sign-in and zeroed with K (profile/integrity.ts): never wiped here. */
const keyOf = (db: DB): Buffer | undefined => attachedSubkey(db, LABEL);

/** The names (as the container's manifest writes them: base name, NFC) and sizes of the files
 * about to be sent; null when one can no longer be read (then nothing is kept, as before). */
export async function sentFileList(files: readonly string[]): Promise<SentFile[] | null> {
  try {
    return await Promise.all(files.map(async (file) => ({ name: path.basename(file).normalize('NFC'), size: (await stat(file)).size })));
  } catch {
    return null;
  }
}

/** Seals `files` into the given outbox rows (in the send's transaction). Without the integrity key
 * (a profile nobody holds it on yet) nothing is written: the rows read as `none`. */
export function sealSentFiles(db: DB, ids: readonly number[], files: readonly SentFile[] | null): void {
  if (!files) return;
  const key = keyOf(db);
  if (!key) return;
  const plain = Buffer.from(JSON.stringify(files.map((f) => [f.name, f.size])), 'utf8');
  for (const id of ids) {
    const row = db.prepare('SELECT id, container_id, sender_id, destination FROM outbox WHERE id = ?').get(id) as RowIdentity | undefined;
    if (!row) continue;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(additionalData(row));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    db.prepare('UPDATE outbox SET files_sealed = ? WHERE id = ?').run(Buffer.concat([Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()]), id);
  }
  plain.fill(0);
}

function parse(plain: Buffer): SentFile[] | null {
  let value: unknown;
  try {
    value = JSON.parse(plain.toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length > MAX_FILES) return null;
  const files: SentFile[] = [];
  for (const item of value) {
    if (!Array.isArray(item) || item.length !== 2) return null;
    const [name, size] = item as unknown[];
    if (typeof name !== 'string' || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return null;
    files.push({ name, size });
  }
  return files;
}

/** The files of one outbox row, read back under the key of the session (see the states above). */
export function sentFilesOf(db: DB, row: RowIdentity & { files_sealed?: Buffer | null }): SentFiles {
  const sealed = row.files_sealed ?? null;
  if (sealed === null) return { state: 'none' };
  const key = keyOf(db);
  if (!key) return { state: 'locked' };
  // Anything else than a blob of the format (a text planted with SQL, a cut value) is no seal of Pli's.
  if (!Buffer.isBuffer(sealed) || sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== VERSION) return { state: 'unreadable' };
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 1 + NONCE_BYTES));
  decipher.setAAD(additionalData(row));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return { state: 'unreadable' };
  }
  const files = parse(plain);
  return files ? { state: 'known', files } : { state: 'unreadable' };
}
