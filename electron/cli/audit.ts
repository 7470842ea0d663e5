// CLI: the nominative list and the audit log (issue "Habilitated people only").
import { once } from 'node:events';
import { auditRows, checkAudit, exportAudit, people, verifyAuditExport, writeAuditAnchor } from '../core/services/audit.js';
import { getTrust, ROLE_LABEL, type Role } from '../core/authority/certificates.js';
import { listIdentities } from '../core/profile/identities.js';
import { inputError, securityError } from '../core/errors.js';
import { context, err, out, parse, profileOf, readText, required, str, type Handler } from './common.js';
import { formatFingerprint } from '../../shared/ids.js';
import { forTerminal } from '../../shared/text.js';
import { agree, plural } from '../../shared/french.js';

export const AUDIT_USAGE = `  people [--json]                              liste nominative des personnes habilitées de ce poste
  audit list [--since AAAA-MM-JJ] [--json] | audit verify [--anchor ANCRE ...]
  audit anchor [--as ID] --out ANCRE           ancre signée de la tête du journal, à garder hors du poste
  audit export [--as ID] --out FICHIER.csv     écrit FICHIER.csv et FICHIER.csv.sig
  audit verify-export FICHIER.csv`;

function sinceOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`))) {
    throw inputError('bad-date', `Date invalide : ${text}. Format attendu : AAAA-MM-JJ.`);
  }
  return Date.parse(`${text}T00:00:00Z`);
}

export const auditCommands: Record<string, Handler> = {
  async people(args) {
    const { values } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 0, name: 'aucun' });
    const db = profileOf(values).db;
    const list = people(db);
    if (values.json) {
      return out(JSON.stringify(list.map((p) => ({ ...p, validUntil: p.validUntil === null ? null : new Date(p.validUntil).toISOString() })), null, 2));
    }
    const trust = getTrust(db);
    out(trust
      ? `Liste nominative des personnes habilitées — autorité ${forTerminal(trust.name)} (${formatFingerprint(trust.fpr)})`
      : 'Aucune autorité épinglée : sans annuaire, personne n’est inscrit sur la liste nominative (cartes auto-signées seulement).');
    out('NOM ; RÔLE ; ORGANISATION ; CERTIFICAT VALIDE JUSQU’AU ; ÉTAT');
    for (const p of list) {
      out(`${forTerminal(p.name)} ; ${p.role ? ROLE_LABEL[p.role as Role] : '—'} ; ${forTerminal(p.org)} ; ${p.validUntil ? new Date(p.validUntil).toISOString().slice(0, 10) : '—'} ; ${p.state === 'valid' ? 'habilitation valide' : forTerminal(p.stateText)}`);
    }
  },

  async 'audit list'(args) {
    const { values } = parse(args, { since: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0, name: 'aucun' });
    const db = profileOf(values).db;
    const names = new Map(listIdentities(db).map((r) => [r.id, r.name]));
    // Printed as it is read, in pieces of about 64 KiB, each waiting for the one before to be
    // taken (a pipe to a slow reader: `| less`): a million events never sit in memory. eachEvent
    // holds no query open between events, so the loop may wait. The --json text is that of
    // JSON.stringify(list, null, 2), an element at a time; an event that no longer reads stops the
    // listing there (exit 2), after what was printed before it.
    let text = values.json ? '[' : '';
    let first = true;
    // The reader of the pipe gone (`| head`): the listing ends there, quietly, as other tools do.
    // The listener stays: the pipe may close after the last write was taken, and an 'error' with
    // no listener would end the process (this command is the process's last).
    let closed: NodeJS.ErrnoException | null = null;
    process.stdout.on('error', (error: NodeJS.ErrnoException) => { closed = error; });
    const flush = async (last = false): Promise<void> => {
      if (text === '') return;
      if (last) await new Promise<void>((resolve) => process.stdout.write(text, () => resolve())); // taken or failed
      else if (!process.stdout.write(text)) await once(process.stdout, 'drain').catch(() => undefined);
      text = '';
    };
    try {
      await listing();
    } catch (error) {
      await flush(true); // the events read before the one that stopped the listing
      throw error;
    }
    const ended = closed as NodeJS.ErrnoException | null;
    if (ended && ended.code !== 'EPIPE') throw ended;

    async function listing(): Promise<void> {
      for (const e of auditRows(db, sinceOf(str(values, 'since')))) {
        if (closed) return;
        if (values.json) {
          const item = JSON.stringify({
            seq: e.seq, at: new Date(e.at).toISOString(), actor: e.actor, actorName: e.actor ? names.get(e.actor) ?? null : null,
            workstation: e.workstation, action: e.action, object: e.object, outcome: e.outcome, detail: e.detail ? JSON.parse(e.detail) : null,
          }, null, 2);
          text += `${first ? '' : ','}\n  ${item.replaceAll('\n', '\n  ')}`;
        } else {
          text += `${e.seq}\t${new Date(e.at).toISOString()}\t${forTerminal(e.actor ? names.get(e.actor) ?? e.actor : '—')}\t${forTerminal(e.action)}\t${forTerminal(e.object ?? '')}\t${forTerminal(e.outcome)}${e.detail ? `\t${forTerminal(e.detail)}` : ''}\n`;
        }
        first = false;
        if (text.length >= 65536) await flush();
      }
      if (values.json) text += first ? ']\n' : '\n]\n';
      await flush(true);
    }
  },

  async 'audit verify'(args) {
    const { values } = parse(args, { anchor: { type: 'string', multiple: true } }, { min: 0, max: 0, name: 'aucun' });
    const ctx = context(values); // opens the profile first, as before: no profile, no anchor read
    // Read every anchor first: a missing file is a usage error (exit 1), before anything is logged.
    const anchors = ((values.anchor as string[] | undefined) ?? []).map((file) => readText(file));
    const { result, firstBad, found } = await checkAudit(ctx, anchors);
    if (firstBad) {
      throw securityError('audit-tampered', `Journal d'audit altéré : ${firstBad.problem}. Première entrée en cause : n° ${firstBad.seq}. Conservez ce poste en l'état et prévenez l'officier SSI.`);
    }
    out(`Journal d'audit intact : ${result.events} entrées, ${plural(result.checkpoints, 'point de contrôle signé', 'points de contrôle signés')}${result.lastCheckpoint ? `, le dernier sur l'entrée n° ${result.lastCheckpoint}` : ''}.`);
    if (found.length > 0) out(`${agree(found.length, 'Ancre retrouvée', 'Ancres retrouvées')} dans le journal : entrée ${found.map((check) => `n° ${check.seq} (${check.name}, ${new Date(check.at).toISOString().slice(0, 10)})`).join(' ; entrée ')}.`);
  },

  async 'audit anchor'(args) {
    const { values } = parse(args, { as: { type: 'string' }, out: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const target = required(values, 'out');
    const result = await writeAuditAnchor(context(values), str(values, 'as'), target);
    err(`Ancre du journal écrite (entrée n° ${result.seq}), signée par ${forTerminal(result.signer)}. Remettez-la à l'officier SSI ou imprimez-la : gardée hors de ce poste, elle permet de vérifier plus tard que le journal n'a été ni coupé ni réécrit (pli audit verify --anchor).`);
    out(target);
  },

  async 'audit export'(args) {
    const { values } = parse(args, { as: { type: 'string' }, out: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const target = required(values, 'out');
    const result = await exportAudit(context(values), str(values, 'as'), target);
    err(`Journal exporté (${result.events} entrées), signé par ${forTerminal(result.signer)}.`);
    out(target);
    out(`${target}.sig`);
  },

  async 'audit verify-export'(args) {
    const { values, positionals } = parse(args, {}, { min: 1, max: 1, name: 'FICHIER.csv' });
    const profile = profileOf(values);
    const result = await verifyAuditExport(profile.db, positionals[0]!);
    out(`Export intact, signé par ${forTerminal(result.name)} (${forTerminal(result.signer)})${result.certified
      ? `, certifié par l'autorité de ce poste${result.at ? ` (certificat valide le ${new Date(result.at).toISOString().slice(0, 10)}, date de l'export)` : ''}`
      : " — non certifié : aucune autorité n'est épinglée sur ce poste (carte auto-signée : vérifiez son empreinte avec la personne)"}.`);
  },
};
