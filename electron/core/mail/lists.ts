// What the inbox and outbox rows need to be recognised (issue 15, "recognisable containers"),
// beyond their own columns, and the late periods of their banners (issue 14 section 6). Reads only.
//
// - The subject, convention, period and documents come from the row's filing (convention-filing.ts
//   rowFiling): an outbox row's is written when it is sealed; an inbox row's only when it is opened,
//   because the manifest is inside the encryption. Before the opening nothing is guessed (never
//   from a file name): the row is « pas encore ouvert ».
// - Who opened a received container, and the names and sizes of the files written, come from the
//   audit log's own events (`container.opened`, `file.written`), read in a short window before the
//   row's opening time through the log's time index; who a container was sealed for, from its
//   `container.sealed` event. The log is what docs/audit.md records already: no new copy of a name.
// - The receipts of a container sent from here: the checked ones of `receiptsFor` (convention.ts).
// - The names and sizes of the files of a container sent from here: sealed in its outbox row at send
//   time (sent-files.ts), read back only with the session's key; a value that does not decrypt
//   under the row's identity is « illisible » on that row alone.
//
// The attacker of docs/profile.md can write every row read here. Invariants held here: a filing
// is shown only when its seal verifies (an unsealed one, planted with SQL, is not shown; a broken
// seal is reported as `tampered` on its row alone, so one bad row never hides the list); the
// events are decoded from the bytes the audit chain covers (`pli audit verify` finds a rewrite);
// every name is looked up in the directory from an id, never taken from the row.
import path from 'node:path';
import type { DB } from '../profile/profile.js';
import { decodeEvent, type EventRow } from '../profile/events.js';
import { getIdentity } from '../profile/identities.js';
import { rowFiling, filedContainers, type Filing } from '../authority/convention-filing.js';
import { dueAt, receiptsFor } from '../authority/convention.js';
import { storedConventions, today } from '../authority/convention-object.js';
import { PliError } from '../errors.js';
import type { InboxRow } from './inbox.js';
import type { OutboxRow } from './outbox.js';
import { sentFilesOf, type SentFiles } from './sent-files.js';

/** How long before a row's opening (or queueing) time its events are looked for: an opening
 * writes `container.opened` and its `file.written` events, then the row's time. */
export const EVENT_WINDOW_MS = 10 * 60_000;

export interface ListPerson { id: string; name: string | null; org: string | null }
export type ListFiling =
  | { state: 'unopened' }
  | { state: 'none' }
  | { state: 'filed'; convention: string; title: string | null; period: string; documents: string[]; subject: string | null }
  | { state: 'tampered' };
export interface InboxDetails { id: number; filing: ListFiling; openedBy: ListPerson | null; files: { name: string; size: number }[] }
export interface OutboxDetails {
  container: string;
  /** NULL: a container of files; else the Pli object it carries ('receipt', 'directory'), sent by Pli itself. */
  object: string | null;
  filing: ListFiling; recipients: ListPerson[];
  /** How many files were sealed (the log keeps no names of files sent); null when unknown. */
  files: number | null;
  /** Their names and sizes, kept sealed in the row (migration 16): `none` for a row sent before it. */
  names: SentFiles;
  receipts: { kind: 'delivered' | 'opened'; at: number; by: ListPerson; org: string }[];
}

const person = (db: DB, id: string): ListPerson => {
  const row = getIdentity(db, id);
  return { id, name: row?.name ?? null, org: row?.org ?? null };
};

/** The events written between `from` and `to` (ms), decoded from their chained bytes. */
function eventsBetween(db: DB, from: number, to: number): EventRow[] {
  const rows = db.prepare('SELECT canonical, hash FROM events WHERE at BETWEEN ? AND ? ORDER BY seq').raw().all(from, to) as [Buffer, Buffer][];
  return rows.flatMap(([canonical, hash]) => {
    try {
      return [decodeEvent(canonical, hash)];
    } catch {
      return []; // bytes that are no event: `audit verify` reports them; the list shows nothing from them
    }
  });
}

const detailOf = (event: EventRow): Record<string, unknown> => {
  try {
    const value = JSON.parse(event.detail ?? 'null') as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : {};
  } catch {
    return {};
  }
};

/** The conventions' titles by id (none when the stored conventions cannot be read). */
async function titles(db: DB): Promise<Map<string, string>> {
  try {
    return new Map((await storedConventions(db)).map(({ body }) => [body.id, body.title]));
  } catch {
    return new Map();
  }
}

function listFiling(db: DB, table: 'inbox' | 'outbox', id: number, names: Map<string, string>): ListFiling {
  let read: { filed: boolean; filing: Filing | null };
  try {
    read = rowFiling(db, table, id);
  } catch (error) {
    if (error instanceof PliError && error.code === 'profile-tampered') return { state: 'tampered' };
    throw error;
  }
  if (!read.filed) return { state: 'unopened' };
  if (!read.filing) return { state: 'none' };
  const f = read.filing;
  return { state: 'filed', convention: f.convention, title: names.get(f.convention) ?? null, period: f.period, documents: f.documents, subject: f.subject };
}

/** The details of received rows: filing, who opened it, the files written (names and sizes). */
export async function inboxDetails(db: DB, rows: readonly InboxRow[]): Promise<InboxDetails[]> {
  const names = await titles(db);
  return rows.map((row) => {
    let filing: ListFiling = row.state === 'refused' ? { state: 'unopened' } : listFiling(db, 'inbox', row.id, names);
    // Opened, yet no filing that counts (opened by a Pli older than the filing, or a filing planted
    // without its seal): no subject, no period to show; never « not yet opened » for an opened row.
    if (row.state === 'opened' && filing.state === 'unopened') filing = { state: 'none' };
    let openedBy: ListPerson | null = null;
    let files: { name: string; size: number }[] = [];
    if (row.state === 'opened' && row.container_id && typeof row.opened_at === 'number') {
      const events = eventsBetween(db, row.opened_at - EVENT_WINDOW_MS, row.opened_at).filter((e) => e.object === row.container_id);
      // The last opening of this container before the row's time, and the files it wrote.
      const opening = events.filter((e) => e.action === 'container.opened' && e.outcome === 'ok').pop();
      if (opening) {
        if (opening.actor) openedBy = person(db, opening.actor);
        files = events.filter((e) => e.action === 'file.written' && e.seq > opening.seq).flatMap((e) => {
          const { path: written, size } = detailOf(e);
          return typeof written === 'string' && typeof size === 'number' ? [{ name: path.basename(written.replace(/\\/g, '/')), size }] : [];
        });
      }
    }
    return { id: row.id, filing, openedBy, files };
  });
}

/** The details of each container sent from here (one per container, whatever its destinations). */
export async function outboxDetails(db: DB, rows: readonly OutboxRow[]): Promise<OutboxDetails[]> {
  const names = await titles(db);
  const out = new Map<string, OutboxDetails>();
  for (const row of rows) {
    if (out.has(row.container_id)) continue;
    if (row.object_kind) {
      out.set(row.container_id, { container: row.container_id, object: row.object_kind, filing: { state: 'none' }, recipients: [], files: null, names: { state: 'none' }, receipts: [] });
      continue;
    }
    const sealed = eventsBetween(db, row.queued_at - EVENT_WINDOW_MS, row.queued_at)
      .filter((e) => e.action === 'container.sealed' && e.outcome === 'ok' && e.object === row.container_id).pop();
    const detail = sealed ? detailOf(sealed) : {};
    const ids = Array.isArray(detail.recipients) ? detail.recipients.filter((r): r is string => typeof r === 'string') : [];
    // The sender's own copy is no recipient a person needs to read.
    const recipients = ids.filter((id) => getIdentity(db, id)?.own !== 1).map((id) => person(db, id));
    out.set(row.container_id, {
      container: row.container_id, object: null, filing: listFiling(db, 'outbox', row.id, names), recipients,
      files: typeof detail.files === 'number' ? detail.files : null,
      names: sentFilesOf(db, row),
      receipts: receiptsFor(db, row.container_id).map((r) => ({ kind: r.kind, at: r.at, by: person(db, r.by), org: r.org })),
    });
  }
  return [...out.values()];
}

/** One period of one convention past its due day with nothing sent nor received here. */
export interface LatePeriod { convention: string; title: string; period: string; documents: string[]; due: string }

/**
 * The late periods of the active conventions on the day `at`, as the calendar computes them
 * (`dueAt`, docs/convention.md 6), for the banners of the inbox (nothing received) and of the
 * outbox (nothing sent), most recent first. The convention does not say which party sends: a
 * workstation that has sent under a convention is its sending side (no inbox banner), one that
 * has received under it its receiving side (no outbox banner); one that has done neither sees both.
 */
export async function latePeriods(db: DB, at: string = today()): Promise<{ inbox: LatePeriod[]; outbox: LatePeriod[] }> {
  const active = new Set((await storedConventions(db)).filter(({ body }) => body.status.state === 'active').map(({ body }) => body.id));
  const lines = new Map<string, LatePeriod>();
  for (const item of await dueAt(db, at)) {
    if (item.state !== 'late' || !active.has(item.convention)) continue;
    const key = `${item.convention}|${item.period}`;
    const line = lines.get(key) ?? { convention: item.convention, title: item.title, period: item.period, documents: [], due: item.due };
    line.documents.push(item.document);
    lines.set(key, line);
  }
  const sorted = [...lines.values()].sort((a, b) => b.due.localeCompare(a.due) || a.title.localeCompare(b.title));
  const filed = filedContainers(db, undefined, { anyState: true });
  const did = (convention: string, direction: 'sent' | 'received') => filed.some((f) => f.convention === convention && f.direction === direction);
  return {
    inbox: sorted.filter((l) => !did(l.convention, 'sent')),
    outbox: sorted.filter((l) => !did(l.convention, 'received')),
  };
}
