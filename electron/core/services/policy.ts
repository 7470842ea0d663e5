// The nominative list, enforced in the core for every action (not only in the interface).
// With no pinned authority, the foundation behaviour holds (self-signed cards, no roles).
// With one: only people holding a valid certificate from it act or are addressed, each within
// their role (reader opens; operator also sends; officer also runs the authority).
import type { DB } from '../profile/profile.js';
import { certificateState, currentCertificate, describeState, getTrust, roleIncludes, ROLE_LABEL, signerCertificateState, type Role } from '../authority/certificates.js';
import { directoryWarning, type DirectoryWarning } from '../authority/directory.js';
import { currentKeys, getIdentity, keyByFingerprint, listIdentities, resolveIdentity, type IdentityRow } from '../profile/identities.js';
import { inputError, securityError } from '../errors.js';
import { profileTampered } from '../profile/integrity.js';

export const hasAuthority = (db: DB): boolean => getTrust(db) !== undefined;

/** Refuses (exit 2) a person outside the list or below the role the action needs. `signing`:
 * the action signs with the person's current key, which must itself be certified. */
export function requireRole(db: DB, identity: IdentityRow, needed: Role, now = Date.now(), options: { signing?: boolean } = {}): void {
  if (!hasAuthority(db)) return;
  const state = certificateState(db, identity.id, now);
  if (state.state !== 'valid') {
    throw securityError('not-habilitated', `${identity.name} ne figure pas sur la liste des personnes habilitées de ce poste (certificat : ${describeState(state)}). Action refusée ; adressez-vous à l'officier SSI.`);
  }
  if (!roleIncludes(state.role!, needed)) {
    throw securityError('role', `Action refusée : elle demande le rôle « ${ROLE_LABEL[needed]} » ; ${identity.name} a le rôle « ${ROLE_LABEL[state.role!]} ». Adressez-vous à l'officier SSI.`);
  }
  if (options.signing && !state.forCurrentKeys) {
    throw securityError('keys-not-certified', `Les nouvelles clés de ${identity.name} ne sont pas encore certifiées : exportez sa carte d'identité, faites-la certifier par l'officier SSI, puis installez le certificat.`, { name: identity.name });
  }
}

/** Resolves --to values: ids or prefixes, or org:NAME (every certified, valid, unrevoked member). */
export function resolveRecipients(db: DB, values: string[], now = Date.now()): IdentityRow[] {
  const out = new Map<string, IdentityRow>();
  const authority = hasAuthority(db);
  for (const value of values) {
    if (value.startsWith('org:')) {
      const org = value.slice(4).trim().toLowerCase();
      const members = listIdentities(db).filter((r) => r.org.trim().toLowerCase() === org
        && (!authority || certificateState(db, r.id, now).state === 'valid'));
      if (members.length === 0) {
        throw inputError('empty-org', `Aucune personne ${authority ? 'certifiée et valide ' : ''}dans l'organisation « ${value.slice(4)} » : vérifiez son nom dans l'annuaire.`, { org: value.slice(4), certified: Boolean(authority) });
      }
      members.forEach((m) => out.set(m.id, m));
    } else {
      const row = resolveIdentity(db, value);
      out.set(row.id, row);
    }
  }
  return [...out.values()];
}

export function requireRecipient(db: DB, row: IdentityRow, now = Date.now()): void {
  if (!hasAuthority(db)) return;
  const state = certificateState(db, row.id, now);
  if (state.state !== 'valid' || !state.forCurrentKeys) {
    throw securityError('recipient-not-certified', `${row.name} (${row.org}) ne peut pas être destinataire : certificat ${state.forCurrentKeys || state.state !== 'valid' ? describeState(state) : 'absent pour ses nouvelles clés'}. Retirez cette personne ou demandez à l'officier SSI un annuaire à jour.`);
  }
  // The key a container is sealed for is the one the verified certificate names: a key row
  // planted next to it (the attacker of docs/profile.md) must not receive the file key.
  const cert = currentCertificate(db, row.id, now);
  if (!cert || !currentKeys(db, row.id).enc.fpr.equals(cert.encFpr)) {
    throw profileTampered(`les clés enregistrées pour ${row.name} ne sont pas celles de son certificat`);
  }
}

/** A container's signer must hold a certificate valid when the container ARRIVED here, with a
 * role that may send (a reader's own client could still seal: the receiver checks too).
 * `minimum` is `operator` for containers with files; Pli objects (receipts, acknowledgements),
 * which carry no file, pass `reader` so that every certified workstation may answer. */
export function requireSigner(db: DB, sigFpr: Buffer, arrivedAt: number, minimum: Role = 'operator'): void {
  if (!hasAuthority(db)) return;
  const state = signerCertificateState(db, sigFpr, arrivedAt);
  // The owner named is the verified certificate's; failing one, the key row (fingerprint re-derived).
  const ownerId = state.identityId ?? keyByFingerprint(db, sigFpr)?.identity_id;
  const who = ownerId ? getIdentity(db, ownerId) : undefined;
  const name = who ? `${who.name} (${who.org})` : "l'expéditeur";
  switch (state.state) {
    case 'valid':
      if (!roleIncludes(state.role!, minimum)) {
        throw securityError('sender-role', `Pli refusé : ${name} a le rôle « ${ROLE_LABEL[state.role!]} », qui ne permet pas d'envoyer. Signalez-le à l'officier SSI.`);
      }
      return;
    case 'revoked':
      throw securityError('sender-revoked', `Pli refusé : le certificat de ${name} a été révoqué (${state.revocation?.reason}) avant l'arrivée de ce pli sur ce poste. Signalez-le à l'officier SSI.`);
    case 'expired':
      throw securityError('sender-expired', `Pli refusé : le certificat de ${name} avait expiré à l'arrivée du pli. Demandez-lui de renvoyer le pli après renouvellement.`);
    case 'not-yet-valid':
      throw securityError('sender-not-yet-valid', `Pli refusé : le certificat de ${name} n'était pas encore valide à l'arrivée du pli.`);
    default:
      throw securityError('sender-not-certified', `Pli refusé : ${name} n'a pas de certificat de l'autorité de ce poste pour cette clé. Importez un annuaire à jour ou signalez-le à l'officier SSI.`);
  }
}

export function requirePasswordAllowed(db: DB): void {
  const trust = getTrust(db);
  if (trust && trust.allow_password !== 1) {
    throw securityError('password-forbidden', "Les plis protégés par mot de passe ne sont pas autorisés par l'annuaire de l'autorité : adressez le pli à des personnes habilitées.");
  }
}

/**
 * Before sending: refuses after the grace period; before it, past the next update, returns the
 * warning as data (a DirectoryWarning each front end words: the CLI's French, the interface's i18n).
 */
export function checkFreshnessForSending(db: DB, now = Date.now()): DirectoryWarning[] {
  const warning = directoryWarning(db, now);
  if (warning?.kind === 'directory-expired') {
    const since = new Date(warning.nextUpdate).toISOString().slice(0, 10);
    // The day sending became refused (end of the grace period), so the person knows since when.
    const refusedSince = new Date(warning.refuseAfter).toISOString().slice(0, 10);
    throw securityError('directory-expired', `L'annuaire de ce poste n'a pas été mis à jour depuis le ${since} : envoi refusé depuis le ${refusedSince} (fin du délai de grâce), pour ne pas ignorer d'éventuelles révocations. Importez le dernier annuaire de l'officier SSI.`, { since, refusedSince });
  }
  return warning ? [warning] : [];
}
