// A workstation's side of the authority: pinning, importing the signed directory (annuaire),
// installing certificates and provisioned key files (docs/authority.md sections 5-6).
import type { z, z as Zod } from 'zod';
import { lazySchema } from '../zod.js';
import type { DB } from '../profile/profile.js';
import { envelopeSignedBy, parseEnvelope, type Envelope } from './signed.js';
import { getTrust, storeCertificate, verifyCertificate, type VerifiedCertificate } from './certificates.js';
import { ed25519Verify, ED25519_PUBLIC_BYTES, xwingPublicFromSecret } from '../crypto/keys.js';
import { fingerprint, signedDigest } from '../crypto/primitives.js';
import { AAD } from '../crypto/labels.js';
import { addCorrespondentKeys, getIdentity, insertCorrespondent, storeOwnIdentity, verifyCard, type NewIdentity } from '../profile/identities.js';
import { aeadOpen, deriveUnlockKey } from '../crypto/aead.js';
import { inputError, securityError } from '../errors.js';
import { requireTrustWriteKey, sealedTrustWrite } from '../profile/integrity.js';
import { formatFingerprint, isIdentityId, normalizeFingerprintText } from '../../../shared/ids.js';
import { applyDirectoryConventions, auditConventionImports, verifyDirectoryConventions } from './convention-object.js';
import { getMeta, setMeta } from '../profile/profile.js';
import { visibleOnly } from '../../../shared/text.js';

export const DEFAULT_GRACE_DAYS = 30;
export const DAY = 24 * 3600 * 1000;

/** The SSI officer's contact as the authority signs it (docs/authority.md 5.2, format 1.1). */
const contactShape = (z: typeof Zod) => z.strictObject({
  name: z.string().min(1).max(200).refine(visibleOnly),
  // A telephone number as people write it: digits, spaces, dots, dashes, brackets, a leading +.
  phone: z.string().min(4).max(40).regex(/^\+?[0-9][0-9 .()-]*[0-9]$/),
  mail: z.string().min(3).max(254).regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/).refine(visibleOnly),
  at: z.number().int().nonnegative(),
  signature: z.string().max(200),
});
const contactSchema = lazySchema(contactShape);
export type SignedContact = z.infer<ReturnType<typeof contactSchema>>;
export type ContactFields = Pick<SignedContact, 'name' | 'phone' | 'mail'>;

// v2 is v1 plus `conventions` (docs/convention.md 3): a directory carries that field exactly
// when it is v2, so that a Pli older than conventions refuses it whole rather than ignore them.
const directoryBodySchema = lazySchema((z) => z.strictObject({
  v: z.union([z.literal(1), z.literal(2)]),
  authority: z.strictObject({ name: z.string().min(1).max(200), key: z.string().max(100) }),
  serial: z.number().int().positive(),
  issued: z.number().int().nonnegative(),
  nextUpdate: z.number().int().nonnegative(),
  policy: z.strictObject({ allowPassword: z.boolean(), graceDays: z.number().int().min(0).max(365) }),
  certificates: z.array(z.string().max(20000)).max(100000),
  revocations: z.array(z.strictObject({ id: z.string().refine(isIdentityId), reason: z.string().max(500), at: z.number().int().nonnegative() })).max(100000),
  // serial and issued are optional only so that a v1 handover (bound to nothing) is refused with
  // a clear reason rather than as a malformed directory.
  keyChange: z.strictObject({
    previous: z.string().max(100), endorsement: z.string().max(200),
    serial: z.number().int().positive().optional(), issued: z.number().int().nonnegative().optional(),
  }).nullable(),
  conventions: z.array(z.string().max(1_000_000)).max(10000).optional(),
  // Format 1.1 (docs/authority.md 5.2): the officer's contact, present only once the officer set one.
  contact: contactShape(z).optional(),
}).refine((body) => (body.v === 2) === (body.conventions !== undefined)));
export type DirectoryBody = z.infer<ReturnType<typeof directoryBodySchema>>;

const refusedDirectory = (code: string, detail: string) => securityError(code, `Annuaire refusé : ${detail}`);

/** How far ahead of this workstation's clock a key-change endorsement may be dated (clock skew
 * between the officer's workstation and this one). */
export const KEY_CHANGE_SKEW_MS = 60 * 60 * 1000;

const u64 = (value: number): Buffer => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(value));
  return bytes;
};

/** What the old authority key signs to hand over to a new key (docs/authority.md 5, rule 3):
 * bound to the serial and issue date of the one directory that carries it, so that the
 * endorsement cannot be replayed with another directory, later or on another workstation. */
export const keyChangeDigest = (newKey: Uint8Array, serial: number, issued: number): Buffer =>
  signedDigest('directory', Buffer.from('key-change/v2\0', 'ascii'), u64(serial), u64(issued), newKey);

const lengthPrefixed = (text: string): Buffer => {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
};

/** What the authority key signs for its officer's contact (docs/authority.md 5.2): under the
 * directory label with its own prefix, as the key change, so that it can stand for nothing else
 * (a directory body starts with `{`), and stored alone it still proves who set it. */
export const contactDigest = (c: ContactFields & { at: number }): Buffer =>
  signedDigest('directory', Buffer.from('contact/v1\0', 'ascii'), lengthPrefixed(c.name), lengthPrefixed(c.phone), lengthPrefixed(c.mail), u64(c.at));

/** A signed contact checked against `key`: null when it is out of format or not signed by it. */
export async function verifyContact(value: unknown, key: Uint8Array): Promise<SignedContact | null> {
  const parsed = contactSchema().safeParse(value);
  if (!parsed.success) return null;
  const signature = Buffer.from(parsed.data.signature, 'base64');
  if (signature.length !== 64) return null;
  return (await ed25519Verify(key, contactDigest(parsed.data), signature)) ? parsed.data : null;
}

/** A contact kept in the meta table under `metaKey`, checked against `key` at every reading: one
 * written there without that key (the attacker of docs/profile.md) comes back `unverified`. */
export async function storedContact(db: DB, metaKey: string, key: Uint8Array): Promise<{ state: 'none' } | { state: 'valid'; contact: SignedContact } | { state: 'unverified' }> {
  const stored = getMeta(db, metaKey);
  if (stored === undefined) return { state: 'none' };
  let value: unknown;
  try {
    value = JSON.parse(stored);
  } catch {
    return { state: 'unverified' };
  }
  const contact = await verifyContact(value, key);
  return contact ? { state: 'valid', contact } : { state: 'unverified' };
}

/** Checks the fields a person typed, before anything is signed. */
export function contactFieldsError(c: ContactFields): string | null {
  const parsed = contactSchema().safeParse({ ...c, at: 0, signature: '' });
  if (parsed.success) return null;
  const field = parsed.error.issues[0]?.path[0];
  if (field === 'phone') return 'Numéro de téléphone invalide : des chiffres, espaces, points ou tirets, avec + devant pour un numéro international (4 à 40 caractères).';
  if (field === 'mail') return 'Adresse fonctionnelle invalide : une adresse de messagerie, par exemple ssi@police.fr.';
  return 'Nom du contact manquant, trop long (200 caractères au plus) ou contenant des caractères invisibles.';
}

/** Where this workstation keeps the contact of the directory in force (meta table): a copy that
 * proves itself, re-verified against the pinned key at every reading. */
export const DIRECTORY_CONTACT_META = 'directory.contact';

/** Stores (or, when the directory has none, removes) the directory's signed contact. Called
 * inside the sealed trust write that applies the directory. */
export function storeDirectoryContact(db: DB, contact: SignedContact | undefined): void {
  if (contact) setMeta(db, DIRECTORY_CONTACT_META, JSON.stringify(contact));
  else db.prepare('DELETE FROM meta WHERE key = ?').run(DIRECTORY_CONTACT_META);
}

export type ContactView =
  | { state: 'none' }
  | { state: 'valid'; name: string; phone: string; mail: string; at: number }
  /** Stored but not signed by the pinned authority (edited outside Pli): never shown as its. */
  | { state: 'unverified' };

/**
 * The SSI officer's contact as the pinned authority signed it. Security invariant (docs/profile.md
 * attacker): a contact written into the profile without the authority key fails its signature
 * under the pinned key and is reported `unverified`, never returned as the authority's.
 */
export async function directoryContact(db: DB): Promise<ContactView> {
  const trust = getTrust(db);
  if (!trust) return { state: 'none' };
  const stored = await storedContact(db, DIRECTORY_CONTACT_META, trust.public_key);
  if (stored.state !== 'valid') return stored;
  const { name, phone, mail, at } = stored.contact;
  return { state: 'valid', name, phone, mail, at };
}

export interface DirectoryImport {
  authorityName: string;
  fingerprint: string;
  serial: number;
  certificates: number;
  revocations: number;
  /** Conventions new or changed on this workstation. */
  conventions: number;
  pinnedNow: boolean;
  keyChanged: boolean;
  nextUpdate: number;
}

function readDirectory(text: string): { envelope: Envelope; body: DirectoryBody; key: Buffer } {
  const envelope = parseEnvelope(text, 'directory');
  let value: unknown;
  try {
    value = JSON.parse(envelope.body);
  } catch {
    throw refusedDirectory('bad-directory', 'contenu illisible. Demandez un nouvel export à l’officier SSI.');
  }
  // Parsed before its signature is checked because it names its own key; the schema bounds it.
  const parsed = directoryBodySchema().safeParse(value);
  if (!parsed.success) throw refusedDirectory('bad-directory', 'contenu non conforme. Demandez un nouvel export à l’officier SSI.');
  const key = Buffer.from(parsed.data.authority.key, 'base64');
  if (key.length !== ED25519_PUBLIC_BYTES) throw refusedDirectory('bad-directory', "clé d'autorité invalide.");
  return { envelope, body: parsed.data, key };
}

export async function importDirectory(db: DB, text: string, pin?: string, now = Date.now()): Promise<DirectoryImport> {
  // Once someone holds the integrity key, the trust state is written only with it in hand (sealed).
  requireTrustWriteKey(db);
  const { envelope, body, key } = readDirectory(text);
  if (!(await envelopeSignedBy(envelope, key))) {
    throw refusedDirectory('bad-directory-signature', "sa signature ne correspond pas à son contenu : il a été modifié. N'utilisez que le fichier remis par l'officier SSI.");
  }
  const fpr = fingerprint('ed25519', key);
  const printed = formatFingerprint(fpr);
  const trust = getTrust(db);
  let keyChanged = false;
  // The pin checks the file against what the officer dictated: no refusal ever shows the file's
  // fingerprint, or a person holding a substituted file would simply type what is shown.
  if (pin !== undefined && normalizeFingerprintText(pin) !== normalizeFingerprintText(printed)) {
    throw refusedDirectory('pin-mismatch', "l'empreinte de son autorité n'est pas celle que vous avez indiquée. Ne l'importez pas et appelez l'officier SSI, au numéro que vous connaissez : faites-vous relire l'empreinte. Si vous l'avez bien tapée, ce fichier n'est pas le sien (il a pu être remplacé) : demandez-lui de vous le remettre à nouveau.");
  }
  if (!trust) {
    if (pin === undefined) {
      throw inputError('pin-required', "Première importation : l'empreinte de l'autorité est obligatoire. Appelez l'officier SSI, faites-vous dicter l'empreinte de son autorité (cinq groupes de quatre caractères) et relancez l'importation en la saisissant. Ne recopiez jamais une empreinte lue dans un fichier, un courriel ou un message : seule celle que dicte l'officier protège ce poste.");
    }
  } else if (!trust.fpr.equals(fpr)) {
    await checkKeyChange(body, key, trust, now);
    keyChanged = true;
  }
  if (trust && body.serial <= trust.serial) {
    throw refusedDirectory('rollback', `son numéro (${body.serial}) n'est pas plus récent que celui déjà importé (${trust.serial}) : un annuaire ancien pourrait effacer des révocations. Importez le dernier annuaire de l'officier SSI.`);
  }
  // Every certificate must verify; one bad certificate refuses the whole directory.
  const certificates: VerifiedCertificate[] = [];
  for (const certText of body.certificates) {
    try {
      certificates.push(await verifyCertificate(certText, key));
    } catch (error) {
      throw refusedDirectory('bad-directory-certificate', `il contient un certificat invalide (${(error as Error).message}).`);
    }
  }
  for (const cert of certificates) {
    const owner = db.prepare('SELECT identity_id FROM keys WHERE fpr IN (?, ?)').pluck().all(cert.encFpr, cert.sigFpr) as string[];
    if (owner.some((o) => o !== cert.body.id)) throw refusedDirectory('key-conflict', `les clés de ${cert.body.name} appartiennent déjà à une autre identité de ce poste.`);
  }
  // Every convention verifies under the directory's key before anything is stored.
  const conventions = await verifyDirectoryConventions(body.conventions ?? [], key);
  // The officer's contact is stored alone afterwards: it must prove itself under the same key.
  if (body.contact && !(await verifyContact(body.contact, key))) {
    throw refusedDirectory('bad-directory-contact', "les coordonnées de l'officier SSI qu'il porte ne sont pas signées par son autorité. Demandez un nouvel annuaire à l'officier SSI.");
  }
  // Trust row, certificates, revocations and conventions, and the seal over them: one transaction.
  const changedConventions = sealedTrustWrite(db, () => {
    db.prepare(`INSERT INTO trust (one, name, public_key, fpr, serial, issued, next_update, allow_password, grace_days, pinned_at, imported_at)
      VALUES (1, @name, @key, @fpr, @serial, @issued, @nextUpdate, @allow, @grace, @now, @now)
      ON CONFLICT(one) DO UPDATE SET name = @name, public_key = @key, fpr = @fpr, serial = @serial, issued = @issued,
        next_update = @nextUpdate, allow_password = @allow, grace_days = @grace, imported_at = @now`).run({
      name: body.authority.name, key, fpr, serial: body.serial, issued: body.issued, nextUpdate: body.nextUpdate,
      allow: body.policy.allowPassword ? 1 : 0, grace: body.policy.graceDays, now,
    });
    for (const cert of certificates) applyCertificate(db, cert);
    const revoke = db.prepare('INSERT OR IGNORE INTO revocations (identity_id, reason, revoked_at, imported_at) VALUES (?, ?, ?, ?)');
    for (const r of body.revocations) revoke.run(r.id, r.reason, r.at, now);
    storeDirectoryContact(db, body.contact);
    return applyDirectoryConventions(db, conventions, now);
  });
  auditConventionImports(db, changedConventions);
  return {
    authorityName: body.authority.name, fingerprint: printed, serial: body.serial, certificates: certificates.length,
    revocations: body.revocations.length, conventions: changedConventions.length, pinnedNow: !trust, keyChanged, nextUpdate: body.nextUpdate,
  };
}

/** A directory signed by a new authority key is accepted only with a handover endorsed by the
 * pinned key for this very directory: same serial and issue date as its body, dated after the
 * pinned directory and not in the future (beyond the clock skew). Refusals name the pinned
 * authority only: the new key's fingerprint is not shown, so it cannot be retyped as a pin. */
async function checkKeyChange(body: DirectoryBody, key: Buffer, trust: { public_key: Buffer; fpr: Buffer; issued: number }, now: number): Promise<void> {
  const pinned = formatFingerprint(trust.fpr);
  const change = body.keyChange;
  const bound = change !== null && change.serial !== undefined && change.issued !== undefined;
  const endorsed = bound
    && Buffer.from(change.previous, 'base64').equals(trust.public_key)
    && (await ed25519Verify(trust.public_key, keyChangeDigest(key, change.serial!, change.issued!), Buffer.from(change.endorsement, 'base64')));
  if (!endorsed) {
    throw refusedDirectory('authority-changed', `il est signé par une autre autorité que celle épinglée sur ce poste (${pinned}), sans passation signée par l'ancienne. Ne l'importez pas ; appelez l'officier SSI.`);
  }
  if (change.serial !== body.serial || change.issued !== body.issued) {
    throw refusedDirectory('key-change-replayed', "sa passation de clé d'autorité a été signée pour un autre annuaire (numéro ou date différents) : elle a été réutilisée. Ne l'importez pas ; appelez l'officier SSI.");
  }
  if (body.issued > now + KEY_CHANGE_SKEW_MS) {
    throw refusedDirectory('key-change-date', `sa passation de clé d'autorité est datée du ${new Date(body.issued).toISOString().slice(0, 16).replace('T', ' ')} (UTC), dans le futur. Vérifiez la date et l'heure de ce poste ; si elles sont justes, appelez l'officier SSI.`);
  }
  if (body.issued < trust.issued) {
    throw refusedDirectory('key-change-date', "sa passation de clé d'autorité est plus ancienne que l'annuaire déjà importé sur ce poste : elle ne vaut plus. Demandez le dernier annuaire à l'officier SSI.");
  }
}

/** Records a verified certificate: the person becomes known (or gets new keys) and certified. */
export function applyCertificate(db: DB, cert: VerifiedCertificate): void {
  const b = cert.body;
  const existing = getIdentity(db, b.id);
  if (!existing) {
    insertCorrespondent(db, { id: b.id, name: b.name, email: b.email, org: b.org, created: b.issued }, cert.text, cert.encPublic, cert.sigPublic);
  } else {
    const known = db.prepare('SELECT fpr FROM keys WHERE identity_id = ?').pluck().all(b.id) as Buffer[];
    const hasKeys = known.some((k) => k.equals(cert.encFpr)) && known.some((k) => k.equals(cert.sigFpr));
    // An own identity's keys come only from its own key sets; a correspondent's from certificates.
    if (!hasKeys && existing.own === 0) addCorrespondentKeys(db, b.id, cert.encPublic, cert.sigPublic, b.issued);
    if (!hasKeys && existing.own === 1) return;
    // The authority is the source of truth for name, functional mailbox and organisation.
    db.prepare('UPDATE identities SET name = ?, email = ?, org = ? WHERE id = ?').run(b.name, b.email, b.org, b.id);
  }
  storeCertificate(db, cert);
}

function requireTrust(db: DB): { public_key: Buffer } {
  const trust = getTrust(db);
  if (!trust) throw inputError('no-authority', "Aucune autorité épinglée sur ce poste : importez d'abord l'annuaire de l'officier SSI, avec l'empreinte qu'il vous dicte.");
  return trust;
}

/** `pli id install CERT`: attaches a certificate to one of this workstation's own identities. */
export async function installCertificate(db: DB, text: string): Promise<VerifiedCertificate> {
  const trust = requireTrust(db);
  const cert = await verifyCertificate(text, trust.public_key);
  const identity = getIdentity(db, cert.body.id);
  if (!identity || identity.own !== 1) throw inputError('unknown-id', `Ce certificat est celui de ${cert.body.name}, qui n'a pas d'identité personnelle sur ce poste : choisissez le certificat d'une personne de ce poste.`, { id: cert.body.id });
  const keys = db.prepare('SELECT fpr FROM keys WHERE identity_id = ?').pluck().all(cert.body.id) as Buffer[];
  if (!keys.some((k) => k.equals(cert.encFpr)) || !keys.some((k) => k.equals(cert.sigFpr))) {
    throw securityError('certificate-keys', `Ce certificat ne porte pas les clés de ${identity.name} sur ce poste : il a été émis pour d'autres clés. Exportez votre carte actuelle et faites-la certifier.`, { name: identity.name });
  }
  db.transaction(() => applyCertificate(db, cert))();
  return cert;
}

const keyfileBodySchema = lazySchema((z) => z.strictObject({
  v: z.literal(1),
  card: z.string().max(20000),
  certificate: z.string().max(20000),
  sealed: z.strictObject({
    salt: z.string().max(100), opslimit: z.number().int().min(1).max(10), memlimitKib: z.number().int().min(8192).max(1048576),
    nonce: z.string().max(100), ciphertext: z.string().max(1000),
  }),
}));
export type KeyfileBody = z.infer<ReturnType<typeof keyfileBodySchema>>;

export const keyfileAad = (id: string): Buffer => Buffer.from(`${AAD.keyfile}${id}`, 'utf8');

/** `pli id import-key`: installs a person provisioned by the officer (docs/authority.md 6). */
export async function importKeyfile(db: DB, text: string, oneTimePassphrase: string, newPassphrase: string): Promise<NewIdentity & { name: string }> {
  const trust = requireTrust(db);
  const envelope = parseEnvelope(text, 'keyfile');
  if (!(await envelopeSignedBy(envelope, trust.public_key))) {
    throw securityError('bad-keyfile', "Fichier de clés refusé : il n'est pas signé par l'autorité de ce poste. Demandez-le à nouveau à l'officier SSI.");
  }
  let body: KeyfileBody;
  try {
    body = keyfileBodySchema().parse(JSON.parse(envelope.body));
  } catch {
    throw securityError('bad-keyfile', 'Fichier de clés non conforme : refusé.');
  }
  const card = await verifyCard(body.card);
  const cert = await verifyCertificate(body.certificate, trust.public_key);
  if (cert.body.id !== card.body.id || !cert.encFpr.equals(card.encFpr) || !cert.sigFpr.equals(card.sigFpr)) {
    throw securityError('bad-keyfile', 'Fichier de clés incohérent (certificat et carte différents) : refusé.');
  }
  const existing = getIdentity(db, card.body.id);
  if (existing?.own === 1) throw inputError('exists', `${card.body.name} a déjà son identité sur ce poste.`);
  const salt = Buffer.from(body.sealed.salt, 'base64');
  const key = await deriveUnlockKey(oneTimePassphrase.trim().toLowerCase(), salt, { opslimit: body.sealed.opslimit, memlimitKib: body.sealed.memlimitKib });
  const plain = await aeadOpen(key, Buffer.from(body.sealed.nonce, 'base64'), Buffer.from(body.sealed.ciphertext, 'base64'), keyfileAad(card.body.id));
  key.fill(0);
  if (!plain || plain.length !== 96) throw securityError('bad-passphrase', "Phrase de passe à usage unique incorrecte. Vérifiez-la auprès de l'officier SSI (elle ne sert qu'une fois).");
  const encSeed = plain.slice(0, 32);
  const sigSecret = plain.slice(32);
  plain.fill(0);
  if (!fingerprint('xwing', await xwingPublicFromSecret(encSeed)).equals(card.encFpr) || !fingerprint('ed25519', sigSecret.slice(32)).equals(card.sigFpr)) {
    throw securityError('bad-keyfile', 'Les clés du fichier ne correspondent pas à son certificat : refusé.');
  }
  try {
    const stored = await storeOwnIdentity(db, card.body, card.text, { encSeed, encPublic: card.encPublic, sigSecret, sigPublic: card.sigPublic }, newPassphrase);
    db.transaction(() => applyCertificate(db, cert))();
    return { ...stored, name: card.body.name };
  } finally {
    encSeed.fill(0);
    sigSecret.fill(0);
  }
}

export interface Freshness { state: 'none' | 'fresh' | 'stale' | 'expired'; nextUpdate?: number; refuseAfter?: number }

/**
 * A directory past its next update, as data (issue 11, item 2): each front end words it (the CLI
 * in French, electron/cli/status.ts; the interface through i18n). Dates in ms since the epoch;
 * `daysLate` whole days since the next update was due, `daysLeft` whole days before sending is
 * refused (0 once refused).
 */
export interface DirectoryWarning {
  kind: 'directory-stale' | 'directory-expired';
  nextUpdate: number;
  refuseAfter: number;
  daysLate: number;
  daysLeft: number;
}

/** Past nextUpdate: warn; graceDays later: refuse to send (revocations cannot be ignored forever). */
export function directoryFreshness(db: DB, now = Date.now()): Freshness {
  const trust = getTrust(db);
  if (!trust) return { state: 'none' };
  const refuseAfter = trust.next_update + trust.grace_days * DAY;
  if (now <= trust.next_update) return { state: 'fresh', nextUpdate: trust.next_update, refuseAfter };
  return { state: now > refuseAfter ? 'expired' : 'stale', nextUpdate: trust.next_update, refuseAfter };
}

/** The warning every front end shows past the directory's next update; null while it is fresh (or none is pinned). */
export function directoryWarning(db: DB, now = Date.now()): DirectoryWarning | null {
  const fresh = directoryFreshness(db, now);
  if (fresh.state !== 'stale' && fresh.state !== 'expired') return null;
  const nextUpdate = fresh.nextUpdate!;
  const refuseAfter = fresh.refuseAfter!;
  return {
    kind: fresh.state === 'expired' ? 'directory-expired' : 'directory-stale', nextUpdate, refuseAfter,
    daysLate: Math.floor((now - nextUpdate) / DAY), daysLeft: Math.max(0, Math.ceil((refuseAfter - now) / DAY)),
  };
}
