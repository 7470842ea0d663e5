// `pli mailbox|send|outbox|receive|inbox|open`: the functional mailbox and the folder transport
// (docs/mailbox.md). Registered into the command table by pli.ts.
import type { UnlockedIdentity, IdentityRow } from '../core/profile/identities.js';
import { getIdentity, resolveOwn } from '../core/profile/identities.js';
import type { Context } from '../core/context.js';
import { inputError, PliError, temporaryError } from '../core/errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES, formatEndpoint, getMailbox, parseEndpoint, readCaFile, setMailbox } from '../core/mail/settings.js';
import { flushOutbox, listOutbox, queueSend, senderPid, sendWithin, type OutboxRow } from '../core/mail/outbox.js';
import { listInbox, openInbox, receiveFolder, refusedRoom, type IngestResult } from '../core/mail/inbox.js';
import { receiveImap } from '../core/mail/imap.js';
import { probeMailbox } from '../core/mail/probe.js';
import { readSecret } from './secrets.js';
import { context, err, out, parse, profileOf, required, str, type Handler, type Values } from './common.js';
import { isoOrNull } from '../../shared/dates.js';
// pli.ts registers this table: the import cycle is only used at run time, never at load.
import { cleaningOnSignals } from './pli.js';
import { forTerminal } from '../../shared/text.js';
import { inboxLine, refusedRoomLine, sendingWarningLine, statusLine } from './status.js';
import { hintFor } from './hints.js';
import { ObjectReceiver } from '../core/mail/dispatch.js';
import { objectLine, receiptText } from './objects.js';
import { deliveryOf } from '../core/mail/receipts.js';
import type { DB } from '../core/profile/profile.js';
import { agree, frenchSize, plural } from '../../shared/french.js';
import { sentFilesOf } from '../core/mail/sent-files.js';

export const MAIL_USAGE = `Boîte aux lettres fonctionnelle et dossier d'échange (docs/mailbox.md) :
  mailbox set --imap [starttls://]HÔTE:PORT --smtp [starttls://]HÔTE:PORT --user UTILISATEUR [--password-file F] [--ca FICHIER] [--max-size MO] [--as ID]
                                               HÔTE:PORT seul = TLS implicite ; starttls:// = STARTTLS obligatoire
  mailbox [show] | mailbox test [--as ID]      réglages (sans le mot de passe) ; essai des deux serveurs
  send --as ID --to ID|org:NOM ... [--mail ADRESSE ... | --folder DOSSIER] [--no-wait] [--wait SECONDES] FICHIER...
  send --convention ID --period PÉRIODE --doc NOM [--doc NOM ...] [--subject OBJET] [--to ...] (--mail ADRESSE | --folder DOSSIER) FICHIER...
                                               sous une convention : sans --to, aux personnes habilitées des autres parties
  outbox [--as ID] [--json] | outbox flush [--as ID]
                                               avec --as ID, les noms des fichiers envoyés (phrase de passe)
  receive [--watch] [--folder DOSSIER] [--as ID]  avec --folder, --as ID scelle la date d'arrivée (phrase de passe)
  inbox [--json]
  open NUMÉRO [--as ID] --out DOSSIER
Mot de passe de la boîte : --password-file FICHIER, sinon PLI_MAIL_PASSWORD, sinon demande masquée.`;

/** A context whose unlocker asks each person's passphrase once per command (encrypt + mailbox). */
function sessionContext(values: Values): { ctx: Context; done: () => void } {
  const base = context(values);
  const cache = new Map<string, UnlockedIdentity>();
  const ctx: Context = {
    profile: base.profile,
    // The person who gave their passphrase: the actor of the events, and who signs a receipt.
    actor: base.actor,
    unlocker: {
      ...base.unlocker,
      unlock: async (row: IdentityRow) => {
        let unlocked = cache.get(row.id);
        if (!unlocked) {
          unlocked = await base.unlocker.unlock(row);
          cache.set(row.id, unlocked);
        }
        return { ...unlocked, wipe: () => undefined };
      },
    },
  };
  return { ctx, done: () => cache.forEach((u) => u.wipe()) };
}

export async function withSession<T>(values: Values, run: (ctx: Context) => Promise<T>): Promise<T> {
  const session = sessionContext(values);
  try {
    return await run(session.ctx);
  } finally {
    session.done();
  }
}

const STATE_FR: Record<string, string> = { queued: 'en attente', sending: 'en cours', sent: 'envoyé', failed: 'échec' };

function outboxLine(db: DB, row: OutboxRow): string {
  const error = row.last_error ? `  réponse : ${forTerminal(row.last_error)}` : '';
  const attempts = row.transport === 'folder' ? '' : `  ${plural(row.attempts, 'tentative')}`;
  const what = row.object_kind === 'receipt' ? 'accusé' : row.object_kind === 'directory' ? 'annuaire' : 'pli';
  return `${row.id}  ${STATE_FR[row.state] ?? row.state}  ${row.transport === 'folder' ? 'dossier' : 'messagerie'} ${forTerminal(row.destination)}  ${what} ${row.container_id.slice(0, 16)}${attempts}${error}${row.object_kind ? '' : deliveryText(db, row)}`;
}

/** Under a container sent from here, its receipts: "remis le … à …", "ouvert le … par …". */
function deliveryText(db: DB, row: OutboxRow): string {
  return deliveryOf(db, row.container_id).receipts.map((r) => `\n      ${forTerminal(receiptText(db, r))}`).join('');
}

function printItem(ctx: Context, result: IngestResult): void {
  if (result.isNew) out(forTerminal(inboxLine(ctx.profile.db, result.row)));
  else err(`Déjà reçu : pli n° ${result.row.id} (${result.row.container_id?.slice(0, 16) ?? 'illisible'}).`);
  if (result.isNew && result.row.state === 'refused' && result.refusal) err(`  ${forTerminal(result.refusal.message)}`);
}

function parseWait(values: Values): number {
  const text = str(values, 'wait');
  if (text === undefined) return 60_000;
  if (!/^\d+$/.test(text)) throw inputError('usage', '--wait attend un nombre de secondes.');
  return Number(text) * 1000;
}

function parseMaxSize(values: Values): number {
  const text = str(values, 'max-size');
  if (text === undefined) return DEFAULT_MAX_MESSAGE_BYTES;
  const mb = Number(text.replace(',', '.'));
  if (!Number.isFinite(mb) || mb < 0.1 || mb > 2000) throw inputError('bad-size', '--max-size attend une taille de message en Mo (par exemple 25).');
  return Math.round(mb * 1_000_000);
}

export const mailCommands: Record<string, Handler> = {
  async 'mailbox set'(args) {
    const { values } = parse(args, {
      imap: { type: 'string' }, smtp: { type: 'string' }, user: { type: 'string' }, 'password-file': { type: 'string' }, ca: { type: 'string' }, 'max-size': { type: 'string' },
      as: { type: 'string' },
    }, { min: 0, max: 0, name: 'aucun' });
    const settings = {
      imap: parseEndpoint(required(values, 'imap'), 'Serveur IMAP'),
      smtp: parseEndpoint(required(values, 'smtp'), 'Serveur SMTP'),
      user: required(values, 'user'),
      caPem: str(values, 'ca') ? readCaFile(str(values, 'ca')!) : null,
      maxMessageBytes: parseMaxSize(values),
    };
    const password = await readSecret({ file: str(values, 'password-file'), env: 'PLI_MAIL_PASSWORD', prompt: `Mot de passe de la boîte ${forTerminal(settings.user)} : `, what: 'le mot de passe de la boîte' });
    await setMailbox(context(values), settings, password, str(values, 'as'));
    out(`Boîte enregistrée : ${forTerminal(settings.user)}, IMAP ${formatEndpoint(settings.imap)}, SMTP ${formatEndpoint(settings.smtp)}${settings.caPem ? ', autorité de certification interne ajoutée' : ''}. Le mot de passe est chiffré pour les personnes habilitées de ce poste. Essayez : pli mailbox test.`);
  },

  async 'mailbox show'(args) {
    const { values } = parse(args, {}, { min: 0, max: 0, name: 'aucun' });
    const settings = getMailbox(profileOf(values).db);
    if (!settings) return out('Aucune boîte réglée (pli mailbox set).');
    out(`Utilisateur : ${forTerminal(settings.user)}`);
    out(`IMAP : ${formatEndpoint(settings.imap)}`);
    out(`SMTP : ${formatEndpoint(settings.smtp)}`);
    out(`Autorité de certification interne : ${settings.caPem ? 'oui' : 'non'}`);
    out(`Taille maximale d'un message : ${(settings.maxMessageBytes / 1_000_000).toFixed(1)} Mo`);
  },

  async mailbox(args, home) {
    return mailCommands['mailbox show']!(args, home);
  },

  async 'mailbox test'(args) {
    const { values } = parse(args, { as: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const lines = await probeMailbox(context(values), str(values, 'as'));
    // The core's line says what to do in words; the CLI adds the option that does it here.
    for (const line of lines) out(`${line.ok ? 'OK   ' : 'ÉCHEC'} ${forTerminal(`${line.text}${line.error ? hintFor(line.error) : ''}`)}`);
    const failed = lines.filter((l) => !l.ok).map((l) => l.error!);
    if (failed.length > 0) {
      const worst = failed.find((e) => e.kind === 'security') ?? failed.find((e) => e.kind === 'input') ?? failed[0]!;
      throw new PliError(worst.kind, worst.code, `${failed.length === 2 ? 'Aucun des deux serveurs ne fonctionne' : 'Un des deux serveurs ne fonctionne pas'} avec ces réglages (voir ci-dessus).`);
    }
  },

  async send(args) {
    const { values, positionals } = parse(args, {
      as: { type: 'string' }, to: { type: 'string', multiple: true }, mail: { type: 'string', multiple: true }, folder: { type: 'string' },
      'no-wait': { type: 'boolean' }, wait: { type: 'string' }, 'no-self': { type: 'boolean' },
      convention: { type: 'string' }, period: { type: 'string' }, doc: { type: 'string', multiple: true }, subject: { type: 'string' },
    }, { min: 1, max: 10000, name: 'FICHIER...' });
    const mail = (values.mail as string[] | undefined) ?? [];
    const folder = str(values, 'folder');
    if (folder && mail.length) throw inputError('usage', '--mail et --folder s’excluent : choisissez la messagerie ou le dossier.');
    const to = (values.to as string[] | undefined) ?? [];
    const conventionId = str(values, 'convention');
    const docs = (values.doc as string[] | undefined) ?? [];
    if (!conventionId && (str(values, 'period') !== undefined || docs.length > 0 || str(values, 'subject') !== undefined)) {
      throw inputError('usage', '--period, --doc et --subject vont avec --convention ID (voir pli convention list).');
    }
    if (conventionId && !str(values, 'period')) throw inputError('usage', 'Option --period obligatoire avec --convention : la période des états envoyés, par exemple 2026-T4 (voir pli due).');
    if (conventionId && docs.length === 0) throw inputError('usage', 'Option --doc obligatoire avec --convention : le nom de chaque document envoyé, par exemple --doc "IS 101" --doc IST.');
    // Under a convention, --to may be left out: the other parties' habilitated people.
    if (to.length === 0 && !conventionId) throw inputError('usage', 'Option --to obligatoire : à qui envoyer le pli ? (voir pli id list).');
    const convention = conventionId ? { convention: conventionId, period: str(values, 'period')!, documents: docs, ...(str(values, 'subject') !== undefined ? { subject: str(values, 'subject')! } : {}) } : undefined;
    const waitMs = parseWait(values);
    await withSession(values, async (ctx) => {
      const result = await queueSend(ctx, { as: str(values, 'as'), to, files: positionals, mail, folder, self: !values['no-self'], ...(convention ? { convention } : {}) });
      if (result.convention) err(`Convention ${result.convention.id}, période ${result.convention.period} : ${forTerminal(result.convention.documents.join(', '))}.`);
      for (const warning of result.warnings) err(forTerminal(sendingWarningLine(warning)));
      for (const id of result.outboxIds) out(String(id));
      if (folder) {
        err(`Pli ${result.containerId.slice(0, 16)} déposé dans ${folder}.`);
        return;
      }
      err(`Pli ${result.containerId.slice(0, 16)} mis en file d'envoi vers ${forTerminal(result.destinations.join(', '))}.`);
      if (values['no-wait']) return;
      const sent = await sendWithin(ctx, result.outboxIds, waitMs, { as: str(values, 'as') });
      for (const row of sent.sent) err(`Envoyé vers ${forTerminal(row.destination)}.`);
      for (const row of sent.failed) err(`Refusé par le serveur pour ${forTerminal(row.destination)} : ${forTerminal(row.last_error ?? '')}`);
      if (sent.error && sent.error.kind !== 'temporary') throw sent.error;
      if (sent.pending.length > 0) {
        throw temporaryError('not-sent', `Le pli n'a pas pu être envoyé pour le moment (${sent.error?.message ?? 'serveur injoignable'}). Il reste dans la boîte d'envoi et partira avec « pli outbox flush » ou « pli receive --watch ».`);
      }
      if (sent.failed.length > 0) throw inputError('send-failed', `Le serveur a refusé le message (${sent.failed[0]!.last_error}). Voir pli outbox.`);
    });
  },

  async outbox(args) {
    const { values } = parse(args, { json: { type: 'boolean' }, as: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const db = profileOf(values).db;
    // The names of the files sent are sealed under the integrity key (docs/profile.md): only a
    // person who signs in reads them; without --as the list shows their number, as before.
    const as = str(values, 'as');
    if (as) (await context(values).unlocker.unlock(resolveOwn(db, as))).wipe();
    const rows = listOutbox(db);
    // delivery: what the partner's signed receipts say (sent, delivered, opened); null for an object.
    // files: the names and sizes sent ({ state: 'known', files }), or why they are not shown.
    if (values.json) return out(JSON.stringify(rows.map((r) => ({ ...r, path: undefined, filing_mac: undefined, files_sealed: undefined, time_mac: undefined, files: sentFilesOf(db, r), delivery: r.object_kind ? null : deliveryOf(db, r.container_id).state })), null, 2));
    if (rows.length === 0) return out("Boîte d'envoi vide.");
    const shown = new Set<string>();
    let locked = false;
    for (const row of rows) {
      out(outboxLine(db, row));
      // Under the first row of each container: its files (one line), whatever its destinations.
      if (row.object_kind || shown.has(row.container_id)) continue;
      shown.add(row.container_id);
      const names = sentFilesOf(db, row);
      if (names.state === 'known') out(`      ${agree(names.files.length, 'fichier', 'fichiers')} : ${names.files.map((f) => `${forTerminal(f.name)} (${frenchSize(f.size)})`).join(', ')}`);
      else if (names.state === 'unreadable') out("      fichiers : noms illisibles, modifiés en dehors de Pli (prévenez l'officier SSI)");
      else if (names.state === 'locked') locked = true;
    }
    if (locked) err('Noms des fichiers envoyés non affichés : ils sont chiffrés pour les personnes de ce poste. Ajoutez --as ID (phrase de passe) pour les voir.');
  },

  async 'outbox flush'(args) {
    const { values } = parse(args, { as: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const result = await flushOutbox(context(values), { as: str(values, 'as'), force: true });
    for (const row of result.sent) out(`${row.id}  envoyé  ${forTerminal(row.destination)}`);
    for (const row of result.failed) out(`${row.id}  échec  ${forTerminal(row.destination)}  réponse : ${forTerminal(row.last_error ?? '')}`);
    if (result.error) {
      if (result.error.kind !== 'temporary') throw result.error;
      throw temporaryError(result.error.code, `${plural(result.pending.length, 'pli')} ${agree(result.pending.length, 'reste', 'restent')} en attente : ${result.error.message}`);
    }
    if (result.busy.length > 0) {
      // Not a silent success: these rows were left to the process sending them.
      const pids = [...new Set(result.busy.map(senderPid).filter((p) => p !== null))];
      throw temporaryError('outbox-busy', `${plural(result.busy.length, 'pli')} (n° ${result.busy.map((r) => r.id).join(', ')}) ${agree(result.busy.length, 'est', 'sont')} en cours d'envoi par un autre programme Pli de ce poste${pids.length ? ` (processus ${pids.join(', ')})` : ''} : ${agree(result.busy.length, "il n'a pas été repris", "ils n'ont pas été repris")}. Attendez la fin de cet envoi, puis vérifiez avec « pli outbox » ; relancez « pli outbox flush » ${agree(result.busy.length, "s'il reste", "s'ils restent")} « en cours ».`);
    }
    if (result.sent.length + result.failed.length === 0) err("Rien à envoyer : la boîte d'envoi ne contient aucun pli en attente.");
  },

  async receive(args) {
    const { values } = parse(args, { watch: { type: 'boolean' }, folder: { type: 'string' }, as: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const folder = str(values, 'folder');
    if (folder) {
      const ctx = context(values);
      const as = str(values, 'as');
      if (as) {
        // The sign-in attaches the integrity key: the rows are sealed, and their arrival time
        // decides a later revocation. Without it they are judged at opening (docs/profile.md).
        (await ctx.unlocker.unlock(resolveOwn(ctx.profile.db, as))).wipe();
      }
      // Objects (receipts, directory) are read, and receipts signed, by --as (else the only person of this workstation).
      await withSession(values, async (session) => {
        const objects = new ObjectReceiver(session, { as, replyFolder: folder });
        try {
          const results = await cleaningOnSignals('enregistrement du pli en cours', () => receiveFolder(session, folder, (result) => printItem(session, result), objects, (o) => err(forTerminal(objectLine(session.profile.db, o))),
            (_name, reason) => err(`attention : ${forTerminal(reason)}`)));
          const fresh = results.filter((r) => r.isNew);
          err(`${plural(fresh.length, 'nouveau pli', 'nouveaux plis')} dans ${folder}${fresh.some((r) => r.row.state === 'refused') ? ', dont des refusés' : ''}.`);
        } finally {
          objects.release();
        }
      });
      return;
    }
    // Not the session cache in watch mode: the person's keys must not stay in memory for hours;
    // only the mailbox password is kept, unlocked once (the objects' reader is wiped each round).
    const session = values.watch ? null : sessionContext(values);
    const ctx = session?.ctx ?? context(values);
    const objects = new ObjectReceiver(ctx, { as: str(values, 'as') });
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    if (values.watch) {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      err('Réception en continu (Ctrl+C pour arrêter).');
    }
    try {
      const receiving = () => receiveImap(ctx, {
        as: str(values, 'as'), watch: Boolean(values.watch), signal: controller.signal,
        // A one-shot receive writes nothing else meanwhile: each batch in one transaction (issue 13).
        batchWrites: !values.watch,
        onItem: (result) => printItem(ctx, result),
        objects, onObject: (o) => err(forTerminal(objectLine(ctx.profile.db, o))),
        onStatus: (status) => err(forTerminal(statusLine(status))),
      });
      // --watch stops on its own at a signal (after the message in hand); a single receive is
      // ended at once, its temporary file removed.
      const results = values.watch ? await receiving() : await cleaningOnSignals('enregistrement du pli en cours', receiving);
      if (!values.watch) {
        const fresh = results.filter((r) => r.isNew);
        err(`${plural(fresh.length, 'nouveau pli', 'nouveaux plis')}${fresh.some((r) => r.row.state === 'refused') ? ', dont des refusés (déplacés dans Pli/Refusés)' : ''}.`);
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      objects.release();
      session?.done();
    }
  },

  async inbox(args) {
    const { values } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 0, name: 'aucun' });
    const db = profileOf(values).db;
    const rows = listInbox(db);
    if (values.json) {
      return out(JSON.stringify(rows.map((r) => ({
        id: r.id, containerId: r.container_id, state: r.state, reason: r.reason, flags: r.flags ? r.flags.split(',') : [],
        senderId: r.sender_id, senderName: r.sender_id ? getIdentity(db, r.sender_id)?.name ?? null : null,
        // The row is the profile attacker's to edit (and rows stored before the header's date was
        // bounded may hold 9e15): a number that is no date shows as null, never throws.
        createdAt: isoOrNull(r.created_ms), arrivedAt: isoOrNull(r.arrived_at),
        openedAt: isoOrNull(r.opened_at), source: r.source, sha256: r.sha256, size: r.size,
      })), null, 2));
    }
    if (rows.length === 0) return out('Boîte de réception vide.');
    for (const row of rows) out(`${forTerminal(inboxLine(db, row))}  arrivé le ${isoOrNull(row.arrived_at)?.slice(0, 16).replace('T', ' ') ?? 'date illisible'}`);
    // On stderr with the other summaries: stdout keeps one line per entry.
    err(forTerminal(refusedRoomLine(refusedRoom(db))));
  },

  async open(args) {
    const { values, positionals } = parse(args, { as: { type: 'string' }, out: { type: 'string' } }, { min: 1, max: 1, name: 'NUMÉRO' });
    const id = positionals[0]!;
    if (!/^\d+$/.test(id)) throw inputError('usage', `« ${id} » n'est pas un numéro de la boîte de réception (voir pli inbox).`);
    const outDir = required(values, 'out');
    // One passphrase for the opening and its "ouvert" receipt, when a convention asks for one.
    const result = await withSession(values, (ctx) => cleaningOnSignals('déchiffrement', () => openInbox(ctx, Number(id), outDir, str(values, 'as'))));
    err(`Pli de ${forTerminal(result.senderName)} (${forTerminal(result.senderId)}) : signature vérifiée, ${plural(result.files.length, 'fichier')}.`);
    err(result.convention
      ? forTerminal(`Classé sous la convention ${result.convention.id}, période ${result.convention.period} : ${result.convention.documents.join(', ')}${result.convention.subject ? ` (objet : ${result.convention.subject})` : ''}.`)
      : 'Classé sans convention.');
    for (const file of result.files) out(forTerminal(file.path));
  },
};
