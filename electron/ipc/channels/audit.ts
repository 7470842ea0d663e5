// The audit log: the events list, the chain's verification, the signed export and the anchor.
import { listIdentities } from '../../core/profile/identities.js';
import { checkAudit, exportAudit, journalPage, writeAuditAnchor } from '../../core/services/audit.js';
import { refuseExisting } from '../files.js';
import { day, type Deps, type Impl } from './deps.js';

export function auditChannels({ session: s, shell, revealable }: Deps) {
  return {
    async 'events:list'(request) {
      s.require();
      const p = s.profile();
      const names = new Map(listIdentities(p.db).map((r) => [r.id, r.name]));
      // One pass over the log keeping only the page (a million events: about a second).
      const page = journalPage(p.db, request);
      const actors = page.actors.map((id) => ({ id, name: names.get(id) ?? id })).sort((x, y) => x.name.localeCompare(y.name, 'fr'));
      const events = page.events.map((e) => ({
        seq: e.seq, at: e.at, actor: e.actor, actorName: e.actor ? names.get(e.actor) ?? null : null,
        workstation: e.workstation, action: e.action, object: e.object, outcome: e.outcome, detail: e.detail,
      }));
      return { events, total: page.total, actors, actions: page.actions };
    },

    async 'audit:verify'() {
      s.require();
      // As `pli audit verify` (without anchors): the core logs the verification.
      const { result } = await checkAudit(s.scope());
      return { ok: result.ok, events: result.events, checkpoints: result.checkpoints, lastCheckpoint: result.lastCheckpoint, firstBad: result.firstBad ?? null };
    },

    async 'audit:export'() {
      const active = s.require();
      const ctx = s.context();
      const target = await shell.saveFile({ title: 'Exporter le journal d’audit signé', defaultName: `journal-pli-${day()}.csv`, filters: [{ name: 'CSV', extensions: ['csv'] }] });
      if (!target) return { status: 'cancelled' };
      s.still(active);
      // The core writes FILE.csv and FILE.csv.sig, never over a file: none may be there already.
      await refuseExisting(target, `${target}.sig`, `${target}.tmp`);
      const result = await exportAudit(ctx, active.id, target);
      revealable.add(target);
      return { status: 'done', path: target, sigPath: `${target}.sig`, events: result.events, signer: result.signer };
    },

    async 'audit:anchor'() {
      const active = s.require();
      const ctx = s.context();
      const target = await shell.saveFile({ title: 'Enregistrer l’ancre du journal (à garder hors du poste)', defaultName: `ancre-pli-${day()}.json`, filters: [{ name: 'Ancre Pli', extensions: ['json'] }] });
      if (!target) return { status: 'cancelled' };
      s.still(active);
      await refuseExisting(target); // before the anchor is signed and logged
      // The core signs the head with the lent key (after verifying the chain since the last
      // checkpoint) and writes with 'wx': never over a file.
      const result = await writeAuditAnchor(ctx, active.id, target);
      revealable.add(target);
      return { status: 'done', path: target, seq: result.seq, signer: result.signer };
    },
  } satisfies Partial<Impl>;
}
