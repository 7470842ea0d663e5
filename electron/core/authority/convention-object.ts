// The convention object (docs/convention.md): its strict schema, its signature by the authority,
// its storage on a workstation (verified from its signed text at every read, covered by the trust
// seal), what a directory brings, and its calendar (periods, due dates). Creation and termination,
// which need the authority key, are in convention.ts; this file sits below authority.ts and
// directory.ts, which both import it.
import { hostname } from 'node:os';
import type { z } from 'zod';
import { lazySchema } from '../zod.js';
import type { DB } from '../profile/profile.js';
import { envelopeSignedBy, parseEnvelope } from './signed.js';
import { getTrust } from './certificates.js';
import { fingerprint } from '../crypto/primitives.js';
import { profileTampered } from '../profile/integrity.js';
import { appendEvent } from '../profile/events.js';
import { PliError, securityError } from '../errors.js';
import { isIdentityId } from '../../../shared/ids.js';
import { visibleOnly } from '../../../shared/text.js';
import { ROLES } from '../../../shared/roles.js';

export const SCHEDULES = ['quarterly', 'monthly', 'half-yearly'] as const;
export type ScheduleKind = (typeof SCHEDULES)[number];
export const CONVENTION_ID = /^conv-[0-9a-hjkmnp-tv-z]{16}$/;
export const DEFAULT_RETENTION_DAYS = 15;
/** Days a convention may start: inside the dates window of shared/dates.ts, and plausible. */
export const FIRST_DAY = '2000-01-01';
export const LAST_DAY = '2199-12-31';

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const text = (zod: typeof z, max: number) => zod.string().min(1).max(max).refine(visibleOnly);
const day = (zod: typeof z) => zod.string().refine((t) => parseDay(t) !== null);

const conventionBodySchema = lazySchema((z) => z.strictObject({
  v: z.literal(1),
  authority: z.string().max(100),
  id: z.string().regex(CONVENTION_ID),
  version: z.number().int().positive(),
  issued: z.number().int().nonnegative(),
  title: text(z, 300),
  parties: z.array(z.strictObject({ org: text(z, 200), address: text(z, 254) })).min(2).max(10),
  people: z.array(z.strictObject({
    id: z.string().refine(isIdentityId), org: text(z, 200), name: text(z, 200), role: z.enum(ROLES), function: text(z, 200),
  })).max(500),
  types: z.array(z.string().regex(/^\.[a-z0-9]{1,10}$/)).min(1).max(50),
  schedule: z.strictObject({ every: z.enum(SCHEDULES), day: z.number().int().min(1).max(28) }),
  expect: z.array(text(z, 100)).min(1).max(20),
  start: day(z),
  years: z.number().int().min(1).max(50),
  renewMax: z.number().int().min(1).max(50).nullable(),
  retentionDays: z.number().int().min(0).max(3650),
  openReceipts: z.boolean(),
  status: z.discriminatedUnion('state', [
    z.strictObject({ state: z.literal('active') }),
    z.strictObject({ state: z.literal('terminated'), date: day(z), reason: text(z, 500) }),
  ]),
}));
export type ConventionBody = z.infer<ReturnType<typeof conventionBodySchema>>;

export interface VerifiedConvention { body: ConventionBody; text: string }

// ---- signature ------------------------------------------------------------------------------

/** Verifies a convention envelope signed by `authorityKey` and naming it; null when it does not
 * verify or is out of format (the callers say why in their own words). */
export async function verifyConvention(envelopeText: string, authorityKey: Uint8Array): Promise<VerifiedConvention | null> {
  try {
    const envelope = parseEnvelope(envelopeText, 'convention');
    if (!(await envelopeSignedBy(envelope, authorityKey))) return null;
    const parsed = conventionBodySchema().safeParse(JSON.parse(envelope.body));
    if (!parsed.success) return null;
    if (!Buffer.from(parsed.data.authority, 'base64').equals(fingerprint('ed25519', authorityKey))) return null;
    if (parsed.data.renewMax !== null && parsed.data.renewMax < parsed.data.years) return null;
    return { body: parsed.data, text: envelopeText };
  } catch (error) {
    if (error instanceof PliError || error instanceof SyntaxError) return null;
    throw error;
  }
}

/** The body schema, for the officer's side to check what it is about to sign. */
export const checkConventionBody = (body: unknown): ConventionBody => conventionBodySchema().parse(body);

// ---- storage --------------------------------------------------------------------------------

interface ConventionRow { id: string; authority: Buffer; version: number; text: string; imported_at: number }

/**
 * The conventions of the pinned authority, each verified from its signed text. Reading goes
 * through getTrust, which checks the trust seal (and so the set of rows) when the integrity key
 * is in hand. A row that claims the pinned authority and does not verify, or whose id or version
 * differ from its text, has been edited: refused as tampering. Rows of an earlier authority
 * (before a signed key change) that do not verify under the pin are left aside.
 */
export async function storedConventions(db: DB): Promise<VerifiedConvention[]> {
  const trust = getTrust(db);
  if (!trust) return [];
  const rows = db.prepare('SELECT * FROM conventions ORDER BY id').all() as ConventionRow[];
  const out: VerifiedConvention[] = [];
  for (const row of rows) {
    const claimsPin = Buffer.isBuffer(row.authority) && row.authority.equals(trust.fpr);
    const verified = typeof row.text === 'string' ? await verifyConvention(row.text, trust.public_key) : null;
    if (!verified) {
      if (claimsPin) throw profileTampered(`la convention ${String(row.id)} enregistrée n'est plus celle signée par l'autorité`);
      continue;
    }
    if (!claimsPin || row.id !== verified.body.id || row.version !== verified.body.version) {
      throw profileTampered(`la convention ${verified.body.id} enregistrée ne correspond plus à celle signée par l'autorité`);
    }
    out.push(verified);
  }
  return out;
}

/** Writes one verified convention (the latest version). Call inside a sealed trust write. */
export function storeConvention(db: DB, convention: VerifiedConvention, now: number): void {
  const b = convention.body;
  db.prepare(`INSERT INTO conventions (id, authority, version, text, imported_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT(id) DO UPDATE SET authority = excluded.authority, version = excluded.version, text = excluded.text, imported_at = excluded.imported_at`)
    .run(b.id, Buffer.from(b.authority, 'base64'), b.version, convention.text, now);
}

const refused = (code: string, detail: string) => securityError(code, `Annuaire refusé : ${detail}`);

/** directory.ts, before anything is stored: every convention of a directory verifies under its
 * key and names it, and no id appears twice; one bad convention refuses the whole directory. */
export async function verifyDirectoryConventions(texts: readonly string[], authorityKey: Uint8Array): Promise<VerifiedConvention[]> {
  const out: VerifiedConvention[] = [];
  const seen = new Set<string>();
  for (const envelopeText of texts) {
    const verified = await verifyConvention(envelopeText, authorityKey);
    if (!verified) throw refused('bad-directory-convention', "il contient une convention dont la signature ne correspond pas à son contenu ou à l'autorité. N'utilisez que le fichier remis par l'officier SSI et prévenez-le.");
    if (seen.has(verified.body.id)) throw refused('bad-directory-convention', `il contient deux fois la convention ${verified.body.id}. Demandez un nouvel export à l'officier SSI.`);
    seen.add(verified.body.id);
    out.push(verified);
  }
  return out;
}

/** directory.ts, inside its sealed write: stores what is new or newer; refuses an older version
 * than the one stored (a termination is never undone). Returns what changed. */
export function applyDirectoryConventions(db: DB, conventions: readonly VerifiedConvention[], now: number): VerifiedConvention[] {
  const changed: VerifiedConvention[] = [];
  const versionOf = db.prepare('SELECT version FROM conventions WHERE id = ?').pluck();
  for (const convention of conventions) {
    const stored = versionOf.get(convention.body.id) as number | undefined;
    if (stored !== undefined && convention.body.version < stored) {
      throw refused('convention-rollback', `il contient une version plus ancienne (${convention.body.version}) de la convention ${convention.body.id} que celle de ce poste (${stored}). Demandez le dernier annuaire à l'officier SSI.`);
    }
    if (stored === convention.body.version) continue;
    storeConvention(db, convention, now);
    changed.push(convention);
  }
  return changed;
}

/** The audit events of an import (docs/audit.md): one per new or changed convention. The
 * workstation name is the host name, as for every event of a profile (profile.ts). */
export function auditConventionImports(db: DB, changed: readonly VerifiedConvention[]): void {
  for (const c of changed) {
    appendEvent(db, hostname(), { action: 'convention.imported', object: c.body.id, detail: { title: c.body.title, version: c.body.version, state: c.body.status.state } });
  }
}

// ---- calendar -------------------------------------------------------------------------------

export interface Day { y: number; m: number; d: number }

/** A real calendar day `YYYY-MM-DD` between FIRST_DAY and LAST_DAY, else null. */
export function parseDay(value: string): Day | null {
  if (!DAY_PATTERN.test(value) || value < FIRST_DAY || value > LAST_DAY) return null;
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  if (m < 1 || m > 12 || d < 1 || d > daysIn(y, m)) return null;
  return { y, m, d };
}

const pad = (n: number) => String(n).padStart(2, '0');
export const dayText = (x: Day): string => `${x.y}-${pad(x.m)}-${pad(x.d)}`;
const daysIn = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();
/** The first day of the month `months` after (y, m). */
const monthStart = (y: number, m: number, months: number): Day => {
  const index = y * 12 + (m - 1) + months;
  return { y: Math.floor(index / 12), m: (index % 12) + 1, d: 1 };
};
const nextDay = (x: Day): string => (x.d < daysIn(x.y, x.m) ? dayText({ ...x, d: x.d + 1 }) : dayText(monthStart(x.y, x.m, 1)));

/** Today on this workstation's calendar (local time: « le 8 » is the 8th where the person is). */
// From Date.now(): the one clock of the process (tests move it; `new Date()` alone would not follow).
export function today(now = new Date(Date.now())): string {
  return dayText({ y: now.getFullYear(), m: now.getMonth() + 1, d: now.getDate() });
}

const MONTHS: Record<ScheduleKind, number> = { quarterly: 3, 'half-yearly': 6, monthly: 1 };

export interface Period { period: string; begins: string; due: string }

/** The first day after the convention: its natural end (with tacit renewal, the maximum), or the
 * day after its termination date when earlier. */
export function endOf(body: ConventionBody): string {
  const start = parseDay(body.start)!;
  const years = body.renewMax ?? body.years;
  const natural = dayText({ y: start.y + years, m: start.m, d: Math.min(start.d, daysIn(start.y + years, start.m)) });
  if (body.status.state !== 'terminated') return natural;
  const after = nextDay(parseDay(body.status.date)!);
  return after < natural ? after : natural;
}

/** Every period of a convention (docs/convention.md 6): from the one that contains the start to
 * the last one that ends before the convention's end; each is due on day D of the next month. */
export function periodsOf(body: ConventionBody): Period[] {
  const months = MONTHS[body.schedule.every];
  const start = parseDay(body.start)!;
  const end = endOf(body);
  const out: Period[] = [];
  let index = Math.floor((start.m - 1) / months);
  let year = start.y;
  for (;;) {
    const begins = monthStart(year, 1, index * months);
    const after = monthStart(year, 1, (index + 1) * months);
    if (dayText(after) > end) break;
    const label = body.schedule.every === 'monthly' ? `${begins.y}-${pad(begins.m)}` : `${begins.y}-${body.schedule.every === 'quarterly' ? 'T' : 'S'}${index + 1}`;
    out.push({ period: label, begins: dayText(begins), due: dayText({ ...after, d: body.schedule.day }) });
    index += 1;
    if (index * months >= 12) {
      index = 0;
      year += 1;
    }
  }
  return out;
}
