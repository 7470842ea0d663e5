// Certificates and their state on this workstation (docs/authority.md sections 3-4, 7).
import type { z } from 'zod';
import { lazySchema } from '../zod.js';
import type { DB } from '../profile/profile.js';
import { envelopeSignedBy, parseBody, parseEnvelope } from './signed.js';
import { fingerprint } from '../crypto/primitives.js';
import { ED25519_PUBLIC_BYTES, XWING_PUBLIC_BYTES } from '../crypto/keys.js';
import { securityError } from '../errors.js';
import { isIdentityId } from '../../../shared/ids.js';

export const ROLES = ['officer', 'operator', 'reader'] as const;
export type Role = (typeof ROLES)[number];
const RANK: Record<Role, number> = { reader: 1, operator: 2, officer: 3 };
export const roleIncludes = (held: Role, needed: Role): boolean => RANK[held] >= RANK[needed];
export const ROLE_LABEL: Record<Role, string> = { officer: 'officier SSI', operator: 'opérateur', reader: 'lecteur' };

const certificateBodySchema = lazySchema((z) => z.strictObject({
  v: z.literal(1),
  serial: z.number().int().positive(),
  authority: z.string().max(100),
  id: z.string().refine(isIdentityId),
  name: z.string().min(1).max(200),
  email: z.string().min(3).max(254),
  org: z.string().min(1).max(200),
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

/** Verifies a certificate's signature by `authorityKey` and its content. */
export async function verifyCertificate(text: string, authorityKey: Uint8Array): Promise<VerifiedCertificate> {
  const envelope = parseEnvelope(text, 'certificate');
  if (!(await envelopeSignedBy(envelope, authorityKey))) {
    throw securityError('bad-certificate', "Certificat refusé : il n'est pas signé par l'autorité de ce poste. Demandez à l'officier SSI un certificat émis par l'autorité dont l'empreinte a été épinglée.");
  }
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
  serial: number; identity_id: string; role: Role; name: string; email: string; org: string;
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

export function getTrust(db: DB): TrustRow | undefined {
  return db.prepare('SELECT * FROM trust WHERE one = 1').get() as TrustRow | undefined;
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

function stateOf(db: DB, cert: CertificateRow | undefined, at: number, identityId: string, forCurrentKeys: boolean): CertificateState {
  if (!cert) return { state: 'none', role: null, notAfter: null, serial: null, forCurrentKeys: false };
  const base = { role: cert.role, notAfter: cert.not_after, serial: cert.serial, forCurrentKeys };
  const revoked = revocationOf(db, identityId);
  if (revoked && revoked.imported_at <= at) return { ...base, state: 'revoked', revocation: { reason: revoked.reason, importedAt: revoked.imported_at } };
  if (at < cert.not_before) return { ...base, state: 'not-yet-valid' };
  if (at > cert.not_after) return { ...base, state: 'expired' };
  return { ...base, state: 'valid' };
}

/** An identity's certificate state at `at`: the newest certificate of its CURRENT keys; failing
 * that (keys rotated, new ones not certified yet), the newest certificate of its retired keys,
 * which still puts the person on the list (to read) but not their new keys (to sign or receive). */
export function certificateState(db: DB, identityId: string, at = Date.now()): CertificateState {
  const current = db.prepare(`SELECT c.* FROM certificates c JOIN keys k ON k.fpr = c.enc_fpr
    WHERE c.identity_id = ? AND k.identity_id = c.identity_id AND k.retired_at IS NULL ORDER BY c.issued DESC, c.serial DESC LIMIT 1`).get(identityId) as CertificateRow | undefined;
  if (current) return stateOf(db, current, at, identityId, true);
  const retired = db.prepare(`SELECT c.* FROM certificates c JOIN keys k ON k.fpr = c.enc_fpr
    WHERE c.identity_id = ? AND k.identity_id = c.identity_id ORDER BY c.issued DESC, c.serial DESC LIMIT 1`).get(identityId) as CertificateRow | undefined;
  return stateOf(db, retired, at, identityId, false);
}

/** The certificate covering a signing key, and its state at `at` (e.g. a container's arrival). */
export function signerCertificateState(db: DB, sigFpr: Buffer, at: number): CertificateState & { identityId?: string } {
  const cert = db.prepare('SELECT * FROM certificates WHERE sig_fpr = ? ORDER BY issued DESC, serial DESC LIMIT 1').get(sigFpr) as CertificateRow | undefined;
  return { ...stateOf(db, cert, at, cert?.identity_id ?? '', true), identityId: cert?.identity_id };
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
