// Integrity of the trust state (docs/profile.md, "Integrity of trust state"). The attacker of the
// threat model can write every file of the profile but knows no passphrase, so the root of
// integrity is a random key K kept inside passphrase-wrapped payloads (identities.ts). The trust
// row and the revocations are sealed with an HMAC under K; the seal is checked whenever K is in
// hand (attached to the open database at every unlock) and a decision reads the trust row.
// This module reads the tables with plain SQL and imports nothing of the authority: certificates.ts
// and identities.ts call it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DB } from './profile.js';
import { hkdf, sha256 } from '../crypto/primitives.js';
import { unwrapFromXWing, wrapForXWing } from '../crypto/keys.js';
import { KDF_INFO } from '../crypto/labels.js';
import { inputError, securityError, type PliError } from '../errors.js';

export const INTEGRITY_KEY_BYTES = 32;
/** A holder's `wrapped_master`: master (32) ‖ K (32) + the 16-byte AEAD tag. */
export const HOLDER_PAYLOAD_BYTES = 64 + 16;
const SEAL_LABEL = KDF_INFO.integrityTrust;
const HANDOVER_LABEL = KDF_INFO.wrapIntegrity;

/** Security error (exit 2) naming the profile as modified outside Pli. */
export function profileTampered(detail: string): PliError {
  return securityError('profile-tampered', `Le profil de ce poste a été modifié en dehors de Pli (${detail}) : aucune décision n'est prise. Prévenez l'officier SSI.`);
}

// The key in hand for each open database, a private copy zeroed at detach. A WeakMap: a closed
// and forgotten database takes its key with it.
const attached = new WeakMap<DB, Buffer>();
// The MAC keys HKDF(K, label) of each attached K, derived once per label instead of once per MAC
// (issue 13: one per inbox row received), and zeroed with K when it is detached or replaced.
// Keyed by the attached copy itself: a key passed in by a caller (a hand-over being checked) is
// never cached.
const subkeys = new WeakMap<Buffer, Map<string, Buffer>>();

function forget(key: Buffer | undefined): void {
  if (!key) return;
  subkeys.get(key)?.forEach((subkey) => subkey.fill(0));
  subkeys.delete(key);
  key.fill(0);
}

/** HKDF(key, label), cached when `key` is an attached K (see `subkeys`); null cache: derived afresh. */
function subkeyOf(key: Uint8Array, label: string): { subkey: Buffer; cached: boolean } {
  const cache = Buffer.isBuffer(key) ? subkeys.get(key) : undefined;
  let subkey = cache?.get(label);
  if (!subkey) {
    subkey = hkdf(key, Buffer.alloc(0), label);
    cache?.set(label, subkey);
  }
  return { subkey, cached: cache !== undefined };
}

/** HMAC-SHA-256 under HKDF(key, label): the derived key kept while `key` is attached, else wiped at once. */
function macUnder(key: Uint8Array, label: string, canonical: Buffer): Buffer {
  const { subkey, cached } = subkeyOf(key, label);
  try {
    return createHmac('sha256', subkey).update(canonical).digest();
  } finally {
    if (!cached) subkey.fill(0);
  }
}

/** HKDF(K, label) for the K attached to `db` (none: undefined), derived once and zeroed with K at
 * detach or replacement. Shared with its other users: the caller must not wipe it. */
export function attachedSubkey(db: DB, label: string): Buffer | undefined {
  const key = attached.get(db);
  return key ? subkeyOf(key, label).subkey : undefined;
}

/** Whether some person of the profile holds K (then trust writes need it, and the seal must exist). */
export function hasHolder(db: DB): boolean {
  return db.prepare('SELECT 1 FROM unlock WHERE length(wrapped_master) = ? LIMIT 1').get(HOLDER_PAYLOAD_BYTES) !== undefined;
}

export function integrityKeyOf(db: DB): Buffer | undefined {
  return attached.get(db);
}

/** Attaches K to `db` and checks the seal at once: a tampered profile fails at sign-in. The key
 * stays attached when the check fails, so that no later decision reads the state unverified. */
export function attachIntegrityKey(db: DB, key: Uint8Array): void {
  if (key.length !== INTEGRITY_KEY_BYTES) throw profileTampered("clé d'intégrité de taille invalide");
  const previous = attached.get(db);
  const copy = Buffer.from(key);
  attached.set(db, copy);
  subkeys.set(copy, new Map());
  forget(previous);
  verifyTrustSeal(db);
}

export function detachIntegrityKey(db: DB): void {
  forget(attached.get(db));
  attached.delete(db);
}

// ---- canonical bytes ------------------------------------------------------------------------

function lengthPrefixed(parts: Buffer[]): Buffer {
  const out: Buffer[] = [];
  for (const part of parts) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(part.length);
    out.push(length, part);
  }
  return Buffer.concat(out);
}

function int(value: unknown): Buffer {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw profileTampered('valeur hors format dans les tables de confiance');
  const out = Buffer.alloc(8);
  out.writeBigInt64BE(BigInt(value));
  return out;
}

function bytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  throw profileTampered('valeur hors format dans les tables de confiance');
}

interface RawTrust { name: string; public_key: Buffer; fpr: Buffer; serial: number; issued: number; next_update: number; allow_password: number; grace_days: number; pinned_at: number; imported_at: number }
interface RawRevocation { identity_id: string; reason: string; revoked_at: number; imported_at: number }
interface RawConvention { id: string; authority: Buffer; version: number; text: string; imported_at: number }
interface RawVoiceCheck { subject: string; fpr: Buffer; checked_at: number; checked_by: string; checked_by_name: string }

/** The bytes the seal covers: the label, the counter, the whole trust row (or "no trust"),
 * SHA-256 over the revocations sorted by identity id, and, when there are conventions, SHA-256
 * over them sorted by id (docs/profile.md). */
export function trustCanonical(db: DB, counter: number): Buffer {
  const trust = db.prepare('SELECT * FROM trust WHERE one = 1').get() as RawTrust | undefined;
  const trustPart = trust
    ? [Buffer.from('trust', 'ascii'), bytes(trust.name), bytes(trust.public_key), bytes(trust.fpr), int(trust.serial), int(trust.issued), int(trust.next_update),
      int(trust.allow_password), int(trust.grace_days), int(trust.pinned_at), int(trust.imported_at)]
    : [Buffer.from('no trust', 'ascii')];
  const revocations = db.prepare('SELECT identity_id, reason, revoked_at, imported_at FROM revocations ORDER BY identity_id').all() as RawRevocation[];
  const revocationsDigest = sha256(...revocations.map((r) => lengthPrefixed([bytes(r.identity_id), bytes(r.reason), int(r.revoked_at), int(r.imported_at)])));
  // The conventions (docs/convention.md 4) join the sealed text only once there is one, so that a
  // seal written before them still verifies; deleting them all changes the text all the same.
  const conventions = db.prepare('SELECT id, authority, version, text, imported_at FROM conventions ORDER BY id').all() as RawConvention[];
  const conventionsPart = conventions.length === 0 ? [] : [Buffer.from('conventions', 'ascii'),
    sha256(...conventions.map((c) => lengthPrefixed([bytes(c.id), bytes(c.authority), int(c.version), bytes(c.text), int(c.imported_at)])))];
  // The voice checks (migration 13) likewise join only once there is one: a planted "vérifiée de
  // vive voix" changes the sealed text, and so does deleting them all.
  const voiceChecks = db.prepare('SELECT subject, fpr, checked_at, checked_by, checked_by_name FROM voice_checks ORDER BY subject').all() as RawVoiceCheck[];
  const voicePart = voiceChecks.length === 0 ? [] : [Buffer.from('voice checks', 'ascii'),
    sha256(...voiceChecks.map((v) => lengthPrefixed([bytes(v.subject), bytes(v.fpr), int(v.checked_at), bytes(v.checked_by), bytes(v.checked_by_name)])))];
  return lengthPrefixed([Buffer.from(SEAL_LABEL, 'ascii'), int(counter), ...trustPart, revocationsDigest, ...conventionsPart, ...voicePart]);
}

const macOf = (key: Uint8Array, canonical: Buffer): Buffer => macUnder(key, SEAL_LABEL, canonical);

/** Whether the stored seal verifies under `key` (false when absent, wrong, or out of format). */
export function trustSealValid(db: DB, key: Uint8Array): boolean {
  const seal = db.prepare('SELECT counter, mac FROM trust_seal WHERE one = 1').get() as { counter: number; mac: Buffer } | undefined;
  if (!seal || !Buffer.isBuffer(seal.mac) || seal.mac.length !== 32) return false;
  let expected: Buffer;
  try {
    expected = macOf(key, trustCanonical(db, seal.counter));
  } catch {
    return false;
  }
  return timingSafeEqual(expected, seal.mac);
}

// The write transactions in which the seal was verified with the write lock held (holdTrustSeal),
// with the key it was verified under.
const held = new WeakMap<DB, Buffer>();

/** With K attached: the seal must verify, else `profile-tampered`. Without K (a command that never
 * unlocks): the state is used as stored (docs/profile.md). Inside a transaction held by
 * holdTrustSeal, under the same key, already verified: not computed again. */
export function verifyTrustSeal(db: DB): void {
  const key = attached.get(db);
  if (!key) return;
  if (held.get(db) === key && db.inTransaction) return;
  held.delete(db);
  if (!db.prepare('SELECT 1 FROM trust_seal WHERE one = 1').get()) throw profileTampered('sceau des tables de confiance absent');
  if (!trustSealValid(db, key)) throw profileTampered("l'autorité épinglée, l'annuaire ou les révocations ne correspondent plus à leur sceau");
}

/**
 * Verifies the seal once for a whole write transaction the caller has just opened with
 * `BEGIN IMMEDIATE` (IngestBatch: the containers of a `pli receive` batch), after which
 * verifyTrustSeal trusts that check until releaseTrustSeal or the transaction's end.
 * Invariant: from BEGIN IMMEDIATE to COMMIT/ROLLBACK this connection holds the database's write
 * lock, so no other program can change the trust tables; this process changes them only through
 * sealedTrustWrite, which seals what it writes. The state verified at the start is therefore the
 * state read until the end. Never call it in a deferred transaction (no lock taken at BEGIN).
 */
export function holdTrustSeal(db: DB): void {
  if (!db.inTransaction) throw new Error('holdTrustSeal outside a transaction');
  held.delete(db);
  verifyTrustSeal(db);
  const key = attached.get(db);
  if (key) held.set(db, key);
}

/** Ends holdTrustSeal's trust: call at the transaction's COMMIT or ROLLBACK (before it). */
export function releaseTrustSeal(db: DB): void {
  held.delete(db);
}

/** Writes the seal of the current state under `key` (counter + 1). Call inside the writer's transaction. */
export function writeTrustSeal(db: DB, key: Uint8Array): void {
  const counter = ((db.prepare('SELECT counter FROM trust_seal WHERE one = 1').pluck().get() as number | undefined) ?? 0) + 1;
  const mac = macOf(key, trustCanonical(db, counter));
  db.prepare('INSERT INTO trust_seal (one, counter, mac) VALUES (1, ?, ?) ON CONFLICT(one) DO UPDATE SET counter = excluded.counter, mac = excluded.mac').run(counter, mac);
}

const signInRequired = () => inputError('sign-in-required',
  "Connectez-vous, puis recommencez : l'importation d'un annuaire demande la phrase de passe d'une personne habilitée de ce poste.");

/** Refuses a write of the trust state that could not be sealed: a holder exists and no key is in hand. */
export function requireTrustWriteKey(db: DB): void {
  if (!attached.get(db) && hasHolder(db)) throw signInRequired();
}

/** Runs `write` (changes to `trust` / `revocations`) in one transaction with the new seal. The
 * state is verified first (never seal over a tampered state). With no holder yet, the write is
 * left unsealed: the first holder seals the state as found. */
export function sealedTrustWrite<T>(db: DB, write: () => T): T {
  return db.transaction(() => {
    const key = attached.get(db);
    if (!key) {
      if (hasHolder(db)) throw signInRequired();
      return write();
    }
    verifyTrustSeal(db);
    const result = write();
    writeTrustSeal(db, key);
    return result;
  })();
}

// ---- hand-over to another own identity ------------------------------------------------------

const handoverInfo = (encFpr: Buffer): Buffer => Buffer.concat([Buffer.from(HANDOVER_LABEL, 'ascii'), encFpr]);

export interface HandoverRow { identity_id: string; key_fpr: Buffer; kem_ciphertext: Buffer; wrapped: Buffer; created_at: number }

/** K wrapped with X-Wing for an encryption key (confidentiality only: the receiver verifies the
 * seal with it before adopting it). */
export async function wrapIntegrityKey(encPublic: Uint8Array, encFpr: Buffer, key: Uint8Array): Promise<{ kemCiphertext: Buffer; wrapped: Buffer }> {
  return wrapForXWing(encPublic, key, encFpr, handoverInfo(encFpr));
}

export async function unwrapIntegrityKey(row: HandoverRow, encSecret: Uint8Array): Promise<Buffer | null> {
  const key = await unwrapFromXWing(row.kem_ciphertext, encSecret, row.wrapped, row.key_fpr, handoverInfo(row.key_fpr));
  if (key && key.length !== INTEGRITY_KEY_BYTES) {
    key.fill(0);
    return null;
  }
  return key;
}

/** Whom a holder may hand K to when an authority is pinned: the encryption key of the identity's
 * valid certificate under it, verified from its text (null: nobody). Registered by
 * authority/certificates.ts, a floor above this one. */
export type CertifiedHandoverTarget = (db: DB, identityId: string) => { encPublic: Uint8Array; encFpr: Buffer } | null;
let certifiedTarget: CertifiedHandoverTarget | null = null;
export function setCertifiedHandoverTarget(resolve: CertifiedHandoverTarget): void {
  certifiedTarget = resolve;
}
export const certifiedHandoverTarget = (): CertifiedHandoverTarget | null => certifiedTarget;

// ---- inbox rows -----------------------------------------------------------------------------

const INBOX_LABEL = KDF_INFO.integrityInbox;

/** The columns of an inbox row the MAC covers: what says which bytes arrived, from whom, when. */
export interface InboxMacFields {
  id: number; sha256: string; size: number; arrived_at: number; source: string;
  container_id: string | null; sender_id: string | null; created_ms: number | null;
}

// A nullable column: a tag byte first, so that NULL and an empty value differ.
const optional = (value: unknown, encode: (v: unknown) => Buffer): Buffer =>
  value === null || value === undefined ? Buffer.from([0]) : Buffer.concat([Buffer.from([1]), encode(value)]);

/** A row's MAC under the key attached to `db` and the subkey of `label`; null without a key. */
function rowMac(db: DB, label: string, canonical: () => Buffer): Buffer | null {
  const key = attached.get(db);
  return key ? macUnder(key, label, canonical()) : null;
}

/**
 * The check every sealed row shares: 'unproven' without a stored MAC or without a key in hand;
 * 'sealed' when it verifies; a MAC present and wrong (or a row out of format) throws
 * `profile-tampered` naming the row (`where`) and what no longer matches (`changed`).
 */
function checkRowMac(db: DB, label: string, stored: Buffer | null | undefined, canonical: () => Buffer, where: string, changed: string): 'sealed' | 'unproven' {
  const key = attached.get(db);
  if (stored === null || stored === undefined || !key) return 'unproven';
  let expected: Buffer;
  try {
    expected = macUnder(key, label, canonical());
  } catch {
    throw profileTampered(where);
  }
  if (!Buffer.isBuffer(stored) || stored.length !== expected.length || !timingSafeEqual(expected, stored)) {
    throw profileTampered(`${where} : ${changed}`);
  }
  return 'sealed';
}

/** The bytes an inbox row's MAC covers (docs/profile.md, table `inbox`). */
export function inboxRowCanonical(row: InboxMacFields): Buffer {
  return lengthPrefixed([Buffer.from(INBOX_LABEL, 'ascii'), int(row.id), bytes(row.sha256), int(row.size), int(row.arrived_at), bytes(row.source),
    optional(row.container_id, bytes), optional(row.sender_id, bytes), optional(row.created_ms, int)]);
}

/** HMAC(HKDF(K, "pli/v1/integrity/inbox"), canonical row) under the key attached to `db`; null
 * when no key is attached (a command that never unlocked: the row stays unsealed). */
export function inboxRowMac(db: DB, row: InboxMacFields): Buffer | null {
  return rowMac(db, INBOX_LABEL, () => inboxRowCanonical(row));
}

/**
 * Whether an inbox row's stored arrival time is proven. 'sealed': its MAC verifies under the
 * attached key. 'unproven': no MAC (stored without the key, or by an older version) or no key in
 * hand to check it. A MAC present and wrong (or out of format) throws `profile-tampered`.
 */
export function checkInboxRowMac(db: DB, row: InboxMacFields & { mac: Buffer | null }): 'sealed' | 'unproven' {
  return checkRowMac(db, INBOX_LABEL, row.mac, () => inboxRowCanonical(row), `pli n° ${row.id} de la boîte de réception`,
    "sa date d'arrivée, son expéditeur ou son empreinte ne correspondent plus à leur sceau");
}

// ---- outbox rows ----------------------------------------------------------------------------

const OUTBOX_TIME_LABEL = KDF_INFO.integrityOutboxTime;

/** The columns of an outbox row its time MAC covers: which container went where, queued and sent
 * when (docs/profile.md, "Outbox rows: the time sent"). `state` is left out on purpose: the
 * register dates a container from these columns alone. */
export interface OutboxTimeFields {
  id: number; container_id: string; sender_id: string; transport: string; destination: string;
  queued_at: number; sent_at: number | null; object_kind?: string | null;
}

/** The bytes an outbox row's time MAC covers (docs/profile.md, table `outbox`). */
export function outboxTimeCanonical(row: OutboxTimeFields): Buffer {
  return lengthPrefixed([Buffer.from(OUTBOX_TIME_LABEL, 'ascii'), int(row.id), bytes(row.container_id), bytes(row.sender_id), bytes(row.transport),
    bytes(row.destination), int(row.queued_at), optional(row.sent_at, int), optional(row.object_kind, bytes)]);
}

/** HMAC(HKDF(K, "pli/v1/integrity/outbox-time"), canonical row) under the key attached to `db`;
 * null when no key is attached (the row is then written unsealed, never with an old MAC). */
export function outboxTimeMac(db: DB, row: OutboxTimeFields): Buffer | null {
  return rowMac(db, OUTBOX_TIME_LABEL, () => outboxTimeCanonical(row));
}

/**
 * Whether an outbox row's stored times are proven. 'sealed': its MAC verifies under the attached
 * key. 'unproven': no MAC (made without the key, or before migration 17) or no key in hand. A MAC
 * present and wrong (or out of format) throws `profile-tampered`.
 */
export function checkOutboxTimeMac(db: DB, row: OutboxTimeFields & { time_mac?: Buffer | null }): 'sealed' | 'unproven' {
  return checkRowMac(db, OUTBOX_TIME_LABEL, row.time_mac, () => outboxTimeCanonical(row), `envoi n° ${row.id} de la file d'envoi`,
    'sa date, son pli ou sa destination ne correspondent plus à leur sceau');
}
