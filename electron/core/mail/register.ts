// The register of a convention (issue 14 §2, docs/convention.md section 10): every container sent
// and received in a year, with its receipts, as a PDF for the file or a CSV for a spreadsheet.
// `pli register` and the Convention screen call the same functions.
//
// The convention filter reads each container's filing (migration 010: convention, period,
// documents, subject on the outbox and inbox rows) through `filedContainers`, which checks its seal
// (filing_mac): a filing whose seal is wrong refuses the whole register (profile-tampered), an
// unsealed one counts for nothing, so a row re-filed with better-sqlite3 never appears under
// another convention. Receipts come from `deliveryOf` (migration 011). The rows are read from the
// profile's database, the attacker's to write (docs/profile.md): a received row whose seal does
// not verify under the integrity key refuses the whole register (profile-tampered), even when it
// is filed under another convention; so does an outbox row whose time seal (time_mac, migration 17)
// does not verify, a receipt's row included. Every text is outside text (the CSV neutralises
// formulas, the PDF only draws characters).
import type { Scope } from '../context.js';
import { actorOf, audit } from '../context.js';
import type { DB } from '../profile/profile.js';
import { getIdentity } from '../profile/identities.js';
import { checkInboxRowMac, checkOutboxTimeMac } from '../profile/integrity.js';
import { inputError } from '../errors.js';
import { findConvention, today, type ConventionBody } from '../authority/convention.js';
import { renderPdf } from '../pdf/document.js';
import { refuseExistingFile, writeNewFile } from '../pdf/new-file.js';
import { isDateMs } from '../../../shared/dates.js';
import { frenchDay, frenchPeriod } from '../../../shared/french.js';
import { filedContainers, type FiledContainer } from '../authority/convention-filing.js';
import { deliveryOf, type ReceiptRow } from './receipts.js';
import type { InboxRow } from './inbox.js';
import type { OutboxRow } from './outbox.js';

export type Direction = 'sent' | 'received';

/** One line of the register: one container, sent (all its destinations) or received. */
export interface RegisterRow {
  /** When: sent (or queued, while not sent yet), or arrived; ms since 1970. */
  at: number;
  /** `YYYY-MM-DD` on this workstation's calendar. */
  day: string;
  direction: Direction;
  /** Sent: the functional mailboxes or folders it went to; received: the sender and organisation. */
  partner: string;
  /** The convention it was filed under (a filing whose seal verifies); null: sans convention. */
  convention: string | null;
  /** `2026-T4`, `2026-S2`, `2026-11`, or null. */
  period: string | null;
  documents: string[];
  subject: string | null;
  /** The container id's short form (16 hex characters, as in the outbox and the inbox). */
  container: string;
  /** Its state in French: envoyé, en file d'envoi, échec d'envoi; reçu, refusé, ouvert le … */
  state: string;
  /** Sent: its signed receipts in French, « remis le … (organisation) », « ouvert le … par … ». */
  receipts: string[];
  /** Whether its date is proven: received, by the inbox row's seal; sent, by the time seal of every
   * one of its outbox rows (docs/profile.md « Inbox rows: the arrival time », « Outbox rows: the time
   * sent »). An unsealed row is listed, its date marked as not proven. */
  proven: boolean;
}

export interface Register {
  convention: ConventionBody | null;
  year: number;
  rows: RegisterRow[];
}

const localDay = (ms: number): string => (isDateMs(ms) ? today(new Date(ms)) : '0000-00-00');
const yearOf = (ms: number): number => (isDateMs(ms) ? new Date(ms).getFullYear() : NaN);

function outboxState(rows: OutboxRow[]): string {
  if (rows.every((r) => r.state === 'sent')) return 'envoyé';
  if (rows.some((r) => r.state === 'failed')) return 'échec d’envoi';
  return 'en file d’envoi';
}

function receivedState(row: InboxRow): string {
  if (row.state === 'opened') return isDateMs(row.opened_at) ? `ouvert le ${frenchDay(localDay(row.opened_at))}` : 'ouvert';
  if (row.state === 'refused') return `refusé${row.reason ? ` (${row.reason.slice(0, 100)})` : ''}`;
  return 'reçu, vérifié';
}

function senderOf(db: DB, senderId: string | null): string {
  const who = senderId ? getIdentity(db, senderId) : undefined;
  return who ? `${who.name} (${who.org})` : 'expéditeur inconnu';
}

/** A stored receipt in the register's words (its fields were checked when it was received). */
function receiptText(r: ReceiptRow): string {
  const day = frenchDay(localDay(r.at));
  if (r.type === 'opened') {
    let by = r.signer_id;
    try {
      const who = JSON.parse(r.opened_by ?? 'null') as { name?: unknown } | null;
      if (who && typeof who.name === 'string') by = who.name;
    } catch {
      // not JSON: the signer's id stands
    }
    return `ouvert le ${day} par ${by} (${r.org})`;
  }
  return r.verdict === 'refused' ? `refusé le ${day} par ${r.org}${r.reason ? ` (${r.reason})` : ''}` : `remis le ${day} (${r.org})`;
}

/**
 * The register's rows for `year`, oldest first: with `convention`, only the containers filed
 * under it (sent or received and opened here); with null, every container sent and received,
 * each with its filing when it has one that counts.
 */
export function registerRows(db: DB, year: number, convention: string | null = null): RegisterRow[] {
  // Invariant: the filing of a row is taken only from filedContainers, which verifies its seal
  // (profile-tampered when wrong) and ignores an unsealed one; the columns are never read here.
  const filings = new Map<string, FiledContainer>();
  for (const f of filedContainers(db, convention ?? undefined, { anyState: true })) filings.set(`${f.direction}:${f.container}`, f);
  const filed = (direction: Direction, container: string | null) => (container === null ? undefined : filings.get(`${direction}:${container}`));
  const fields = (f: FiledContainer | undefined) => ({ convention: f?.convention ?? null, period: f?.period ?? null, documents: f?.documents ?? [], subject: f?.subject ?? null });
  const rows: RegisterRow[] = [];
  // Invariant: every outbox row's time seal is checked before anything is read from it, objects
  // included (a container's row turned into a receipt's would leave the register unseen): present
  // and wrong refuses the whole register, whatever year it now says.
  const sealed = new Set<number>();
  const outbox = (db.prepare('SELECT * FROM outbox ORDER BY id').all() as OutboxRow[]).filter((row) => {
    if (checkOutboxTimeMac(db, row) === 'sealed') sealed.add(row.id);
    return row.object_kind === null || row.object_kind === undefined;
  });
  const byContainer = new Map<string, OutboxRow[]>();
  for (const row of outbox) byContainer.set(row.container_id, [...(byContainer.get(row.container_id) ?? []), row]);
  for (const [container, group] of byContainer) {
    // Dated from the sealed columns alone, never from `state` (not sealed: it flips many times):
    // sent when every row has its sent_at, which Pli writes with the state 'sent' and clears
    // otherwise, so a state changed outside Pli cannot move a container into another year.
    const at = group.every((r) => r.sent_at !== null) ? Math.max(...group.map((r) => r.sent_at!)) : Math.min(...group.map((r) => r.queued_at));
    if (yearOf(at) !== year) continue;
    const filing = filed('sent', container);
    if (convention !== null && !filing) continue;
    rows.push({
      at, day: localDay(at), direction: 'sent',
      partner: [...new Set(group.map((r) => (r.transport === 'folder' ? `dossier ${r.destination}` : r.destination)))].join(', '),
      ...fields(filing),
      container: String(container).slice(0, 16), state: outboxState(group), receipts: deliveryOf(db, container).receipts.map(receiptText),
      proven: group.every((r) => sealed.has(r.id)),
    });
  }
  const inbox = db.prepare('SELECT * FROM inbox ORDER BY id').all() as InboxRow[];
  for (const row of inbox) {
    // Invariant: a row whose seal is present and wrong (edited arrival, sender, bytes) refuses
    // the whole register, filed under this convention or not, whatever year it now says: checked
    // before the year is read, or an arrival moved out of the year takes its row out unseen. An
    // unsealed row is listed with its arrival marked as not proven.
    const proven = checkInboxRowMac(db, row) === 'sealed';
    if (yearOf(row.arrived_at) !== year) continue;
    const filing = filed('received', row.container_id);
    if (convention !== null && !filing) continue;
    rows.push({
      at: row.arrived_at, day: localDay(row.arrived_at), direction: 'received', partner: senderOf(db, row.sender_id),
      ...fields(filing),
      container: (row.container_id ?? row.sha256).slice(0, 16), state: receivedState(row), receipts: [], proven,
    });
  }
  return rows.sort((a, b) => a.at - b.at);
}

/** The register of convention `idText` (null: every container, sans convention) for `year`. */
export async function conventionRegister(scope: Scope, idText: string | null, year: number): Promise<Register> {
  if (!Number.isInteger(year) || year < 2000 || year > 2199) {
    throw inputError('bad-year', `Année du registre : donnez une année de quatre chiffres entre 2000 et 2199, par exemple ${new Date().getFullYear()}.`, { field: 'year' });
  }
  const db = scope.profile.db;
  const convention = idText === null ? null : (await findConvention(db, idText)).body;
  return { convention, year, rows: registerRows(db, year, convention?.id ?? null) };
}

// ---- CSV ------------------------------------------------------------------------------------

/** A cell a spreadsheet will not run: a leading = + - @ (or tab, carriage return) is prefixed with
 * an apostrophe (OWASP « CSV injection »); quoted when it holds « ; », a quote or a line break. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[;"\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const SENS: Record<Direction, string> = { sent: 'envoyé', received: 'reçu' };
const CSV_HEADER = ['Date', 'Heure', 'Sens', 'Partenaire', 'Convention', 'Période', 'Documents', 'Objet', 'Pli', 'État', 'Accusés de réception', 'Date prouvée'];
const time = (ms: number) => (isDateMs(ms) ? new Date(ms).toTimeString().slice(0, 5) : '');
const frDate = (day: string) => `${day.slice(8, 10)}/${day.slice(5, 7)}/${day.slice(0, 4)}`;

/** The register as CSV for a French spreadsheet: UTF-8 with a BOM, « ; » between cells, CRLF. */
export function registerCsv(register: Register): string {
  const lines = [CSV_HEADER, ...register.rows.map((r) => [
    frDate(r.day), time(r.at), SENS[r.direction], r.partner, r.convention ?? 'sans convention', r.period ?? '',
    r.documents.join(', '), r.subject ?? '', r.container, r.state, r.receipts.join(' ; '), r.proven ? 'oui' : 'non',
  ])];
  return `\ufeff${lines.map((cells) => cells.map(csvCell).join(';')).join('\r\n')}\r\n`;
}

// ---- PDF ------------------------------------------------------------------------------------

export function registerPdf(register: Register, created = new Date()): Promise<Buffer> {
  const c = register.convention;
  const title = `Registre des échanges ${register.year}${c ? ` — ${c.title}` : ''}`;
  return renderPdf({ title, subject: c ? `Registre de la convention ${c.id}` : 'Registre des échanges', created, landscape: true }, (pdf) => {
    pdf.title(`Registre des échanges — année ${register.year}`, c ? `Convention « ${c.title} » (${c.id}, version ${c.version})` : 'Tous les plis de ce poste');
    const sent = register.rows.filter((r) => r.direction === 'sent').length;
    pdf.fields([
      ['Plis envoyés', String(sent)],
      ['Plis reçus', String(register.rows.length - sent)],
      ['Établi le', frenchDay(today(created))],
    ]);
    if (c) pdf.paragraph('Seuls les plis envoyés ou ouverts sous cette convention figurent ici ; un pli reçu et pas encore ouvert n’y figure qu’après son ouverture.', { muted: true });
    pdf.table([
      { header: 'Date', width: 2 }, { header: 'Sens', width: 0.9 }, { header: 'Partenaire', width: 3.4 }, { header: 'Convention, période', width: 2 },
      { header: 'Documents, objet', width: 2.2 }, { header: 'Pli', width: 2.3 }, { header: 'État', width: 1.8 }, { header: 'Accusés de réception', width: 2.2 },
    ], register.rows.map((r) => [
      `${frenchDay(r.day)}\n${time(r.at)}`, SENS[r.direction], r.partner,
      `${r.convention ?? 'sans convention'}${r.period ? `\n${frenchPeriod(r.period)}` : ''}`,
      [r.documents.join(', '), r.subject ?? ''].filter(Boolean).join('\n') || '—',
      r.container, `${r.state}${r.proven ? '' : r.direction === 'received' ? '\n(arrivée non prouvée)' : '\n(envoi non prouvé)'}`, r.receipts.join('\n') || '—',
    ]), 'Aucun pli envoyé ni reçu cette année.');
  });
}

/** Writes the register to `target` (`.pdf` or `.csv`), a new file, and logs it. */
export async function writeRegister(scope: Scope, idText: string | null, year: number, target: string, created = new Date()): Promise<Register> {
  const format = /\.pdf$/i.test(target) ? 'pdf' : /\.csv$/i.test(target) ? 'csv' : null;
  if (!format) throw inputError('bad-register-format', 'Le registre s’écrit en PDF ou en CSV : donnez un nom de fichier qui se termine par .pdf ou .csv.');
  refuseExistingFile(target); // before any work
  const register = await conventionRegister(scope, idText, year);
  writeNewFile(target, format === 'pdf' ? await registerPdf(register, created) : registerCsv(register));
  audit(scope, {
    actor: actorOf(scope), action: 'convention.printed', object: register.convention?.id ?? 'sans-convention',
    detail: { document: 'register', year, format, rows: register.rows.length },
  });
  return register;
}
