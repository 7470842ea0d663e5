// `pli convention new|edit|list|show|terminate` and `pli due` (issue 14 section 2, docs/convention.md).
// Registered into the command table by pli.ts.
import { inputError } from '../core/errors.js';
import { resolveOwn } from '../core/profile/identities.js';
import { hasHolder } from '../core/profile/integrity.js';
import {
  createConvention, dueAt, editConvention, findConvention, lastDayOf, listConventions, terminateConvention, today,
  type ConventionBody, type DueItem, type NewConvention,
} from '../core/authority/convention.js';
import { runRetention, type ManualItem } from '../core/authority/convention-retention.js';
import { verifyRetentionCertificate, writeRetentionCertificate } from '../core/authority/retention-certificate.js';
import { ROLE_LABEL } from '../core/authority/certificates.js';
import { context, out, err, parse, profileOf, required, str, type Handler, type Values } from './common.js';
import { forTerminal } from '../../shared/text.js';
import { writeConventionAnnex } from '../core/services/annex.js';
import { refuseExistingFile } from '../core/pdf/new-file.js';
import { agree, plural } from '../../shared/french.js';

export const CONVENTION_USAGE = `Conventions (docs/convention.md) :
  convention new --title TEXTE --party ORGANISATION=ADRESSE --party ORGANISATION=ADRESSE [--person ID=FONCTION ...]
      --types .doc,.xls,.csv,.pdf --schedule quarterly:8|monthly:J|half-yearly:J --expect NOM [--expect NOM ...]
      --start AAAA-MM-JJ --years N [--renew-max N] [--retention-days 15] [--open-receipts]
                                               officier SSI ; l'identifiant est sur la dernière ligne ; part avec le prochain annuaire
  convention edit ID [--title TEXTE] [--party ORGANISATION=ADRESSE ...] [--person ID=FONCTION ...] [--types ...] [--schedule ...]
      [--expect NOM ...] [--start AAAA-MM-JJ] [--years N] [--renew-max N | --no-renew-max] [--retention-days N] [--open-receipts | --no-open-receipts]
                                               officier SSI ; signe la version suivante : ce qui n'est pas donné est gardé,
                                               une liste donnée (--party, --person, --expect) remplace la liste ; --no-renew-max retire
                                               la reconduction tacite ; le numéro de version sur la dernière ligne
  convention list [--json] | convention show ID [--json]
  convention terminate ID --date AAAA-MM-JJ --reason MOTIF      officier SSI
  convention annex ID --out FICHIER.pdf [--as ID]  la liste nominative des personnes habilitées, à annexer à la convention papier
  due [--json] [--at AAAA-MM-JJ] [--as ID]     ce qui est attendu, par convention et période : à venir, à envoyer aujourd'hui, en retard, envoyé, remis
  retention run [--at AAAA-MM-JJ] [--as ID] [--json]
                                               détruit les plis et fichiers des conventions finies depuis leur durée de conservation
  retention certificate --convention ID --out FICHIER.pdf [--as ID]
                                               le procès-verbal signé de la destruction (PDF), et sa signature FICHIER.pdf.sig
  retention verify FICHIER.pdf                 vérifie le procès-verbal avec FICHIER.pdf.sig : qui l'a signé, quand, s'il est intact`;

/** Reading the conventions is a decision on trust state: with a holder of the integrity key on
 * this profile, a person signs in first so that the seal over them is checked (docs/convention.md 4). */
async function signInToRead(values: Values): Promise<void> {
  const profile = profileOf(values);
  if (!hasHolder(profile.db)) return;
  (await context(values).unlocker.unlock(resolveOwn(profile.db, str(values, 'as')))).wipe();
}

function count(values: Values, key: string, what: string): number | undefined {
  const value = str(values, key);
  if (value === undefined) return undefined;
  if (!/^\d{1,4}$/.test(value)) throw inputError('usage', `--${key} attend ${what} (un nombre entier).`);
  return Number(value);
}

function pairs(values: Values, key: string, form: string): { left: string; right: string }[] {
  return ((values[key] as string[] | undefined) ?? []).map((item) => {
    const at = item.indexOf('=');
    if (at <= 0 || at === item.length - 1) throw inputError('usage', `--${key} attend ${form}, par exemple --${key} "${key === 'party' ? "CPN d'Arras=cpn-arras@interieur.gouv.fr" : 'k7m3q9x2hv4tp8wz=Directrice générale des services'}".`);
    return { left: item.slice(0, at), right: item.slice(at + 1) };
  });
}

const frDate = (day: string): string => `${day.slice(8, 10)}/${day.slice(5, 7)}/${day.slice(0, 4)}`;
const SCHEDULE_FR = {
  quarterly: (d: number) => `le ${d} de chaque trimestre (janvier, avril, juillet, octobre)`,
  'half-yearly': (d: number) => `le ${d} de chaque semestre (janvier, juillet)`,
  monthly: (d: number) => `le ${d} de chaque mois`,
};
const statusFr = (b: ConventionBody): string => (b.status.state === 'terminated' ? `résiliée le ${b.status.date} (${b.status.reason})` : 'en vigueur');
const STATE_FR: Record<DueItem['state'], string> = {
  upcoming: 'à venir', due: "à envoyer aujourd'hui", late: 'en retard', sent: 'envoyé', delivered: 'remis', opened: 'ouvert',
};

function periodFr(period: string): string {
  const [year, part] = period.split('-') as [string, string];
  if (part.startsWith('T')) return `${part.slice(1) === '1' ? '1er' : `${part.slice(1)}e`} trimestre ${year}`;
  if (part.startsWith('S')) return `${part.slice(1) === '1' ? '1er' : '2e'} semestre ${year}`;
  return `${part}/${year}`;
}

/** The JSON form of a convention: its signed fields, plus its last day. */
const asJson = (b: ConventionBody) => ({ ...b, issued: new Date(b.issued).toISOString(), lastDay: lastDayOf(b) });

function showText(b: ConventionBody): void {
  const t = forTerminal;
  out(`Convention : ${t(b.title)}`);
  out(`Identifiant : ${b.id} (version ${b.version}, signée par l'autorité le ${new Date(b.issued).toISOString().slice(0, 10)})`);
  out(`État : ${t(statusFr(b))}`);
  out(`Du ${b.start}, pour ${b.years} an${b.years > 1 ? 's' : ''}${b.renewMax !== null && b.renewMax > b.years ? `, reconduction tacite jusqu'à ${b.renewMax} ans` : ''} ; dernier jour : ${lastDayOf(b)}`);
  out('Parties :');
  for (const p of b.parties) out(`  ${t(p.org)} — boîte fonctionnelle ${t(p.address)}`);
  out('Personnes habilitées :');
  for (const p of b.parties) {
    const people = b.people.filter((x) => x.org === p.org);
    out(`  ${t(p.org)} :${people.length === 0 ? ' aucune personne habilitée' : ''}`);
    for (const x of people) out(`    ${t(x.name)} — ${t(x.function)} (${ROLE_LABEL[x.role]}) — ${x.id}`);
  }
  out(`Formats autorisés : ${b.types.join(', ')}`);
  out(`Calendrier : ${SCHEDULE_FR[b.schedule.every](b.schedule.day)} : ${b.expect.map(t).join(', ')}`);
  out(`Conservation après la fin : ${plural(b.retentionDays, 'jour')} ; accusés d'ouverture : ${b.openReceipts ? 'oui' : 'non'}`);
}

export const conventionCommands: Record<string, Handler> = {
  async 'convention new'(args) {
    const { values } = parse(args, {
      title: { type: 'string' }, party: { type: 'string', multiple: true }, person: { type: 'string', multiple: true },
      types: { type: 'string' }, schedule: { type: 'string' }, expect: { type: 'string', multiple: true }, start: { type: 'string' },
      years: { type: 'string' }, 'renew-max': { type: 'string' }, 'retention-days': { type: 'string' }, 'open-receipts': { type: 'boolean' },
    }, { min: 0, max: 0, name: 'aucun' });
    const input = {
      title: required(values, 'title'),
      parties: pairs(values, 'party', 'ORGANISATION=ADRESSE').map((p) => ({ org: p.left, address: p.right })),
      people: pairs(values, 'person', 'ID=FONCTION').map((p) => ({ id: p.left, function: p.right })),
      types: required(values, 'types'),
      schedule: required(values, 'schedule'),
      expect: (values.expect as string[] | undefined) ?? [],
      start: required(values, 'start'),
      years: count(values, 'years', 'une durée en années') ?? Number(required(values, 'years')),
      renewMax: count(values, 'renew-max', 'une durée totale en années'),
      retentionDays: count(values, 'retention-days', 'un nombre de jours'),
      openReceipts: Boolean(values['open-receipts']),
    };
    const created = await createConvention(context(values), input);
    err(`Convention signée : ${forTerminal(created.body.title)}. Elle partira avec le prochain annuaire : pli directory export, puis importation sur chaque poste.`);
    out(created.body.id);
  },

  async 'convention edit'(args) {
    const options = {
      title: { type: 'string' }, party: { type: 'string', multiple: true }, person: { type: 'string', multiple: true },
      types: { type: 'string' }, schedule: { type: 'string' }, expect: { type: 'string', multiple: true }, start: { type: 'string' },
      years: { type: 'string' }, 'renew-max': { type: 'string' }, 'retention-days': { type: 'string' }, 'open-receipts': { type: 'boolean' },
      'no-open-receipts': { type: 'boolean' }, 'no-renew-max': { type: 'boolean' },
    } as const;
    const { values, positionals } = parse(args, options, { min: 1, max: 1, name: 'ID' });
    if (values['open-receipts'] && values['no-open-receipts']) throw inputError('usage', "--open-receipts ou --no-open-receipts : l'un ou l'autre (voir pli --help).");
    if (values['renew-max'] !== undefined && values['no-renew-max']) throw inputError('usage', "--renew-max ou --no-renew-max : l'un ou l'autre (voir pli --help).");
    if (Object.keys(options).every((key) => values[key] === undefined)) throw inputError('usage', 'Rien à modifier : donnez au moins une option à changer, par exemple --title TEXTE (voir pli --help).');
    // Checked here, before any sign-in: a malformed option is a usage error whoever types it.
    const parties = values.party === undefined ? undefined : pairs(values, 'party', 'ORGANISATION=ADRESSE').map((p) => ({ org: p.left, address: p.right }));
    const people = values.person === undefined ? undefined : pairs(values, 'person', 'ID=FONCTION').map((p) => ({ id: p.left, function: p.right }));
    const years = count(values, 'years', 'une durée en années');
    const renewMax = count(values, 'renew-max', 'une durée totale en années');
    const retentionDays = count(values, 'retention-days', 'un nombre de jours');
    const openReceipts = values['open-receipts'] ? true : values['no-open-receipts'] ? false : undefined;
    // The core reads the current version after the officer signed in (under the trust seal) and
    // hands its fields here: each option given replaces its field, the rest is kept. The core then
    // checks the whole as at creation, with the interface's words.
    const change = (current: NewConvention): NewConvention => ({
      title: str(values, 'title') ?? current.title,
      parties: parties ?? current.parties,
      people: people ?? current.people,
      types: str(values, 'types') ?? current.types,
      schedule: str(values, 'schedule') ?? current.schedule,
      expect: (values.expect as string[] | undefined) ?? current.expect,
      start: str(values, 'start') ?? current.start,
      years: years ?? current.years,
      // Without a total (undefined), the core signs renewMax null: no tacit renewal.
      renewMax: values['no-renew-max'] ? undefined : renewMax ?? current.renewMax,
      retentionDays: retentionDays ?? current.retentionDays,
      openReceipts: openReceipts ?? current.openReceipts,
    });
    const edited = await editConvention(context(values), positionals[0]!, change);
    err(`Convention modifiée et signée : ${forTerminal(edited.body.title)}, version ${edited.body.version}. Elle partira avec le prochain annuaire : pli directory export, puis importation sur chaque poste.`);
    out(String(edited.body.version));
  },

  async 'convention list'(args) {
    const { values } = parse(args, { json: { type: 'boolean' }, as: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    await signInToRead(values);
    const all = await listConventions(profileOf(values).db);
    if (values.json) return out(JSON.stringify(all.map(asJson), null, 2));
    if (all.length === 0) return out("Aucune convention sur ce poste. Elles arrivent avec l'annuaire de l'officier SSI (pli directory import).");
    for (const b of all) out(`${b.id}  ${forTerminal(b.title)}  ${forTerminal(statusFr(b))}  ${SCHEDULE_FR[b.schedule.every](b.schedule.day)}`);
  },

  async 'convention show'(args) {
    const { values, positionals } = parse(args, { json: { type: 'boolean' }, as: { type: 'string' } }, { min: 1, max: 1, name: 'ID' });
    await signInToRead(values);
    const { body } = await findConvention(profileOf(values).db, positionals[0]!);
    if (values.json) return out(JSON.stringify(asJson(body), null, 2));
    showText(body);
  },

  async 'convention annex'(args) {
    const { values, positionals } = parse(args, { out: { type: 'string' }, as: { type: 'string' } }, { min: 1, max: 1, name: 'ID' });
    const target = required(values, 'out');
    refuseExistingFile(target); // before the sign-in: an existing file is refused with nothing asked nor done
    await signInToRead(values);
    const annex = await writeConventionAnnex(context(values), positionals[0]!, target);
    const people = annex.parties.reduce((n, p) => n + p.people.length, 0);
    err(`Liste nominative écrite : ${plural(people, 'personne habilitée', 'personnes habilitées')}, ${annex.parties.length} parties, convention version ${annex.convention.version}.`);
    out(target);
  },

  async 'convention terminate'(args) {
    const { values, positionals } = parse(args, { date: { type: 'string' }, reason: { type: 'string' } }, { min: 1, max: 1, name: 'ID' });
    const done = await terminateConvention(context(values), positionals[0]!, required(values, 'date'), required(values, 'reason'));
    const status = done.body.status;
    err(`Convention ${done.body.id} résiliée${status.state === 'terminated' ? ` le ${status.date}` : ''}. Diffusez l'annuaire (pli directory export) pour que chaque poste l'apprenne.`);
    out(done.body.id);
  },

  async due(args) {
    const { values } = parse(args, { json: { type: 'boolean' }, at: { type: 'string' }, as: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const at = str(values, 'at') ?? today();
    await signInToRead(values);
    const items = await dueAt(profileOf(values).db, at);
    if (values.json) return out(JSON.stringify(items, null, 2));
    if (items.length === 0) return out(`Rien d'attendu au ${frDate(at)} : aucune période commencée dans les conventions de ce poste.`);
    out(`Échéances au ${frDate(at)} :`);
    let current = '';
    for (const item of items) {
      if (item.convention !== current) {
        current = item.convention;
        out(`${forTerminal(item.title)} (${item.convention})`);
      }
      out(`  ${item.period} (${periodFr(item.period)})  ${forTerminal(item.document)}  échéance le ${frDate(item.due)} : ${STATE_FR[item.state]}${item.container ? `  (pli ${item.container.slice(0, 16)})` : ''}`);
    }
  },

  async 'retention run'(args) {
    const { values } = parse(args, { at: { type: 'string' }, as: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0, name: 'aucun' });
    const results = await runRetention(context(values), { as: str(values, 'as'), at: str(values, 'at') });
    if (values.json) return out(JSON.stringify(results.map((r) => r.record), null, 2));
    if (results.length === 0) return out("Rien à détruire : aucune convention n'a passé sa durée de conservation.");
    for (const { record } of results) {
      const containers = record.destroyed.filter((d) => d.what === 'container').length;
      const files = record.destroyed.filter((d) => d.what === 'file');
      out(`${forTerminal(record.title)} (${record.convention}), terminée le ${frDate(record.lastDay)}, conservation ${plural(record.retentionDays, 'jour')} :`);
      out(`  ${plural(containers, 'pli')} et ${plural(files.length, 'fichier')} ${agree(containers + files.length, 'détruit')}.`);
      for (const file of files) out(`  détruit : ${forTerminal(file.path ?? '')}`);
      for (const item of record.manual) out(`  à détruire à la main : ${forTerminal(item.path)} (${MANUAL_FR[item.reason]})`);
    }
    err('Procès-verbal signé enregistré pour chaque convention ci-dessus (pli retention certificate pour le PDF).');
  },

  async 'retention certificate'(args) {
    const { values } = parse(args, { convention: { type: 'string' }, out: { type: 'string' }, as: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const id = required(values, 'convention');
    const target = required(values, 'out');
    const done = await writeRetentionCertificate(context(values), id, target, { as: str(values, 'as') });
    const containers = done.records.reduce((n, r) => n + r.destroyed.filter((d) => d.what === 'container').length, 0);
    const manual = done.records.reduce((n, r) => n + r.manual.length, 0);
    err(`Procès-verbal de destruction écrit et signé par ${forTerminal(done.signer.name)} : ${plural(containers, 'pli détruit', 'plis détruits')}, ${plural(manual, 'fichier')} à détruire à la main. Gardez ${forTerminal(done.sig)} avec le PDF : il permet de vérifier le document (pli retention verify).`);
    out(done.pdf);
    out(done.sig);
  },

  async 'retention verify'(args) {
    const { values, positionals } = parse(args, {}, { min: 1, max: 1, name: 'FICHIER.pdf' });
    const check = await verifyRetentionCertificate(profileOf(values).db, positionals[0]!);
    const when = new Date(check.at).toISOString();
    out(`Procès-verbal intact : convention « ${forTerminal(check.title)} » (${check.convention}).`);
    out(`Signé par ${forTerminal(check.signer.name)} (${forTerminal(check.signer.org)}) le ${frDate(when.slice(0, 10))} à ${when.slice(11, 16)} (UTC)${check.certified ? ", certifié par l'autorité de ce poste" : " — non certifié : aucune autorité n'est épinglée sur ce poste (vérifiez l'empreinte de la carte avec la personne)"}.`);
    out(`Destruction${check.runs.length > 1 ? 's' : ''} du ${check.runs.map((r) => `${frDate(r.day)} par ${forTerminal(r.name)}`).join(', du ')} : ${plural(check.containers, 'pli')} et ${plural(check.files, 'fichier')} ${agree(check.containers + check.files, 'détruit')}, ${check.manual} à détruire à la main.`);
  },
};

const MANUAL_FR: Record<ManualItem['reason'], string> = {
  moved: 'déplacé ou supprimé depuis son ouverture',
  changed: 'modifié depuis son ouverture',
  'not-a-file': "remplacé par un lien ou un dossier",
  unverifiable: "écrit sans la clé d'intégrité : impossible de vérifier qu'il est intact",
  ambiguous: 'pli jamais ouvert, venu d\'une personne habilitée de plusieurs conventions',
  unsealed: 'pli jamais ouvert, dont le rattachement à la convention n\'est pas scellé',
};
