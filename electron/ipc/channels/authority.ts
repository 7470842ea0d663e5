// The officer console (on the authority's workstation): the authority itself, certificates, key
// files, revocations and the signed directory. Every action but `init` needs the officer.
import { inputError } from '../../core/errors.js';
import { getIdentity, verifyCard } from '../../core/profile/identities.js';
import { certifyCard, exportDirectory, initAuthority, pendingContact, provisionPerson, requireOfficer, revokePerson, setAuthorityContact } from '../../core/authority/authority.js';
import { directoryContact, type ContactView } from '../../core/authority/directory.js';
import { directoryStatus, publicationTargets, publishDirectory } from '../../core/mail/publish.js';
import { getMailbox } from '../../core/mail/settings.js';
import { toIpcError } from '../views.js';
import type { IpcError } from '../../../shared/ipc.js';
import { ANY_FILE, MAX_CARD_BYTES, readChosen, refuseExisting, writeNewFile } from '../files.js';
import { slug } from '../views.js';
import { day, type Deps, type Impl } from './deps.js';

export function authorityChannels({ session: s, shell, revealable, watcher, emitMailEvent }: Deps) {
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
      const cardText = await readChosen(file, MAX_CARD_BYTES, 'une carte Pli', ctx.profile.home);
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

    // The console's publication (issue 17): one button, its transport said before the click.
    async 'authority:console'() {
      const ctx = s.context();
      requireOfficer(ctx);
      const db = ctx.profile.db;
      const status = directoryStatus(db);
      const targets = [...publicationTargets(db).values()].map((people) => ({
        org: people[0]!.org, people: people.length,
        destinations: [...new Set(people.filter((p) => p.own !== 1).map((p) => p.email.trim().toLowerCase()))],
      })).sort((a, b) => a.org.localeCompare(b.org, 'fr'));
      const pending = await pendingContact(db);
      const published = await directoryContact(db);
      const latest = status.serial ?? 0;
      return {
        serial: latest, nextUpdate: status.nextUpdate ?? 0, freshness: status.state ?? 'fresh',
        transport: getMailbox(db) ? 'mail' as const : 'folder' as const,
        targets,
        // Each workstation by what it last acknowledged: `behind` versions behind the latest signed.
        organisations: (status.organisations ?? []).map((o) => ({
          org: o.org, published: o.published, publishedAt: o.publishedAt,
          workstations: o.workstations.map((w) => ({ name: w.name ?? w.signer, serial: w.serial, at: w.at, behind: Math.max(0, latest - w.serial) })),
        })),
        contact: {
          pending: pending.state === 'valid' ? { state: 'valid' as const, name: pending.contact.name, phone: pending.contact.phone, mail: pending.contact.mail, at: pending.contact.at } : pending,
          published,
        },
      };
    },

    async 'authority:publish'() {
      const active = s.require();
      const ctx = s.context();
      requireOfficer(ctx); // before the dialog
      const db = ctx.profile.db;
      let folder: string | null = null;
      if (!getMailbox(db)) {
        folder = await shell.chooseFolder({ title: 'Dossier où déposer l’annuaire (clé USB, partage…)' });
        if (!folder) return { status: 'cancelled' };
        s.still(active);
      }
      const result = await publishDirectory(ctx, folder ? { folder } : 'mail');
      let sent = 0;
      let pending = 0;
      let sendError: IpcError | null = null;
      if (folder) {
        revealable.add(folder);
      } else {
        emitMailEvent({ type: 'outbox' });
        const flushed = await watcher.flush(ctx, { as: active.id, force: true, ids: result.outboxIds });
        sent = flushed.sent.length;
        pending = flushed.pending.length + flushed.failed.length;
        sendError = flushed.error ? toIpcError(flushed.error) : null;
        emitMailEvent({ type: 'outbox' });
      }
      return {
        status: 'done', serial: result.serial, transport: folder ? 'folder' : 'mail', folder,
        orgs: result.orgs.map((o) => ({ org: o.org, destinations: folder ? [] : o.destinations })), sent, pending, sendError,
      };
    },

    async 'authority:setContact'(request) {
      const ctx = s.context();
      requireOfficer(ctx);
      const contact = await setAuthorityContact(ctx, request);
      return { name: contact.name, phone: contact.phone, mail: contact.mail };
    },

    // Any workstation with a pinned authority, signed in or not (the Help screen).
    async 'directory:contact'(): Promise<ContactView> {
      if (!s.exists()) return { state: 'none' };
      return directoryContact(s.profile().db);
    },
  } satisfies Partial<Impl>;
}
