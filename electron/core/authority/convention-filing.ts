// Filing containers under a convention (docs/convention.md 7): the outbox rows of a container sent
// under one, the inbox row of a container opened here, each sealed under the profile's integrity
// key; the files Pli wrote when opening (for the retention run, convention.md 8); and what `due`
// reads back.
//
// The attacker of docs/profile.md can write every row. Invariants held here:
// - a filing is sealed (filing_mac) when it is written with the integrity key in hand; the seal
//   covers the row's identity (id, container, bytes or destination) and every filing field, so a
//   row moved to another period, convention or document, or a seal copied from another row, does
//   not verify: `profile-tampered` at the next read with the key in hand;
// - with the key in hand, a filing without a seal (planted, or written without the key) counts for
//   nothing: it never makes a period `sent` or `delivered`;
// - a written file is recorded with an HMAC of its content under a key derived from the integrity
//   key (never a plain hash, which would let whoever reads the database confirm a guess).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { DB } from '../profile/profile.js';
import { attachedSubkey, hasHolder, integrityKeyOf, profileTampered } from '../profile/integrity.js';
import { KDF_INFO } from '../crypto/labels.js';
import type { ManifestConvention } from '../container/manifest.js';

export interface Filing { convention: string; period: string; documents: string[]; subject: string | null }

export const filingOf = (m: ManifestConvention | null | undefined): Filing | null =>
  m ? { convention: m.id, period: m.period, documents: [...m.documents], subject: m.subject ?? null } : null;

const field = (value: string | number | null): Buffer => {
  if (value === null) return Buffer.from([0]);
  const bytes = Buffer.from(String(value), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([Buffer.from([1]), length, bytes]);
};

interface FilingColumns { convention_id: string | null; period: string | null; documents: string | null; subject: string | null }

/** The sealed text: label, table, the row's identity, then every filing field (NULL tagged apart). */
function canonical(table: 'inbox' | 'outbox', identity: (string | number | null)[], row: FilingColumns & { filed_at?: number | null }): Buffer {
  return Buffer.concat([
    field(KDF_INFO.integrityFiling), field(table), ...identity.map(field),
    field(row.convention_id), field(row.period), field(row.documents), field(row.subject), field(row.filed_at ?? null),
  ]);
}

/** HMAC under HKDF(K, filing label), K the key attached to `db` (every caller checks it is in hand
 * first): the derived key is integrity.ts's per-sign-in cache, derived once and zeroed with K at
 * sign-out, so it is not wiped here. */
function macOf(db: DB, text: Buffer): Buffer {
  const macKey = attachedSubkey(db, KDF_INFO.integrityFiling);
  if (!macKey) throw new Error('sceau de classement sans clé d’intégrité');
  return createHmac('sha256', macKey).update(text).digest();
}

const columns = (f: Filing | null): FilingColumns => ({
  convention_id: f?.convention ?? null, period: f?.period ?? null, documents: f ? JSON.stringify(f.documents) : null, subject: f?.subject ?? null,
});

interface OutboxIdentity { id: number; container_id: string; sender_id: string; destination: string }
interface InboxIdentity { id: number; container_id: string | null; sha256: string }
const outboxIdentity = (r: OutboxIdentity) => [r.id, r.container_id, r.sender_id, r.destination];
const inboxIdentity = (r: InboxIdentity) => [r.id, r.container_id, r.sha256];

/** Files the outbox rows of a container sent under a convention (in the send's transaction). */
export function fileOutboxRows(db: DB, ids: number[], filing: Filing): void {
  const key = integrityKeyOf(db);
  const values = columns(filing);
  for (const id of ids) {
    const row = db.prepare('SELECT id, container_id, sender_id, destination FROM outbox WHERE id = ?').get(id) as OutboxIdentity;
    const mac = key ? macOf(db, canonical('outbox', outboxIdentity(row), values)) : null;
    db.prepare('UPDATE outbox SET convention_id = ?, period = ?, documents = ?, subject = ?, filing_mac = ? WHERE id = ?')
      .run(values.convention_id, values.period, values.documents, values.subject, mac, id);
  }
}

/** Files an inbox row when it is opened: under its convention, or « sans convention » (null). */
export function fileInboxRow(db: DB, id: number, filing: Filing | null, now = Date.now()): void {
  const key = integrityKeyOf(db);
  const values = { ...columns(filing), filed_at: now };
  const row = db.prepare('SELECT id, container_id, sha256 FROM inbox WHERE id = ?').get(id) as InboxIdentity;
  const mac = key ? macOf(db, canonical('inbox', inboxIdentity(row), values)) : null;
  db.prepare('UPDATE inbox SET convention_id = ?, period = ?, documents = ?, subject = ?, filed_at = ?, filing_mac = ? WHERE id = ?')
    .run(values.convention_id, values.period, values.documents, values.subject, now, mac, id);
}

/**
 * Whether a stored filing counts. With the integrity key in hand: its seal must verify (else
 * `profile-tampered`), and an unsealed one does not count. Without the key: on a profile with no
 * holder of it there is nothing to check against (it counts); on a profile with one, the callers
 * sign in first (convention.md 4), and an unchecked filing does not count.
 */
function counts(db: DB, table: 'inbox' | 'outbox', identity: (string | number | null)[], row: FilingColumns & { filed_at?: number | null; filing_mac: Buffer | null }, label: string): boolean {
  const key = integrityKeyOf(db);
  if (!key) return !hasHolder(db);
  if (row.filing_mac === null) return false;
  const expected = macOf(db, canonical(table, identity, row));
  if (!Buffer.isBuffer(row.filing_mac) || row.filing_mac.length !== expected.length || !timingSafeEqual(expected, row.filing_mac)) {
    throw profileTampered(`${label} : sa convention, sa période ou ses documents ne correspondent plus à leur sceau`);
  }
  return true;
}

export interface FiledContainer {
  direction: 'sent' | 'received';
  container: string;
  convention: string;
  period: string;
  documents: string[];
  subject: string | null;
  /** Outbox: sent; inbox: opened (filed). */
  at: number;
}

const parseDocuments = (text: string | null): string[] => {
  try {
    const value = JSON.parse(text ?? '[]') as unknown;
    return Array.isArray(value) && value.every((d) => typeof d === 'string') ? value : [];
  } catch {
    return [];
  }
};

/** The containers filed under a convention here, each one checked (see `counts`). */
export function filedContainers(db: DB, conventionId?: string, options: { anyState?: boolean } = {}): FiledContainer[] {
  const out: FiledContainer[] = [];
  type Out = OutboxIdentity & FilingColumns & { filing_mac: Buffer | null; state: string; sent_at: number | null };
  const sent = db.prepare(`SELECT id, container_id, sender_id, destination, convention_id, period, documents, subject, filing_mac, state, sent_at FROM outbox
    WHERE convention_id IS NOT NULL ${conventionId ? 'AND convention_id = ?' : ''} ORDER BY id`).all(...(conventionId ? [conventionId] : [])) as Out[];
  for (const row of sent) {
    if (!counts(db, 'outbox', outboxIdentity(row), row, `envoi n° ${row.id} de la boîte d'envoi`)) continue;
    // A period counts as sent once a row is; the retention run takes every row (queued, failed too).
    if (!options.anyState && (row.state !== 'sent' || row.sent_at === null)) continue;
    out.push({ direction: 'sent', container: row.container_id, convention: row.convention_id!, period: row.period!, documents: parseDocuments(row.documents), subject: row.subject, at: row.sent_at ?? 0 });
  }
  type In = InboxIdentity & FilingColumns & { filed_at: number | null; filing_mac: Buffer | null };
  const received = db.prepare(`SELECT id, container_id, sha256, convention_id, period, documents, subject, filed_at, filing_mac FROM inbox
    WHERE convention_id IS NOT NULL ${conventionId ? 'AND convention_id = ?' : ''} ORDER BY id`).all(...(conventionId ? [conventionId] : [])) as In[];
  for (const row of received) {
    if (!counts(db, 'inbox', inboxIdentity(row), row, `pli n° ${row.id} de la boîte de réception`)) continue;
    if (row.container_id === null || row.filed_at === null) continue;
    out.push({ direction: 'received', container: row.container_id, convention: row.convention_id!, period: row.period!, documents: parseDocuments(row.documents), subject: row.subject, at: row.filed_at });
  }
  return out;
}

// ---- tied at reception (docs/convention.md 8.3) ------------------------------------------------
// A container that is never opened keeps its manifest encrypted: nothing in it ties it to a
// convention. What reception verified does: its signer (signature and certificate checked) and its
// arrival. It is tied to the conventions whose nominative list holds that signer and whose days
// (start to last day) hold the arrival day; the retention run destroys it with the one convention
// it is tied to, and lists it « à détruire à la main » when it is tied to several.

/** The conventions a verified container from `senderId` arriving at `arrivedAt` is tied to (ids,
 * sorted); null when the conventions cannot be read (a refused one: the tie is left unknown). */
export async function conventionsAtReception(db: DB, senderId: string, arrivedAt: number): Promise<string[] | null> {
  try {
    const { storedConventions, today } = await import('./convention-object.js');
    const { lastDayOf } = await import('./convention.js');
    const day = today(new Date(arrivedAt));
    return (await storedConventions(db))
      .filter(({ body }) => body.people.some((p) => p.id === senderId) && body.start <= day && day <= lastDayOf(body))
      .map(({ body }) => body.id).sort();
  } catch {
    return null;
  }
}

interface TieIdentity { id: number; container_id: string | null; sha256: string; sender_id: string | null; arrived_at: number }
const tieCanonical = (row: TieIdentity, tie: string | null): Buffer => Buffer.concat([
  field(KDF_INFO.integrityFiling), field('inbox-tie'), field(row.id), field(row.container_id), field(row.sha256), field(row.sender_id), field(row.arrived_at), field(tie),
]);

/** Records the tie of a row just received (in ingest's transaction), sealed when the key is attached. */
export function tieAtReception(db: DB, id: number, conventions: string[]): void {
  const row = db.prepare('SELECT id, container_id, sha256, sender_id, arrived_at FROM inbox WHERE id = ?').get(id) as TieIdentity | undefined;
  if (!row) return;
  const tie = JSON.stringify(conventions);
  const key = integrityKeyOf(db);
  db.prepare('UPDATE inbox SET tie = ?, tie_mac = ? WHERE id = ?').run(tie, key ? macOf(db, tieCanonical(row, tie)) : null, id);
}

export interface UnopenedContainer {
  id: number; container: string; sha256: string; sender: string | null; arrivedAt: number;
  /** The sealed tie; null when it cannot be trusted (not computed, or no seal): then only a person can say. */
  conventions: string[] | null;
}

/**
 * Received containers not filed by an opening (no filing whose seal verifies) and not destroyed,
 * with their tie. With the integrity key in hand, every seal is checked here, before the caller
 * destroys anything: a tie that does not match its seal (re-tied, or a seal copied from another
 * row) is `profile-tampered`; one without a seal counts as unknown.
 */
export function unopenedContainers(db: DB): UnopenedContainer[] {
  type Row = TieIdentity & FilingColumns & { filed_at: number | null; filing_mac: Buffer | null; tie: string | null; tie_mac: Buffer | null };
  const rows = db.prepare(`SELECT id, container_id, sha256, sender_id, arrived_at, convention_id, period, documents, subject, filed_at, filing_mac, tie, tie_mac
    FROM inbox WHERE destroyed_at IS NULL AND state <> 'refused' AND container_id IS NOT NULL ORDER BY id`).all() as Row[];
  const key = integrityKeyOf(db);
  const out: UnopenedContainer[] = [];
  for (const row of rows) {
    // Filed by an opening, under a seal that holds: the filing decides (filedContainers).
    if (row.filed_at !== null && row.filing_mac !== null && key && counts(db, 'inbox', inboxIdentity(row), row, `pli n° ${row.id} de la boîte de réception`)) continue;
    let conventions: string[] | null = null;
    // As for the filings (`counts`): without the key, a profile with no holder of it has nothing to check against.
    if (row.tie !== null && (key ? row.tie_mac !== null : !hasHolder(db))) {
      const expected = key ? macOf(db, tieCanonical(row, row.tie)) : null;
      if (expected && (!Buffer.isBuffer(row.tie_mac) || row.tie_mac.length !== expected.length || !timingSafeEqual(expected, row.tie_mac))) {
        throw profileTampered(`pli n° ${row.id} de la boîte de réception : sa convention de rattachement ne correspond plus à son sceau`);
      }
      const value = JSON.parse(row.tie) as unknown;
      conventions = Array.isArray(value) && value.every((c) => typeof c === 'string') ? value : null;
    }
    out.push({ id: row.id, container: row.container_id!, sha256: row.sha256, sender: row.sender_id, arrivedAt: row.arrived_at, conventions });
  }
  return out;
}

/**
 * The filing of one inbox or outbox row, for the lists (issue 15): `filed` false when the row was
 * never filed (an inbox row not yet opened), `filing` null when filed « sans convention ». Same
 * rule as `filedContainers`: with the key in hand a seal that does not verify throws
 * `profile-tampered`, and an unsealed filing counts for nothing (shown as not filed): a subject or
 * period planted with SQL never reaches a screen.
 */
export function rowFiling(db: DB, table: 'inbox' | 'outbox', id: number): { filed: boolean; filing: Filing | null } {
  if (table === 'outbox') {
    type Out = OutboxIdentity & FilingColumns & { filing_mac: Buffer | null };
    const row = db.prepare('SELECT id, container_id, sender_id, destination, convention_id, period, documents, subject, filing_mac FROM outbox WHERE id = ?').get(id) as Out | undefined;
    if (!row) return { filed: false, filing: null };
    // Sent sans convention: nothing was sealed. A sealed row whose convention was emptied with SQL
    // is checked below (its seal covers the NULLs too).
    if (row.convention_id === null && row.filing_mac === null) return { filed: true, filing: null };
    if (!counts(db, 'outbox', outboxIdentity(row), row, `envoi n° ${row.id} de la boîte d'envoi`) || row.convention_id === null) return { filed: true, filing: null };
    return { filed: true, filing: { convention: row.convention_id, period: row.period ?? '', documents: parseDocuments(row.documents), subject: row.subject } };
  }
  type In = InboxIdentity & FilingColumns & { filed_at: number | null; filing_mac: Buffer | null };
  const row = db.prepare('SELECT id, container_id, sha256, convention_id, period, documents, subject, filed_at, filing_mac FROM inbox WHERE id = ?').get(id) as In | undefined;
  if (!row || row.filed_at === null) return { filed: false, filing: null };
  // « Sans convention » is filed with a seal too: checked like the rest, so a filing emptied with SQL shows.
  if (!counts(db, 'inbox', inboxIdentity(row), row, `pli n° ${row.id} de la boîte de réception`)) return { filed: false, filing: null };
  if (row.convention_id === null) return { filed: true, filing: null };
  return { filed: true, filing: { convention: row.convention_id, period: row.period ?? '', documents: parseDocuments(row.documents), subject: row.subject } };
}

// ---- files written by Pli ---------------------------------------------------------------------

/** HMAC of a file's content (read as a stream) under a key derived from the integrity key; null
 * without the key. Throws if the file cannot be read (a caller judging it takes that as changed). */
export async function writtenFileMac(db: DB, file: string): Promise<Buffer | null> {
  // The per-sign-in cache (one derivation for a whole retention run), zeroed with K at sign-out.
  const macKey = attachedSubkey(db, KDF_INFO.integrityWrittenFile);
  if (!macKey) return null;
  const hmac = createHmac('sha256', macKey);
  for await (const chunk of createReadStream(file)) hmac.update(chunk as Buffer);
  return hmac.digest();
}

/** The key of writtenFileMac, or null without the integrity key: the decryption computes the same
 * HMAC as it writes (FolderSink, mac), without reading the files again. A copy of the cached
 * subkey (no derivation): the caller zeroes it, the cache stays whole. */
export function writtenFileMacKey(db: DB): Buffer | null {
  const macKey = attachedSubkey(db, KDF_INFO.integrityWrittenFile);
  return macKey ? Buffer.from(macKey) : null;
}

/** Records the files an opening wrote (decrypt), for the retention run. */
export function recordWrittenFiles(db: DB, containerId: string, files: { path: string; size: number; mac: Buffer | null }[], now = Date.now()): void {
  const insert = db.prepare('INSERT INTO written_files (container_id, path, size, hmac, written_at) VALUES (?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const f of files) insert.run(containerId, f.path, f.size, f.mac, now);
  })();
}
