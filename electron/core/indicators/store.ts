// The figures in the profile (docs/indicators.md 4, 6): imports, corrections and mappings, each an
// audit event; and the figures as shown, each with its integrity state.
// Security invariant (docs/indicators.md 4.1): every figure shown, exported or reported was
// checked against its seal (under the integrity key, when in hand) and against the audit event
// of the write that made it; a row that fails is shown "modifié", a row missing is reported.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { actorOf, audit, type Context, type Scope } from '../context.js';
import { inputError, PliError } from '../errors.js';
import { KDF_INFO } from '../crypto/labels.js';
import type { DB } from '../profile/profile.js';
import { resolveOwn } from '../profile/identities.js';
import { attachedSubkey, hasHolder, integrityKeyOf } from '../profile/integrity.js';
import { decodeEvent, eachEvent, type EventInput } from '../profile/events.js';
import { findConvention, listConventions } from '../authority/convention.js';
import { INDICATOR_IDS, parsePeriod } from '../../../shared/indicators.js';
import { visibleOnly } from '../../../shared/text.js';
import { BUILT_IN_MAPPINGS, communeName, MAX_COMMUNES, MAX_COUNT, normaliseLabel, parseMapping, UNREADABLE_COMMUNE, type Mapping } from './mapping.js';
import { READ_LIMITS, readState, readStateLabels, type LabelsReading, type ReadLimits } from './read.js';

export const CORRECTION_FILE = 'correction manuelle';
/** Rows one import may write: every indicator of every commune a state may hold. */
export const MAX_IMPORT_ROWS = MAX_COMMUNES * INDICATOR_IDS.length;
/** Communes an import's event names (then their count): the log keeps every event for ever. */
export const EVENT_COMMUNES = 20;

export interface FigureRow {
  id: number; convention: string; commune: string; period: string; indicator: string; value: number;
  source_container: string | null; source_file: string; write_id: string; written_at: number; mac: Buffer | null;
}

export type FigureState = 'ok' | 'unverified' | 'modified';
export interface Figure {
  id: number; convention: string; commune: string; period: string; indicator: string; value: number;
  sourceContainer: string | null; sourceFile: string; writtenAt: number; state: FigureState;
  /** The write (import or correction) that made the row: the object of its audit event. */
  write: string;
  /** When the current value is a correction that checks out: when, by whom and why (the audit
   * log's words, never the table's), and the value it replaced (the last one a state gave; null
   * when no state gave one or that row no longer checks out). */
  correction: { at: number; by: string; reason: string; original: number | null } | null;
}
/** A write whose rows are fewer than its event says (rows deleted outside Pli), or a correction whose
 * row is no longer its key's latest or below a later one (found 0): docs/indicators.md 4.1, check 3. */
export interface MissingRows { write: string; convention: string; period: string; expected: number; found: number }

// ---- seals ------------------------------------------------------------------------------------

function lengthPrefixed(parts: Buffer[]): Buffer {
  return Buffer.concat(parts.flatMap((part) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(part.length);
    return [length, part];
  }));
}
const int = (n: number): Buffer => {
  const out = Buffer.alloc(8);
  out.writeBigInt64BE(BigInt(n));
  return out;
};
const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/** The bytes a figure's seal covers (docs/indicators.md 4.1). */
export function figureCanonical(r: Omit<FigureRow, 'mac'>): Buffer {
  return lengthPrefixed([text(KDF_INFO.integrityIndicators), int(r.id), text(r.convention), text(r.commune), text(r.period), text(r.indicator), int(r.value),
    r.source_container === null ? Buffer.from([0]) : Buffer.concat([Buffer.from([1]), text(r.source_container)]),
    text(r.source_file), text(r.write_id), int(r.written_at)]);
}

/** HMAC under HKDF(K, indicators label), K the key attached to `db` (the callers check it is in
 * hand): the derived key is integrity.ts's per-sign-in cache, derived once for every row sealed or
 * checked and zeroed with K at sign-out, so it is not wiped here. */
function sealUnder(db: DB, canonical: Buffer): Buffer {
  const macKey = attachedSubkey(db, KDF_INFO.integrityIndicators);
  if (!macKey) throw new Error('sceau des chiffres sans clé d’intégrité');
  return createHmac('sha256', macKey).update(canonical).digest();
}

/** Whether a row's stored seal holds under the attached key (false when it is out of format: a planted row). */
function sealHolds(db: DB, row: FigureRow): boolean {
  if (!Buffer.isBuffer(row.mac) || row.mac.length !== 32) return false;
  try {
    if (!Number.isSafeInteger(row.value) || !Number.isSafeInteger(row.written_at)) return false;
    return timingSafeEqual(sealUnder(db, figureCanonical(row)), row.mac);
  } catch {
    return false;
  }
}

// ---- writes -----------------------------------------------------------------------------------

/** The person acting must have proved who they are: the CLI asks the passphrase (the unlock
 * attaches the integrity key, so the rows are sealed); the desktop's session already did. */
async function signedIn(ctx: Context, as: string | undefined): Promise<void> {
  if (actorOf(ctx) !== null) return;
  (await ctx.unlocker.unlock(resolveOwn(ctx.profile.db, as))).wipe();
}

export function checkPeriod(period: string): string {
  if (!parsePeriod(period)) {
    throw inputError('bad-period', `Période « ${period.slice(0, 40)} » : donnez une année (2026), un semestre (2026-S2), un trimestre (2026-T4) ou un mois (2026-11).`, { period: period.slice(0, 40) });
  }
  return period;
}

export function checkCommune(commune: string): string {
  const name = communeName(commune);
  if (name === null) throw inputError('bad-commune', 'Nom de commune manquant, trop long (100 caractères au plus) ou avec des caractères invisibles : corrigez-le.');
  return name;
}

function checkIndicator(indicator: string): string {
  if (!INDICATOR_IDS.includes(indicator)) throw inputError('unknown-indicator', `Indicateur inconnu : « ${indicator.slice(0, 60)} ». Indicateurs : ${INDICATOR_IDS.join(', ')}.`, { indicator: indicator.slice(0, 60) });
  return indicator;
}

/** The mappings tried, in order: the people's (by name), then the ready-made ones. */
export function mappingsOf(db: DB): Mapping[] {
  const stored = db.prepare('SELECT text FROM indicator_mappings ORDER BY name').pluck().all() as string[];
  const mine = stored.flatMap((t) => {
    try {
      return [parseMapping(t)];
    } catch {
      return []; // an unreadable stored mapping (edited outside Pli) recognises nothing
    }
  });
  return [...mine, ...BUILT_IN_MAPPINGS];
}

export async function setMapping(ctx: Context, input: { as?: string; text: string }): Promise<Mapping> {
  const mapping = parseMapping(input.text);
  await signedIn(ctx, input.as);
  return writeAudited(ctx, () => {
    ctx.profile.db.prepare('INSERT INTO indicator_mappings (name, text, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at')
      .run(mapping.name, input.text, Date.now());
    return mapping;
  }, (m) => ({ actor: actorOf(ctx), action: 'indicators.mapping-set', object: m.name, detail: { indicators: Object.keys(m.labels).length } }));
}

/** The acting person's name as the event records it (`by`): shown later even if the directory changes. */
function by(ctx: Context): { by?: string } {
  const id = actorOf(ctx);
  const name = id === null ? undefined : nameOf(ctx.profile.db, id);
  return name ? { by: name } : {};
}

function nameOf(db: DB, id: string): string | undefined {
  return db.prepare('SELECT name FROM identities WHERE id = ?').pluck().get(id) as string | undefined;
}

/** The sender of a container as this profile's own records know it: the `container.opened` event
 * the open path wrote (it names the sender whose signature was verified), else the inbox's row. */
function signerOf(db: DB, container: string): { id: string; name: string } | null {
  // Only the events whose bytes name the container are decoded; the match is checked after decoding.
  // From the newest back, stopping at the first that answers: a container is opened shortly before
  // its states are imported, so a long log is not read whole (all of a million events: 0.3 s).
  const needle = Buffer.from(`"container.opened",${JSON.stringify(container)},`, 'utf8');
  const rows = db.prepare('SELECT canonical, hash FROM events WHERE instr(canonical, ?) > 0 ORDER BY seq DESC').raw().iterate(needle) as IterableIterator<[Buffer, Buffer]>;
  for (const [canonical, hash] of rows) {
    const e = decodeEvent(canonical, hash);
    if (e.action !== 'container.opened' || e.object !== container || e.outcome !== 'ok' || e.detail === null) continue;
    try {
      const sender = (JSON.parse(e.detail) as { sender?: unknown }).sender;
      if (typeof sender === 'string') return { id: sender, name: nameOf(db, sender) ?? sender };
    } catch {
      // a detail Pli wrote is JSON; anything else names nobody
    }
  }
  const inbox = db.prepare('SELECT sender_id FROM inbox WHERE container_id = ? AND sender_id IS NOT NULL ORDER BY id LIMIT 1').pluck().get(container) as string | undefined;
  return inbox ? { id: inbox, name: nameOf(db, inbox) ?? inbox } : null;
}

interface NewRow { convention: string; commune: string; period: string; indicator: string; value: number; source_container: string | null; source_file: string }

/** Runs a write and appends its audit event in ONE transaction: either both are in the profile or
 * neither (a crash or a busy database between them would leave rows no event names, shown as
 * "modifié hors de Pli"). */
function writeAudited<T>(ctx: Context, write: () => T, event: (result: T) => EventInput): T {
  return ctx.profile.db.transaction(() => {
    const result = write();
    audit(ctx, event(result));
    return result;
  })();
}

/** Inserts the rows of one write, each sealed when the integrity key is in hand. One transaction
 * (a savepoint within the caller's, writeAudited). */
function insertRows(db: DB, writeId: string, rows: NewRow[]): { first: number; sealed: boolean } {
  const key = integrityKeyOf(db);
  const at = Date.now();
  const insert = db.prepare('INSERT INTO indicator_figures (convention, commune, period, indicator, value, source_container, source_file, write_id, written_at, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)');
  const setMac = db.prepare('UPDATE indicator_figures SET mac = ? WHERE id = ?');
  let first = 0;
  db.transaction(() => {
    for (const r of rows) {
      const id = Number(insert.run(r.convention, r.commune, r.period, r.indicator, r.value, r.source_container, r.source_file, writeId, at).lastInsertRowid);
      first ||= id;
      if (key) setMac.run(sealUnder(db, figureCanonical({ ...r, id, write_id: writeId, written_at: at })), id);
    }
  })();
  return { first, sealed: key !== undefined };
}

function readBounded(file: string, limits: ReadLimits): Uint8Array | 'too-big' {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    throw inputError('cannot-read', `Impossible de lire ${file} : ${(error as NodeJS.ErrnoException).code === 'ELOOP' ? 'c’est un lien symbolique' : 'fichier absent ou illisible'}. Vérifiez le chemin.`, { path: file });
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw inputError('cannot-read', `${file} n'est pas un fichier : indiquez le fichier de l'état.`, { path: file });
    if (info.size > limits.maxBytes) return 'too-big';
    const bytes = Buffer.alloc(info.size);
    let done = 0;
    while (done < info.size) {
      const n = readSync(fd, bytes, done, info.size - done, done);
      if (n === 0) break;
      done += n;
    }
    return bytes.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

export interface ImportInput { convention: string; period: string; commune?: string | null; file: string; container?: string | null }
export type ImportResult =
  | { recognised: true; write: string; mapping: string; rows: number; communes: string[]; sealed: boolean }
  | { recognised: false; write: string; reason: string };

/** « Mairie de », « Ville de », « Commune de » (and « de la », « d' », « du », « des ») before a name. */
const TOWN_HALL = /^(?:mairie|ville|commune)\s+(?:de\s+la\s+|de\s+l['’]|de\s+|d['’]|du\s+|des\s+)/i;

/** The communes this profile knows for sure (normalised as labels are): the town halls among the
 * organisations of its people, its certificates and its conventions' parties (« Mairie
 * d'Achicourt » is Achicourt). Any other name (a CPN, an observatory, a column headed « Total ») is
 * no commune here. */
async function knownCommunes(db: DB): Promise<Map<string, string>> {
  const orgs = db.prepare('SELECT org FROM identities UNION SELECT org FROM certificates').pluck().all() as string[];
  for (const c of await listConventions(db)) orgs.push(...c.parties.map((p) => p.org));
  const known = new Map<string, string>();
  for (const org of orgs) {
    if (!TOWN_HALL.test(org.trim())) continue;
    const name = communeOf(org);
    if (name && normaliseLabel(name)) known.set(normaliseLabel(name), name);
  }
  return known;
}

async function importChecked(ctx: Context, input: ImportInput, limits: ReadLimits): Promise<ImportResult> {
  const db = ctx.profile.db;
  const period = checkPeriod(input.period);
  const commune = input.commune ? checkCommune(input.commune) : null;
  const convention = (await findConvention(db, input.convention)).body.id;
  const container = input.container ?? null;
  if (container !== null && !/^[A-Za-z0-9_-]{1,100}$/.test(container)) throw inputError('bad-container-id', 'Identifiant de pli invalide.');
  const fileName = path.basename(input.file);
  const bytes = readBounded(input.file, limits);
  let reading = bytes === 'too-big'
    ? { recognised: false as const, reason: `fichier trop gros (plus de ${Math.round(limits.maxBytes / 1024 / 1024)} Mio)` }
    : await readState(bytes, mappingsOf(db), commune, limits);
  if (reading.recognised && reading.figures.some((f) => f.commune === null) && commune === null) {
    throw inputError('commune-required', "Cet état ne nomme pas sa commune : indiquez de quelle commune sont ces chiffres, puis recommencez. Rien n'a été enregistré.");
  }
  // A state of one value column headed with the name of another commune this profile knows (a
  // town hall of its directory or conventions) is that commune's, not the one given.
  if (reading.recognised && commune !== null && typeof reading.column === 'string') {
    const header = normaliseLabel(reading.column);
    const other = header !== normaliseLabel(commune) ? (await knownCommunes(db)).get(header) : undefined;
    if (other !== undefined) reading = { recognised: false, reason: `la colonne des chiffres est intitulée « ${other} », pas « ${commune} » : importez-le pour la commune « ${other} » (si c’est la même que « ${commune} », écrite autrement, choisissez ce nom-là)` };
  }
  const write = `ind-${randomBytes(8).toString('hex')}`;
  // Who signed the container, recorded now in the import's event (chained, checkpoint-signed): the
  // report names that signer even once the container has left the inbox or the directory changed.
  const signer = container === null ? null : signerOf(db, container);
  const base = { convention, period, file: fileName, container, ...by(ctx), ...(signer ? { signer: signer.name, signerId: signer.id } : {}) };
  const refused = (reason: string): ImportResult => {
    audit(ctx, { actor: actorOf(ctx), action: 'indicators.imported', object: write, detail: { ...base, recognised: false, reason } });
    return { recognised: false, write, reason };
  };
  if (!reading.recognised) return refused(reading.reason);
  const rows: NewRow[] = [];
  for (const f of reading.figures) {
    // The state's column header, or the commune given; a header that is no commune's name is the
    // state's fault, not the person's.
    const named = f.commune === null ? commune : communeName(f.commune);
    if (named === null) return refused(UNREADABLE_COMMUNE);
    rows.push({ convention, commune: named, period, indicator: f.indicator, value: f.value, source_container: container, source_file: fileName });
  }
  if (rows.length > MAX_IMPORT_ROWS) return refused(`plus de ${MAX_IMPORT_ROWS} chiffres dans l’état`);
  const mapping = reading.mapping;
  const communes = [...new Set(rows.map((r) => r.commune))];
  const { sealed } = writeAudited(ctx, () => insertRows(db, write, rows), (r) => ({
    actor: actorOf(ctx), action: 'indicators.imported', object: write,
    // The first communes by name, and how many: an observatory's state may name many.
    detail: { ...base, recognised: true, mapping, communes: communes.slice(0, EVENT_COMMUNES), communeCount: communes.length, rows: rows.length, sealed: r.sealed },
  }));
  return { recognised: true, write, mapping, rows: rows.length, communes, sealed };
}

/** `pli indicators import`, the screen's "Importer un état": a person imports a state by hand. */
export async function importState(ctx: Context, input: ImportInput & { as?: string }, limits: ReadLimits = READ_LIMITS): Promise<ImportResult> {
  checkPeriod(input.period);
  await signedIn(ctx, input.as);
  return importChecked(ctx, input, limits);
}

/** The commune of a receiving organisation (docs/indicators.md 8): « Mairie de Saint-Laurent-Blangy »
 * is Saint-Laurent-Blangy; any other name stands as it is. Used only when the state names none. */
export function communeOf(org: string): string | null {
  const name = org.trim().replace(TOWN_HALL, '').trim();
  return name ? name : null;
}

/**
 * For the open path: a file just written from a container filed under `convention` for `period`
 * (the container's convention fields). The person who opened it is signed in. Never throws for
 * the file or its reading: "non reconnu" is an answer, and the opening never fails because of it.
 */
export async function importFromOpenedFile(ctx: Context, input: { convention: string; period: string; commune: string | null; file: string; container: string }): Promise<ImportResult | { recognised: false; write: null; reason: string }> {
  try {
    return await importChecked(ctx, input, READ_LIMITS);
  } catch (error) {
    return { recognised: false, write: null, reason: error instanceof PliError ? error.message : 'fichier illisible' };
  }
}

export interface CorrectionInput { as?: string; convention: string; commune: string; period: string; indicator: string; value: number; reason: string }

/** A manual correction: a new row, the current value from now on; the reason is in its event. */
export async function correctFigure(ctx: Context, input: CorrectionInput): Promise<Figure> {
  const period = checkPeriod(input.period);
  const commune = checkCommune(input.commune);
  const indicator = checkIndicator(input.indicator);
  if (!Number.isSafeInteger(input.value) || input.value < 0 || input.value > MAX_COUNT) throw inputError('bad-value', 'Valeur : un nombre entier positif ou nul de faits constatés.');
  const reason = input.reason.trim();
  if (!reason || reason.length > 300 || !visibleOnly(reason)) throw inputError('bad-reason', 'Motif de la correction : manquant, trop long (300 caractères au plus) ou avec des caractères invisibles.');
  await signedIn(ctx, input.as);
  const db = ctx.profile.db;
  const convention = (await findConvention(db, input.convention)).body.id;
  const write = `ind-${randomBytes(8).toString('hex')}`;
  const row: NewRow = { convention, commune, period, indicator, value: input.value, source_container: null, source_file: CORRECTION_FILE };
  writeAudited(ctx, () => insertRows(db, write, [row]), (r) => ({
    actor: actorOf(ctx), action: 'indicators.corrected', object: write,
    detail: { convention, commune, period, indicator, reason, row: r.first, rows: 1, sealed: r.sealed, ...by(ctx) },
  }));
  const shown = currentFigures(ctx).figures.find((f) => f.convention === convention && f.commune === commune && f.period === period && f.indicator === indicator);
  return shown!;
}

// ---- reads ------------------------------------------------------------------------------------

interface WriteEvent {
  rows: number; sealed: boolean; convention: string; period: string;
  action: string; at: number; actor: string | null; by: string | null; reason: string | null; signer: string | null; container: string | null;
  /** A correction's key and the id of the row it wrote, as its event names them (check 3). */
  correction: { key: string; row: number } | null;
}

/** The writes the audit log names (imports recognised, corrections). Only the events whose bytes
 * say `indicators.` (or hold a \u00 escape) are read: exactly those whose action can be one of the
 * two (eachEvent), a few among a million events (about 0.35 s for a million, where decoding every
 * event took 5 s). */
function writesInLog(db: DB): Map<string, WriteEvent> {
  const writes = new Map<string, WriteEvent>();
  for (const e of eachEvent(db, { mentioning: 'indicators.' })) {
    if ((e.action !== 'indicators.imported' && e.action !== 'indicators.corrected') || e.outcome !== 'ok' || e.object === null || e.detail === null) continue;
    try {
      const d = JSON.parse(e.detail) as Record<string, unknown>;
      if (d.recognised === false) continue;
      const textOf = (v: unknown) => (typeof v === 'string' ? v : null);
      const named = [d.convention, d.commune, d.period, d.indicator].every((v) => typeof v === 'string') && Number.isSafeInteger(d.row);
      writes.set(e.object, {
        rows: typeof d.rows === 'number' ? d.rows : 0, sealed: d.sealed === true, convention: String(d.convention), period: String(d.period),
        action: e.action, at: e.at, actor: e.actor, by: textOf(d.by), reason: textOf(d.reason), signer: textOf(d.signer), container: textOf(d.container),
        correction: e.action === 'indicators.corrected' && named ? { key: keyOf(d as Pick<FigureRow, 'convention' | 'commune' | 'period' | 'indicator'>), row: d.row as number } : null,
      });
    } catch {
      // an event's detail is JSON written by Pli; anything else names no write
    }
  }
  return writes;
}

export interface FigureFilter { commune?: string; from?: string; to?: string; convention?: string }

/** A figure's key as the reads compare it (docs/indicators.md 4): (convention, commune, period, indicator). */
const keyOf = (r: Pick<FigureRow, 'convention' | 'commune' | 'period' | 'indicator'>): string => `${r.convention}\0${r.commune}\0${r.period}\0${r.indicator}`;

/** A key of the figures table as a read finds it (keyRows). */
interface KeyRows {
  /** Its latest row: the current value. */
  row: FigureRow;
  /** False when no single row can be told to be its latest: two rows answer (the same id twice in
   * a rebuilt table, or groups whose bytes read as this key and whose ids JS cannot order exactly),
   * or when its key is not text (a rebuilt table).
   * The figure is then "modifié" (an id that is no safe integer is, in stateOf). */
  sure: boolean;
  /** Where its first row stands in id order (the order figures are listed in): -Infinity for a
   * NULL id (first in SQL's order), Infinity for a text or blob id (last). */
  first: number;
  /** The id of the last row an import wrote (what a correction replaced): null for none,
   * undefined when it cannot be told (an id that is no safe integer). */
  lastImport: number | null | undefined;
}

/** SQL's order of two ids as JS reads them (NULL, numbers, text, blobs): only to choose which row
 * of a key that is not `sure` is shown (it is "modifié" whichever it is). */
function after(a: unknown, b: unknown): boolean {
  const rank = (v: unknown) => (v === null ? 0 : typeof v === 'number' ? 1 : typeof v === 'string' ? 2 : 3);
  if (rank(a) !== rank(b)) return rank(a) > rank(b);
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return Buffer.compare(a, b) > 0;
  return (a as number) > (b as number);
}

/** The keys of the figures table and their latest rows, in ONE SQL statement: a pass over the key
 * index groups the rows per key (on the stored bytes: BINARY, whatever collation a column was
 * given), taking each group's first id, latest id and last id an import wrote (reading each row's
 * write_id from the table: linear in the rows, in SQL; no row reaches JS, no seal is computed);
 * then each group's latest row is joined on (key, id IS max(id)). The id never goes through JS
 * (better-sqlite3 rounds an integer beyond 2^53), and IS matches a NULL id too, so every group gives
 * a row: no key can vanish from the figures. A LEFT JOIN: a group whose row could not be joined
 * still gives its key, with no write (shown "modifié"). Groups whose values read as the same key
 * in JS are merged here, so that the key is exactly the one a JS loop over every row would use
 * (docs/indicators.md 4). `imports`: the ids of the imports the audit log names. */
function keyRows(db: DB, imports: string[]): Map<string, KeyRows> {
  const groups = db.prepare(`WITH g AS (
      SELECT convention AS c, commune AS m, period AS p, indicator AS i, min(id) AS first, count(id) < count(*) AS anyNull, max(id) AS latest,
        max(CASE WHEN write_id COLLATE BINARY IN (SELECT value FROM json_each(?)) THEN id END) AS lastImport
      FROM indicator_figures GROUP BY convention COLLATE BINARY, commune COLLATE BINARY, period COLLATE BINARY, indicator COLLATE BINARY)
    SELECT g.first, g.anyNull, g.lastImport, g.latest, g.c, g.m, g.p, g.i, f.value, f.source_container, f.source_file, f.write_id, f.written_at, f.mac
    FROM g LEFT JOIN indicator_figures f ON f.id IS g.latest AND f.convention IS g.c COLLATE BINARY AND f.commune IS g.m COLLATE BINARY
      AND f.period IS g.p COLLATE BINARY AND f.indicator IS g.i COLLATE BINARY`)
    .raw().all(JSON.stringify(imports)) as [unknown, number, unknown, number, string, string, string, string, number, string | null, string, string, number, Buffer | null][];
  const keys = new Map<string, KeyRows>();
  for (const [firstId, anyNull, lastId, id, convention, commune, period, indicator, value, source_container, source_file, write_id, written_at, mac] of groups) {
    // Pli writes the key as text (a STRICT table); a rebuilt table may hold a number, a blob or NULL
    // there: read as text (so that no filter, period or label reading throws), and "modifié".
    const textual = [convention, commune, period, indicator].every((v) => typeof v === 'string');
    const text = (v: unknown): string => (typeof v === 'string' ? v : v === null ? '' : String(v));
    const row: FigureRow = { id, convention: text(convention), commune: text(commune), period: text(period), indicator: text(indicator), value, source_container, source_file, write_id, written_at, mac };
    const first = anyNull ? -Infinity : typeof firstId === 'number' ? firstId : Infinity;
    const lastImport = lastId === null ? null : Number.isSafeInteger(lastId) ? (lastId as number) : undefined;
    const k = keyOf(row);
    const seen = keys.get(k);
    if (!seen) {
      keys.set(k, { row, sure: textual, first, lastImport });
      continue;
    }
    // A second row for this key: its id must be another safe integer, then the greater is the latest.
    if (!textual) seen.sure = false;
    if (!Number.isSafeInteger(id) || !Number.isSafeInteger(seen.row.id) || id === seen.row.id) seen.sure = false;
    if (!after(seen.row.id, id)) seen.row = row; // of equal ids, the later one read (as a loop in id order kept)
    seen.first = Math.min(seen.first, first);
    if (seen.lastImport === undefined || lastImport === undefined) seen.lastImport = undefined;
    else if (lastImport !== null) seen.lastImport = Math.max(seen.lastImport ?? lastImport, lastImport);
  }
  return keys;
}

/** The rows with these ids (safe integers), in id order. */
function rowsById(db: DB, ids: number[]): FigureRow[] {
  if (ids.length === 0) return [];
  return db.prepare('SELECT * FROM indicator_figures WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id').all(JSON.stringify(ids)) as FigureRow[];
}

/**
 * The current figures (the latest row of each key), each with its state, and the writes missing
 * rows (docs/indicators.md 4.1). Read-only: needs no key, but checks the seals when one is in hand.
 * Every row shown is checked (its seal, its write's event), and so is the row whose value a
 * correction shown replaced; a row no read shows (replaced by a later row of its key) counts only
 * towards its write's rows (check 3).
 */
export function currentFigures(scope: Scope, filter: FigureFilter = {}): { figures: Figure[]; missing: MissingRows[]; checked: boolean } {
  const db = scope.profile.db;
  const key = integrityKeyOf(db);
  const writes = writesInLog(db);
  const stateOf = (row: FigureRow): FigureState => {
    // Pli writes safe integer ids; any other (null, a blob, beyond 2^53 as read) is not the row sealed.
    if (!Number.isSafeInteger(row.id)) return 'modified';
    const write = writes.get(row.write_id);
    if (!write) return 'modified'; // no event wrote it: planted
    if (row.mac === null) return write.sealed ? 'modified' : 'unverified';
    if (key) return sealHolds(db, row) ? 'ok' : 'modified';
    return 'unverified';
  };
  const imports = [...writes].flatMap(([id, w]) => (w.action === 'indicators.imported' ? [id] : []));
  const keys = keyRows(db, imports);
  // Check 3: the rows of each write, counted in SQL (write_id's index); values that read as the
  // same write id in JS are counted together.
  const counts = new Map<string, number>();
  for (const [id, n] of db.prepare('SELECT write_id, count(*) FROM indicator_figures GROUP BY write_id COLLATE BINARY').raw().all() as [string, number][]) {
    counts.set(id, (counts.get(id) ?? 0) + n);
  }
  const missing: MissingRows[] = [];
  for (const [id, write] of writes) {
    let found = counts.get(id) ?? 0;
    // A correction's row is its key's latest row or below a later one: a key whose latest row is
    // older (its id lower) lost it, deleted, moved or renumbered (the count alone misses a row moved
    // or renumbered, or one planted under the write's id where a later row hides it).
    if (write.correction && found > 0) {
      const now = keys.get(write.correction.key)?.row;
      if (!now || (Number.isSafeInteger(now.id) && now.id < write.correction.row)) found = 0;
    }
    if (found < write.rows) missing.push({ write: id, convention: write.convention, period: write.period, expected: write.rows, found });
  }
  const communeKey = filter.commune === undefined ? null : normaliseLabel(filter.commune);
  const from = filter.from ? parsePeriod(checkPeriod(filter.from)) : null;
  const to = filter.to ? parsePeriod(checkPeriod(filter.to)) : null;
  const inRange = (period: string): boolean => {
    const p = parsePeriod(period);
    if (!p) return false;
    if (from && p.year < from.year) return false;
    if (to && p.year > to.year) return false;
    const start = (q: NonNullable<typeof p>) => startMonth(q);
    if (from && p.year === from.year && start(p) < start(from)) return false;
    if (to && p.year === to.year && start(p) > endMonth(to)) return false;
    return true;
  };
  // The latest row of each key the filter keeps, with its state (seals are checked for the figures
  // shown only), listed in the order of each key's first row, as they always were.
  const latest = new Map<string, FigureRow & { state: FigureState }>();
  const shown = [...keys].filter(([, { row: r }]) => (communeKey === null || normaliseLabel(r.commune) === communeKey) && (filter.convention === undefined || r.convention === filter.convention) && inRange(r.period));
  for (const [k, { row, sure }] of shown.sort(([, a], [, b]) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0))) {
    latest.set(k, { ...row, state: sure ? stateOf(row) : 'modified' });
  }
  /** Per key whose current value is a correction that checks out, the value it replaced: the last
   * row a state gave, when that row is the only one of its key with that id and checks out. */
  const replaced = new Map<string, number>();
  for (const [k, r] of latest) {
    const last = keys.get(k)!.lastImport;
    if (r.state !== 'modified' && writes.get(r.write_id)?.action === 'indicators.corrected' && typeof last === 'number') replaced.set(k, last);
  }
  const lastRows = new Map<string, FigureRow[]>();
  for (const row of rowsById(db, [...new Set(replaced.values())])) {
    const k = keyOf(row);
    if (replaced.get(k) === row.id) lastRows.set(k, [...(lastRows.get(k) ?? []), row]);
  }
  const original = new Map<string, number>();
  for (const [k, [row, ...others]] of lastRows) if (others.length === 0 && stateOf(row!) !== 'modified') original.set(k, row!.value);
  const figures = [...latest.values()].map((r): Figure => {
    const write = writes.get(r.write_id);
    const corrected = r.state !== 'modified' && write?.action === 'indicators.corrected';
    return {
      id: r.id, convention: r.convention, commune: r.commune, period: r.period, indicator: r.indicator, value: r.value,
      sourceContainer: r.source_container, sourceFile: r.source_file, writtenAt: r.written_at, state: r.state, write: r.write_id,
      correction: corrected ? {
        at: write.at, by: write.by ?? (write.actor === null ? '' : nameOf(db, write.actor) ?? ''), reason: write.reason ?? '',
        original: original.get(keyOf(r)) ?? null,
      } : null,
    };
  });
  return { figures, missing, checked: key !== undefined };
}

const startMonth = (p: { kind: string; index: number }): number =>
  p.kind === 'quarter' ? (p.index - 1) * 3 + 1 : p.kind === 'half' ? (p.index - 1) * 6 + 1 : p.kind === 'month' ? p.index : 1;
const endMonth = (p: { kind: string; index: number }): number =>
  p.kind === 'quarter' ? p.index * 3 : p.kind === 'half' ? p.index * 6 : p.kind === 'month' ? p.index : 12;

/** Before a read that decides (the screen, `pli indicators`): sign in when a person of the profile
 * holds the integrity key, so that the seals are checked (as for the conventions). */
export async function signInToRead(ctx: Context, as?: string): Promise<void> {
  if (!hasHolder(ctx.profile.db)) return;
  await signedIn(ctx, as);
}

// ---- sources ----------------------------------------------------------------------------------

/** Where figures came from (docs/indicators.md 7.1): a container and who signed it, a file imported
 * by hand and by whom, or a correction, by whom and why. Names and dates are the audit log's. */
export interface FigureSource {
  kind: 'container' | 'hand' | 'correction';
  period: string; file: string; container: string | null;
  /** When the container arrived (the inbox), else when the figures were written. */
  receivedAt: number;
  /** The container's signer as recorded at import (older imports: as the profile knows it now). */
  signedBy: string | null;
  /** The person who imported or corrected, and when. */
  importedBy: string | null; importedAt: number;
  reason: string | null;
}

export function figureSources(db: DB, figures: readonly Figure[]): FigureSource[] {
  const writes = writesInLog(db);
  const seen = new Map<string, FigureSource>();
  for (const f of figures) {
    const key = `${f.write}\0${f.period}`;
    if (seen.has(key)) continue;
    const write = writes.get(f.write);
    const importedBy = write ? write.by ?? (write.actor === null ? null : nameOf(db, write.actor) ?? null) : null;
    const importedAt = write?.at ?? f.writtenAt;
    if (write?.action === 'indicators.corrected') {
      seen.set(key, { kind: 'correction', period: f.period, file: f.sourceFile, container: null, receivedAt: importedAt, signedBy: null, importedBy, importedAt, reason: write.reason });
      continue;
    }
    const container = f.sourceContainer;
    if (container === null) {
      seen.set(key, { kind: 'hand', period: f.period, file: f.sourceFile, container: null, receivedAt: importedAt, signedBy: null, importedBy, importedAt, reason: null });
      continue;
    }
    const arrived = db.prepare('SELECT arrived_at FROM inbox WHERE container_id = ? ORDER BY id LIMIT 1').pluck().get(container) as number | undefined;
    // The signer the import recorded; an import older than that record: the profile's records now.
    const signedBy = write?.signer ?? signerOf(db, container)?.name ?? null;
    seen.set(key, { kind: 'container', period: f.period, file: f.sourceFile, container, receivedAt: arrived ?? importedAt, signedBy, importedBy, importedAt, reason: null });
  }
  return [...seen.values()];
}

// ---- the mapping editor -----------------------------------------------------------------------

/** The mapping editor names a state main no longer keeps (the desktop app keeps the latest few). */
export function stateGone(): PliError {
  return inputError('indicators-state-gone', 'Ce fichier n’est plus en mémoire : choisissez-le de nouveau.');
}

/** The labels of a state (docs/indicators.md 3.1): read in the worker, under the same limits. */
export async function readLabels(file: string, limits: ReadLimits = READ_LIMITS): Promise<LabelsReading> {
  const bytes = readBounded(file, limits);
  if (bytes === 'too-big') return { readable: false, reason: `fichier trop gros (plus de ${Math.round(limits.maxBytes / 1024 / 1024)} Mio)` };
  return readStateLabels(bytes, limits);
}

export type Preview = { recognised: true; figures: { commune: string | null; indicator: string; value: number }[] } | { recognised: false; reason: string };

/** What a draft mapping (indicator -> one label of the state) would read from a state, under that
 * mapping only. Writes nothing. */
export async function previewMapping(file: string, choice: Record<string, string>, commune: string | null, limits: ReadLimits = READ_LIMITS): Promise<Preview> {
  const mapping = parseMapping(JSON.stringify({ format: 'pli-indicateurs-correspondance', version: 1, name: 'aperçu', labels: Object.fromEntries(Object.entries(choice).map(([id, label]) => [id, [label]])) }));
  const checked = commune ? checkCommune(commune) : null;
  const bytes = readBounded(file, limits);
  if (bytes === 'too-big') return { recognised: false, reason: `fichier trop gros (plus de ${Math.round(limits.maxBytes / 1024 / 1024)} Mio)` };
  const reading = await readState(bytes, [mapping], checked, limits);
  return reading.recognised ? { recognised: true, figures: reading.figures } : { recognised: false, reason: reading.reason };
}
