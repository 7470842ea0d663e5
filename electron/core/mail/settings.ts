// Mailbox settings and the profile key (docs/mailbox.md section 1). The mailbox password is sealed
// under a random profile key, wrapped (X-Wing) for the current encryption key of every own identity
// that may hold it (the integrity key's hand-over rule): sending or receiving by mail needs a
// habilitated person signed in. Every setting a connection uses is bound as the seal's additional
// data (seal v2, docs/profile.md "The mailbox row"), and each connection checks that its settings
// are those unsealed with its password (requireVerifiedSettings). The password is never returned
// except to the code that connects, never printed, never logged.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DB } from '../profile/profile.js';
import { currentKeys, resolveOwn, type IdentityRow, type UnlockedIdentity } from '../profile/identities.js';
import { certifiedHandoverTarget, hasHolder, integrityKeyOf } from '../profile/integrity.js';
import { unwrapFromXWing, wrapForXWing } from '../crypto/keys.js';
import { AAD, KDF_INFO } from '../crypto/labels.js';
import { PliError, inputError, securityError } from '../errors.js';
import { refuseProfileFile } from '../own-files.js';
import { requireRole } from '../services/policy.js';
import { actorOf, audit, type Context } from '../context.js';

export type TlsMode = 'tls' | 'starttls';
export interface Endpoint { host: string; port: number; mode: TlsMode }
export interface MailboxSettings {
  imap: Endpoint;
  smtp: Endpoint;
  user: string;
  caPem: string | null;
  maxMessageBytes: number;
}

/** Default maximum message size: what common providers accept. */
export const DEFAULT_MAX_MESSAGE_BYTES = 25_000_000;
/** Seal v1 (before the settings were bound): recognised only to say « enter them again ». */
const PASSWORD_AAD_V1 = Buffer.from(AAD.mailboxPassword, 'ascii');
const WRAP_INFO = KDF_INFO.wrapProfileKey;

/** `HOST:PORT` (implicit TLS) or `starttls://HOST:PORT`. There is no plaintext form. */
export function parseEndpoint(text: string, what: string): Endpoint {
  let rest = text.trim();
  let mode: TlsMode = 'tls';
  const scheme = /^([a-z]+):\/\//i.exec(rest);
  if (scheme) {
    const name = scheme[1]!.toLowerCase();
    if (name === 'starttls') mode = 'starttls';
    else if (name !== 'tls' && name !== 'ssl') {
      throw inputError('bad-endpoint', `${what} : « ${name}:// » n'est pas accepté. Écrivez HÔTE:PORT (TLS implicite) ou starttls://HÔTE:PORT ; le chiffrement n'est jamais facultatif.`);
    }
    rest = rest.slice(scheme[0].length);
  }
  const match = /^(\[[^\]]+\]|[^:\s/]+):(\d{1,5})$/.exec(rest);
  const port = match ? Number(match[2]) : 0;
  if (!match || port < 1 || port > 65535) {
    throw inputError('bad-endpoint', `${what} invalide : « ${text} ». Attendu HÔTE:PORT ou starttls://HÔTE:PORT, par exemple starttls://smtp.exemple.fr:587.`);
  }
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port, mode };
}

export const formatEndpoint = (e: Endpoint): string => `${e.mode === 'starttls' ? 'starttls://' : ''}${e.host}:${e.port}`;

interface MailboxRow {
  imap_host: string; imap_port: number; imap_mode: TlsMode;
  smtp_host: string; smtp_port: number; smtp_mode: TlsMode;
  user: string; ca_pem: string | null; max_message_bytes: number;
  password_nonce: Buffer; password_sealed: Buffer;
}

const settingsOf = (row: MailboxRow): MailboxSettings => ({
  imap: { host: row.imap_host, port: row.imap_port, mode: row.imap_mode },
  smtp: { host: row.smtp_host, port: row.smtp_port, mode: row.smtp_mode },
  user: row.user, caPem: row.ca_pem, maxMessageBytes: row.max_message_bytes,
});

/** The settings as stored, UNVERIFIED: to show them, or to size a send. A connection takes them
 * only through requireVerifiedSettings (connect.ts). */
export function getMailbox(db: DB): MailboxSettings | undefined {
  const row = db.prepare('SELECT * FROM mailbox WHERE one = 1').get() as MailboxRow | undefined;
  return row ? settingsOf(row) : undefined;
}

// ---- seal v2: the settings bound to the password (docs/mailbox.md section 1) ----------------

/** The mailbox row was changed outside Pli: nothing is sent (docs/profile.md, "The mailbox row"). */
export const mailboxTampered = (): PliError => securityError('mailbox-tampered',
  "Les réglages de la boîte aux lettres (serveurs, ports, identifiant ou autorité de certification) ont été modifiés en dehors de Pli : connexion refusée, le mot de passe de la boîte n'a pas été envoyé. Saisissez de nouveau les réglages de la boîte dans les Paramètres, puis prévenez l'officier SSI.");

/** A row saved by a version that did not bind the settings: refused until entered again. */
const mailboxUnsealed = (): PliError => securityError('mailbox-unsealed',
  "Les réglages de la boîte aux lettres ont été enregistrés par une version antérieure de Pli, qui ne les protégeait pas : par précaution, aucune connexion n'est faite et le mot de passe de la boîte n'a pas été envoyé. Saisissez de nouveau les réglages de la boîte dans les Paramètres, mot de passe compris. Si Pli n'a pas été mis à jour récemment, prévenez l'officier SSI.");

function field(value: unknown): Buffer {
  let bytes: Buffer;
  if (typeof value === 'string') bytes = Buffer.from(value, 'utf8');
  else if (typeof value === 'number' && Number.isSafeInteger(value)) {
    bytes = Buffer.alloc(8);
    bytes.writeBigInt64BE(BigInt(value));
  } else throw mailboxTampered(); // a column of the wrong type: planted
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** Seal v2's additional data: the label then every setting, each length-prefixed (mailbox.md 1). */
export function settingsAad(s: MailboxSettings): Buffer {
  return Buffer.concat([
    field(AAD.mailboxPasswordSettings),
    field(s.imap.host), field(s.imap.port), field(s.imap.mode),
    field(s.smtp.host), field(s.smtp.port), field(s.smtp.mode),
    field(s.user),
    s.caPem === null ? Buffer.from([0]) : Buffer.concat([Buffer.from([1]), field(s.caPem)]),
    field(s.maxMessageBytes),
  ]);
}

// What this process unsealed (or saved): for each password, under HMAC(random key, password) — never
// the password itself — the SHA-256 of the settings it was sealed with. A connection's settings must
// be those (requireVerifiedSettings): a row edited after the unseal is never connected to.
// Each entry also keeps how to audit a refusal in the profile that unsealed it.
const PROCESS_KEY = randomBytes(32);
const verified = new Map<string, { digest: string; refused: (code: string) => void }>();
const passwordTag = (password: string): string => createHmac('sha256', PROCESS_KEY).update(password, 'utf8').digest('hex');
const settingsDigest = (s: MailboxSettings): string => createHash('sha256').update(settingsAad(s)).digest('hex');

/** The refusal's audit event (docs/audit.md: `mailbox.settings-changed`, outcome refused). */
function auditRefusal(ctx: Context, actor: string | null, code: string): void {
  audit(ctx, { actor: actorOf(ctx) ?? actor, action: 'mailbox.settings-changed', outcome: 'refused', detail: { reason: code } });
}

function remember(ctx: Context, settings: MailboxSettings, password: string, actor: string | null): void {
  verified.set(passwordTag(password), {
    digest: settingsDigest(settings),
    refused: (code) => {
      try {
        auditRefusal(ctx, actor, code);
      } catch {
        // the profile was closed since (a signed-out session): the refusal still stands
      }
    },
  });
}

/**
 * Before any connection that sends the password (connect.ts): the settings must be the very ones
 * this process unsealed with that password (or saved with it). Otherwise `mailbox-tampered`, before
 * any socket is opened, audited in the profile that unsealed the password.
 */
export function requireVerifiedSettings(settings: MailboxSettings, password: string): void {
  const entry = verified.get(passwordTag(password));
  let same = false;
  try {
    same = entry !== undefined && entry.digest === settingsDigest(settings);
  } catch {
    same = false; // a setting of the wrong type
  }
  if (same) return;
  const error = mailboxTampered();
  entry?.refused(error.code);
  throw error;
}

export function requireMailbox(db: DB): MailboxSettings {
  const settings = getMailbox(db);
  if (!settings) {
    throw inputError('no-mailbox', "Aucune boîte aux lettres fonctionnelle n'est réglée sur ce poste : réglez-la d'abord, ou passez par un dossier (clé USB).");
  }
  return settings;
}

export function readCaFile(file: string): string {
  let text: string;
  refuseProfileFile(file, undefined, 'read'); // never a profile's file (its locks, own-files.ts)
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw inputError('missing-file', `Fichier de l'autorité de certification introuvable : ${file}. Vérifiez le chemin.`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw inputError('bad-ca', `${file} n'est pas un certificat PEM (« -----BEGIN CERTIFICATE----- » attendu).`);
  }
  return text;
}

function ownIdentities(db: DB): IdentityRow[] {
  return db.prepare('SELECT * FROM identities WHERE own = 1 ORDER BY id').all() as IdentityRow[];
}

interface ProfileKeyWrap { keyFpr: Buffer; identityId: string; kemCiphertext: Buffer; wrapped: Buffer }
interface WrapTarget { identityId: string; encPublic: Uint8Array; encFpr: Buffer }
/** The person who unlocked in this operation, and the X-Wing fingerprints sealed with their seeds. */
interface SealedOwn { id: string; encFprs: Buffer[]; current: { encPublic: Uint8Array; encFpr: Buffer } }
const sealedOwn = (unlocked: UnlockedIdentity): SealedOwn => ({
  id: unlocked.id,
  encFprs: unlocked.keySets.map((k) => Buffer.from(k.encFpr)),
  current: { encPublic: Uint8Array.from(unlocked.current.encPublic), encFpr: Buffer.from(unlocked.current.encFpr) },
});

/**
 * The keys the profile key may be wrapped for: the integrity key's hand-over rule (docs/profile.md,
 * "The mailbox row"). With a pinned authority, only an own identity whose current keys a valid
 * certificate under it covers, for the certificate's key; without one, the current key as found.
 * The person who just unlocked (`self`) gets one only for a key sealed with their own seed (the
 * unlock's invariant, identities.ts; without an authority, their current sealed key): never a
 * `keys` row planted in their name. Read the trust
 * row only with K attached, or on a profile with no holder yet (the state then taken as found).
 */
function wrapTargets(db: DB, self: SealedOwn | null): WrapTarget[] {
  const authority = db.prepare('SELECT 1 FROM trust WHERE one = 1').get() !== undefined;
  const certified = certifiedHandoverTarget();
  const targets: WrapTarget[] = [];
  for (const owner of ownIdentities(db)) {
    let target: { encPublic: Uint8Array; encFpr: Buffer } | null;
    if (authority) target = certified ? certified(db, owner.id) : null;
    else if (self && owner.id === self.id) target = self.current;
    else {
      const { enc } = currentKeys(db, owner.id);
      target = { encPublic: enc.public_key, encFpr: enc.fpr };
    }
    if (!target) continue;
    const fpr = target.encFpr;
    if (self && owner.id === self.id && !self.encFprs.some((sealed) => sealed.equals(fpr))) continue;
    targets.push({ identityId: owner.id, ...target });
  }
  return targets;
}

/** Whether the trust state may decide who gets a wrap: K attached (its seal verified), or no holder yet. */
const trustDecides = (db: DB): boolean => integrityKeyOf(db) !== undefined || !hasHolder(db);

/** Wraps the profile key for a target (computed before the transaction that stores it, which must
 * stay synchronous). */
async function wrapFor(target: WrapTarget, profileKey: Buffer): Promise<ProfileKeyWrap> {
  return { keyFpr: target.encFpr, identityId: target.identityId, ...await wrapForXWing(target.encPublic, profileKey, target.encFpr, WRAP_INFO) };
}

function storeWrap(db: DB, wrap: ProfileKeyWrap, now: number): void {
  db.prepare('INSERT OR REPLACE INTO profile_key_wraps (key_fpr, identity_id, kem_ciphertext, wrapped, created_at) VALUES (?, ?, ?, ?, ?)')
    .run(wrap.keyFpr, wrap.identityId, wrap.kemCiphertext, wrap.wrapped, now);
}

/**
 * Saves the settings under a NEW profile key (seal v2: the settings bound as its AAD), wrapped for
 * the own identities the hand-over rule admits (public keys only). On a profile with a holder of
 * the integrity key, the person acting (`as`, else the actor, else the only own identity) signs in
 * first unless K is already attached: the trust state that decides who gets a wrap is then verified.
 */
export async function setMailbox(ctx: Context, settings: MailboxSettings, password: string, as?: string): Promise<void> {
  const db = ctx.profile.db;
  const owners = ownIdentities(db);
  const noOwner = () => inputError('no-own-identity', "Ce profil n'a aucune identité personnelle : le mot de passe de la boîte est protégé par les clés des personnes habilitées. Créez ou installez d'abord une identité.");
  if (owners.length === 0) throw noOwner();
  if (!password) throw inputError('empty-secret', 'Mot de passe de la boîte aux lettres vide.');
  if (!Number.isSafeInteger(settings.maxMessageBytes) || settings.maxMessageBytes < 100_000) {
    throw inputError('bad-size', 'Taille maximale de message invalide (au moins 0,1 Mo).');
  }
  let self: SealedOwn | null = null;
  if (hasHolder(db)) {
    const unlocked = await ctx.unlocker.unlock(resolveOwn(db, as ?? actorOf(ctx) ?? undefined));
    self = sealedOwn(unlocked);
    unlocked.wipe();
  }
  // A person who does not hold K yet cannot verify the trust state: the password they typed is
  // wrapped for their own sealed key alone; the others get theirs at a holder's next unseal.
  const targets = trustDecides(db) ? wrapTargets(db, self) : self ? [{ identityId: self.id, ...self.current }] : [];
  if (targets.length === 0) throw noOwner();
  const profileKey = randomBytes(32);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', profileKey, nonce);
  cipher.setAAD(settingsAad(settings));
  const sealed = Buffer.concat([cipher.update(Buffer.from(password, 'utf8')), cipher.final(), cipher.getAuthTag()]);
  const now = Date.now();
  const wraps: ProfileKeyWrap[] = [];
  for (const target of targets) wraps.push(await wrapFor(target, profileKey));
  db.transaction(() => {
    db.prepare('DELETE FROM profile_key_wraps').run();
    for (const wrap of wraps) storeWrap(db, wrap, now);
    db.prepare(`INSERT OR REPLACE INTO mailbox (one, imap_host, imap_port, imap_mode, smtp_host, smtp_port, smtp_mode, user, ca_pem, max_message_bytes, password_nonce, password_sealed, updated_at)
      VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      settings.imap.host, settings.imap.port, settings.imap.mode, settings.smtp.host, settings.smtp.port, settings.smtp.mode,
      settings.user, settings.caPem, settings.maxMessageBytes, nonce, sealed, now);
  })();
  profileKey.fill(0);
  remember(ctx, settings, password, actorOf(ctx));
  audit(ctx, {
    actor: actorOf(ctx),
    action: 'mailbox.settings-changed',
    detail: { imap: formatEndpoint(settings.imap), smtp: formatEndpoint(settings.smtp), user: settings.user, privateCa: settings.caPem !== null, maxMessageBytes: settings.maxMessageBytes, wrappedFor: wraps.map((w) => w.identityId) },
  });
}

/** Opens a sealed password under `aad`; null when the tag does not verify. */
function openPassword(profileKey: Buffer, nonce: Buffer, sealed: Buffer, aad: Buffer): string | null {
  try {
    const decipher = createDecipheriv('aes-256-gcm', profileKey, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

/**
 * Unlocks the profile key with a habilitated own identity (--as, or the only one), opens the
 * mailbox password with the settings as its additional data, and returns both: the settings are
 * then the proven ones, and this process remembers them for that password (connect.ts checks each
 * connection against them). Wraps the profile key for own identities that lack a wrap and pass the
 * hand-over rule. A row that does not open is refused (`mailbox-tampered`, or `mailbox-unsealed`
 * for a row of seal v1), audited, and nothing is sent.
 */
export async function unlockMailbox(ctx: Context, as?: string): Promise<{ settings: MailboxSettings; password: string }> {
  const db = ctx.profile.db;
  requireMailbox(db);
  const person = resolveOwn(db, as);
  requireRole(db, person, 'reader');
  const wraps = db.prepare('SELECT * FROM profile_key_wraps WHERE identity_id = ?').all(person.id) as { key_fpr: Buffer; kem_ciphertext: Buffer; wrapped: Buffer }[];
  if (wraps.length === 0) {
    throw securityError('no-profile-key', `Le mot de passe de la boîte n'a pas été protégé pour ${person.name} : une autre personne habilitée de ce poste doit se connecter une fois (ou refaites le réglage de la boîte).`, { name: person.name });
  }
  const unlocked = await ctx.unlocker.unlock(person);
  const self = sealedOwn(unlocked);
  let profileKey: Buffer | null = null;
  try {
    for (const wrap of wraps) {
      const keySet = unlocked.keySets.find((k) => k.encFpr.equals(wrap.key_fpr));
      if (!keySet) continue;
      profileKey = await unwrapFromXWing(wrap.kem_ciphertext, keySet.encSecret, wrap.wrapped, wrap.key_fpr, WRAP_INFO);
      if (profileKey) break;
    }
  } finally {
    unlocked.wipe();
  }
  if (!profileKey) throw securityError('profile-key-locked', "La clé du profil est illisible avec les clés de cette personne (profil abîmé ou modifié). Refaites le réglage de la boîte.");
  try {
    // The row is read once, after the unlock: the settings returned are the ones the tag covers.
    const row = db.prepare('SELECT * FROM mailbox WHERE one = 1').get() as MailboxRow | undefined;
    if (!row) requireMailbox(db);
    const settings = settingsOf(row!);
    let aad: Buffer | null = null;
    try {
      aad = settingsAad(settings);
    } catch {
      aad = null; // a column of the wrong type
    }
    const password = aad && Buffer.isBuffer(row!.password_nonce) && Buffer.isBuffer(row!.password_sealed) && row!.password_sealed.length >= 16
      ? openPassword(profileKey, row!.password_nonce, row!.password_sealed, aad) : null;
    if (password === null) {
      const old = Buffer.isBuffer(row!.password_nonce) && Buffer.isBuffer(row!.password_sealed) && row!.password_sealed.length >= 16
        && openPassword(profileKey, row!.password_nonce, row!.password_sealed, PASSWORD_AAD_V1) !== null;
      const error = old ? mailboxUnsealed() : mailboxTampered();
      auditRefusal(ctx, person.id, error.code);
      throw error;
    }
    // Own identities added since (or rotated): give them a wrap now that the key is in hand, when
    // the trust state that decides who may have one is verified (K attached by this unlock).
    if (trustDecides(db)) {
      const now = Date.now();
      const have = new Set((db.prepare('SELECT key_fpr FROM profile_key_wraps').pluck().all() as Buffer[]).map((b) => b.toString('hex')));
      const missing: ProfileKeyWrap[] = [];
      for (const target of wrapTargets(db, self)) {
        if (!have.has(target.encFpr.toString('hex'))) missing.push(await wrapFor(target, profileKey));
      }
      db.transaction(() => {
        for (const wrap of missing) storeWrap(db, wrap, now);
      })();
    }
    remember(ctx, settings, password, person.id);
    return { settings, password };
  } finally {
    profileKey.fill(0);
  }
}

/** The mailbox password alone (unlockMailbox); the connection then checks its settings. */
export async function unlockMailboxPassword(ctx: Context, as?: string): Promise<string> {
  return (await unlockMailbox(ctx, as)).password;
}
