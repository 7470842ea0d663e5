// The officer console (on the authority's workstation): the authority itself, certificates, key
// files, revocations and the signed directory. Every action but `init` needs the officer.
import { inputError } from '../../core/errors.js';
import { getIdentity, verifyCard } from '../../core/profile/identities.js';
import { certifyCard, exportDirectory, initAuthority, provisionPerson, requireOfficer, revokePerson } from '../../core/authority/authority.js';
import { ANY_FILE, MAX_CARD_BYTES, readChosen, refuseExisting, writeNewFile } from '../files.js';
import { slug } from '../views.js';
import { day, type Deps, type Impl } from './deps.js';

export function authorityChannels({ session: s, shell, revealable }: Deps) {
  return {
    async 'authority:init'(request) {
      const active = s.require();
      const ctx = s.context();
      const result = await initAuthority(ctx, request.name, active.id);
      return { fingerprint: result.fingerprint };
    },

    async 'authority:certify'(request) {
      const active = s.require();
      const ctx = s.context();
      requireOfficer(ctx); // the core's check (unlockAuthority's), made before the dialogs
      const file = await shell.openFile({ title: 'Carte Pli à certifier', filters: [{ name: 'Carte Pli', extensions: ['json'] }, ANY_FILE] });
      if (!file) return { status: 'cancelled' };
      const cardText = await readChosen(file, MAX_CARD_BYTES, 'une carte Pli');
      const card = await verifyCard(cardText);
      const target = await shell.saveFile({
        title: `Certificat de ${card.body.name}`, defaultName: `certificat-pli-${slug(card.body.name)}.json`,
        filters: [{ name: 'Certificat Pli', extensions: ['json'] }],
      });
      if (!target) return { status: 'cancelled' };
      s.still(active);
      await refuseExisting(target); // before the certificate is issued: a refusal issues nothing
      const result = await certifyCard(ctx, cardText, request.role, request.days);
      await writeNewFile(target, result.certificate, 0o644);
      revealable.add(target);
      return { status: 'done', id: result.id, name: result.name, role: request.role, path: target };
    },

    async 'authority:provision'(request) {
      const active = s.require();
      const ctx = s.context();
      requireOfficer(ctx); // the core's check (unlockAuthority's), made before the dialogs
      const target = await shell.saveFile({
        title: `Fichier de clés de ${request.name}`, defaultName: `cles-pli-${slug(request.name)}.json`,
        filters: [{ name: 'Fichier de clés Pli', extensions: ['json'] }],
      });
      if (!target) return { status: 'cancelled' };
      s.still(active);
      await refuseExisting(target); // before the person is created: a refusal creates no one
      const person = { name: request.name, email: request.email, org: request.org };
      const result = await provisionPerson(ctx, person, request.role, request.days);
      // The key file holds sealed keys: readable by its owner only.
      await writeNewFile(target, result.keyfile, 0o600);
      revealable.add(target);
      return { status: 'done', id: result.id, name: person.name, path: target, oneTimePassphrase: result.oneTimePassphrase };
    },

    async 'authority:revoke'(request) {
      const ctx = s.context(); // requires a signed-in person
      requireOfficer(ctx); // the core's check (unlockAuthority's), before the person is looked up
      const row = getIdentity(ctx.profile.db, request.id);
      if (!row) throw inputError('unknown-id', 'Cette personne n’est pas dans l’annuaire de ce poste.');
      await revokePerson(ctx, row, request.reason);
      return { name: row.name };
    },

    async 'authority:exportDirectory'() {
      const active = s.require();
      const ctx = s.context();
      requireOfficer(ctx); // the core's check (unlockAuthority's), made before the dialogs
      const target = await shell.saveFile({ title: 'Exporter l’annuaire signé', defaultName: `annuaire-pli-${day()}.json`, filters: [{ name: 'Annuaire Pli', extensions: ['json'] }] });
      if (!target) return { status: 'cancelled' };
      s.still(active);
      await refuseExisting(target); // before the directory is signed (it takes a serial)
      const result = await exportDirectory(ctx);
      await writeNewFile(target, result.text, 0o644);
      revealable.add(target);
      return { status: 'done', serial: result.serial, path: target };
    },
  } satisfies Partial<Impl>;
}
