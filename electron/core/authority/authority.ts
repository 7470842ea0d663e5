// The officer's side of the authority (docs/authority.md): the authority key, certificates,
// provisioning, revocation, directory export. Only the officer who created the authority can
// unlock it: its Ed25519 seed is wrapped for that officer's X-Wing key.
import { randomBytes } from 'node:crypto';
import type { DB } from '../profile/profile.js';
import { ed25519Keygen, ed25519Sign, unwrapFromXWing, wrapForXWing } from '../crypto/keys.js';
import { fingerprint } from '../crypto/primitives.js';
import { KDF_INFO } from '../crypto/labels.js';
import { KEY_UNLOCK_PARAMS } from '../crypto/argon2.js';
import { getIdentity, newPersonCard, resolveOwn, verifyCard, type IdentityRow, type Person } from '../profile/identities.js';
import { aeadSeal, deriveUnlockKey } from '../crypto/aead.js';
import { makeEnvelope } from './signed.js';
import { ROLES, ROLE_LABEL, certificateState, describeState, getTrust, roleIncludes, verifyCertificate, type CertificateBody, type Role } from './certificates.js';
import {
  applyCertificate, contactDigest, contactFieldsError, DAY, DEFAULT_GRACE_DAYS, keyChangeDigest, keyfileAad, storeDirectoryContact, storedContact,
  type ContactFields, type DirectoryBody, type KeyfileBody, type SignedContact,
} from './directory.js';
import { inputError, securityError } from '../errors.js';
import { actorOf, audit, audited, type Context, type Scope } from '../context.js';
import { sealedTrustWrite } from '../profile/integrity.js';
import { base32Encode, formatFingerprint } from '../../../shared/ids.js';
import { storedConventions } from './convention-object.js';
import { setMeta } from '../profile/profile.js';

export const DEFAULT_CERT_DAYS = 365;
export const OFFICER_CERT_DAYS = 3 * 365;
export const DIRECTORY_VALIDITY_DAYS = 30;

interface AuthorityRow {
  name: string; public_key: Buffer; fpr: Buffer; officer_id: string; wrap_fpr: Buffer; kem_ciphertext: Buffer;
  wrapped_seed: Buffer; next_cert_serial: number; next_dir_serial: number; created_at: number;
}

export function getAuthority(db: DB): AuthorityRow | undefined {
  return db.prepare('SELECT * FROM authority WHERE one = 1').get() as AuthorityRow | undefined;
}

function requireAuthority(db: DB): AuthorityRow {
  const row = getAuthority(db);
  if (row) return row;
  // Someone on the list without the officer role is refused for their role (exit 2), whatever
  // the profile; only an officer on the wrong workstation gets the input error.
  const own = db.prepare('SELECT id FROM identities WHERE own = 1').pluck().all() as string[];
  const states = own.map((id) => certificateState(db, id));
  if (states.some((s) => s.state === 'valid') && !states.some((s) => s.state === 'valid' && roleIncludes(s.role!, 'officer'))) {
    throw securityError('role', `Action refusée : elle demande le rôle « ${ROLE_LABEL.officer} ». Adressez-vous à l'officier SSI.`);
  }
  throw inputError('not-authority', "Ce profil n'est pas une autorité : seul le poste de l'officier SSI peut faire cela.");
}

const wrapInfo = (encFpr: Buffer) => Buffer.concat([Buffer.from(KDF_INFO.wrapAuthority, 'ascii'), encFpr]);

export interface UnlockedAuthority { row: AuthorityRow; secretKey: Uint8Array; officer: IdentityRow; wipe(): void }

const notTheOfficer = () => securityError('role', 'Action réservée à l’officier SSI, sur le poste de l’autorité, avec un certificat d’officier valide. Connectez-vous sous le nom de l’officier SSI.');

/**
 * The officer's check, made by every action of the authority (unlockAuthority) and by a front
 * end that must refuse before its dialogs: this profile is the authority, its officer holds a
 * valid officer certificate, and the person acting, when known (the desktop's signed-in person),
 * is that officer. Returns the officer.
 */
export function requireOfficer(scope: Scope): IdentityRow {
  const db = scope.profile.db;
  const acting = actorOf(scope);
  const authority = getAuthority(db);
  // The signed-in person is told the one thing to do: sign in as the officer.
  if (acting !== null && authority?.officer_id !== acting) throw notTheOfficer();
  const row = requireAuthority(db);
  const officer = getIdentity(db, row.officer_id)!;
  const state = certificateState(db, officer.id);
  if (state.state !== 'valid' || !roleIncludes(state.role!, 'officer')) {
    if (acting !== null) throw notTheOfficer();
    throw securityError('role', `Action réservée à l'officier SSI titulaire d'un certificat valide (${officer.name} : certificat ${describeState(state)}).`);
  }
  return officer;
}

/** The actor of an authority event: the person acting, else the authority's officer (a CLI
 * refusal before any passphrase was asked). */
const officerActor = (ctx: Scope): string | null => actorOf(ctx) ?? getAuthority(ctx.profile.db)?.officer_id ?? null;

/** Unlocks the authority key through the officer's identity; refuses anyone else. */
export async function unlockAuthority(ctx: Context): Promise<UnlockedAuthority> {
  const db = ctx.profile.db;
  const officer = requireOfficer(ctx);
  const row = getAuthority(db)!;
  const unlocked = await ctx.unlocker.unlock(officer);
  try {
    const keySet = unlocked.keySets.find((k) => k.encFpr.equals(row.wrap_fpr));
    if (!keySet) throw securityError('authority-locked', "La clé d'autorité n'est plus accessible avec les clés de l'officier.");
    const seed = await unwrapFromXWing(row.kem_ciphertext, keySet.encSecret, row.wrapped_seed, row.fpr, wrapInfo(row.wrap_fpr));
    if (!seed) throw securityError('authority-locked', "La clé d'autorité est illisible (profil abîmé ou modifié).");
    let pair: Awaited<ReturnType<typeof ed25519Keygen>>;
    try {
      pair = await ed25519Keygen(seed);
    } finally {
      seed.fill(0);
    }
    if (!Buffer.from(pair.publicKey).equals(row.public_key)) {
      // A secret key that is not the authority's is still a secret: wiped before refusing.
      pair.secretKey.fill(0);
      throw securityError('authority-locked', "La clé d'autorité ne correspond pas à son empreinte.");
    }
    return { row, secretKey: pair.secretKey, officer, wipe: () => pair.secretKey.fill(0) };
  } finally {
    unlocked.wipe();
  }
}

async function issueCertificate(db: DB, authority: UnlockedAuthority, person: { id: string; name: string; email: string; org: string; xwing: string; ed25519: string }, role: Role, days: number): Promise<string> {
  if (!ROLES.includes(role)) throw inputError('bad-role', `Rôle inconnu : ${role}. Rôles : officer, operator, reader.`);
  if (!Number.isInteger(days) || days < 1 || days > 3660) throw inputError('bad-days', 'Durée de validité invalide : un nombre de jours entre 1 et 3660.');
  const now = Date.now();
  const serial = (db.prepare('SELECT next_cert_serial FROM authority WHERE one = 1').pluck().get() as number);
  const body: CertificateBody = {
    v: 1, serial, authority: authority.row.fpr.toString('base64'),
    id: person.id, name: person.name, email: person.email, org: person.org, role,
    notBefore: now - 5 * 60 * 1000, notAfter: now + days * DAY, issued: now,
    xwing: person.xwing, ed25519: person.ed25519,
  };
  const text = await makeEnvelope('certificate', body, authority.secretKey);
  const cert = await verifyCertificate(text, authority.row.public_key);
  db.transaction(() => {
    db.prepare('UPDATE authority SET next_cert_serial = next_cert_serial + 1 WHERE one = 1').run();
    db.prepare('INSERT INTO issued_certificates (serial, identity_id, text, issued_at) VALUES (?, ?, ?, ?)').run(serial, person.id, text, now);
    // The officer's own workstation trusts its authority: apply the certificate locally too.
    applyCertificate(db, cert);
  })();
  return text;
}

/** `pli authority init`: this profile becomes the authority; the officer is certified `officer`. */
export async function initAuthority(ctx: Context, name: string, as?: string): Promise<{ fingerprint: string; officerCertificate: string }> {
  const db = ctx.profile.db;
  if (!name.trim() || name.length > 200) throw inputError('bad-name', "Nom de l'autorité manquant ou trop long.");
  if (getAuthority(db)) throw inputError('already-authority', 'Ce profil est déjà une autorité : son empreinte reste la même.');
  if (getTrust(db)) throw inputError('trusts-other', "Ce poste fait déjà confiance à une autorité : une autorité se crée sur un profil neuf, celui de l'officier SSI.");
  const officer = resolveOwn(db, as);
  const unlocked = await ctx.unlocker.unlock(officer);
  const seed = randomBytes(32);
  let pair: Awaited<ReturnType<typeof ed25519Keygen>>;
  let fpr: Buffer;
  const keySet = unlocked.current; // public halves stay readable after wipe()
  // Whatever fails below, the seed and the officer's keys are wiped, and the authority's secret
  // key too unless it is handed to `authority` (wiped at the end).
  try {
    pair = await ed25519Keygen(seed);
    fpr = fingerprint('ed25519', pair.publicKey);
    const { kemCiphertext, wrapped: wrappedSeed } = await wrapForXWing(keySet.encPublic, seed, fpr, wrapInfo(keySet.encFpr));
    const now = Date.now();
    const publicKey = Buffer.from(pair.publicKey);
    try {
      // The officer is signed in: the trust row this profile pins on itself is sealed with it.
      sealedTrustWrite(db, () => {
        db.prepare(`INSERT INTO authority (one, name, public_key, fpr, officer_id, wrap_fpr, kem_ciphertext, wrapped_seed, next_cert_serial, next_dir_serial, created_at)
          VALUES (1, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?)`).run(name.trim(), publicKey, fpr, officer.id, keySet.encFpr, kemCiphertext, wrappedSeed, now);
        db.prepare(`INSERT INTO trust (one, name, public_key, fpr, serial, issued, next_update, allow_password, grace_days, pinned_at, imported_at)
          VALUES (1, ?, ?, ?, 0, ?, ?, 0, ?, ?, ?)`).run(name.trim(), publicKey, fpr, now, now + DIRECTORY_VALIDITY_DAYS * DAY, DEFAULT_GRACE_DAYS, now, now);
      });
    } catch (error) {
      pair.secretKey.fill(0);
      throw error;
    }
  } finally {
    seed.fill(0);
    unlocked.wipe();
  }
  const secretKey = pair.secretKey;
  const authority: UnlockedAuthority = { row: getAuthority(db)!, secretKey, officer, wipe: () => secretKey.fill(0) };
  try {
    // The officer's public keys as derived from the unlocked secrets, not as stored in `keys`
    // (a row the attacker of docs/profile.md could have replaced).
    const certificate = await issueCertificate(db, authority, {
      id: officer.id, name: officer.name, email: officer.email, org: officer.org,
      xwing: Buffer.from(keySet.encPublic).toString('base64'),
      ed25519: Buffer.from(keySet.sigPublic).toString('base64'),
    }, 'officer', OFFICER_CERT_DAYS);
    audit(ctx, { actor: officer.id, action: 'authority.created', object: formatFingerprint(fpr), detail: { name } });
    return { fingerprint: formatFingerprint(fpr), officerCertificate: certificate };
  } finally {
    authority.wipe();
  }
}

export function authorityFingerprint(db: DB): string {
  return formatFingerprint(requireAuthority(db).fpr);
}

/** `pli authority certify CARD`: path (a) of enrolment, keys never leave the person's workstation. */
export async function certifyCard(ctx: Context, cardText: string, role: Role, days = DEFAULT_CERT_DAYS): Promise<{ certificate: string; id: string; name: string }> {
  return audited(ctx, 'identity.certified', () => issueForCard(ctx, cardText, role, days),
    (result) => ({ actor: officerActor(ctx), object: result.id, detail: { name: result.name, role } }), officerActor(ctx));
}

async function issueForCard(ctx: Context, cardText: string, role: Role, days: number): Promise<{ certificate: string; id: string; name: string }> {
  const card = await verifyCard(cardText);
  const authority = await unlockAuthority(ctx);
  try {
    const certificate = await issueCertificate(ctx.profile.db, authority, card.body, role, days);
    return { certificate, id: card.body.id, name: card.body.name };
  } finally {
    authority.wipe();
  }
}

/** A one-time passphrase: 120 random bits in six groups of four characters, easy to dictate. */
function oneTimePassphrase(): string {
  return base32Encode(randomBytes(15)).match(/.{4}/g)!.join('-');
}

/** `pli authority provision`: path (b), the officer generates the keys and hands over a key file. */
export async function provisionPerson(ctx: Context, person: Person, role: Role, days = DEFAULT_CERT_DAYS): Promise<{ keyfile: string; oneTimePassphrase: string; id: string }> {
  // The event names the person and the role, never the one-time passphrase nor the key file.
  return audited(ctx, 'identity.provisioned', () => provision(ctx, person, role, days),
    (result) => ({ actor: officerActor(ctx), object: result.id, detail: { name: person.name, org: person.org, role } }), officerActor(ctx));
}

async function provision(ctx: Context, person: Person, role: Role, days: number): Promise<{ keyfile: string; oneTimePassphrase: string; id: string }> {
  const fresh = await newPersonCard(person);
  let authority: UnlockedAuthority | undefined;
  let key: Buffer | undefined;
  let secret: Buffer | undefined;
  const passphrase = oneTimePassphrase();
  // The person's fresh private keys, their sealed copy's key and the authority key are wiped
  // on every path, a refused officer passphrase included.
  try {
    authority = await unlockAuthority(ctx);
    const certificate = await issueCertificate(ctx.profile.db, authority, fresh.body, role, days);
    const salt = randomBytes(16);
    key = await deriveUnlockKey(passphrase, salt, KEY_UNLOCK_PARAMS);
    secret = Buffer.concat([fresh.keys.encSeed, fresh.keys.sigSecret]);
    const sealed = await aeadSeal(key, secret, keyfileAad(fresh.id));
    const body: KeyfileBody = {
      v: 1, card: fresh.card, certificate,
      sealed: { salt: salt.toString('base64'), opslimit: KEY_UNLOCK_PARAMS.opslimit, memlimitKib: KEY_UNLOCK_PARAMS.memlimitKib, nonce: sealed.nonce.toString('base64'), ciphertext: sealed.sealed.toString('base64') },
    };
    return { keyfile: await makeEnvelope('keyfile', body, authority.secretKey), oneTimePassphrase: passphrase, id: fresh.id };
  } finally {
    secret?.fill(0);
    key?.fill(0);
    fresh.keys.encSeed.fill(0);
    fresh.keys.sigSecret.fill(0);
    authority?.wipe();
  }
}

/** The old authority key's handover to a new key (docs/authority.md 5, rule 3), valid only in
 * the directory of that serial and issue date, which the new key signs. */
export async function endorseKeyChange(oldAuthority: UnlockedAuthority, newPublicKey: Uint8Array, serial: number, issued: number): Promise<NonNullable<DirectoryBody['keyChange']>> {
  const endorsement = await ed25519Sign(oldAuthority.secretKey, keyChangeDigest(newPublicKey, serial, issued));
  return { previous: oldAuthority.row.public_key.toString('base64'), serial, issued, endorsement: Buffer.from(endorsement).toString('base64') };
}

/** `pli authority revoke`: every certificate of that person, from the next directory on. */
export async function revokePerson(ctx: Context, identity: IdentityRow, reason: string): Promise<void> {
  return audited(ctx, 'identity.revoked', () => revoke(ctx, identity, reason),
    () => ({ actor: officerActor(ctx), object: identity.id, detail: { name: identity.name, reason } }), officerActor(ctx));
}

async function revoke(ctx: Context, identity: IdentityRow, reason: string): Promise<void> {
  if (!reason.trim() || reason.length > 500) throw inputError('bad-reason', 'Motif de révocation manquant ou trop long (500 caractères au plus).');
  const authority = await unlockAuthority(ctx);
  authority.wipe();
  if (identity.id === authority.officer.id) throw inputError('revoke-self', "L'officier ne peut pas révoquer son propre certificat : créez une nouvelle autorité.");
  const now = Date.now();
  sealedTrustWrite(ctx.profile.db, () => {
    ctx.profile.db.prepare('INSERT OR REPLACE INTO issued_revocations (identity_id, reason, at) VALUES (?, ?, ?)').run(identity.id, reason.trim(), now);
    ctx.profile.db.prepare('INSERT OR IGNORE INTO revocations (identity_id, reason, revoked_at, imported_at) VALUES (?, ?, ?, ?)').run(identity.id, reason.trim(), now, now);
  });
}

/** Where the officer's workstation keeps the contact to publish: signed by the authority key when
 * set, so that one written into the profile by someone else is refused rather than signed. */
const AUTHORITY_CONTACT_META = 'authority.contact';

export type PendingContact = { state: 'none' } | { state: 'valid'; contact: SignedContact } | { state: 'unverified' };

/** The contact the next directory will carry, checked against the authority's own key. */
export async function pendingContact(db: DB): Promise<PendingContact> {
  const row = getAuthority(db);
  return row ? storedContact(db, AUTHORITY_CONTACT_META, row.public_key) : { state: 'none' };
}

const contactTampered = () => securityError('contact-tampered',
  "Les coordonnées de l'officier SSI enregistrées sur ce poste ne portent pas la signature de l'autorité : elles ont été modifiées en dehors de Pli. Aucun annuaire n'est signé. Saisissez à nouveau les coordonnées de l'officier, puis publiez.");

/** `pli authority contact`: the officer's contact (name, telephone, functional address) that every
 * directory signed from now on carries (docs/authority.md 5.2); the workstations learn it at the
 * next publication. */
export async function setAuthorityContact(ctx: Context, fields: ContactFields): Promise<SignedContact> {
  return audited(ctx, 'authority.contact-set', () => signContact(ctx, fields),
    (contact) => ({ actor: officerActor(ctx), object: null, detail: { name: contact.name, phone: contact.phone, mail: contact.mail } }), officerActor(ctx));
}

async function signContact(ctx: Context, fields: ContactFields): Promise<SignedContact> {
  const typed = { name: fields.name.trim(), phone: fields.phone.trim(), mail: fields.mail.trim() };
  const problem = contactFieldsError(typed);
  if (problem) throw inputError('bad-contact', problem);
  const authority = await unlockAuthority(ctx);
  try {
    const at = Date.now();
    const signature = await ed25519Sign(authority.secretKey, contactDigest({ ...typed, at }));
    const contact: SignedContact = { ...typed, at, signature: Buffer.from(signature).toString('base64') };
    setMeta(ctx.profile.db, AUTHORITY_CONTACT_META, JSON.stringify(contact));
    return contact;
  } finally {
    authority.wipe();
  }
}

/** `pli directory export`: every certificate and revocation, under a serial that only increases. */
export async function exportDirectory(ctx: Context, options: { allowPassword?: boolean; graceDays?: number; validityDays?: number } = {}): Promise<{ text: string; serial: number }> {
  // Audited once signed: the serial is spent even if the front end then fails to write the file.
  return audited(ctx, 'directory.exported', () => signDirectory(ctx, options),
    (result) => ({ actor: officerActor(ctx), object: String(result.serial) }), officerActor(ctx));
}

async function signDirectory(ctx: Context, options: { allowPassword?: boolean; graceDays?: number; validityDays?: number }): Promise<{ text: string; serial: number }> {
  const db = ctx.profile.db;
  const authority = await unlockAuthority(ctx);
  try {
    const serial = authority.row.next_dir_serial;
    const now = Date.now();
    const nextUpdate = now + (options.validityDays ?? DIRECTORY_VALIDITY_DAYS) * DAY;
    const previous = getTrust(db);
    const allowPassword = options.allowPassword ?? previous?.allow_password === 1;
    const graceDays = options.graceDays ?? previous?.grace_days ?? DEFAULT_GRACE_DAYS;
    // The latest signed version of every convention (docs/convention.md 3); none: a v1 directory as before.
    const conventions = (await storedConventions(db)).map((c) => c.text);
    // Only a contact the authority key signed is signed again (a planted one refuses the export).
    const pending = await pendingContact(db);
    if (pending.state === 'unverified') throw contactTampered();
    const contact = pending.state === 'valid' ? pending.contact : undefined;
    const body = {
      v: conventions.length > 0 ? 2 : 1,
      authority: { name: authority.row.name, key: authority.row.public_key.toString('base64') },
      serial, issued: now, nextUpdate,
      policy: { allowPassword, graceDays },
      certificates: (db.prepare('SELECT text FROM issued_certificates ORDER BY serial').pluck().all() as string[]),
      revocations: (db.prepare('SELECT identity_id AS id, reason, at FROM issued_revocations ORDER BY at').all() as { id: string; reason: string; at: number }[]),
      keyChange: null,
      ...(conventions.length > 0 ? { conventions } : {}),
      // Format 1.1: without a contact the body is exactly the 1.0 one (older Pli read it).
      ...(contact ? { contact } : {}),
    };
    const text = await makeEnvelope('directory', body, authority.secretKey);
    sealedTrustWrite(db, () => {
      db.prepare('UPDATE authority SET next_dir_serial = next_dir_serial + 1 WHERE one = 1').run();
      db.prepare('UPDATE trust SET serial = ?, issued = ?, next_update = ?, allow_password = ?, grace_days = ?, imported_at = ? WHERE one = 1')
        .run(serial, now, nextUpdate, allowPassword ? 1 : 0, graceDays, now);
      storeDirectoryContact(db, contact);
    });
    return { text, serial };
  } finally {
    authority.wipe();
  }
}
