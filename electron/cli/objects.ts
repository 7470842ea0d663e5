// `pli receipts`, `pli authority publish`, `pli directory status`: Pli objects (docs/objects.md).
// Registered into the command table by pli.ts, loaded like the mail commands (only when run).
import type { Context } from '../core/context.js';
import { inputError, temporaryError } from '../core/errors.js';
import { getIdentity } from '../core/profile/identities.js';
import type { DB } from '../core/profile/profile.js';
import { listReceipts, partnerAnchors, type ReceiptRow } from '../core/mail/receipts.js';
import { directoryStatus, publishDirectory } from '../core/mail/publish.js';
import { directoryContact } from '../core/authority/directory.js';
import type { ObjectResult } from '../core/mail/dispatch.js';
import { sendWithin } from '../core/mail/outbox.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { refuseExistingFile, writeNewFile } from '../core/pdf/new-file.js';
import { context, err, out, parse, profileOf, required, str, type Handler } from './common.js';
import { withSession } from './mail.js';
import { forTerminal } from '../../shared/text.js';
import { isoOrNull } from '../../shared/dates.js';
import { agree, plural } from '../../shared/french.js';

export const OBJECTS_USAGE = `Accusés de réception et annuaire diffusé (docs/objects.md) :
  receipts [--json] [--all]                    accusés reçus : « remis le … à … », « ouvert le … par … » ; --all : aussi ceux mis de côté
  receipts anchors --from ORGANISATION|ID --out DOSSIER
                                               écrit les ancres de journal signées du partenaire, gardées de ses accusés,
                                               à remettre à son poste pour pli audit verify --anchor FICHIER
  authority publish [--mail | --folder DOSSIER] [--no-wait]   (officier) signe et diffuse l'annuaire à chaque organisation certifiée
  directory status [--json]                    annuaire en vigueur : numéro, émetteur, arrivée, prochaine mise à jour, accusés`;

/** "2026-12-03 à 13:05" (UTC) from ms; "date illisible" for a value that is no date (a row is outside text). */
export function when(ms: number | null | undefined): string {
  const iso = isoOrNull(ms ?? null);
  return iso ? `${iso.slice(0, 10)} à ${iso.slice(11, 16)} (UTC)` : 'date illisible';
}

/** A receipt in the users' words: "remis le … à … à NOM (ORG)", "ouvert le … à … par NOM (ORG)", "annuaire n° … appliqué le …". */
export function receiptText(db: DB, row: ReceiptRow): string {
  const who = getIdentity(db, row.signer_id);
  const signer = `${who?.name ?? row.signer_id} (${row.org})`;
  const [date, time] = when(row.at).split(' à ');
  const aside = row.state === 'set-aside' ? ' [mis de côté : ne correspond à aucun envoi de ce poste]' : '';
  switch (row.type) {
    case 'delivered': {
      const verdict = row.verdict === 'refused' ? `, refusé à la réception (${row.reason ?? 'motif inconnu'})` : ', signature vérifiée';
      const bytes = row.same_bytes === 0 ? ' ; ATTENTION : le pli reçu diffère de celui envoyé' : '';
      return `remis le ${date} à ${time} à ${signer}${verdict}${bytes}${aside}`;
    }
    case 'opened': {
      let by = signer;
      try {
        const opened = JSON.parse(row.opened_by ?? 'null') as { name?: string } | null;
        if (opened?.name) by = `${opened.name} (${row.org})`;
      } catch {
        // the stored text is checked at reception; a row changed since shows the signer
      }
      return `ouvert le ${date} à ${time} par ${by}${aside}`;
    }
    default:
      return `annuaire n° ${row.serial ?? '?'} appliqué le ${date} à ${time} par le poste de ${signer}${aside}`;
  }
}

/** One line of `pli receipts`. */
export function receiptLine(db: DB, row: ReceiptRow): string {
  return row.type === 'directory-applied' ? receiptText(db, row) : `pli ${(row.container_id ?? '').slice(0, 16)}  ${receiptText(db, row)}`;
}

/** What `receive` says of an object (stderr). */
export function objectLine(db: DB, result: ObjectResult): string {
  switch (result.result) {
    case 'stored':
    case 'set-aside':
    case 'duplicate': {
      const rows = listReceipts(db, { includeSetAside: true }).filter((r) => r.container_id === result.receipt?.container && r.signer_id === result.receipt?.signer && r.at === result.receipt?.at);
      // A batched receipt (docs/objects.md 3.1) names several containers: the first, and how many more.
      const more = (result.receipt?.count ?? 1) - 1;
      const line = `${rows[0] ? receiptLine(db, rows[0]) : 'accusé de réception'}${more > 0 ? ` (et ${more} autre${more > 1 ? 's' : ''} pli${more > 1 ? 's' : ''} du même accusé)` : ''}`;
      if (result.result === 'duplicate') return `Accusé déjà reçu : ${line}`;
      if (result.result === 'set-aside') return `Accusé de réception mis de côté (il ne correspond à aucun pli envoyé depuis ce poste) : ${line}`;
      return `Accusé de réception : ${line}`;
    }
    case 'applied':
      return `Annuaire n° ${result.serial} reçu et appliqué${result.acknowledged ? ' ; accusé envoyé à l’officier SSI' : ''}.`;
    case 'ignored':
      return `Annuaire n° ${result.serial ?? '?'} ignoré : ce poste a déjà l'annuaire n° ${result.current} (pas plus récent).`;
    case 'refused':
      return `${result.kind === 'directory' ? 'Annuaire' : result.kind === 'receipt' ? 'Accusé de réception' : 'Objet Pli'} refusé (${result.code}) : ${result.message ?? ''}`;
    case 'skipped':
      return `${result.name} : objet Pli destiné à une autre organisation, laissé tel quel.`;
  }
}

async function publish(args: string[]): Promise<void> {
  const { values } = parse(args, { mail: { type: 'boolean' }, folder: { type: 'string' }, 'no-wait': { type: 'boolean' } }, { min: 0, max: 0, name: 'aucun' });
  const folder = str(values, 'folder');
  if (folder && values.mail) throw inputError('usage', '--mail et --folder s’excluent : choisissez la messagerie ou le dossier.');
  await withSession(values, async (ctx: Context) => {
    const result = await publishDirectory(ctx, folder ? { folder } : 'mail');
    for (const o of result.orgs) err(`${forTerminal(o.org)} : ${plural(o.people, 'personne certifiée', 'personnes certifiées')} → ${forTerminal(o.destinations.join(', '))}`);
    out(String(result.serial));
    if (folder) {
      err(`Annuaire n° ${result.serial} déposé dans ${folder} pour ${plural(result.orgs.length, 'organisation')}.`);
      return;
    }
    err(`Annuaire n° ${result.serial} mis en file d'envoi pour ${plural(result.orgs.length, 'organisation')}.`);
    if (values['no-wait'] || result.outboxIds.length === 0) return;
    const sent = await sendWithin(ctx, result.outboxIds, 60_000);
    for (const row of sent.sent) err(`Envoyé vers ${forTerminal(row.destination)}.`);
    if (sent.error && sent.error.kind !== 'temporary') throw sent.error;
    if (sent.pending.length > 0) throw temporaryError('not-sent', `L'annuaire n'a pas pu être envoyé à toutes les organisations pour le moment (${sent.error?.message ?? 'serveur injoignable'}). Il reste dans la boîte d'envoi et partira avec « pli outbox flush » ou « pli receive --watch ».`);
  });
}

const day = (ms: number | undefined): string => (ms === undefined ? '?' : new Date(ms).toISOString().slice(0, 10));

async function status(args: string[]): Promise<void> {
  const { values } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 0, name: 'aucun' });
  const db = profileOf(values).db;
  const s = directoryStatus(db);
  // The officer's contact as the pinned authority signed it (d1-officer; docs/authority.md 5.2).
  const contact = await directoryContact(db);
  if (values.json) return out(JSON.stringify({ ...s, contact }, null, 2));
  if (!s.pinned) return out("Aucun annuaire sur ce poste : importez celui de l'officier SSI avec l'empreinte qu'il vous dicte (pli directory import --pin).");
  out(`Annuaire n° ${s.serial} de ${forTerminal(s.authority ?? '')}, émis le ${day(s.issued)}.`);
  const a = s.arrival!;
  out(a.via === 'import'
    ? `Importé le ${when(a.at)} depuis un fichier.`
    : `Reçu le ${when(a.at)} par ${a.via === 'imap' ? 'la boîte aux lettres fonctionnelle' : 'le dossier d’échange'}, envoyé par ${forTerminal(a.issuerName ?? a.issuer ?? '?')}.`);
  const officers = contact.state === 'valid' ? `${contact.name} au ${contact.phone} (${contact.mail})`
    : (s.officers ?? []).map((o) => `${o.name} (${o.email})`).join(', ') || "l'officier SSI de votre autorité";
  if (contact.state === 'unverified') out("Les coordonnées de l'officier SSI enregistrées sur ce poste ont été modifiées en dehors de Pli : ne les utilisez pas ; prévenez l'officier SSI par le numéro que vous connaissez.");
  if (s.state === 'fresh') out(`Prochaine mise à jour prévue le ${day(s.nextUpdate)}.`);
  if (s.state === 'soon') out(`Prochaine mise à jour prévue le ${day(s.nextUpdate)}, dans moins de 7 jours${s.organisations ? ' : publiez le nouvel annuaire (pli authority publish)' : ''}.`);
  if (s.state === 'stale') out(`L'annuaire devait être mis à jour le ${day(s.nextUpdate)} : les envois seront refusés à partir du ${day(s.refuseAfter)}. Appelez ${forTerminal(officers)} pour obtenir le nouvel annuaire.`);
  if (s.state === 'expired') out(`L'annuaire devait être mis à jour le ${day(s.nextUpdate)} : les envois sont refusés depuis le ${day(s.refuseAfter)}. Appelez ${forTerminal(officers)} pour obtenir le nouvel annuaire.`);
  if (s.organisations) {
    if (s.organisations.length === 0) out('Aucune publication depuis ce poste (pli authority publish).');
    for (const o of s.organisations) {
      const ack = o.acknowledged === null ? 'aucun accusé' : `dernier accusé : n° ${o.acknowledged} le ${when(o.acknowledgedAt)}`;
      out(`${forTerminal(o.org)} : publié n° ${o.published} le ${when(o.publishedAt)} ; ${ack}${o.acknowledged !== null && o.acknowledged < o.published ? ' (pas à jour)' : ''}`);
      for (const w of o.workstations) out(`  ${forTerminal(w.name ?? w.signer)} : n° ${w.serial} le ${when(w.at)}`);
    }
  }
}

async function receipts(args: string[]): Promise<void> {
  const { values } = parse(args, { json: { type: 'boolean' }, all: { type: 'boolean' } }, { min: 0, max: 0, name: 'aucun' });
  const db = context(values).profile.db;
  const rows = listReceipts(db, { includeSetAside: Boolean(values.all) });
  if (values.json) {
    return out(JSON.stringify(rows.map((r) => ({
      type: r.type, state: r.state, container: r.container_id, serial: r.serial, signer: r.signer_id, signerName: getIdentity(db, r.signer_id)?.name ?? null, org: r.org,
      at: isoOrNull(r.at), receivedAt: isoOrNull(r.received_at), verdict: r.verdict, reason: r.reason,
      openedBy: (() => { try { return JSON.parse(r.opened_by ?? 'null') as unknown; } catch { return null; } })(),
      sameBytes: r.same_bytes === null ? null : r.same_bytes === 1, anchor: r.anchor_seq === null ? null : { seq: r.anchor_seq, hash: r.anchor_hash },
    })), null, 2));
  }
  if (rows.length === 0) return out('Aucun accusé de réception.');
  for (const row of rows) out(forTerminal(receiptLine(db, row)));
}

/** `pli receipts anchors`: one file per anchor, new files only (all names checked before the first is written). */
async function anchors(args: string[]): Promise<void> {
  const { values } = parse(args, { from: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0, name: 'aucun' });
  const from = required(values, 'from');
  const dir = required(values, 'out');
  const db = context(values).profile.db;
  const found = await partnerAnchors(db, from);
  if (found.rejected > 0) err(`${plural(found.rejected, 'ancre mise', 'ancres mises')} de côté : leur signature ou leur certificat ne se vérifie plus (profil modifié ?). Prévenez l'officier SSI.`);
  if (found.anchors.length === 0) {
    throw inputError('no-anchors', `Aucune ancre de journal gardée pour ${forTerminal(from)} : elles arrivent avec les accusés de réception de ce partenaire. Donnez le nom de son organisation tel qu'il figure dans l'annuaire, ou l'identifiant de la personne.`, { from });
  }
  mkdirSync(dir, { recursive: true });
  const files = found.anchors.map((a) => ({ a, file: path.join(dir, `ancre-${a.signer}-${a.seq}.json`) }));
  for (const { file } of files) refuseExistingFile(file);
  for (const { a, file } of files) writeNewFile(file, a.text);
  if (values.json) return out(JSON.stringify(files.map(({ a, file }) => ({ file, signer: a.signer, org: a.org, seq: a.seq, hash: a.hash, at: isoOrNull(a.at) })), null, 2));
  for (const { a, file } of files) {
    err(`${forTerminal(a.org)} : entrée n° ${a.seq} du journal de ${forTerminal(getIdentity(db, a.signer)?.name ?? a.signer)}, signée le ${when(a.at)}`);
    out(file);
  }
  err(`${plural(files.length, 'ancre écrite', 'ancres écrites')}. À remettre au poste du partenaire : ${agree(files.length, 'elle y prouve', 'elles y prouvent')} que son journal les contient toujours (pli audit verify --anchor FICHIER).`);
}

export const objectCommands: Record<string, Handler> = {
  receipts,
  'receipts anchors': anchors,
  'authority publish': publish,
  'directory status': status,
};
