// The retention run (issue 14 section 5, docs/convention.md 8): once a convention has ended
// (terminated, or its natural end) and its retention days have passed, the containers filed under
// it are destroyed here (the stored copies in the inbox and outbox folders of the profile), and
// so are the files Pli wrote when opening them, if they are still exactly what Pli wrote; the
// others (moved, changed, replaced by a link) are listed « à détruire à la main ». Each
// destruction is in the audit log; the run ends with a record signed by the person who ran it,
// kept in the profile, from which the certificate (PDF, another step) is made.
//
// Invariants: only filings whose seal verifies are destroyed (a row planted or re-filed by the
// attacker of docs/profile.md never designates a file to destroy: `profile-tampered`, or left
// aside when unsealed); stored containers are found from the profile's own folders and the row's
// hash or id, never from a path in a row; a written file is deleted only when it is a regular file
// (never through a link) whose size and keyed MAC are the ones recorded when Pli wrote it.
import { lstat, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { hostname } from 'node:os';
import type { z } from 'zod';
import { lazySchema } from '../zod.js';
import type { Context } from '../context.js';
import { audit } from '../context.js';
import type { DB } from '../profile/profile.js';
import { resolveOwn } from '../profile/identities.js';
import { profileTampered } from '../profile/integrity.js';
import { PliError, inputError, securityError } from '../errors.js';
import { ed25519Sign, ed25519Verify } from '../crypto/keys.js';
import { fingerprint, signedDigest } from '../crypto/primitives.js';
import { currentCertificate } from './certificates.js';
import { parseDay, storedConventions, today, type ConventionBody } from './convention-object.js';
import { lastDayOf } from './convention.js';
import { filedContainers, unopenedContainers, writtenFileMac } from './convention-filing.js';
import { roleIncludes } from '../../../shared/roles.js';

export interface DestroyedItem { what: 'container' | 'file'; container: string; direction?: 'sent' | 'received'; unopened?: true; path?: string }
export interface ManualItem { container: string; path: string; reason: 'moved' | 'changed' | 'not-a-file' | 'unverifiable' | 'ambiguous' | 'unsealed' }

const recordSchema = lazySchema((z) => z.strictObject({
  v: z.literal(1),
  convention: z.string(),
  conventionVersion: z.number().int().positive(),
  title: z.string(),
  lastDay: z.string(),
  retentionDays: z.number().int().min(0),
  day: z.string(),
  at: z.number().int().nonnegative(),
  by: z.strictObject({ id: z.string(), name: z.string(), org: z.string(), key: z.string() }),
  workstation: z.string(),
  destroyed: z.array(z.strictObject({ what: z.enum(['container', 'file']), container: z.string(), direction: z.enum(['sent', 'received']).optional(), unopened: z.literal(true).optional(), path: z.string().optional() })),
  manual: z.array(z.strictObject({ container: z.string(), path: z.string(), reason: z.enum(['moved', 'changed', 'not-a-file', 'unverifiable', 'ambiguous', 'unsealed']) })),
}));
export type RetentionRecordBody = z.infer<ReturnType<typeof recordSchema>>;

export interface RetentionResult { convention: ConventionBody; record: RetentionRecordBody; text: string }

/** The first day on which a convention's data is destroyed: its last day + retention days, or
 * null while it has not ended (still active, or terminated from a later date). */
export function destructionDay(body: ConventionBody): string {
  const last = parseDay(lastDayOf(body))!;
  const d = new Date(Date.UTC(last.y, last.m - 1, last.d + body.retentionDays));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
}

const pliDir = (ctx: Context, name: 'inbox' | 'outbox') => path.join(ctx.profile.home, name);

/** Removes a stored container (never through a path read from a row); true if something was there. */
async function removeStored(file: string): Promise<boolean> {
  const seen = await lstat(file).catch(() => null);
  if (!seen) return false;
  // A link planted there is removed itself (rm does not follow it); its target is left alone.
  await rm(file, { force: true });
  return true;
}

/** Deletes a file Pli wrote if it is still what Pli wrote; else says why it is left. */
async function destroyWritten(db: DB, row: { path: string; size: number; hmac: Buffer | null }): Promise<ManualItem['reason'] | null> {
  const seen = await lstat(row.path).catch(() => null);
  if (!seen) return 'moved';
  if (!seen.isFile()) return 'not-a-file';
  if (row.hmac === null) return 'unverifiable';
  if (seen.size !== row.size) return 'changed';
  const mac = await writtenFileMac(db, row.path).catch(() => null);
  if (!mac || !Buffer.isBuffer(row.hmac) || !mac.equals(row.hmac)) return 'changed';
  await unlink(row.path);
  return null;
}

/**
 * What the run at the start of the app did, for the notice at the top of the inbox: as data (the
 * interface words it in its language: shared/retention-words.ts), and the same in one French
 * sentence (`message`). `conventions`: how many were past their retention (waiting) or destroyed
 * (done), `titles` the latter's; `error`: why it failed.
 */
export interface RetentionNotice {
  day: string; state: 'done' | 'waiting' | 'failed'; conventions: number; titles: string[]; containers: number; files: number; manual: number;
  error: PliError | null; message: string;
}

const plural = (n: number, one: string, many: string): string => `${n} ${n > 1 ? many : one}`;

/**
 * The retention run of the desktop app (docs/convention.md 8.1): at each sign-in and when the day
 * changes while a person is signed in, the same `runRetention` as the CLI, audited the same way.
 * Null when there was nothing to do (no convention past its retention, or nothing new since the
 * last record). A person without the operator role runs nothing (nor is a refusal logged at each
 * sign-in): the notice says the destruction waits for one.
 */
export async function retentionAtStart(ctx: Context, personId: string, day = today()): Promise<RetentionNotice | null> {
  const db = ctx.profile.db;
  try {
    const ended = (await storedConventions(db)).filter(({ body }) => (body.status.state === 'terminated' || lastDayOf(body) < day) && destructionDay(body) <= day);
    if (ended.length === 0) return null;
    const cert = currentCertificate(db, personId);
    if (!cert || !roleIncludes(cert.body.role, 'operator')) {
      return {
        day, state: 'waiting', conventions: ended.length, titles: [], containers: 0, files: 0, manual: 0, error: null,
        message: `${ended.length > 1 ? `${ended.length} conventions ont passé leur durée de conservation : la destruction de leurs` : 'Une convention a passé sa durée de conservation : la destruction de ses'} données se fera à la connexion d’une personne habilitée comme opérateur sur ce poste.`,
      };
    }
    const results = await runRetention(ctx, { as: personId, at: day });
    if (results.length === 0) return null;
    const count = (what: 'container' | 'file') => results.reduce((n, r) => n + r.record.destroyed.filter((d) => d.what === what).length, 0);
    const containers = count('container');
    const files = count('file');
    const manual = results.reduce((n, r) => n + r.record.manual.length, 0);
    const titles = results.map((r) => `« ${r.record.title} »`).join(', ');
    const left = manual > 0 ? ` ${plural(manual, 'élément reste', 'éléments restent')} à détruire à la main : la liste est dans le procès-verbal de destruction.` : '';
    return { day, state: 'done', conventions: results.length, titles: results.map((r) => r.record.title), containers, files, manual, error: null, message: `Fin de conservation (${titles}) : ${plural(containers, 'pli détruit', 'plis détruits')} et ${plural(files, 'fichier détruit', 'fichiers détruits')} aujourd’hui.${left}` };
  } catch (error) {
    if (!(error instanceof PliError)) throw error;
    return { day, state: 'failed', conventions: 0, titles: [], containers: 0, files: 0, manual: 0, error, message: `La destruction des données en fin de conservation n’a pas pu se faire : ${error.message}` };
  }
}

/** Whether the last record (as stored) lists exactly `manual`: read only to skip a repeat, never trusted for more. */
function sameManual(lastText: string, manual: ManualItem[]): boolean {
  try {
    const body = JSON.parse((JSON.parse(lastText) as { body: string }).body) as { manual?: ManualItem[] };
    const key = (m: ManualItem) => `${m.container}\n${m.path}\n${m.reason}`;
    return JSON.stringify((body.manual ?? []).map(key).sort()) === JSON.stringify(manual.map(key).sort());
  } catch {
    return false;
  }
}

/**
 * `pli retention run [--at]`: destroys what has passed its retention, convention by convention,
 * and signs one record per convention where something was done. The person signs in (their
 * passphrase: the integrity key checks every filing, and their key signs the record) and must hold
 * a valid certificate with the role operator. `at` may not be after today: destroying earlier
 * than the convention says cannot be rehearsed.
 */
export async function runRetention(ctx: Context, options: { as?: string; at?: string } = {}): Promise<RetentionResult[]> {
  const db = ctx.profile.db;
  const now = today();
  const day = options.at ?? now;
  if (!parseDay(day)) throw inputError('bad-date', 'Jour de la destruction : donnez une date réelle AAAA-MM-JJ, par exemple 2027-01-20.', { field: 'at' });
  if (day > now) throw inputError('retention-future', `Le jour ${day} est après aujourd'hui (${now}) : la destruction ne peut pas être avancée. Donnez un jour passé, ou aucun.`, { at: day });
  const person = resolveOwn(db, options.as);
  const unlocked = await ctx.unlocker.unlock(person);
  try {
    const cert = currentCertificate(db, person.id);
    if (!cert || !roleIncludes(cert.body.role, 'operator')) {
      audit(ctx, { actor: person.id, action: 'retention.destroyed', outcome: 'refused', detail: { reason: 'not-habilitated' } });
      throw securityError('not-habilitated', `${person.name} n'a pas de certificat valide d'opérateur sur ce poste : la destruction des données d'une convention est refusée. Adressez-vous à l'officier SSI.`, { name: person.name });
    }
    const results: RetentionResult[] = [];
    // Every seal is checked before anything is destroyed: the filings, and the ties of the
    // containers never opened (a re-tied row is `profile-tampered` here, with nothing done).
    filedContainers(db, undefined, { anyState: true });
    const unopened = unopenedContainers(db);
    for (const { body } of await storedConventions(db)) {
      if (body.status.state !== 'terminated' && lastDayOf(body) >= day) continue;
      if (destructionDay(body) > day) continue;
      const destroyed: DestroyedItem[] = [];
      const manual: ManualItem[] = [];
      const left: (() => void)[] = [];
      // Received, never opened: destroyed with the one convention reception tied it to; tied to
      // several, or with a tie that cannot be trusted but whose signer and arrival fit this
      // convention, listed for a person to decide (docs/convention.md 8.3).
      for (const u of unopened) {
        const stored = path.join(pliDir(ctx, 'inbox'), `${u.sha256}.pli`);
        if (!/^[0-9a-f]{64}$/.test(u.sha256)) continue;
        if (u.conventions !== null && u.conventions.length === 1 && u.conventions[0] === body.id) {
          await removeStored(stored);
          db.prepare('UPDATE inbox SET destroyed_at = ? WHERE id = ?').run(Date.now(), u.id);
          destroyed.push({ what: 'container', container: u.container, direction: 'received', unopened: true });
          audit(ctx, { actor: person.id, action: 'retention.destroyed', object: u.container, detail: { convention: body.id, what: 'container', inbox: u.id, unopened: true } });
          continue;
        }
        const arrival = today(new Date(u.arrivedAt));
        const fits = u.conventions === null
          ? u.sender !== null && body.people.some((p) => p.id === u.sender) && body.start <= arrival && arrival <= lastDayOf(body)
          : u.conventions.length > 1 && u.conventions.includes(body.id);
        if (!fits) continue;
        const reason = u.conventions === null ? 'unsealed' : 'ambiguous';
        manual.push({ container: u.container, path: stored, reason });
        left.push(() => audit(ctx, { actor: person.id, action: 'retention.left', object: u.container, outcome: 'failed', detail: { convention: body.id, path: stored, reason, inbox: u.id } }));
      }
      // Every filing is checked (seal) before anything is destroyed.
      const filed = filedContainers(db, body.id, { anyState: true });
      for (const f of filed) {
        if (f.direction === 'received') {
          const row = db.prepare('SELECT id, sha256, destroyed_at FROM inbox WHERE container_id = ? AND convention_id = ?').all(f.container, body.id) as { id: number; sha256: string; destroyed_at: number | null }[];
          for (const r of row) {
            if (r.destroyed_at !== null || !/^[0-9a-f]{64}$/.test(r.sha256)) continue;
            await removeStored(path.join(pliDir(ctx, 'inbox'), `${r.sha256}.pli`));
            db.prepare('UPDATE inbox SET destroyed_at = ? WHERE id = ?').run(Date.now(), r.id);
            destroyed.push({ what: 'container', container: f.container, direction: 'received' });
            audit(ctx, { actor: person.id, action: 'retention.destroyed', object: f.container, detail: { convention: body.id, what: 'container', inbox: r.id } });
          }
        } else {
          const open = db.prepare('SELECT id FROM outbox WHERE container_id = ? AND convention_id = ? AND destroyed_at IS NULL').all(f.container, body.id) as { id: number }[];
          if (open.length === 0 || !/^[0-9a-f]{32}$/.test(f.container)) continue;
          await removeStored(path.join(pliDir(ctx, 'outbox'), `${f.container}.pli`));
          db.prepare('UPDATE outbox SET destroyed_at = ? WHERE container_id = ? AND convention_id = ?').run(Date.now(), f.container, body.id);
          if (!destroyed.some((d) => d.what === 'container' && d.container === f.container && d.direction === 'sent')) {
            destroyed.push({ what: 'container', container: f.container, direction: 'sent' });
            audit(ctx, { actor: person.id, action: 'retention.destroyed', object: f.container, detail: { convention: body.id, what: 'container', outbox: open.map((o) => o.id) } });
          }
        }
        const written = db.prepare('SELECT id, path, size, hmac FROM written_files WHERE container_id = ? AND destroyed_at IS NULL').all(f.container) as { id: number; path: string; size: number; hmac: Buffer | null }[];
        for (const w of written) {
          const kept = await destroyWritten(db, w);
          if (kept === null) {
            db.prepare('UPDATE written_files SET destroyed_at = ? WHERE id = ?').run(Date.now(), w.id);
            destroyed.push({ what: 'file', container: f.container, path: w.path });
            audit(ctx, { actor: person.id, action: 'retention.destroyed', object: f.container, detail: { convention: body.id, what: 'file', path: w.path } });
          } else {
            manual.push({ container: f.container, path: w.path, reason: kept });
            left.push(() => audit(ctx, { actor: person.id, action: 'retention.left', object: f.container, outcome: 'failed', detail: { convention: body.id, path: w.path, reason: kept } }));
          }
        }
      }
      // Nothing destroyed and the same list left as the last record said: no new record (the run
      // at each start of the app would otherwise sign the same list every day).
      const last = db.prepare('SELECT text FROM retention_records WHERE convention_id = ? ORDER BY id DESC LIMIT 1').pluck().get(body.id) as string | undefined;
      if (destroyed.length === 0 && last !== undefined && sameManual(last, manual)) continue;
      for (const event of left) event();
      const record: RetentionRecordBody = {
        v: 1, convention: body.id, conventionVersion: body.version, title: body.title, lastDay: lastDayOf(body), retentionDays: body.retentionDays,
        day, at: Date.now(),
        by: { id: person.id, name: cert.body.name, org: cert.body.org, key: unlocked.current.sigFpr.toString('base64') },
        workstation: hostname(), destroyed, manual,
      };
      const bodyText = JSON.stringify(record);
      const signature = await ed25519Sign(unlocked.current.sigSecret, signedDigest('retentionRecord', Buffer.from(bodyText, 'utf8')));
      const text = `${JSON.stringify({ pli: 'retention-record', v: 1, body: bodyText, signature: Buffer.from(signature).toString('base64') }, null, 1)}\n`;
      db.prepare('INSERT INTO retention_records (convention_id, text, made_at) VALUES (?, ?, ?)').run(body.id, text, record.at);
      results.push({ convention: body, record, text });
    }
    return results;
  } finally {
    unlocked.wipe();
  }
}

/**
 * Reads one signed record (its envelope, as stored or joined to a certificate) and checks its
 * signature with the key `keyOf` gives for its signer (null: unknown signer). Null when anything
 * fails: the callers say what that means where they are.
 */
export async function readRetentionRecord(text: string, keyOf: (by: RetentionRecordBody['by']) => Promise<Uint8Array | null>): Promise<RetentionRecordBody | null> {
  let envelope: { pli: string; v: number; body: string; signature: string };
  let body: RetentionRecordBody;
  try {
    envelope = JSON.parse(text) as typeof envelope;
    body = recordSchema().parse(JSON.parse(envelope.body));
  } catch {
    return null;
  }
  const key = await keyOf(body.by);
  if (envelope.pli !== 'retention-record' || typeof envelope.signature !== 'string' || !key
    || !(await ed25519Verify(key, signedDigest('retentionRecord', Buffer.from(envelope.body, 'utf8')), Buffer.from(envelope.signature, 'base64')))) {
    return null;
  }
  return body;
}

/**
 * The signed records of a convention's retention runs, each verified against the signer's key
 * known to this profile (for the certificate: retention-certificate.ts). A record that does not
 * verify is refused as a modified profile.
 */
export async function retentionRecords(db: DB, conventionId: string): Promise<{ body: RetentionRecordBody; text: string }[]> {
  const rows = db.prepare('SELECT text FROM retention_records WHERE convention_id = ? ORDER BY id').all(conventionId) as { text: string }[];
  const out: { body: RetentionRecordBody; text: string }[] = [];
  for (const { text } of rows) {
    const body = await readRetentionRecord(text, async (by) => {
      const keys = db.prepare("SELECT public_key FROM keys WHERE identity_id = ? AND kind = 'ed25519'").all(by.id) as { public_key: Buffer }[];
      return keys.find((k) => fingerprint('ed25519', k.public_key).toString('base64') === by.key)?.public_key ?? null;
    });
    if (!body || body.convention !== conventionId) throw profileTampered(`procès-verbal de destruction de la convention ${conventionId}`);
    out.push({ body, text });
  }
  return out;
}
