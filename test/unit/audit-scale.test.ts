// The audit log's readers at any length (issue 13: "a log of a million events"): eachEvent, the
// Journal screen's page, the signed export and its verification, `pli audit list`. Each is
// compared with what the code before it did (the references below are that code, verbatim in
// substance), on logs with rows an attacker planted with SQL: invalid UTF-8, NUL bytes, \u
// escapes, a hash of the wrong length. The time and memory they take are measured by bench/audit.mjs.
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initProfile, openProfile, type Profile } from '../../electron/core/profile/profile.js';
import { appendEvent, canonicalEvent, chainHash, eachEvent, eachEventLine, GENESIS, listEvents, type EventRow } from '../../electron/core/profile/events.js';
import { auditCsv, CSV_HEADER, exportAudit, journalPage, readExport, verifyAudit, type JournalQuery } from '../../electron/core/services/audit.js';
import { signIn } from '../../electron/core/services/session.js';
import { createIdentity, listIdentities } from '../../electron/core/profile/identities.js';
import { closeProfiles } from './helpers.js';
import { BIN, cliSandbox } from '../cli/support.js';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';

const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-audit-scale-'));
const opened: Profile[] = [];
let counter = 0;
afterAll(() => closeProfiles(opened, root));

function profile(): Profile {
  const { profile: p } = initProfile(path.join(root, `p${counter++}`));
  opened.push(p);
  return p;
}

const ACTORS = ['AAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBB', 'CCCCCCCCCCCCCCCC', null];
const ACTIONS = ['container.received', 'file.written', 'indicators.imported', 'indicators.corrected', 'audit.verified'];
const OUTCOMES = ['ok', 'refused', 'failed'] as const;

/** Plants a row as an attacker with SQL would: any bytes as its canonical form, any hash. */
function plant(p: Profile, canonical: Buffer, hash: unknown = Buffer.alloc(32, 7), at = 1_790_000_000_000): void {
  const seq = ((p.db.prepare('SELECT max(seq) FROM events').pluck().get() as number | null) ?? 0) + 1;
  p.db.prepare('INSERT INTO events (seq, at, canonical, hash) VALUES (?, ?, ?, ?)').run(seq, at, canonical, hash);
}

/** The hostile rows: each reads with JSON.parse as the old readers read it. */
function plantHostile(p: Profile): void {
  const seq = () => ((p.db.prepare('SELECT max(seq) FROM events').pluck().get() as number | null) ?? 0) + 1;
  const text = (s: string) => Buffer.from(s, 'utf8');
  // invalid UTF-8 inside the object and the detail; a NUL escaped; a \u-spelled action
  plant(p, Buffer.concat([text(`[1,${seq()},1790000000001,"AAAAAAAAAAAAAAAA","poste","file.written","objet `), Buffer.from([0xff, 0xc3]), text('","ok","{\\"a\\":\\"\\u0000\\"}"]')]));
  plant(p, text(`[1,${seq()},1790000000002,null,"poste","\\u0069ndicators.imported","w1","ok","{\\"rows\\":1}"]`));
  plant(p, text(`[1,${seq()},1790000000003,"BBBBBBBBBBBBBBBB","poste","indicators\\u002ecorrected","w2","refused",null]`));
  plant(p, Buffer.concat([text(`[1,${seq()},1790000000004,"CCCCCCCCCCCCCCCC","poste","container.received","`), Buffer.from([0xed, 0xa0, 0x80]), text('","failed",null]')]), Buffer.from('short'));
  plant(p, text(`[1,${seq()},1790000000005,"AAAAAAAAAAAAAAAA","poste","audit.verified",null,"ok",null]`), Buffer.alloc(0));
}

/** An honest log of `n` events, some old (before `since` in the queries below). */
function honest(p: Profile, n: number, rnd: () => number, from = 1_700_000_000_000): void {
  for (let i = 0; i < n; i++) {
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
    appendEvent(p.db, p.workstation, { actor: pick(ACTORS), action: pick(ACTIONS), object: `objet ${i} « é »`, outcome: pick(OUTCOMES), detail: i % 3 ? { n: i, note: 'ligne\r\nsuivante "citée"' } : null },
      from + i * 10_000);
  }
}

const PASS = 'une phrase de passe de test';
const seeded = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};

// ---- the references: what the readers did before (listEvents, whole) ----------------------------

function oldPage(p: Profile, request: JournalQuery) {
  const all = listEvents(p.db, request.since);
  const actors = [...new Set(all.map((e) => e.actor).filter((a): a is string => a !== null))];
  const actions = [...new Set(all.map((e) => e.action))].sort();
  const matching = all.filter((e) => (request.actor === undefined || e.actor === request.actor)
    && (request.action === undefined || e.action === request.action)
    && (request.outcome === undefined || e.outcome === request.outcome));
  const limit = request.limit ?? 500;
  const events = matching.slice(-limit).reverse().map(({ canonical: _c, hash: _h, ...e }) => e);
  return { events, total: matching.length, actors, actions };
}

const csvField = (value: unknown): string => {
  const text = value === null || value === undefined ? '' : String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
};

function oldCsv(p: Profile): string {
  const names = new Map(listIdentities(p.db).map((r) => [r.id, r.name]));
  const outcome: Record<string, string> = { ok: 'fait', refused: 'refusé', failed: 'échec' };
  const lines = [CSV_HEADER.map(csvField).join(';')];
  for (const e of listEvents(p.db)) {
    const hash = Buffer.isBuffer(e.hash) ? e.hash.toString('hex') : Buffer.from(String(e.hash ?? ''), 'utf8').toString('hex');
    lines.push([e.seq, new Date(e.at).toISOString(), e.actor, e.actor ? names.get(e.actor) ?? '' : '', e.workstation, e.action, e.object, outcome[e.outcome] ?? e.outcome, e.detail, hash].map(csvField).join(';'));
  }
  return `\ufeff${lines.join('\r\n')}\r\n`;
}

const fieldsOf = ({ canonical: _c, hash: _h, ...e }: EventRow) => e;

describe('eachEvent reads what listEvents reads, one event at a time', () => {
  it('the same fields and hashes, hostile rows included; since as before', () => {
    const p = profile();
    honest(p, 40, seeded(1));
    plantHostile(p);
    const hex = (h: unknown) => (Buffer.isBuffer(h) ? h.toString('hex') : Buffer.from(String(h ?? ''), 'utf8').toString('hex'));
    for (const since of [0, 1_700_000_020_000, 1_790_000_000_003, 2_000_000_000_000]) {
      const expected = listEvents(p.db, since).map((e) => ({ ...fieldsOf(e), hashHex: hex(e.hash) }));
      expect([...eachEventLine(p.db, since)]).toEqual(expected);
      expect([...eachEvent(p.db, { since })]).toEqual(expected.map(({ hashHex: _, ...e }) => e));
    }
    // the invalid bytes read as Buffer.toString reads them (U+FFFD), the escaped NUL as a NUL
    const odd = [...eachEvent(p.db)].find((e) => e.object?.startsWith('objet \ufffd'));
    expect(odd?.detail).toBe('{"a":"\u0000"}');
  });

  it('mentioning: exactly the events whose action is an indicators one, \\u-spelled included (property)', () => {
    const part = fc.constantFrom('indicators.imported', 'indicators.corrected', 'container.received', 'indicators', 'indicators.', 'Indicators.imported');
    fc.assert(fc.property(fc.array(fc.tuple(part, fc.boolean(), fc.nat(20)), { maxLength: 12 }), (rows) => {
      const p = profile();
      for (const [action, escape, at] of rows) {
        // an attacker's spelling: one character of the action as a \u escape
        const spelled = escape ? `${action.slice(0, 3)}\\u${action.charCodeAt(3).toString(16).padStart(4, '0')}${action.slice(4)}` : action;
        plant(p, Buffer.from(`[1,0,${at},null,"poste","${spelled}","o","ok",null]`, 'utf8'));
      }
      const want = listEvents(p.db).filter((e) => e.action === 'indicators.imported' || e.action === 'indicators.corrected').map((e) => e.action);
      const got = [...eachEvent(p.db, { mentioning: 'indicators.' })].map((e) => e.action).filter((a) => a === 'indicators.imported' || a === 'indicators.corrected');
      expect(got).toEqual(want);
    }), { numRuns: 60 });
  });

  it('refuses a mention the argument does not cover (a quote, a backslash, non-ASCII)', () => {
    const p = profile();
    for (const bad of ['a"b', 'a\\b', 'é', '']) expect(() => [...eachEvent(p.db, { mentioning: bad })]).toThrow(/plain ASCII/);
  });
});

describe('an event that no longer reads (bytes an attacker wrote with SQL)', () => {
  /** A log of 30 events whose 12th is not JSON any more. */
  function broken(): Profile {
    const p = profile();
    honest(p, 11, seeded(6));
    // chained as appendEvent would (the chain verifies: only reading it fails)
    const canonical = Buffer.from('[1,12,1700000110000,null,"poste","indicators.imported","w","ok",nul', 'utf8');
    const head = p.db.prepare('SELECT hash FROM events ORDER BY seq DESC LIMIT 1').pluck().get() as Buffer;
    plant(p, canonical, chainHash(head, canonical), 1_700_000_110_000);
    honest(p, 18, seeded(7), 1_700_000_120_000);
    return p;
  }
  const words = { kind: 'security', code: 'audit-unreadable', message: expect.stringMatching(/^Journal d'audit altéré : l'entrée n° 12 ne se lit plus\. .*officier SSI\.$/) };

  it('every reader stops on it with words that name it, since or mention as they were', () => {
    const p = broken();
    expect(() => journalPage(p.db, {})).toThrow(expect.objectContaining(words));
    expect(() => [...auditCsv(p.db)]).toThrow(expect.objectContaining(words));
    expect(() => [...eachEvent(p.db, { mentioning: 'indicators.' })]).toThrow(expect.objectContaining(words));
    expect(() => [...eachEvent(p.db, { since: 1_700_000_050_000 })]).toThrow(expect.objectContaining(words));
    // read from after it, the log reads (as listEvents did)
    expect([...eachEvent(p.db, { since: 1_700_000_120_000 })].length).toBe(18);
    // the connection is free again (the query was ended, not left open)
    expect(p.db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(30);
  });

  it('pli audit list stops on it (exit 2, the words on stderr), having printed every event before it', async () => {
    const p = broken();
    const child = spawn(process.execPath, [BIN, '--home', p.home, 'audit', 'list'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PLI_HOME: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const [code] = await once(child, 'exit') as [number | null];
    expect(code).toBe(2);
    expect(stderr).toMatch(/l'entrée n° 12 ne se lit plus/);
    expect(stdout.split('\n').filter((l) => l !== '').map((l) => Number(l.split('\t')[0]))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('the signed export of such a log: refused in those words, nothing left in the folder', async () => {
    const p = broken();
    const person = await createIdentity(p.db, { name: 'Rita Greffe', email: 'rita@exemple.fr', org: 'Mairie de Nancy' }, PASS, { opslimit: 1, memlimitKib: 8 });
    const dir = mkdtempSync(path.join(root, 'export-'));
    const ctx = { profile: p, unlocker: { unlock: (row: Parameters<typeof signIn>[1]) => signIn(p, row, PASS) } };
    await expect(exportAudit(ctx, person.id, path.join(dir, 'journal.csv'))).rejects.toMatchObject(words);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('an event whose `at` column was made NULL (a table rebuilt without NOT NULL)', () => {
  it('is still read by every reader of the whole log, and verify names it', async () => {
    const p = profile();
    honest(p, 20, seeded(9));
    p.db.exec(`CREATE TABLE events2 (seq INTEGER PRIMARY KEY, at INTEGER, canonical BLOB NOT NULL, hash BLOB NOT NULL) STRICT;
      INSERT INTO events2 SELECT * FROM events; DROP TABLE events; ALTER TABLE events2 RENAME TO events;
      UPDATE events SET at = NULL WHERE seq = 7;`);
    expect([...eachEvent(p.db)].map((e) => e.seq)).toContain(7);
    const indicators = [...eachEvent(p.db)].filter((e) => e.action.startsWith('indicators.')).map((e) => e.seq);
    expect([...eachEvent(p.db, { mentioning: 'indicators.' })].map((e) => e.seq)).toEqual(indicators);
    expect(listEvents(p.db)).toHaveLength(20);
    expect(journalPage(p.db, {}).total).toBe(20);
    expect([...eachEventLine(p.db)]).toHaveLength(20);
    // verify: the row is named (before: `at` NULL made its check NULL, and the log « intact »)
    expect(await verifyAudit(p.db)).toMatchObject({ ok: false, firstBad: { seq: 7 } });
  });
});

describe('the events table rebuilt so that its numbers are no longer its rowids', () => {
  // Rows without a number sort first: 4,096 of them once made a reader by number stop after them,
  // and verify (which counts numbers 1..N) say « intact » (a review's reproduction).
  for (const [what, columns] of [
    ['a plain INTEGER column (rows without a number, twice the same number)', 'seq INTEGER, at INTEGER, canonical BLOB, hash BLOB'],
    ['a WITHOUT ROWID table', 'seq INTEGER PRIMARY KEY, at INTEGER, canonical BLOB, hash BLOB) WITHOUT ROWID; --'],
    ['PRIMARY KEY DESC (no rowid alias)', 'seq INTEGER PRIMARY KEY DESC, at INTEGER, canonical BLOB, hash BLOB'],
  ] as const) {
    it(`${what}: the profile is refused at opening`, () => {
      const home = path.join(root, `p${counter++}`);
      const { profile: p } = initProfile(home);
      honest(p, 5, seeded(11));
      p.db.exec(`CREATE TABLE events2 (${columns});
        INSERT INTO events2 SELECT * FROM events; DROP TABLE events; ALTER TABLE events2 RENAME TO events;`);
      if (what.startsWith('a plain')) p.db.exec('INSERT INTO events VALUES (NULL, 1, CAST(\'[1,0,1,null,"p","x","o","ok",null]\' AS BLOB), zeroblob(32)), (3, 1, CAST(\'[1,3,1,null,"p","x","o","ok",null]\' AS BLOB), zeroblob(32))');
      p.close();
      expect(() => openProfile(home)).toThrow(expect.objectContaining({ kind: 'security', code: 'audit-rebuilt', message: expect.stringMatching(/refait hors de Pli.*officier SSI/) }));
    });
  }

  it('a view named events over Pli-shaped rows and hidden rows without a number (a review\'s reproduction): refused', () => {
    const home = path.join(root, `p${counter++}`);
    const { profile: p } = initProfile(home);
    honest(p, 5, seeded(13));
    p.db.exec(`CREATE TABLE ev (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, canonical BLOB NOT NULL, hash BLOB NOT NULL) STRICT;
      INSERT INTO ev SELECT * FROM events; DROP TABLE events;
      CREATE TABLE hidden (at INTEGER, canonical BLOB, hash BLOB);
      INSERT INTO hidden VALUES (1, CAST('[1,0,1,null,"p","x","o","ok",null]' AS BLOB), zeroblob(32));
      CREATE VIEW events AS SELECT seq, at, canonical, hash FROM ev UNION ALL SELECT NULL, at, canonical, hash FROM hidden;`);
    p.close();
    expect(() => openProfile(home)).toThrow(expect.objectContaining({ code: 'audit-rebuilt' }));
  });

  it('the table as Pli makes it, rebuilt the same way (STRICT, seq INTEGER PRIMARY KEY), with an index and ANALYZE: opened', () => {
    const home = path.join(root, `p${counter++}`);
    const { profile: p } = initProfile(home);
    honest(p, 5, seeded(12));
    p.db.exec(`CREATE TABLE events2 (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, canonical BLOB NOT NULL, hash BLOB NOT NULL) STRICT;
      INSERT INTO events2 SELECT * FROM events; DROP TABLE events; ALTER TABLE events2 RENAME TO events;
      CREATE INDEX events_seq_again ON events(seq, at); ANALYZE;`);
    p.close();
    const again = openProfile(home);
    opened.push(again);
    expect([...eachEvent(again.db)]).toHaveLength(5);
  });
});

describe('a database rebuilt in UTF-16 (the sqlite3 tool: .dump, then PRAGMA encoding)', () => {
  it('is refused at opening, in words that say so: the log\'s bytes would no longer be read as written', () => {
    const home = path.join(root, `p${counter++}`);
    const { profile: p } = initProfile(home);
    honest(p, 5, seeded(10));
    const version = p.db.pragma('user_version', { simple: true }) as number;
    p.close();
    const file = path.join(home, 'profile.sqlite');
    const dump = execFileSync('sqlite3', [file, '.dump']);
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
    execFileSync('sqlite3', [`${file}.new`], { input: Buffer.concat([Buffer.from("PRAGMA encoding='UTF-16le';\n"), dump, Buffer.from(`\nPRAGMA user_version=${version};\n`)]) });
    renameSync(`${file}.new`, file);
    chmodSync(file, 0o600);
    expect(() => openProfile(home)).toThrow(expect.objectContaining({ kind: 'security', code: 'profile-encoding', message: expect.stringMatching(/refaite hors de Pli.*officier SSI/) }));
  });
});

describe('journalPage: the page the Journal screen showed, in one pass', () => {
  it('equals the old page for every filter, limit and since (hostile rows included)', () => {
    const p = profile();
    honest(p, 120, seeded(2));
    plantHostile(p);
    const queries: JournalQuery[] = [];
    for (const limit of [undefined, 1, 2, 7, 119, 125, 500, 10_000]) {
      for (const since of [undefined, 1_700_000_050_000]) {
        queries.push({ limit, since });
        for (const actor of ACTORS) if (actor) queries.push({ limit, since, actor });
        for (const action of [...ACTIONS, 'indicators.imported']) queries.push({ limit, since, action });
        for (const outcome of OUTCOMES) queries.push({ limit, since, outcome, action: 'file.written' });
      }
    }
    for (const q of queries) {
      const query = Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as JournalQuery;
      expect(journalPage(p.db, query), JSON.stringify(query)).toEqual(oldPage(p, query));
    }
  });

  it('an empty log, and a limit equal to the matches', () => {
    const p = profile();
    expect(journalPage(p.db, {})).toEqual({ events: [], total: 0, actors: [], actions: [] });
    honest(p, 10, seeded(3));
    expect(journalPage(p.db, { limit: 10 })).toEqual(oldPage(p, { limit: 10 }));
    expect(journalPage(p.db, { limit: 10 }).events.map((e) => e.seq)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });
});

describe('the signed export, made and checked in pieces', () => {
  it('auditCsv gives the old text, in pieces of about 64 KiB, with its hash and its number of events', () => {
    const p = profile();
    honest(p, 1500, seeded(4));
    plantHostile(p);
    let done: { hash: Buffer; events: number } | null = null;
    const pieces = [...auditCsv(p.db, (hash, events) => (done = { hash, events }))];
    const whole = Buffer.concat(pieces);
    expect(whole.toString('utf8')).toBe(oldCsv(p));
    expect(pieces.length).toBeGreaterThan(2);
    for (const piece of pieces.slice(0, -1)) expect(piece.length).toBeLessThan(65536 + 4096);
    expect(done).toEqual({ hash: createHash('sha256').update(whole).digest(), events: 1505 });
  });

  /** The start of the last non-empty line, as the old check cut it (whole text, split on CRLF). */
  const oldLastLine = (bytes: Buffer): string | undefined => bytes.toString('latin1').split('\r\n').filter((l) => l !== '').at(-1)?.slice(0, 4096);

  it('readExport: the same hash and last line as the whole file, wherever its pieces cut (property)', () => {
    const file = path.join(root, 'export.csv');
    const unit = fc.constantFrom('\r', '\n', '\r\n', 'a', '"1";"2026-01-02T03:04:05.000Z";', 'x'.repeat(50));
    fc.assert(fc.property(fc.array(unit, { maxLength: 40 }), fc.integer({ min: 1, max: 9 }), (units, pieceSize) => {
      const bytes = Buffer.from(units.join(''), 'latin1');
      writeFileSync(file, bytes);
      const { hash, lastLine } = readExport(file, pieceSize);
      expect(hash).toEqual(createHash('sha256').update(bytes).digest());
      expect(lastLine?.toString('latin1')).toBe(oldLastLine(bytes));
    }), { numRuns: 400 });
  });

  it('readExport keeps 4 KiB of a long last line, and reads a file larger than its pieces', () => {
    const file = path.join(root, 'long.csv');
    const long = `"9";"2026-05-06T07:08:09.000Z";${'y'.repeat(3 << 20)}`;
    writeFileSync(file, `"1";"2025-01-01T00:00:00.000Z";\r\n${long}\r\n\r\n`);
    const { lastLine, hash } = readExport(file);
    expect(lastLine?.toString('utf8')).toBe(long.slice(0, 4096));
    expect(hash).toEqual(createHash('sha256').update(readFileSync(file)).digest());
  });
});

describe('pli audit list, printed as it is read', () => {
  const cli = cliSandbox('pli-audit-scale-cli-', PASS);
  afterAll(() => rmSync(cli.root, { recursive: true, force: true }));

  it('--json prints what JSON.stringify(list, null, 2) printed; the text form one line per event', async () => {
    const { profile: p } = initProfile(cli.at('h'));
    opened.push(p);
    const empty = await cli.pli('h', ['audit', 'list', '--json']);
    expect(empty.stdout).toBe('[]\n');
    honest(p, 2000, seeded(5)); // more than one 64 KiB piece
    const names = new Map(listIdentities(p.db).map((r) => [r.id, r.name]));
    const rows = listEvents(p.db);
    const expected = JSON.stringify(rows.map((e) => ({
      seq: e.seq, at: new Date(e.at).toISOString(), actor: e.actor, actorName: e.actor ? names.get(e.actor) ?? null : null,
      workstation: e.workstation, action: e.action, object: e.object, outcome: e.outcome, detail: e.detail ? JSON.parse(e.detail) as unknown : null,
    })), null, 2);
    const run = await cli.pli('h', ['audit', 'list', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${expected}\n`);
    const text = await cli.pli('h', ['audit', 'list', '--since', '2023-11-15']);
    const since = rows.filter((e) => e.at >= Date.parse('2023-11-15T00:00:00Z'));
    expect(since.length).toBeGreaterThan(0);
    expect(since.length).toBeLessThan(rows.length);
    expect(text.stdout.split('\n').filter((l) => l !== '').map((l) => Number(l.split('\t')[0]))).toEqual(since.map((e) => e.seq));
  });
});

describe('a signed export stopped half-way (the process killed)', () => {
  const cli = cliSandbox('pli-audit-scale-kill-', PASS);
  afterAll(() => rmSync(cli.root, { recursive: true, force: true }));

  it('leaves FILE.csv.tmp, never a FILE.csv without its signature; the name is refused until it is removed', async () => {
    const id = await cli.person('K', 'Karim Export', 'karim@exemple.fr', 'Mairie de Nancy');
    // 300,000 more events, chained as appendEvent would: the export then takes about a second.
    const db = new Database(cli.at(path.join('K', 'profile.sqlite')));
    const head = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: Buffer };
    const insert = db.prepare('INSERT INTO events (seq, at, canonical, hash) VALUES (?, ?, ?, ?)');
    let previous: Buffer = head.hash;
    db.transaction(() => {
      for (let seq = head.seq + 1; seq <= head.seq + 300_000; seq++) {
        const at = Date.now();
        const canonical = canonicalEvent({ seq, at, actor: id, workstation: 'poste', action: 'file.written', object: `objet ${seq}`, outcome: 'ok', detail: null });
        previous = chainHash(previous, canonical);
        insert.run(seq, at, canonical, previous);
      }
    })();
    db.close();
    const out = cli.at('exports');
    mkdirSync(out);
    const csv = path.join(out, 'journal.csv');
    const child = spawn(process.execPath, [BIN, '--home', cli.at('K'), 'audit', 'export', '--as', id, '--out', csv], { stdio: 'ignore', env: { ...process.env, PLI_PASSPHRASE: PASS, PLI_HOME: '' } });
    const exited = once(child, 'exit');
    // Killed as soon as the CSV has bytes on the disk.
    for (let until = Date.now() + 30_000; !(existsSync(`${csv}.tmp`) && statSync(`${csv}.tmp`).size > 0);) {
      if (Date.now() > until) throw new Error('no CSV written in 30 s');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    child.kill('SIGKILL');
    await exited;
    expect(readdirSync(out)).toEqual(['journal.csv.tmp']);
    // The same name again: refused, naming what is in the way; another name: the export, whole.
    const again = await cli.pli('K', ['audit', 'export', '--as', id, '--out', csv]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/journal\.csv\.tmp existe déjà/);
    await cli.ok('K', ['audit', 'export', '--as', id, '--out', path.join(out, 'journal-2.csv')]);
    expect(readdirSync(out).sort()).toEqual(['journal-2.csv', 'journal-2.csv.sig', 'journal.csv.tmp']);
    await cli.ok('K', ['audit', 'verify-export', path.join(out, 'journal-2.csv')]);
  }, 120_000);
});

describe('pli audit list into a pipe whose reader goes away (`| head`)', () => {
  it('ends quietly: exit 0, nothing on stderr, having printed what was read', async () => {
    const home = path.join(root, `p${counter++}`);
    const { profile: p } = initProfile(home);
    opened.push(p);
    honest(p, 4000, seeded(8)); // about 600 KB: more than a pipe holds
    const child = spawn(process.execPath, [BIN, '--home', home, 'audit', 'list'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PLI_HOME: '' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const firstLine = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString('utf8').split('\n')[0]!)));
    child.stdout.destroy(); // as `head -1` exits
    const [code] = await once(child, 'exit') as [number | null];
    expect(firstLine).toMatch(/^1\t/);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });
});

// chainHash, canonicalEvent and GENESIS: a log built by hand reads the same as appendEvent's
it('a log of events written by hand in the canonical form reads back field for field', () => {
  const p = profile();
  let previous: Buffer = GENESIS;
  for (let seq = 1; seq <= 3; seq++) {
    const e = { seq, at: 1_790_000_000_000 + seq, actor: null, workstation: 'poste', action: 'file.written', object: `o${seq}`, outcome: 'ok' as const, detail: null };
    const canonical = canonicalEvent(e);
    previous = chainHash(previous, canonical);
    plant(p, canonical, previous, e.at);
  }
  expect([...eachEvent(p.db)]).toEqual(listEvents(p.db).map(fieldsOf));
  expect([...eachEventLine(p.db)].map((e) => e.hashHex)).toEqual(listEvents(p.db).map((e) => e.hash.toString('hex')));
});
