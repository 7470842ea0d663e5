// Certificates and their state on this workstation (docs/authority.md sections 3-4, 7).
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import type { z } from 'zod';
import { lazySchema } from '../zod.js';
import { visibleOnly } from '../../../shared/text.js';
import type { DB } from '../profile/profile.js';
import { envelopeSignedBy, parseBody, parseEnvelope, type Envelope } from './signed.js';
import { fingerprint, signedDigest } from '../crypto/primitives.js';
import { profileTampered, setCertifiedHandoverTarget, verifyTrustSeal } from '../profile/integrity.js';
import { ED25519_PUBLIC_BYTES, XWING_PUBLIC_BYTES } from '../crypto/keys.js';
import { securityError } from '../errors.js';
import { isIdentityId } from '../../../shared/ids.js';
import { ROLES, roleIncludes, type Role } from '../../../shared/roles.js';

// The roles are declared once, in shared/ (the interface needs them too); re-exported for the core.
export { ROLES, roleIncludes, type Role };
export const ROLE_LABEL: Record<Role, string> = { officer: 'officier SSI', operator: 'opérateur', reader: 'lecteur' };

const certificateBodySchema = lazySchema((z) => z.strictObject({
  v: z.literal(1),
  serial: z.number().int().positive(),
  authority: z.string().max(100),
  id: z.string().refine(isIdentityId),
  // No control, bidi or format character: a certificate's text reaches every workstation (issue 12).
  name: z.string().min(1).max(200).refine(visibleOnly),
  email: z.string().min(3).max(254).refine(visibleOnly),
  org: z.string().min(1).max(200).refine(visibleOnly),
  role: z.enum(ROLES),
  notBefore: z.number().int().nonnegative(),
  notAfter: z.number().int().nonnegative(),
  issued: z.number().int().nonnegative(),
  xwing: z.string().max(2000),
  ed25519: z.string().max(100),
}));
export type CertificateBody = z.infer<ReturnType<typeof certificateBodySchema>>;

export interface VerifiedCertificate {
  body: CertificateBody;
  text: string;
  encPublic: Buffer;
  sigPublic: Buffer;
  encFpr: Buffer;
  sigFpr: Buffer;
}

const notSignedByPin = () => securityError('bad-certificate', "Certificat refusé : il n'est pas signé par l'autorité de ce poste. Demandez à l'officier SSI un certificat émis par l'autorité dont l'empreinte a été épinglée.");

/** Verifies a certificate's signature by `authorityKey` and its content. */
export async function verifyCertificate(text: string, authorityKey: Uint8Array): Promise<VerifiedCertificate> {
  const envelope = parseEnvelope(text, 'certificate');
  if (!(await envelopeSignedBy(envelope, authorityKey))) throw notSignedByPin();
  return checkedCertificate(envelope, text, authorityKey);
}

// Ed25519 public keys as node:crypto key objects: the raw 32 bytes behind a DER SPKI prefix.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The same checks as verifyCertificate, synchronous (node:crypto), for the decisions that re-verify
 * stored certificates at the time of use. Certificates were first verified with libsodium at import;
 * this re-check is against edits of the stored rows. */
export function verifyCertificateSync(text: string, authorityKey: Uint8Array): VerifiedCertificate {
  const envelope = parseEnvelope(text, 'certificate');
  let ok = false;
  if (authorityKey.length === ED25519_PUBLIC_BYTES && envelope.signature.length === 64) {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, authorityKey]), format: 'der', type: 'spki' });
    ok = verifySignature(null, signedDigest('certificate', Buffer.from(envelope.body, 'utf8')), key, envelope.signature);
  }
  if (!ok) throw notSignedByPin();
  return checkedCertificate(envelope, text, authorityKey);
}

function checkedCertificate(envelope: Envelope, text: string, authorityKey: Uint8Array): VerifiedCertificate {
  const body = parseBody(envelope, certificateBodySchema(), 'Certificat');
  const authorityFpr = fingerprint('ed25519', authorityKey);
  if (!Buffer.from(body.authority, 'base64').equals(authorityFpr)) throw securityError('bad-certificate', "Certificat refusé : il désigne une autre autorité que celle qui l'a signé.");
  if (body.notAfter <= body.notBefore) throw securityError('bad-certificate', 'Certificat refusé : dates de validité incohérentes.');
  const encPublic = Buffer.from(body.xwing, 'base64');
  const sigPublic = Buffer.from(body.ed25519, 'base64');
  if (encPublic.length !== XWING_PUBLIC_BYTES || sigPublic.length !== ED25519_PUBLIC_BYTES) throw securityError('bad-certificate', 'Certificat refusé : clé de taille invalide.');
  return { body, text, encPublic, sigPublic, encFpr: fingerprint('xwing', encPublic), sigFpr: fingerprint('ed25519', sigPublic) };
}

export interface CertificateRow {
  authority: Buffer; serial: number; identity_id: string; role: Role; name: string; email: string; org: string;
  not_before: number; not_after: number; enc_fpr: Buffer; sig_fpr: Buffer; issued: number; text: string;
}

export function storeCertificate(db: DB, cert: VerifiedCertificate): void {
  const b = cert.body;
  db.prepare(`INSERT OR IGNORE INTO certificates (authority, serial, identity_id, role, name, email, org, not_before, not_after, enc_fpr, sig_fpr, issued, text)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(Buffer.from(b.authority, 'base64'), b.serial, b.id, b.role, b.name, b.email, b.org, b.notBefore, b.notAfter, cert.encFpr, cert.sigFpr, b.issued, cert.text);
}

export interface TrustRow {
  name: string; public_key: Buffer; fpr: Buffer; serial: number; issued: number; next_update: number;
  allow_password: number; grace_days: number; pinned_at: number; imported_at: number;
}

/** The pinned authority. Every decision reads it through here: with the integrity key in hand,
 * the seal over it and the revocations is verified first (docs/profile.md). */
export function getTrust(db: DB): TrustRow | undefined {
  verifyTrustSeal(db);
  return db.prepare('SELECT * FROM trust WHERE one = 1').get() as TrustRow | undefined;
}

// Re-verification results per process, by SHA-256(text ‖ authority key): repeated decisions are cheap.
const verified = new Map<string, VerifiedCertificate | null>();
const MAX_CACHED = 10000;

function verifiedOrNull(text: string, authorityKey: Buffer): VerifiedCertificate | null {
  const id = createHash('sha256').update(text, 'utf8').update(authorityKey).digest('hex');
  if (verified.has(id)) return verified.get(id)!;
  let cert: VerifiedCertificate | null;
  try {
    cert = verifyCertificateSync(text, authorityKey);
  } catch {
    cert = null;
  }
  if (verified.size >= MAX_CACHED) verified.clear();
  verified.set(id, cert);
  return cert;
}

/** A stored certificate row, verified from its text against the pinned key. The values used are
 * those of the verified text; a row that claims the pinned authority and does not verify, or whose
 * columns disagree with its text, has been edited: refused as tampering. A row of an earlier
 * authority (before a signed key change) that does not verify under the pin is ignored. */
function verifiedRow(row: CertificateRow, trust: TrustRow): VerifiedCertificate | null {
  const cert = verifiedOrNull(row.text, trust.public_key);
  const claimsPin = Buffer.isBuffer(row.authority) && row.authority.equals(trust.fpr);
  if (!cert) {
    if (claimsPin) throw profileTampered(`un certificat enregistré (n° ${row.serial}) n'est plus celui signé par l'autorité`);
    return null;
  }
  const b = cert.body;
  const same = claimsPin && row.serial === b.serial && row.identity_id === b.id && row.role === b.role && row.name === b.name
    && row.email === b.email && row.org === b.org && row.not_before === b.notBefore && row.not_after === b.notAfter
    && Buffer.isBuffer(row.enc_fpr) && row.enc_fpr.equals(cert.encFpr) && Buffer.isBuffer(row.sig_fpr) && row.sig_fpr.equals(cert.sigFpr) && row.issued === b.issued;
  if (!same) throw profileTampered(`le certificat de ${b.name} enregistré sur ce poste ne correspond plus à celui signé par l'autorité`);
  return cert;
}

/** The newest of the rows that verify under the pin (by the signed issue date, then serial). */
function newestVerified(rows: CertificateRow[], trust: TrustRow): VerifiedCertificate | undefined {
  return rows.map((r) => verifiedRow(r, trust)).filter((c): c is VerifiedCertificate => c !== null)
    .sort((a, b) => b.body.issued - a.body.issued || b.body.serial - a.body.serial)[0];
}

export type CertificateStateName = 'valid' | 'expired' | 'revoked' | 'not-yet-valid' | 'none';

export interface CertificateState {
  state: CertificateStateName;
  role: Role | null;
  notAfter: number | null;
  serial: number | null;
  /** Whether the certificate covers the identity's current keys (false: only retired keys, after a rotation). */
  forCurrentKeys: boolean;
  revocation?: { reason: string; importedAt: number };
}

export function revocationOf(db: DB, identityId: string): { reason: string; revoked_at: number; imported_at: number } | undefined {
  return db.prepare('SELECT * FROM revocations WHERE identity_id = ?').get(identityId) as { reason: string; revoked_at: number; imported_at: number } | undefined;
}

const NONE: CertificateState = { state: 'none', role: null, notAfter: null, serial: null, forCurrentKeys: false };

function stateOf(db: DB, cert: VerifiedCertificate | undefined, at: number, identityId: string, forCurrentKeys: boolean): CertificateState {
  if (!cert) return NONE;
  const b = cert.body;
  const base = { role: b.role, notAfter: b.notAfter, serial: b.serial, forCurrentKeys };
  const revoked = revocationOf(db, identityId);
  if (revoked && revoked.imported_at <= at) return { ...base, state: 'revoked', revocation: { reason: revoked.reason, importedAt: revoked.imported_at } };
  if (at < b.notBefore) return { ...base, state: 'not-yet-valid' };
  if (at > b.notAfter) return { ...base, state: 'expired' };
  return { ...base, state: 'valid' };
}

/** The verified certificate an identity's state rests on, and whether it covers its current keys. */
function certificateOf(db: DB, identityId: string): { trust: TrustRow; cert: VerifiedCertificate | undefined; forCurrentKeys: boolean } | null {
  const trust = getTrust(db);
  if (!trust) return null;
  const current = db.prepare(`SELECT c.* FROM certificates c JOIN keys k ON k.fpr = c.enc_fpr
    WHERE c.identity_id = ? AND k.identity_id = c.identity_id AND k.retired_at IS NULL`).all(identityId) as CertificateRow[];
  const cert = newestVerified(current, trust);
  if (cert) return { trust, cert, forCurrentKeys: true };
  const any = db.prepare(`SELECT c.* FROM certificates c JOIN keys k ON k.fpr = c.enc_fpr
    WHERE c.identity_id = ? AND k.identity_id = c.identity_id`).all(identityId) as CertificateRow[];
  return { trust, cert: newestVerified(any, trust), forCurrentKeys: false };
}

/** An identity's certificate state at `at`: the newest certificate of its CURRENT keys; failing
 * that (keys rotated, new ones not certified yet), the newest certificate of its retired keys,
 * which still puts the person on the list (to read) but not their new keys (to sign or receive). */
export function certificateState(db: DB, identityId: string, at = Date.now()): CertificateState {
  const found = certificateOf(db, identityId);
  if (!found) return NONE;
  return stateOf(db, found.cert, at, identityId, found.cert ? found.forCurrentKeys : false);
}

/** The verified certificate of an identity's current keys when it is valid at `at`, else undefined. */
export function currentCertificate(db: DB, identityId: string, at = Date.now()): VerifiedCertificate | undefined {
  const found = certificateOf(db, identityId);
  if (!found?.cert || !found.forCurrentKeys) return undefined;
  return stateOf(db, found.cert, at, identityId, true).state === 'valid' ? found.cert : undefined;
}

/** The certificate covering a signing key, and its state at `at` (e.g. a container's arrival).
 * The certificate is verified from its text: its signing key is the one the container names. */
export function signerCertificateState(db: DB, sigFpr: Buffer, at: number): CertificateState & { identityId?: string } {
  const trust = getTrust(db);
  if (!trust) return { ...NONE };
  const rows = db.prepare('SELECT * FROM certificates WHERE sig_fpr = ?').all(sigFpr) as CertificateRow[];
  const cert = newestVerified(rows, trust);
  if (cert && !cert.sigFpr.equals(sigFpr)) throw profileTampered('un certificat enregistré ne porte pas la clé annoncée');
  return { ...stateOf(db, cert, at, cert?.body.id ?? '', true), identityId: cert?.body.id };
}

export function describeState(state: CertificateState): string {
  switch (state.state) {
    case 'valid': return `valide jusqu'au ${new Date(state.notAfter!).toISOString().slice(0, 10)}`;
    case 'expired': return `expiré le ${new Date(state.notAfter!).toISOString().slice(0, 10)}`;
    case 'revoked': return `révoqué (${state.revocation?.reason ?? ''})`;
    case 'not-yet-valid': return 'pas encore valide';
    default: return 'aucun';
  }
}

/** English-stable state word for --json outputs. */
export const stateWord = (state: CertificateState): string => state.state;

// A holder hands the integrity key only to an own identity whose current keys a valid
// certificate under the pinned authority covers (docs/profile.md, "Integrity of trust state").
setCertifiedHandoverTarget((db, identityId) => {
  const cert = currentCertificate(db, identityId);
  return cert ? { encPublic: cert.encPublic, encFpr: cert.encFpr } : null;
});
