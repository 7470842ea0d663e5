// People: the workstation's own identities and their correspondents, the SSI's directory and
// certificates as a workstation receives them, and signing in and out.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PliError, inputError } from '../../core/errors.js';
import { refuseProfileFile } from '../../core/own-files.js';
import { getIdentity, listIdentities } from '../../core/profile/identities.js';
import { certificateState, getTrust } from '../../core/authority/certificates.js';
import { hasAuthority } from '../../core/services/policy.js';
import { people as habilitatedPeople } from '../../core/services/audit.js';
import { acceptDirectory, addCorrespondent, exportCard, installKeyfile, installOwnCertificate, newIdentity } from '../../core/services/workstation.js';
import { ANY_FILE, MAX_CARD_BYTES, MAX_DIRECTORY_BYTES, readChosen, writeNewFile } from '../files.js';
import { certificateOf, slug, toPerson } from '../views.js';
import type { Deps, Impl } from './deps.js';

export function identityChannels({ session: s, shell, emitProgress, revealable, chosen }: Deps) {
  return {
    async 'identities:list'() {
      const p = s.profile();
      return { people: listIdentities(p.db).map((row) => toPerson(p, row)) };
    },

    async 'identities:create'(request) {
      const p = s.profile();
      const person = { name: request.name, email: request.email, org: request.org };
      const created = await newIdentity(p, person, request.passphrase);
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
      const text = await readChosen(file, MAX_CARD_BYTES, 'un fichier de clés Pli', p.home);
      emitProgress({ opId: request.opId, phase: 'unlock', done: 0, total: 1 });
      const result = await installKeyfile(s.scope(), text, request.oneTimePassphrase, request.passphrase);
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
      const text = await readChosen(file, MAX_CARD_BYTES, 'un certificat Pli', p.home);
      const cert = await installOwnCertificate(s.scope(), text);
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
      const text = await readChosen(file, MAX_DIRECTORY_BYTES, 'un annuaire Pli', p.home);
      const result = await acceptDirectory(s.scope(), text, pin);
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
      chosen.require([request.path]);
      const p = s.profile();
      let text: string;
      refuseProfileFile(request.path, p.home, 'read'); // never the profile's database (own-files.ts)
      try {
        const info = await stat(request.path);
        if (!info.isFile() || info.size > MAX_CARD_BYTES) throw inputError('not-a-card', `${path.basename(request.path)} n’est pas une carte Pli (trop gros ou pas un fichier). Choisissez le fichier de carte reçu.`);
        text = await readFile(request.path, 'utf8');
      } catch (error) {
        if (error instanceof PliError) throw error;
        throw inputError('missing-file', `Fichier introuvable ou illisible : ${request.path}. Vérifiez le fichier et recommencez.`, { path: request.path });
      }
      const result = await addCorrespondent(s.scope(), text);
      return { person: toPerson(p, getIdentity(p.db, result.id)!), added: result.added };
    },

    async 'identities:exportCard'(request) {
      const p = s.profile();
      const row = getIdentity(p.db, request.id);
      if (!row) throw inputError('unknown-id', 'Cette personne n’est pas dans l’annuaire de ce poste.');
      // A person of this workstation waiting for a certificate exports their card before signing
      // in; anyone else's card only by a signed-in person (the core logs who: the person acting,
      // else the card's owner).
      if (row.own !== 1) s.require();
      const target = await shell.saveFile({
        title: `Carte de ${row.name}`, defaultName: `carte-pli-${slug(row.name)}.json`,
        filters: [{ name: 'Carte Pli', extensions: ['json'] }],
      });
      if (!target) return { status: 'cancelled' };
      await exportCard(s.scope(), row, (card) => writeNewFile(target, card, 0o644));
      revealable.add(target);
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
