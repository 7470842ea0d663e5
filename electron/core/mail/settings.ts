// Mailbox settings and the profile key (docs/mailbox.md section 1). The mailbox password is sealed
// under a random profile key, wrapped (X-Wing) for every own identity's current encryption key:
// sending or receiving by mail needs a habilitated person signed in. The password is never
// returned except to the code that connects, never printed, never logged.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DB } from '../profile/profile.js';
import { currentKeys, resolveOwn, type IdentityRow } from '../profile/identities.js';
import { unwrapFromXWing, wrapForXWing } from '../crypto/keys.js';
import { AAD, KDF_INFO } from '../crypto/labels.js';
import { inputError, securityError } from '../errors.js';
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
const PASSWORD_AAD = Buffer.from(AAD.mailboxPassword, 'ascii');
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

export function getMailbox(db: DB): MailboxSettings | undefined {
  const row = db.prepare('SELECT * FROM mailbox WHERE one = 1').get() as MailboxRow | undefined;
  if (!row) return undefined;
  return {
    imap: { host: row.imap_host, port: row.imap_port, mode: row.imap_mode },
    smtp: { host: row.smtp_host, port: row.smtp_port, mode: row.smtp_mode },
    user: row.user, caPem: row.ca_pem, maxMessageBytes: row.max_message_bytes,
  };
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

/** Wraps the profile key for an identity's current encryption key (computed before the
 * transaction that stores it, which must stay synchronous). */
async function wrapFor(db: DB, identityId: string, profileKey: Buffer): Promise<ProfileKeyWrap> {
  const { enc } = currentKeys(db, identityId);
  return { keyFpr: enc.fpr, identityId, ...await wrapForXWing(enc.public_key, profileKey, enc.fpr, WRAP_INFO) };
}

function storeWrap(db: DB, wrap: ProfileKeyWrap, now: number): void {
  db.prepare('INSERT OR REPLACE INTO profile_key_wraps (key_fpr, identity_id, kem_ciphertext, wrapped, created_at) VALUES (?, ?, ?, ?, ?)')
    .run(wrap.keyFpr, wrap.identityId, wrap.kemCiphertext, wrap.wrapped, now);
}

/** Saves the settings under a NEW profile key wrapped for every own identity (public keys only). */
export async function setMailbox(ctx: Context, settings: MailboxSettings, password: string): Promise<void> {
  const db = ctx.profile.db;
  const owners = ownIdentities(db);
  if (owners.length === 0) {
    throw inputError('no-own-identity', "Ce profil n'a aucune identité personnelle : le mot de passe de la boîte est protégé par les clés des personnes habilitées. Créez ou installez d'abord une identité.");
  }
  if (!password) throw inputError('empty-secret', 'Mot de passe de la boîte aux lettres vide.');
  if (!Number.isSafeInteger(settings.maxMessageBytes) || settings.maxMessageBytes < 100_000) {
    throw inputError('bad-size', 'Taille maximale de message invalide (au moins 0,1 Mo).');
  }
  const profileKey = randomBytes(32);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', profileKey, nonce);
  cipher.setAAD(PASSWORD_AAD);
  const sealed = Buffer.concat([cipher.update(Buffer.from(password, 'utf8')), cipher.final(), cipher.getAuthTag()]);
  const now = Date.now();
  const wraps: ProfileKeyWrap[] = [];
  for (const owner of owners) wraps.push(await wrapFor(db, owner.id, profileKey));
  db.transaction(() => {
    db.prepare('DELETE FROM profile_key_wraps').run();
    for (const wrap of wraps) storeWrap(db, wrap, now);
    db.prepare(`INSERT OR REPLACE INTO mailbox (one, imap_host, imap_port, imap_mode, smtp_host, smtp_port, smtp_mode, user, ca_pem, max_message_bytes, password_nonce, password_sealed, updated_at)
      VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      settings.imap.host, settings.imap.port, settings.imap.mode, settings.smtp.host, settings.smtp.port, settings.smtp.mode,
      settings.user, settings.caPem, settings.maxMessageBytes, nonce, sealed, now);
  })();
  profileKey.fill(0);
  audit(ctx, {
    actor: actorOf(ctx),
    action: 'mailbox.settings-changed',
    detail: { imap: formatEndpoint(settings.imap), smtp: formatEndpoint(settings.smtp), user: settings.user, privateCa: settings.caPem !== null, maxMessageBytes: settings.maxMessageBytes, wrappedFor: owners.map((o) => o.id) },
  });
}

/**
 * Unlocks the profile key with a habilitated own identity (--as, or the only one), returns the
 * mailbox password, and wraps the profile key for own identities that lack a wrap.
 */
export async function unlockMailboxPassword(ctx: Context, as?: string): Promise<string> {
  const db = ctx.profile.db;
  requireMailbox(db);
  const row = db.prepare('SELECT password_nonce, password_sealed FROM mailbox WHERE one = 1').get() as { password_nonce: Buffer; password_sealed: Buffer };
  const person = resolveOwn(db, as);
  requireRole(db, person, 'reader');
  const wraps = db.prepare('SELECT * FROM profile_key_wraps WHERE identity_id = ?').all(person.id) as { key_fpr: Buffer; kem_ciphertext: Buffer; wrapped: Buffer }[];
  if (wraps.length === 0) {
    throw securityError('no-profile-key', `Le mot de passe de la boîte n'a pas été protégé pour ${person.name} : une autre personne habilitée de ce poste doit se connecter une fois (ou refaites le réglage de la boîte).`, { name: person.name });
  }
  const unlocked = await ctx.unlocker.unlock(person);
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
    const decipher = createDecipheriv('aes-256-gcm', profileKey, row.password_nonce);
    decipher.setAAD(PASSWORD_AAD);
    decipher.setAuthTag(row.password_sealed.subarray(row.password_sealed.length - 16));
    let password: string;
    try {
      password = Buffer.concat([decipher.update(row.password_sealed.subarray(0, row.password_sealed.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      throw securityError('profile-key-locked', 'Le mot de passe de la boîte est illisible (profil abîmé ou modifié). Refaites le réglage de la boîte.');
    }
    // Own identities added since (or rotated): give them a wrap now that the key is in hand.
    const now = Date.now();
    const have = new Set((db.prepare('SELECT key_fpr FROM profile_key_wraps').pluck().all() as Buffer[]).map((b) => b.toString('hex')));
    const missing: ProfileKeyWrap[] = [];
    for (const owner of ownIdentities(db)) {
      if (!have.has(currentKeys(db, owner.id).enc.fpr.toString('hex'))) missing.push(await wrapFor(db, owner.id, profileKey));
    }
    db.transaction(() => {
      for (const wrap of missing) storeWrap(db, wrap, now);
    })();
    return password;
  } finally {
    profileKey.fill(0);
  }
}
