// The workstation's own operations on its profile and its people, as the front ends run them:
// each one makes its state change with the building block of profile/ or authority/ and writes
// its audit event (docs/audit.md, "Who writes what"). The building blocks write none: they are
// also used inside other operations and by the tests, which must not log what nobody did.
import { initProfile, type Profile } from '../profile/profile.js';
import { createIdentity, importCard, rotateIdentity, type IdentityRow, type NewIdentity, type Person, type VerifiedCard } from '../profile/identities.js';
import { importDirectory, importKeyfile, installCertificate, type DirectoryImport } from '../authority/directory.js';
import type { VerifiedCertificate } from '../authority/certificates.js';
import { actorOf, audit, audited, type Scope } from '../context.js';
import { formatFingerprint } from '../../../shared/ids.js';

/** `pli init`, the desktop's first run: creates the profile (if absent) and logs its creation. */
export function createProfile(home: string, options: { shared?: boolean } = {}): ReturnType<typeof initProfile> {
  const made = initProfile(home, options);
  if (made.created) audit(made, { action: 'profile.created', object: home, detail: { shared: Boolean(options.shared) } });
  return made;
}

/** A new own identity; its owner is the actor (they just chose its passphrase). */
export async function newIdentity(profile: Profile, person: Person, passphrase: string): Promise<NewIdentity> {
  const created = await createIdentity(profile.db, person, passphrase);
  audit({ profile }, { actor: created.id, action: 'identity.created', object: created.id, detail: { name: person.name, org: person.org, fingerprint: formatFingerprint(created.sigFpr) } });
  return created;
}

/** A card handed out: `write` puts it where the person chose (never over a file). The actor is
 * the person acting, else the card's owner when it is an own identity. */
export async function exportCard(scope: Scope, row: IdentityRow, write: (card: string) => void | Promise<void>): Promise<void> {
  await write(row.card);
  audit(scope, { actor: actorOf(scope) ?? (row.own === 1 ? row.id : null), action: 'identity.exported', object: row.id });
}

/** A correspondent's self-signed card; a card that conflicts with a known one is refused and logged. */
export function addCorrespondent(scope: Scope, text: string): Promise<{ id: string; added: boolean; card: VerifiedCard }> {
  return audited(scope, 'identity.imported', () => importCard(scope.profile.db, text), (result) => ({
    actor: actorOf(scope), object: result.id,
    detail: { name: result.card.body.name, org: result.card.body.org, fingerprint: formatFingerprint(result.card.sigFpr), added: result.added },
  }));
}

/** The SSI's signed directory (the first one pinned with the dictated fingerprint). */
export function acceptDirectory(scope: Scope, text: string, pin?: string): Promise<DirectoryImport> {
  return audited(scope, 'directory.imported', () => importDirectory(scope.profile.db, text, pin), (result) => ({
    actor: actorOf(scope), object: String(result.serial),
    detail: { authority: result.authorityName, fingerprint: result.fingerprint, certificates: result.certificates, revocations: result.revocations, pinned: result.pinnedNow, keyChanged: result.keyChanged },
  }));
}

/** A certificate for one of this workstation's own identities; its holder is the actor. */
export function installOwnCertificate(scope: Scope, text: string): Promise<VerifiedCertificate> {
  return audited(scope, 'identity.certificate-installed', () => installCertificate(scope.profile.db, text), (cert) => ({
    actor: cert.body.id, object: cert.body.id, detail: { role: cert.body.role, notAfter: cert.body.notAfter },
  }));
}

/** A key file provisioned by the officer; the person it installs is the actor. */
export function installKeyfile(scope: Scope, text: string, oneTimePassphrase: string, newPassphrase: string): Promise<NewIdentity & { name: string }> {
  return audited(scope, 'identity.imported', () => importKeyfile(scope.profile.db, text, oneTimePassphrase, newPassphrase), (result) => ({
    actor: result.id, object: result.id, detail: { name: result.name, provisioned: true },
  }));
}

/** New keys for an own identity (its owner gave the passphrase: the actor). */
export function rotateKeys(scope: Scope, row: IdentityRow, passphrase: string): Promise<NewIdentity> {
  return audited(scope, 'identity.rotated', () => rotateIdentity(scope.profile.db, row.id, passphrase), (result) => ({
    actor: row.id, object: row.id, detail: { fingerprint: formatFingerprint(result.sigFpr) },
  }), row.id);
}
