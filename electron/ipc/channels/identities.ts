// People: the workstation's own identities and their correspondents, the SSI's directory and
// certificates as a workstation receives them, and signing in and out.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PliError, inputError } from '../../core/errors.js';
import { createIdentity, getIdentity, importCard, listIdentities } from '../../core/profile/identities.js';
import { certificateState, getTrust } from '../../core/authority/certificates.js';
import { importDirectory, importKeyfile, installCertificate } from '../../core/authority/directory.js';
import { hasAuthority } from '../../core/services/policy.js';
import { people as habilitatedPeople } from '../../core/services/audit.js';
import { formatFingerprint } from '../../../shared/ids.js';
import { ANY_FILE, MAX_CARD_BYTES, MAX_DIRECTORY_BYTES, readChosen, writeNewFile } from '../files.js';
import { certificateOf, slug, toPerson } from '../views.js';
import type { Deps, Impl } from './deps.js';

export function identityChannels({ session: s, shell, emitProgress, revealable }: Deps) {
  return {
    async 'identities:list'() {
      const p = s.profile();
      return { people: listIdentities(p.db).map((row) => toPerson(p, row)) };
    },

    async 'identities:create'(request) {
      const p = s.profile();
      const person = { name: request.name, email: request.email, org: request.org };
      const created = await createIdentity(p.db, person, request.passphrase);
      s.audit({ actor: created.id, action: 'identity.created', object: created.id, detail: { name: person.name, org: person.org, fingerprint: formatFingerprint(created.sigFpr) } });
      // With an authority pinned, the new person waits for a certificate before signing in.
      if (hasAuthority(p.db)) return { person: toPerson(p, getIdentity(p.db, created.id)!), session: null };
      const unlocked = await s.signIn(request.opId, created.id, request.passphrase);
      return { person: toPerson(p, getIdentity(p.db, created.id)!), session: { id: unlocked.id, name: unlocked.name } };
    },

    async 'identities:importKeyfile'(request) {
      const p = s.profile();
      if (!getTrust(p.db)) throw inputError('no-authority', 'Aucune autorité épinglée sur ce poste : importez d’abord l’annuaire de l’officier SSI (étape 2), puis le fichier de clés.');
      const file = await shell.openFile({ title: 'Fichier de clés remis par l’officier SSI', filters: [{ name: 'Fichier de clés Pli', extensions: ['json', 'key'] }, ANY_FILE] });
      if (!file) return { status: 'cancelled' };
      const text = await readChosen(file, MAX_CARD_BYTES, 'un fichier de clés Pli');
      emitProgress({ opId: request.opId, phase: 'unlock', done: 0, total: 1 });
      const result = await s.audited('identity.imported', () => importKeyfile(p.db, text, request.oneTimePassphrase, request.passphrase));
      s.audit({ actor: result.id, action: 'identity.imported', object: result.id, detail: { name: result.name, provisioned: true } });
      const person = toPerson(p, getIdentity(p.db, result.id)!);
      if (certificateState(p.db, result.id).state !== 'valid') {
        emitProgress({ opId: request.opId, phase: 'done', done: 1, total: 1 });
        return { status: 'done', person, session: null };
      }
      const unlocked = await s.signIn(request.opId, result.id, request.passphrase);
      return { status: 'done', person, session: { id: unlocked.id, name: unlocked.name } };
    },

    async 'identities:installCertificate'() {
      const p = s.profile();
      if (!getTrust(p.db)) throw inputError('no-authority', 'Aucune autorité épinglée sur ce poste : importez d’abord l’annuaire de l’officier SSI, puis le certificat.');
      const file = await shell.openFile({ title: 'Certificat remis par l’officier SSI', filters: [{ name: 'Certificat Pli', extensions: ['json'] }, ANY_FILE] });
      if (!file) return { status: 'cancelled' };
      const text = await readChosen(file, MAX_CARD_BYTES, 'un certificat Pli');
      const cert = await s.audited('identity.certificate-installed', () => installCertificate(p.db, text));
      s.audit({ actor: cert.body.id, action: 'identity.certificate-installed', object: cert.body.id, detail: { role: cert.body.role, notAfter: cert.body.notAfter } });
      return { status: 'done', id: cert.body.id, name: cert.body.name, role: cert.body.role, notAfter: cert.body.notAfter };
    },

    async 'directory:import'(request) {
      const p = s.profile();
      const pin = request.pin?.trim() ? request.pin.trim() : undefined;
      if (!getTrust(p.db) && !pin) {
        throw inputError('pin-required', 'Première importation : faites-vous lire au téléphone l’empreinte de l’autorité par l’officier SSI, tapez-la, puis choisissez le fichier d’annuaire.');
      }
      const file = await shell.openFile({ title: 'Annuaire signé par l’officier SSI', filters: [{ name: 'Annuaire Pli', extensions: ['json'] }, ANY_FILE] });
      if (!file) return { status: 'cancelled' };
      const text = await readChosen(file, MAX_DIRECTORY_BYTES, 'un annuaire Pli');
      const result = await s.audited('directory.imported', () => importDirectory(p.db, text, pin));
      s.audit({ actor: s.active()?.id ?? null, action: 'directory.imported', object: String(result.serial), detail: { authority: result.authorityName, fingerprint: result.fingerprint, certificates: result.certificates, revocations: result.revocations, pinned: result.pinnedNow, keyChanged: result.keyChanged } });
      return {
        status: 'done', authorityName: result.authorityName, fingerprint: result.fingerprint, serial: result.serial,
        certificates: result.certificates, revocations: result.revocations, pinnedNow: result.pinnedNow, nextUpdate: result.nextUpdate,
      };
    },

    async 'directory:people'() {
      const db = s.profile().db;
      return { people: habilitatedPeople(db).map((person) => ({
        id: person.id, name: person.name, org: person.org, email: person.email, fingerprint: person.fingerprint, certificate: certificateOf(db, person.id),
      })) };
    },

    async 'identities:importCard'(request) {
      s.require();
      const p = s.profile();
      let text: string;
      try {
        const info = await stat(request.path);
        if (!info.isFile() || info.size > MAX_CARD_BYTES) throw inputError('not-a-card', `${path.basename(request.path)} n’est pas une carte Pli (trop gros ou pas un fichier). Choisissez le fichier de carte reçu.`);
        text = await readFile(request.path, 'utf8');
      } catch (error) {
        if (error instanceof PliError) throw error;
        throw inputError('missing-file', `Fichier introuvable ou illisible : ${request.path}. Vérifiez le fichier et recommencez.`);
      }
      try {
        const result = await importCard(p.db, text);
        s.audit({ actor: s.active()?.id ?? null, action: 'identity.imported', object: result.id, detail: { name: result.card.body.name, org: result.card.body.org, fingerprint: formatFingerprint(result.card.sigFpr), added: result.added } });
        return { person: toPerson(p, getIdentity(p.db, result.id)!), added: result.added };
      } catch (error) {
        if (error instanceof PliError && error.kind === 'security') {
          s.audit({ actor: s.active()?.id ?? null, action: 'identity.imported', outcome: 'refused', detail: { reason: error.code } });
        }
        throw error;
      }
    },

    async 'identities:exportCard'(request) {
      const p = s.profile();
      const row = getIdentity(p.db, request.id);
      if (!row) throw inputError('unknown-id', 'Cette personne n’est pas dans l’annuaire de ce poste.');
      // A person of this workstation waiting for a certificate exports their card before signing in.
      const actor = s.active()?.id ?? (row.own === 1 ? row.id : s.require().id);
      const target = await shell.saveFile({
        title: `Carte de ${row.name}`, defaultName: `carte-pli-${slug(row.name)}.json`,
        filters: [{ name: 'Carte Pli', extensions: ['json'] }],
      });
      if (!target) return { status: 'cancelled' };
      await writeNewFile(target, row.card, 0o644);
      revealable.add(target);
      s.audit({ actor, action: 'identity.exported', object: row.id });
      return { status: 'done', path: target };
    },

    async 'session:signIn'(request) {
      const unlocked = await s.signIn(request.opId, request.id, request.passphrase);
      return { id: unlocked.id, name: unlocked.name };
    },

    async 'session:signOut'() {
      return { signedOut: await s.signOut() };
    },
  } satisfies Partial<Impl>;
}
