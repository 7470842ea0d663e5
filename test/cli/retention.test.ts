// The end of a convention through the real `pli` binary (issue 14 sections 4, 5 and 7;
// docs/convention.md 8, docs/objects.md 3.3): the CPN of Arras (P: the statistics clerk and the
// head of the crime unit) sends the town hall of Saint-Laurent-Blangy (T: the general services
// director, a trainee) three containers over the folder transport; one is opened, two are never
// opened. Then:
// - the partner's audit anchors kept from the town hall's receipts verify against the town hall's
//   log (`receipts anchors`, `audit verify --anchor`), and no longer after its history is cut;
// - containers never opened are tied at reception to their signer's one convention and destroyed
//   with it; one whose signer is in two conventions is listed « à détruire à la main »; the
//   attacker of docs/profile.md re-tying or untying a row with better-sqlite3 loses;
// - the retention at sign-in of the desktop app (electron/ipc/session.ts, in process) runs the
//   same core function, once a day, and says what it did;
// - the signed certificate (PDF + .sig) is read back with pdftotext, rendered with pdftoppm, and
//   checked: a flipped byte in the PDF or in the signature, or a signature by someone else, is
//   refused (exit 2).
// Needs `npm run build`.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openProfile } from '../../electron/core/profile/profile.js';
import { getIdentity, unlockIdentity } from '../../electron/core/profile/identities.js';
import { ed25519Sign } from '../../electron/core/crypto/keys.js';
import { signedDigest } from '../../electron/core/crypto/primitives.js';
import { createSession } from '../../electron/ipc/session.js';
import { cliSandbox, conventionSetUp, CPN, daysAfter, noonAfter, PIN_DAY, pinClock, repinClock, slbConventionArgs, TOWN, unpinClock } from './support.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-retention-', PASS);
const { root, at, pli, ok, refused } = cli;
afterAll(() => rmSync(root, { recursive: true, force: true }));
// One day for the test process and its `pli` children, inside both conventions, whatever the day the tests run.
beforeAll(() => pinClock(PIN_DAY));
afterAll(() => unpinClock());

const ARTIFACTS = path.resolve(import.meta.dirname, '../artifacts');
const ids = { officer: '', clerk: '', chef: '', dgs: '', stagiaire: '' };
const sent = { c1: '', c2: '', c3: '' };
const inboxIds = { c1: 0, c2: 0, c3: 0 };
let conventionA = '';
let conventionB = '';
// The workstation's day, as Pli reads it: the pinned one; « n days later » is noon of that day + n
// (daysAfter), not n × 24 h from whenever it runs.
const today = PIN_DAY;

const run = (tool: string, ...args: string[]) => execFileSync(tool, args, { encoding: 'utf8' });
const flatText = (file: string) => run('pdftotext', file, '-').replace(/\s+/g, ' ').replace(/(\p{L})- (?=\p{L})/gu, '$1-');

function copyOf(from: string, name: string): string {
  rmSync(at(name), { recursive: true, force: true });
  cpSync(at(from), at(name), { recursive: true });
  return path.join(at(name), 'profile.sqlite');
}

interface InboxJson { id: number; containerId: string; sha256: string; state: string }
const inbox = async (home: string): Promise<InboxJson[]> => JSON.parse((await pli(home, ['inbox', '--json'])).stdout) as InboxJson[];
const storedFile = (home: string, sha256: string) => path.join(at(home), 'inbox', `${sha256}.pli`);

/** Sends FILE from P under convention A, then T takes the folder: returns the container id and T's row. */
async function sendAndReceive(as: 'clerk' | 'chef', period: string, doc: string, file: string): Promise<{ container: string; row: InboxJson }> {
  await ok('P', ['send', '--as', ids[as], '--convention', conventionA, '--period', period, '--doc', doc, '--folder', at('usb'), at(file)]);
  const outbox = JSON.parse((await pli('P', ['outbox', '--json'])).stdout) as { container_id: string }[];
  const container = outbox[outbox.length - 1]!.container_id;
  await ok('T', ['receive', '--folder', at('usb'), '--as', ids.dgs]);
  const row = (await inbox('T')).find((r) => r.containerId === container)!;
  expect(row.state).toBe('verified');
  return { container, row };
}

beforeAll(async () => {
  const setUp = conventionSetUp(cli, PASS);
  ids.officer = await setUp.start(['P', 'T']);
  for (const [key, name, org, role, home] of [['clerk', 'Paul Lefebvre', CPN, 'operator', 'P'], ['chef', 'Nadia Roche', CPN, 'operator', 'P'], ['dgs', 'Claire Dumont', TOWN, 'operator', 'T'], ['stagiaire', 'Léa Roux', TOWN, 'reader', 'T']] as const) {
    ids[key] = await setUp.provision(key, name, org, role, home);
  }
  const parties = ['--party', `${CPN}=cpn-arras@interieur.gouv.fr`, '--party', `${TOWN}=mairie@saint-laurent-blangy.fr`];
  conventionA = await ok('O', slbConventionArgs([
    [ids.clerk, 'Agent de la cellule statistique'], [ids.chef, "Cheffe de l'unité de sécurité de proximité"],
    [ids.dgs, 'Directrice générale des services'], [ids.stagiaire, 'Stagiaire des affaires générales'],
  ]));
  // A second convention between the same parties: the head of unit and the director are on both lists.
  conventionB = await ok('O', [
    'convention', 'new', '--title', 'Convention Saint-Laurent-Blangy — vidéoprotection', ...parties,
    '--person', `${ids.chef}=Cheffe de l'unité de sécurité de proximité`, '--person', `${ids.dgs}=Directrice générale des services`,
    // Renewable as A is (until 2029): with two years and no renewal it ended on 2027-12-31 and, from 2028, the ties below lost it.
    '--types', '.pdf', '--schedule', 'monthly:8', '--expect', 'Bilan', '--start', '2026-01-01', '--years', '2', '--renew-max', '4',
  ]);
  await setUp.distribute(['P', 'T']);
  writeFileSync(at('IS101_T4_2026.xls'), 'Homicides;0\r\n');
  writeFileSync(at('IST_T3_2026.csv'), 'Atteintes aux biens;31\r\n');
  writeFileSync(at('IS101_T2_2026.xls'), 'Homicides;1\r\n');

  // c1: opened by the director; c2 (the clerk, on list A only) and c3 (the head of unit, on A and B): never opened.
  const c1 = await sendAndReceive('clerk', '2026-T4', 'IS 101', 'IS101_T4_2026.xls');
  await ok('T', ['open', String(c1.row.id), '--as', ids.dgs, '--out', at('ouverts')]);
  const c2 = await sendAndReceive('clerk', '2026-T3', 'IST', 'IST_T3_2026.csv');
  const c3 = await sendAndReceive('chef', '2026-T2', 'IS 101', 'IS101_T2_2026.xls');
  Object.assign(sent, { c1: c1.container, c2: c2.container, c3: c3.container });
  Object.assign(inboxIds, { c1: c1.row.id, c2: c2.row.id, c3: c3.row.id });
  // The CPN takes the town hall's delivery receipts (each carries the town hall's signed audit anchor).
  await ok('P', ['receive', '--folder', at('usb'), '--as', ids.clerk]);
}, 300_000);

describe('the town hall\'s audit anchors kept by the police (pli receipts anchors)', () => {
  it('are written as files `audit verify --anchor` reads, and the town hall\'s log verifies against them', async () => {
    const r = await pli('P', ['receipts', 'anchors', '--from', TOWN, '--out', at('ancres')]);
    expect(r.code, r.stderr).toBe(0);
    const files = r.stdout.trim().split('\n');
    expect(files.length).toBeGreaterThanOrEqual(3); // one per delivery receipt at least
    expect(readdirSync(at('ancres')).sort()).toEqual(files.map((f) => path.basename(f)).sort());
    expect(files.every((f) => path.basename(f).startsWith(`ancre-${ids.dgs}-`))).toBe(true);
    // The same by the person's id; and nothing from an organisation that sent none.
    expect((await pli('P', ['receipts', 'anchors', '--from', ids.dgs, '--out', at('ancres-id'), '--json'])).code).toBe(0);
    await refused(1, 'P', ['receipts', 'anchors', '--from', 'Mairie de Ludres', '--out', at('ancres-ludres')], /Aucune ancre de journal gardée pour Mairie de Ludres/);
    // Never over a file already there.
    await refused(1, 'P', ['receipts', 'anchors', '--from', TOWN, '--out', at('ancres')], /existe déjà/);

    const verify = await pli('T', ['audit', 'verify', ...files.flatMap((f) => ['--anchor', f])]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain('Ancres retrouvées dans le journal');
    expect(verify.stdout).toContain('Claire Dumont');
  });

  it('after the attacker cuts the town hall\'s history back (better-sqlite3, triggers dropped), the anchors fail it', async () => {
    const files = readdirSync(at('ancres')).map((f) => path.join(at('ancres'), f));
    const last = Math.max(...files.map((f) => (JSON.parse(readFileSync(f, 'utf8')) as { seq: number }).seq));
    const raw = new Database(copyOf('T', 'T-cut'));
    raw.exec(`DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete; DROP TRIGGER IF EXISTS events_no_replace;
      DROP TRIGGER IF EXISTS checkpoints_no_update; DROP TRIGGER IF EXISTS checkpoints_no_delete; DROP TRIGGER IF EXISTS checkpoints_no_replace;`);
    // Everything from the last anchored entry on is removed, with the checkpoints over it: what is
    // left is a chain that holds on its own.
    raw.prepare('DELETE FROM events WHERE seq >= ?').run(last);
    raw.prepare('DELETE FROM audit_checkpoints WHERE seq >= ?').run(last);
    raw.close();
    const alone = await pli('T-cut', ['audit', 'verify']);
    expect(alone.code, alone.stderr).toBe(0); // without the anchors, the cut does not show
    const r = await refused(2, 'T-cut', ['audit', 'verify', ...files.flatMap((f) => ['--anchor', f])], /Journal d'audit altéré/);
    expect(r.stderr).toMatch(/ancrée par Claire Dumont|manquante/);
  });

  it('an anchor edited in the police\'s database is never handed on as the partner\'s word', async () => {
    const raw = new Database(copyOf('P', 'P-anchor'));
    const rows = raw.prepare("SELECT id, text FROM receipts WHERE anchor_seq IS NOT NULL").all() as { id: number; text: string }[];
    // The anchor's head hash changed inside the stored receipt text (the receipt's own signature is not re-checked by the attacker).
    for (const row of rows) raw.prepare('UPDATE receipts SET text = ? WHERE id = ?').run(row.text.replace(/hash\\+":\\+"([0-9a-f])/, (m, c: string) => m.slice(0, -1) + (c === '0' ? '1' : '0')), row.id);
    raw.close();
    const r = await refused(1, 'P-anchor', ['receipts', 'anchors', '--from', TOWN, '--out', at('ancres-P-anchor')], /Aucune ancre/);
    expect(r.stderr).toMatch(/(?:1 ancre mise|\d+ ancres mises) de côté/);
  });
});

describe('containers never opened: tied at reception', () => {
  it('the clerk\'s is tied to convention A alone; the head of unit\'s to A and B; sealed', () => {
    const raw = new Database(path.join(at('T'), 'profile.sqlite'), { readonly: true });
    try {
      const tie = (id: number) => raw.prepare('SELECT tie, tie_mac FROM inbox WHERE id = ?').get(id) as { tie: string; tie_mac: Buffer | null };
      expect(JSON.parse(tie(inboxIds.c2).tie)).toEqual([conventionA]);
      expect(JSON.parse(tie(inboxIds.c3).tie)).toEqual([conventionA, conventionB].sort());
      expect(tie(inboxIds.c2).tie_mac).toBeInstanceOf(Buffer);
    } finally {
      raw.close();
    }
  });

  it('terminated today: the run 15 days later (a copy) destroys the opened and the tied one, and lists the ambiguous one', async () => {
    await ok('O', ['convention', 'terminate', conventionA, '--date', today, '--reason', 'Fin du partenariat']);
    await ok('O', ['directory', 'export', '--out', at('d2.json')]);
    await ok('T', ['directory', 'import', at('d2.json'), '--as', ids.dgs]);
    await ok('P', ['directory', 'import', at('d2.json'), '--as', ids.clerk]);
    copyOf('T', 'T-before'); // for the attacker and the desktop session below

    const rows = await inbox('T');
    const file = (key: keyof typeof sent) => storedFile('T', rows.find((r) => r.containerId === sent[key])!.sha256);
    expect([file('c1'), file('c2'), file('c3')].every((f) => existsSync(f))).toBe(true);
    const r = await pli('T', ['retention', 'run', '--as', ids.dgs], { offsetMs: daysAfter(today, 15) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('2 plis et 1 fichier détruits.');
    expect(r.stdout).toContain(`à détruire à la main : ${file('c3')} (pli jamais ouvert, venu d'une personne habilitée de plusieurs conventions)`);
    expect(existsSync(file('c1'))).toBe(false);
    expect(existsSync(file('c2'))).toBe(false);
    expect(existsSync(file('c3'))).toBe(true);
    expect(existsSync(at('ouverts/IS101_T4_2026.xls'))).toBe(false);
    const events = JSON.parse((await pli('T', ['audit', 'list', '--json'])).stdout) as { action: string; object: string; detail: { unopened?: boolean; reason?: string } }[];
    expect(events.filter((e) => e.action === 'retention.destroyed' && e.detail.unopened).map((e) => e.object)).toEqual([sent.c2]);
    expect(events.filter((e) => e.action === 'retention.left').map((e) => [e.object, e.detail.reason])).toEqual([[sent.c3, 'ambiguous']]);
    // The same run again the next day: nothing new, no new record.
    const again = await pli('T', ['retention', 'run', '--as', ids.dgs], { offsetMs: daysAfter(today, 16) });
    expect(again.stdout).toContain('Rien à détruire');
  });

  it('the attacker re-ties the ambiguous row to A alone (better-sqlite3): refused as a modified profile, nothing destroyed', async () => {
    const raw = new Database(copyOf('T-before', 'T-retie'));
    raw.prepare('UPDATE inbox SET tie = ? WHERE id = ?').run(JSON.stringify([conventionA]), inboxIds.c3);
    raw.close();
    await refused(2, 'T-retie', ['retention', 'run', '--as', ids.dgs], /modifié|altéré/, { offsetMs: daysAfter(today, 15) });
    const rows = await inbox('T-retie');
    for (const row of rows) expect(existsSync(storedFile('T-retie', row.sha256))).toBe(true);
  });

  it('the attacker copies the tied row\'s tie and seal onto the ambiguous one: refused as well', async () => {
    const raw = new Database(copyOf('T-before', 'T-copyseal'));
    const good = raw.prepare('SELECT tie, tie_mac FROM inbox WHERE id = ?').get(inboxIds.c2) as { tie: string; tie_mac: Buffer };
    raw.prepare('UPDATE inbox SET tie = ?, tie_mac = ? WHERE id = ?').run(good.tie, good.tie_mac, inboxIds.c3);
    raw.close();
    await refused(2, 'T-copyseal', ['retention', 'run', '--as', ids.dgs], /modifié|altéré/, { offsetMs: daysAfter(today, 15) });
    expect(existsSync(storedFile('T-copyseal', (await inbox('T-copyseal')).find((r) => r.id === inboxIds.c2)!.sha256))).toBe(true);
  });

  it('the attacker unties the clerk\'s row (tie and seal removed) to keep it: it is listed « à détruire à la main », not forgotten', async () => {
    const raw = new Database(copyOf('T-before', 'T-untie'));
    raw.prepare('UPDATE inbox SET tie = NULL, tie_mac = NULL WHERE id = ?').run(inboxIds.c2);
    raw.close();
    const r = await pli('T-untie', ['retention', 'run', '--as', ids.dgs], { offsetMs: daysAfter(today, 15) });
    expect(r.code, r.stderr).toBe(0);
    const c2 = storedFile('T-untie', (await inbox('T-untie')).find((x) => x.id === inboxIds.c2)!.sha256);
    expect(r.stdout).toContain(`à détruire à la main : ${c2} (pli jamais ouvert, dont le rattachement à la convention n'est pas scellé)`);
  });
});

describe('the retention at sign-in of the desktop app (electron/ipc/session.ts)', () => {
  afterEach(() => repinClock());

  it('runs the core\'s retention once a day, when the day comes while signed in, and says what it did', async () => {
    copyOf('T-before', 'T-desk');
    vi.setSystemTime(noonAfter(today, 14));
    const session = createSession({ home: at('T-desk'), emitProgress: () => undefined });
    try {
      await session.signIn('op1', ids.dgs, PASS);
      expect(session.retentionNotice()).toBeNull(); // day 14: not yet
      const rows = await inbox('T-desk');
      const c2 = storedFile('T-desk', rows.find((r) => r.id === inboxIds.c2)!.sha256);
      expect(existsSync(c2)).toBe(true);
      // The next day comes while the director is signed in: the first call after it runs the retention.
      vi.setSystemTime(noonAfter(today, 15));
      await session.checkpoint();
      const notice = session.retentionNotice();
      // The opened file was already destroyed by the CLI run on T (the copies share that folder): moved, left to a person.
      expect(notice).toMatchObject({ state: 'done', containers: 2, files: 0, manual: 2 });
      expect(notice!.message).toContain('2 plis détruits et 0 fichier détruit aujourd’hui');
      expect(notice!.message).toContain('2 éléments restent à détruire à la main');
      expect(existsSync(c2)).toBe(false);
      // Audited as the CLI run is: the same events, by the person signed in.
      const profile = session.profile();
      const actions = profile.db.prepare("SELECT canonical FROM events ORDER BY seq").pluck().all() as Buffer[];
      const destroyed = actions.map((c) => JSON.parse(c.toString('utf8')) as unknown[]).filter((e) => e[5] === 'retention.destroyed');
      expect(destroyed.length).toBe(2);
      expect(destroyed.every((e) => e.includes(ids.dgs))).toBe(true);
      // Signed in again the same day: nothing new to say.
      await session.signOut();
      await session.signIn('op2', ids.dgs, PASS);
      expect(session.retentionNotice()).toBeNull();
    } finally {
      session.close();
    }
  }, 120_000);

  it('a reader signing in destroys nothing and is told the destruction waits for an operator', async () => {
    copyOf('T-before', 'T-reader');
    vi.setSystemTime(noonAfter(today, 15));
    const session = createSession({ home: at('T-reader'), emitProgress: () => undefined });
    try {
      await session.signIn('op1', ids.stagiaire, PASS);
      expect(session.retentionNotice()).toMatchObject({ state: 'waiting' });
      expect(session.retentionNotice()!.message).toContain('opérateur');
    } finally {
      session.close();
    }
    const rows = await inbox('T-reader');
    expect(rows.every((r) => existsSync(storedFile('T-reader', r.sha256)))).toBe(true);
  }, 120_000);
});

describe('the signed certificate (pli retention certificate / verify)', () => {
  it('is an A4 PDF in French: what was destroyed, when, by whom, what is left, the parties, the fingerprints; with its .sig', async () => {
    const pdf = at('pv-destruction.pdf');
    const r = await pli('T', ['retention', 'certificate', '--convention', conventionA, '--out', pdf, '--as', ids.dgs], { offsetMs: daysAfter(today, 16) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([pdf, `${pdf}.sig`]);
    const text = flatText(pdf);
    for (const words of ['Procès-verbal de destruction des données', 'Convention Saint-Laurent-Blangy — états statistiques', conventionA, CPN, TOWN,
      'Claire Dumont', 'Plis détruits : 2', 'reçu, jamais ouvert', 'Fichiers ouverts par Pli et détruits : 1', 'IS101_T4_2026.xls',
      'Reste à détruire à la main : 1', 'Fin du partenariat', 'Empreinte de l’autorité SSI', 'page 1 sur']) {
      expect(text, words).toContain(words);
    }
    // The reason sits in a table cell beside the file's path: pdftotext interleaves the lines of
    // the two cells wherever the path wraps (its length depends on the temporary folder), so the
    // reason is checked word by word, in order.
    const reason = 'pli jamais ouvert, d’une personne habilitée de plusieurs conventions'.split(' ');
    let from = 0;
    for (const word of reason) {
      const found = text.indexOf(word, from);
      expect(found, `« ${word} » de « ${reason.join(' ')} », dans l’ordre`).toBeGreaterThanOrEqual(0);
      from = found + word.length;
    }
    expect(text).toContain(sent.c2);
    expect(run('pdfinfo', pdf)).toMatch(/Page size:\s+595\.\d* x 841\.\d* pts \(A4\)/);
    mkdirSync(ARTIFACTS, { recursive: true });
    run('pdftoppm', '-png', '-r', '70', '-f', '1', '-l', '1', pdf, path.join(ARTIFACTS, 'proces-verbal-destruction'));
    // Never over an existing file.
    await refused(1, 'T', ['retention', 'certificate', '--convention', conventionA, '--out', pdf, '--as', ids.dgs], /existe déjà/);
    // Only a person who did the destruction signs it.
    await refused(2, 'T', ['retention', 'certificate', '--convention', conventionA, '--out', at('pv-stagiaire.pdf'), '--as', ids.stagiaire], /Claire Dumont/);
    expect(existsSync(at('pv-stagiaire.pdf'))).toBe(false);
    // No destruction yet for convention B.
    await refused(1, 'T', ['retention', 'certificate', '--convention', conventionB, '--out', at('pv-b.pdf'), '--as', ids.dgs], /Aucune destruction/);
  });

  it('verifies on the town hall\'s and on the police\'s workstation: who signed, when, unchanged', async () => {
    const pdf = at('pv-destruction.pdf');
    for (const home of ['T', 'P']) {
      const r = await pli(home, ['retention', 'verify', pdf]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Procès-verbal intact');
      expect(r.stdout).toContain(`Signé par Claire Dumont (${TOWN})`);
      expect(r.stdout).toContain("certifié par l'autorité de ce poste");
      expect(r.stdout).toContain('2 plis et 1 fichier détruits, 1 à détruire à la main');
    }
  });

  it('a flipped byte in the PDF, or in the signature, is refused (exit 2)', async () => {
    const pdf = readFileSync(at('pv-destruction.pdf'));
    const sig = readFileSync(at('pv-destruction.pdf.sig'), 'utf8');
    const flipped = Buffer.from(pdf);
    const middle = Math.floor(flipped.length / 2);
    flipped[middle] = flipped[middle]! ^ 0x01;
    mkdirSync(at('flip-pdf'), { recursive: true });
    writeFileSync(at('flip-pdf/pv.pdf'), flipped);
    writeFileSync(at('flip-pdf/pv.pdf.sig'), sig);
    await refused(2, 'T', ['retention', 'verify', at('flip-pdf/pv.pdf')], /modifié après sa signature/);

    const envelope = JSON.parse(sig) as { body: string; signature: string };
    const bytes = Buffer.from(envelope.signature, 'base64');
    bytes[5] = bytes[5]! ^ 0x01;
    mkdirSync(at('flip-sig'), { recursive: true });
    writeFileSync(at('flip-sig/pv.pdf'), pdf);
    writeFileSync(at('flip-sig/pv.pdf.sig'), JSON.stringify({ ...envelope, signature: bytes.toString('base64') }));
    await refused(2, 'T', ['retention', 'verify', at('flip-sig/pv.pdf')], /signature du procès-verbal de destruction est invalide/);
    // A byte of the signed body (the date) changed.
    mkdirSync(at('flip-body'), { recursive: true });
    writeFileSync(at('flip-body/pv.pdf'), pdf);
    writeFileSync(at('flip-body/pv.pdf.sig'), JSON.stringify({ ...envelope, body: envelope.body.replace(/"at":(\d)/, (_m, d: string) => `"at":${d === '1' ? '2' : '1'}`) }));
    await refused(2, 'T', ['retention', 'verify', at('flip-body/pv.pdf')], /invalide/);
    // Missing signature file: an input error, nothing said about the document.
    mkdirSync(at('no-sig'), { recursive: true });
    writeFileSync(at('no-sig/pv.pdf'), pdf);
    await refused(1, 'T', ['retention', 'verify', at('no-sig/pv.pdf')], /côte à côte/);
  });

  it('a signature by someone else (the trainee, with her own valid key and card) is refused (exit 2)', async () => {
    const pdf = readFileSync(at('pv-destruction.pdf'));
    const envelope = JSON.parse(readFileSync(at('pv-destruction.pdf.sig'), 'utf8')) as { body: string };
    const body = JSON.parse(envelope.body) as { signer: string; people: { id: string; card: string; certificate: string | null }[] };
    const profile = openProfile(at('T-before'));
    try {
      const unlocked = await unlockIdentity(profile.db, ids.stagiaire, PASS);
      try {
        const certificate = profile.db.prepare('SELECT text FROM certificates WHERE identity_id = ? ORDER BY issued DESC LIMIT 1').pluck().get(ids.stagiaire) as string;
        const forged = JSON.stringify({ ...body, signer: ids.stagiaire, people: [...body.people, { id: ids.stagiaire, card: getIdentity(profile.db, ids.stagiaire)!.card, certificate }] });
        const signature = await ed25519Sign(unlocked.current.sigSecret, signedDigest('retentionCertificate', Buffer.from(forged, 'utf8')));
        mkdirSync(at('other'), { recursive: true });
        writeFileSync(at('other/pv.pdf'), pdf);
        writeFileSync(at('other/pv.pdf.sig'), JSON.stringify({ pli: 'retention-certificate', v: 1, body: forged, signature: Buffer.from(signature).toString('base64') }));
      } finally {
        unlocked.wipe();
      }
    } finally {
      profile.close();
    }
    await refused(2, 'T', ['retention', 'verify', at('other/pv.pdf')], /signé par Léa Roux, qui n'a fait aucune des destructions/);
  });
});
