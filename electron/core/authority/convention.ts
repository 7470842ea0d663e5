// Conventions, the officer's side and the calendar (docs/convention.md): creation and termination
// (officer only, each version signed by the authority key and part of the next directory), the
// list, and what is due on a given day. The object itself is in convention-object.ts.
import { randomBytes } from 'node:crypto';
import type { Context } from '../context.js';
import { audit } from '../context.js';
import type { DB } from '../profile/profile.js';
import { resolveIdentity } from '../profile/identities.js';
import { sealedTrustWrite } from '../profile/integrity.js';
import { inputError } from '../errors.js';
import { makeEnvelope } from './signed.js';
import { unlockAuthority } from './authority.js';
import { currentCertificate } from './certificates.js';
import {
  CONVENTION_ID, DEFAULT_RETENTION_DAYS, FIRST_DAY, LAST_DAY, SCHEDULES, checkConventionBody, dayText, endOf, parseDay, periodsOf,
  storedConventions, storeConvention, today, verifyConvention, type ConventionBody, type ScheduleKind, type VerifiedConvention,
} from './convention-object.js';
import { base32Encode, isIdPrefix } from '../../../shared/ids.js';
import { filedContainers, type FiledContainer } from './convention-filing.js';
import { visibleOnly } from '../../../shared/text.js';
import { frenchDay } from '../../../shared/french.js';

export { today, type ConventionBody } from './convention-object.js';

export interface NewConvention {
  title: string;
  /** `ORG=ADDRESS` as typed, or already split. */
  parties: { org: string; address: string }[];
  people: { id: string; function: string }[];
  /** `.doc,.xls,csv`: normalised here. */
  types: string;
  /** `quarterly:8`, `monthly:D`, `half-yearly:D`. */
  schedule: string;
  expect: string[];
  start: string;
  years: number;
  renewMax?: number;
  retentionDays?: number;
  openReceipts?: boolean;
}


/** `what`: the field, in words (the CLI adds its option from the error's code). */
function visibleText(value: string, max: number, what: string, code: string): string {
  const trimmed = value.trim();
  if (!trimmed || trimmed.length > max || !visibleOnly(trimmed)) throw inputError(code, `${what} : manquant, trop long (${max} caractères au plus) ou avec des caractères invisibles. Corrigez-le.`, { max });
  return trimmed;
}

/** `.doc,.XLS, csv` → [".csv", ".doc", ".xls"]: lower case, one leading dot, unique, sorted. */
export function normaliseTypes(list: string): string[] {
  const types = [...new Set(list.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '').map((t) => (t.startsWith('.') ? t : `.${t}`)))].sort();
  if (types.length === 0 || types.length > 50 || types.some((t) => !/^\.[a-z0-9]{1,10}$/.test(t))) {
    throw inputError('bad-types', 'Types de fichiers admis : donnez des extensions séparées par des virgules, par exemple .doc,.xls,.csv,.pdf (lettres et chiffres seulement).');
  }
  return types;
}

export function parseSchedule(text: string): { every: ScheduleKind; day: number } {
  const match = /^(quarterly|monthly|half-yearly):(\d{1,2})$/.exec(text.trim());
  const dayOf = match ? Number(match[2]) : 0;
  if (!match || dayOf < 1 || dayOf > 28 || !(SCHEDULES as readonly string[]).includes(match[1]!)) {
    throw inputError('bad-schedule', 'Calendrier : quarterly:J (le J de chaque trimestre), monthly:J (chaque mois) ou half-yearly:J (chaque semestre), J entre 1 et 28 ; par exemple quarterly:8.');
  }
  return { every: match[1] as ScheduleKind, day: dayOf };
}

/** The days a convention may have, in words: the app's field (jj/mm/aaaa) and the CLI's option
 * (AAAA-MM-JJ, its hint) take different forms, so the sentence names neither. */
const DAYS_ALLOWED = `entre le ${frenchDay(FIRST_DAY)} et le ${frenchDay(LAST_DAY)}`;

/** `what`: the date, in words; `field` names it for the front ends (start, date, at). */
function checkedDay(value: string, what: string, field: string): string {
  if (!parseDay(value)) throw inputError('bad-date', `${what} : donnez une date réelle ${DAYS_ALLOWED}.`, { field });
  return value;
}

const intIn = (value: number, min: number, max: number, message: string, code: string): number => {
  if (!Number.isInteger(value) || value < min || value > max) throw inputError(code, message, { min, max });
  return value;
};

/** The organisations of every person holding a valid certificate under the pinned authority. */
function certifiedOrganisations(db: DB): Set<string> {
  const ids = db.prepare('SELECT DISTINCT identity_id FROM certificates').pluck().all() as string[];
  return new Set(ids.map((id) => currentCertificate(db, id)?.body.org).filter((org): org is string => org !== undefined));
}

/** Checks a new convention against the certified people of this profile; returns its body
 * without authority, id, version and issue date. */
function validate(db: DB, input: NewConvention): Omit<ConventionBody, 'v' | 'authority' | 'id' | 'version' | 'issued'> {
  const title = visibleText(input.title, 300, 'Titre de la convention', 'bad-title');
  if (input.parties.length < 2 || input.parties.length > 10) throw inputError('bad-party', 'Une convention a de 2 à 10 parties : donnez pour chacune son organisation et l\'adresse de sa boîte fonctionnelle.');
  const orgs = certifiedOrganisations(db);
  const parties = input.parties.map((p) => {
    const org = visibleText(p.org, 200, "Organisation d'une partie", 'bad-party');
    const address = visibleText(p.address, 254, "Adresse de boîte fonctionnelle d'une partie", 'bad-party');
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) throw inputError('bad-party', `« ${address} » n'est pas une adresse de boîte fonctionnelle : écrivez-la sous la forme adresse@domaine.fr.`, { address });
    if (!orgs.has(org)) throw inputError('unknown-party', `Aucune personne certifiée n'appartient à l'organisation « ${org} » : écrivez son nom exactement comme dans les certificats (liste des identités), ou certifiez d'abord une personne de cette organisation.`, { org });
    return { org, address };
  });
  if (new Set(parties.map((p) => p.org)).size !== parties.length) throw inputError('bad-party', 'Deux parties ont la même organisation : une seule partie par organisation.');
  const people = input.people.map((p) => {
    const row = resolveIdentity(db, p.id);
    const cert = currentCertificate(db, row.id);
    if (!cert) throw inputError('not-certified', `${row.name} n'a pas de certificat valide : faites-le certifier (ou renouveler) avant de l'inscrire sur la liste des personnes habilitées.`, { id: row.id });
    if (!parties.some((party) => party.org === cert.body.org)) {
      throw inputError('not-party-member', `Le certificat de ${cert.body.name} porte l'organisation « ${cert.body.org} », qui n'est pas une partie de cette convention : seules les personnes certifiées membres d'une partie peuvent être habilitées. Retirez-la de la liste des personnes habilitées, ou ajoutez son organisation comme partie. Rien n'a été signé.`, { name: cert.body.name, org: cert.body.org });
    }
    return { id: row.id, org: cert.body.org, name: cert.body.name, role: cert.body.role, function: visibleText(p.function, 200, `Fonction de ${cert.body.name}`, 'bad-person') };
  });
  if (new Set(people.map((p) => p.id)).size !== people.length) throw inputError('bad-person', 'Une même personne est inscrite deux fois sur la liste des personnes habilitées : une seule fois chacune.');
  if (input.expect.length === 0 || input.expect.length > 20) throw inputError('bad-expect', 'Indiquez les documents attendus à chaque échéance, de 1 à 20 (par exemple « IS 101 » et « IST »).');
  const expect = input.expect.map((e) => visibleText(e, 100, 'Document attendu', 'bad-expect'));
  if (new Set(expect).size !== expect.length) throw inputError('bad-expect', 'Un même document est attendu deux fois : une seule fois chacun.');
  const years = intIn(input.years, 1, 50, 'Durée de la convention : un nombre entier d\'années, de 1 à 50.', 'bad-years');
  const renewMax = input.renewMax === undefined ? null : intIn(input.renewMax, years, 50, `Durée totale maximale avec la reconduction tacite : un nombre entier d'années, de ${years} (la durée) à 50.`, 'bad-renew');
  return {
    title, parties, people, types: normaliseTypes(input.types), schedule: parseSchedule(input.schedule), expect,
    start: checkedDay(input.start, 'Date de début', 'start'), years, renewMax,
    retentionDays: intIn(input.retentionDays ?? DEFAULT_RETENTION_DAYS, 0, 3650, 'Durée de conservation après la fin : un nombre de jours, de 0 à 3650.', 'bad-retention'),
    openReceipts: input.openReceipts ?? false,
    status: { state: 'active' },
  };
}

/** Signs `body` (a new version), checks it reads back, records it as issued and applies it here,
 * sealed: the officer's workstation holds its own conventions like any other. */
async function signAndStore(db: DB, secretKey: Uint8Array, body: ConventionBody, publicKey: Buffer): Promise<VerifiedConvention> {
  checkConventionBody(body);
  const text = await makeEnvelope('convention', body, secretKey);
  const verified = await verifyConvention(text, publicKey);
  if (!verified) throw new Error('convention signée illisible');
  const now = Date.now();
  sealedTrustWrite(db, () => {
    db.prepare('INSERT INTO issued_conventions (id, version, text, issued_at) VALUES (?, ?, ?, ?)').run(body.id, body.version, text, now);
    storeConvention(db, verified, now);
  });
  return verified;
}

/** `pli convention new`: officer only (unlockAuthority refuses anyone else, exit 2). */
export async function createConvention(ctx: Context, input: NewConvention): Promise<VerifiedConvention> {
  const db = ctx.profile.db;
  const authority = await unlockAuthority(ctx);
  try {
    const fields = validate(db, input);
    const body: ConventionBody = {
      v: 1, authority: authority.row.fpr.toString('base64'), id: `conv-${base32Encode(randomBytes(10))}`, version: 1, issued: Date.now(), ...fields,
    };
    const signed = await signAndStore(db, authority.secretKey, body, authority.row.public_key);
    audit(ctx, { actor: authority.officer.id, action: 'convention.created', object: body.id, detail: { title: body.title, version: 1, parties: body.parties.map((p) => p.org), people: body.people.length } });
    return signed;
  } finally {
    authority.wipe();
  }
}

/** A convention's fields as an input to `editConvention`: given back unchanged, they sign the same
 * convention again (the CLI's edit replaces only the options given). */
export function inputOf(b: ConventionBody): NewConvention {
  return {
    title: b.title, parties: b.parties.map((p) => ({ org: p.org, address: p.address })), people: b.people.map((p) => ({ id: p.id, function: p.function })),
    types: b.types.join(','), schedule: `${b.schedule.every}:${b.schedule.day}`, expect: [...b.expect], start: b.start, years: b.years,
    renewMax: b.renewMax ?? undefined, retentionDays: b.retentionDays, openReceipts: b.openReceipts,
  };
}

/** `pli convention edit` and the desktop's edit (issue 14 §6): officer only; the same id, version
 * n + 1 with the fields of `input` (or, given a function, what it makes of the current fields),
 * checked as at creation and signed again. The next directory carries it and each workstation's
 * import replaces the older version (a newer version only: a rollback is refused there). A
 * terminated convention is never reopened this way. */
export async function editConvention(ctx: Context, idText: string, input: NewConvention | ((current: NewConvention) => NewConvention)): Promise<VerifiedConvention> {
  const db = ctx.profile.db;
  const authority = await unlockAuthority(ctx);
  try {
    // Read after the officer signed in: the trust seal over the conventions is checked with the key
    // in hand, so the fields kept (the CLI's `input` as a function) are the current signed version's.
    const b = (await findConvention(db, idText)).body;
    if (b.status.state === 'terminated') throw inputError('already-terminated', `La convention ${b.id} est résiliée (le ${b.status.date}) : elle ne peut plus être modifiée. Pour un nouvel accord, créez une nouvelle convention.`, { id: b.id, date: b.status.date });
    const fields = validate(db, typeof input === 'function' ? input(inputOf(b)) : input);
    const body: ConventionBody = { ...b, ...fields, version: b.version + 1, issued: Date.now() };
    const signed = await signAndStore(db, authority.secretKey, body, authority.row.public_key);
    audit(ctx, { actor: authority.officer.id, action: 'convention.edited', object: b.id, detail: { title: body.title, version: body.version, parties: body.parties.map((p) => p.org), people: body.people.length } });
    return signed;
  } finally {
    authority.wipe();
  }
}

/** `pli convention terminate`: officer only; version n + 1, terminated on `date` for `reason`. */
export async function terminateConvention(ctx: Context, idText: string, date: string, reason: string): Promise<VerifiedConvention> {
  const db = ctx.profile.db;
  const authority = await unlockAuthority(ctx);
  try {
    const current = await findConvention(db, idText);
    const b = current.body;
    if (b.status.state === 'terminated') throw inputError('already-terminated', `La convention ${b.id} est déjà résiliée (le ${b.status.date}) : rien n'a été changé. Pour un nouvel accord, créez une nouvelle convention.`, { id: b.id, date: b.status.date });
    checkedDay(date, 'Date de résiliation', 'date');
    if (date < b.start) throw inputError('bad-date', `La date de résiliation (${date}) est avant le début de la convention (${b.start}) : corrigez-la.`, { field: 'date' });
    const why = visibleText(reason, 500, 'Motif de la résiliation', 'bad-reason');
    const body: ConventionBody = { ...b, version: b.version + 1, issued: Date.now(), status: { state: 'terminated', date, reason: why } };
    const signed = await signAndStore(db, authority.secretKey, body, authority.row.public_key);
    audit(ctx, { actor: authority.officer.id, action: 'convention.terminated', object: b.id, detail: { version: body.version, date, reason: why } });
    return signed;
  } finally {
    authority.wipe();
  }
}

/** Every convention of this workstation, verified (docs/convention.md 4). */
export async function listConventions(db: DB): Promise<ConventionBody[]> {
  return (await storedConventions(db)).map((c) => c.body);
}

/** One convention by its id, or the beginning of it (8 characters after `conv-` at least). */
export async function findConvention(db: DB, idText: string): Promise<VerifiedConvention> {
  const wanted = idText.trim().toLowerCase();
  const tail = wanted.startsWith('conv-') ? wanted.slice(5) : wanted;
  if (!isIdPrefix(tail)) throw inputError('bad-convention-id', `« ${idText} » n'est pas un identifiant de convention (conv-… : voyez la liste des conventions).`, { id: idText });
  const found = (await storedConventions(db)).filter((c) => c.body.id.startsWith(`conv-${tail}`));
  if (found.length === 0) throw inputError('unknown-convention', `Convention inconnue sur ce poste : ${idText}. Voyez la liste des conventions ; si elle vient d'être signée, importez le dernier annuaire.`, { id: idText });
  if (found.length > 1) throw inputError('ambiguous-convention-id', `Plusieurs conventions commencent par ${idText} : donnez plus de caractères.`, { id: idText });
  return found[0]!;
}

export type DueState = 'upcoming' | 'due' | 'late' | 'sent' | 'delivered' | 'opened';

export interface DueItem {
  convention: string;
  title: string;
  period: string;
  document: string;
  due: string;
  state: DueState;
  /** The container filed under this period and document: sent from here (outbox) or received
   * and opened here (inbox); null when none. */
  container: string | null;
  /** Its signed receipts (sender's side): each stored, verified receipt for that container. */
  receipts: DueReceipt[];
}

/** A signed receipt as `pli due` shows it: what, when (ms), by whom. */
export interface DueReceipt { kind: 'delivered' | 'opened'; at: number; by: string; org: string }

/**
 * The signed receipts stored for a container sent from here (docs/objects.md 3): the rows
 * `deliveryOf` (mail/receipts.ts) reads, read here one floor down (authority may not import mail).
 * Only receipts matched to this workstation's own sending count, each checked (both signatures,
 * signer among the container's recipients) when it was received; a set-aside one never does. A
 * delivery receipt counts only with the verdict `verified`: a refusal is no delivery.
 */
export function receiptsFor(db: DB, containerId: string): DueReceipt[] {
  const rows = db.prepare("SELECT type, verdict, at, signer_id, org FROM receipts WHERE container_id = ? AND state = 'matched' ORDER BY at, id")
    .all(containerId) as { type: string; verdict: string | null; at: number; signer_id: string; org: string }[];
  return rows.flatMap((r): DueReceipt[] => {
    if (r.type === 'opened') return [{ kind: 'opened', at: r.at, by: r.signer_id, org: r.org }];
    if (r.type === 'delivered' && r.verdict === 'verified') return [{ kind: 'delivered', at: r.at, by: r.signer_id, org: r.org }];
    return [];
  });
}

/** What is expected up to the day `at` (docs/convention.md 6): every document of every period
 * begun on or before it, with its due date and its state. A container counts from the day it was
 * sent (sender's side) or opened (receiver's side), so a rehearsal `--at` an earlier day shows
 * what was then still to do. */
export async function dueAt(db: DB, at: string = today()): Promise<DueItem[]> {
  if (!parseDay(at)) throw inputError('bad-date', `Jour du calendrier : donnez une date réelle ${DAYS_ALLOWED}.`, { field: 'at' });
  const items: DueItem[] = [];
  const filed = filedContainers(db);
  for (const { body } of await storedConventions(db)) {
    for (const p of periodsOf(body)) {
      if (p.begins > at) break;
      const dated: DueState = at < p.due ? 'upcoming' : at === p.due ? 'due' : 'late';
      for (const document of body.expect) {
        const found = filingFor(filed, body.id, p.period, document, at);
        let state: DueState = dated;
        let receipts: DueReceipt[] = [];
        if (found?.direction === 'sent') {
          // Like the container, a receipt counts from its day: a rehearsal `--at` before it ignores it.
          const signed = receiptsFor(db, found.container).filter((r) => today(new Date(r.at)) <= at);
          receipts = signed;
          state = signed.some((r) => r.kind === 'opened') ? 'opened' : signed.length > 0 ? 'delivered' : 'sent';
        } else if (found) {
          // Receiver's side: the container is here, opened and filed: `delivered` (docs/convention.md 6).
          state = 'delivered';
        }
        items.push({ convention: body.id, title: body.title, period: p.period, document, due: p.due, state, container: found?.container ?? null, receipts });
      }
    }
  }
  return items;
}

/** The latest container filed under (convention, period, document) on or before the day `at`;
 * sent ones first (this workstation's own side). */
function filingFor(filed: readonly FiledContainer[], convention: string, period: string, document: string, at: string): FiledContainer | undefined {
  const matching = filed.filter((f) => f.convention === convention && f.period === period && f.documents.includes(document) && today(new Date(f.at)) <= at);
  const latest = (list: FiledContainer[]) => list.sort((a, b) => b.at - a.at)[0];
  return latest(matching.filter((f) => f.direction === 'sent')) ?? latest(matching.filter((f) => f.direction === 'received'));
}

/** The first day after the convention (its end, exclusive) and its last day. */
export function lastDayOf(body: ConventionBody): string {
  const end = parseDay(endOf(body))!;
  const before = new Date(Date.UTC(end.y, end.m - 1, end.d - 1));
  return dayText({ y: before.getUTCFullYear(), m: before.getUTCMonth() + 1, d: before.getUTCDate() });
}

export const isConventionId = (text: string): boolean => CONVENTION_ID.test(text);
