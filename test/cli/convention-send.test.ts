// Sending under a convention through the real `pli` binary (issue 14 sections 2, 3, 5; docs/convention.md
// 7 and 8): the Saint-Laurent-Blangy convention between the CPN of Arras (workstation P, the
// statistics clerk) and the town hall (workstation T, the general services director), signed by
// the SSI officer (O). Over the folder transport: a wrong type refused before anything is sealed,
// a certified person outside the list refused at send and at open (exit 2, audited), the states
// filed from the manifest, `pli due` showing `sent` (P) and `delivered` (T), a v1 container filed
// « sans convention », the attacker of docs/profile.md re-filing a row (better-sqlite3), and the
// retention run after termination + 15 days. Needs `npm run build`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openProfile } from '../../electron/core/profile/profile.js';
import { currentKeys, unlockIdentity } from '../../electron/core/profile/identities.js';
import { sealToFile } from '../../electron/core/container/seal.js';
import { retentionRecords } from '../../electron/core/authority/convention-retention.js';
import { cliSandbox, conventionSetUp, CPN, daysAfter, PIN_DAY, pinClock, slbConventionArgs, TOWN, unpinClock } from './support.js';
import { today as localToday } from '../../electron/core/authority/convention-object.js';
import { is101Rows, toCsv } from '../unit/indicators-fixtures.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-convention-send-', PASS);
const { root, at, pli, ok, refused } = cli;
afterAll(() => rmSync(root, { recursive: true, force: true }));
// The convention's 2026-T4, its due day and its views « after the send » need one day inside its first year, whatever the day the tests run.
beforeAll(() => pinClock(PIN_DAY));
afterAll(() => unpinClock());

const ids = { officer: '', clerk: '', intruder: '', dgs: '', stagiaire: '', maire: '', adjoint: '', chef: '', agent: '' };
let conventionId = '';
let sentContainer = '';
/** A day after 2026-T4's due day (8 January 2027), after the send on the pinned day: the views « after the send » are asked on it. */
const afterSend = (): string => '2027-01-09';

/**
 * The year of `sentContainer`'s row in a profile, as the register reads it (local time): a run
 * across midnight on 31 December asks for the year of the exchange, not the year it is now.
 */
function yearOfRow(home: string, side: 'sent' | 'received'): string {
  const db = new Database(path.join(at(home), 'profile.sqlite'), { readonly: true });
  try {
    const sql = side === 'sent' ? 'SELECT max(sent_at) FROM outbox WHERE container_id = ?' : 'SELECT min(arrived_at) FROM inbox WHERE container_id = ?';
    return String(new Date(db.prepare(sql).pluck().get(sentContainer) as number).getFullYear());
  } finally {
    db.close();
  }
}

interface DueRow { convention: string; period: string; document: string; due: string; state: string; container: string | null; receipts: unknown[] }


async function due(home: string, as: string, day: string): Promise<DueRow[]> {
  const run = await pli(home, ['due', '--json', '--at', day, '--as', as]);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as DueRow[];
}

function copyOf(from: string, name: string): string {
  cpSync(at(from), at(name), { recursive: true });
  return path.join(at(name), 'profile.sqlite');
}

/** A container naming the convention, sealed in process with `senderKey`'s keys on P for `to`
 * (what a modified Pli could make: the CLI refuses to). */
async function craft(senderKey: keyof typeof ids, to: keyof typeof ids, folder: string): Promise<void> {
  const profile = openProfile(at('P'));
  try {
    const unlocked = await unlockIdentity(profile.db, ids[senderKey], PASS);
    try {
      const { enc } = currentKeys(profile.db, ids[to]);
      mkdirSync(folder, { recursive: true });
      writeFileSync(at('crafted-IS101.xls'), 'Homicides;0\r\n');
      await sealToFile([at('crafted-IS101.xls')], path.join(folder, `crafted-${senderKey}-${to}.pli`), {
        senderId: ids[senderKey],
        signing: { keyFpr: unlocked.current.sigFpr, secretKey: unlocked.current.sigSecret },
        recipients: { kind: 'keys', keys: [{ keyFpr: enc.fpr, publicKey: enc.public_key }] },
        convention: { id: conventionId, period: '2026-T4', documents: ['IS 101'] },
      });
    } finally {
      unlocked.wipe();
    }
  } finally {
    profile.close();
  }
}

beforeAll(async () => {
  const setUp = conventionSetUp(cli, PASS);
  ids.officer = await setUp.start(['P', 'T']);
  // Certified people with their keys on the workstations: on the list (clerk, dgs) or not (intruder, stagiaire).
  for (const [key, name, org, role, home] of [['clerk', 'Paul Lefebvre', CPN, 'operator', 'P'], ['intruder', 'Yves Martin', CPN, 'operator', 'P'], ['dgs', 'Claire Dumont', TOWN, 'operator', 'T'], ['stagiaire', 'Léa Roux', TOWN, 'reader', 'T']] as const) {
    ids[key] = await setUp.provision(key, name, org, role, home);
  }
  for (const [key, name] of [['maire', 'Jean Morel'], ['adjoint', 'Sophie Bernard'], ['chef', 'Marc Petit'], ['agent', 'Luc Girard']] as const) {
    ids[key] = await setUp.certify(key, name, TOWN, 'reader');
  }
  conventionId = await ok('O', slbConventionArgs([
    [ids.clerk, 'Agent de la cellule statistique'], [ids.maire, 'Maire'], [ids.adjoint, 'Adjointe au maire'],
    [ids.dgs, 'Directrice générale des services'], [ids.chef, 'Chef du service des affaires générales'],
    [ids.agent, 'Agent de la voirie publique'],
  ], { extra: ['--open-receipts'] }));
  await setUp.distribute(['P', 'T']);
  // A real IS 101 state (CSV text, read whatever its extension): the indicators read it on opening.
  writeFileSync(at('IS101_T4_2026.xls'), toCsv(is101Rows({ homicides: 1, armes: 2, violents: 3, sansViolence: 4, coups: 17, cambriolages: 7, vehicules: 5, dans: 6, accessoires: 8 }), ';', 'utf-8'));
  writeFileSync(at('IST_T4_2026.csv'), 'Atteintes aux biens;31\r\n');
  writeFileSync(at('notes.txt'), 'brouillon\n');
}, 240_000);

describe('pli send --convention (P, the CPN of Arras)', () => {
  it('refuses a file type the convention does not allow, before anything is sealed', async () => {
    const run = await refused(1, 'P', ['send', '--as', ids.clerk, '--convention', conventionId, '--period', '2026-T4', '--doc', 'IS 101', '--folder', at('usb'), at('IS101_T4_2026.xls'), at('notes.txt')], /notes\.txt.*types admis \.csv, \.doc, \.pdf, \.xls/);
    expect(run.stderr).toContain('Rien n\'a été chiffré');
    expect(existsSync(at('usb'))).toBe(false);
    expect(JSON.parse((await pli('P', ['outbox', '--json'])).stdout)).toEqual([]);
  });

  it('refuses an unknown period and a document the schedule does not expect', async () => {
    await refused(1, 'P', ['send', '--as', ids.clerk, '--convention', conventionId, '--period', '2026-T5', '--doc', 'IS 101', '--folder', at('usb'), at('IS101_T4_2026.xls')], /Période inconnue.*--period/);
    await refused(1, 'P', ['send', '--as', ids.clerk, '--convention', conventionId, '--period', '2026-T4', '--doc', 'IS 102', '--folder', at('usb'), at('IS101_T4_2026.xls')], /IS 102.*n'est pas attendu/);
    // Two quarters after the current one, on the clock Pli reads (a fixed 2027-T2 began in April 2027,
    // and the send then went through).
    const [y, m] = localToday().split('-').map(Number) as [number, number];
    const ahead = Math.floor((m - 1) / 3) + 2;
    const future = `${y + Math.floor(ahead / 4)}-T${(ahead % 4) + 1}`;
    await refused(1, 'P', ['send', '--as', ids.clerk, '--convention', conventionId, '--period', future, '--doc', 'IS 101', '--folder', at('usb'), at('IS101_T4_2026.xls')], /pas encore commencé/);
  });

  it('refuses a certified person outside the convention\'s list (exit 2, audited), and a recipient outside it', async () => {
    await refused(2, 'P', ['send', '--as', ids.intruder, '--convention', conventionId, '--period', '2026-T4', '--doc', 'IS 101', '--folder', at('usb'), at('IS101_T4_2026.xls')], /Yves Martin ne figure pas sur la liste nominative/);
    await refused(2, 'P', ['send', '--as', ids.clerk, '--to', ids.stagiaire, '--convention', conventionId, '--period', '2026-T4', '--doc', 'IS 101', '--folder', at('usb'), at('IS101_T4_2026.xls')], /Léa Roux ne figure pas sur la liste nominative/);
    expect(existsSync(at('usb'))).toBe(false);
    const events = JSON.parse((await pli('P', ['audit', 'list', '--json'])).stdout) as { action: string; outcome: string; actor: string; detail: { reason?: string } }[];
    expect(events.filter((e) => e.action === 'container.sealed' && e.outcome === 'refused' && e.detail.reason === 'not-in-convention').map((e) => e.actor)).toEqual([ids.intruder, ids.clerk]);
  });

  it('sends IS 101 and IST for 2026-T4 to the town hall\'s habilitated people, filed under the convention', async () => {
    const run = await pli('P', ['send', '--as', ids.clerk, '--convention', conventionId, '--period', '2026-T4', '--doc', 'IS 101', '--doc', 'IST', '--subject', 'États du 4e trimestre', '--folder', at('usb'), at('IS101_T4_2026.xls'), at('IST_T4_2026.csv')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Convention ${conventionId}, période 2026-T4 : IS 101, IST.`);
    const outbox = JSON.parse((await pli('P', ['outbox', '--json'])).stdout) as { container_id: string; convention_id: string; period: string; documents: string; state: string }[];
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ convention_id: conventionId, period: '2026-T4', documents: '["IS 101","IST"]', state: 'sent' });
    sentContainer = outbox[0]!.container_id;
    expect(readdirSync(at('usb'))).toEqual([`pli-${sentContainer.slice(0, 16)}.pli`]);
  });

  it('pli due --at shows the quarter sent, with its container; the other quarters late', async () => {
    const rows = await due('P', ids.clerk, afterSend());
    expect(rows.filter((r) => r.period === '2026-T4').map((r) => [r.document, r.state, r.container, r.receipts])).toEqual([
      ['IS 101', 'sent', sentContainer, []], ['IST', 'sent', sentContainer, []],
    ]);
    expect(rows.filter((r) => r.period === '2026-T3').map((r) => r.state)).toEqual(['late', 'late']);
    expect((await pli('P', ['due', '--at', afterSend(), '--as', ids.clerk])).stdout).toContain('envoyé');
  });
});

describe('receiving and opening under the convention (T, the town hall)', () => {
  it('the director opens it: filed from the manifest under the convention and period', async () => {
    await ok('T', ['receive', '--folder', at('usb'), '--as', ids.dgs]);
    const run = await pli('T', ['open', '1', '--as', ids.dgs, '--out', at('ouverts')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Classé sous la convention ${conventionId}, période 2026-T4 : IS 101, IST (objet : États du 4e trimestre).`);
    expect(readdirSync(at('ouverts')).sort()).toEqual(['IST_T4_2026.csv', 'IS101_T4_2026.xls'].sort());
    const rows = await due('T', ids.dgs, afterSend());
    expect(rows.filter((r) => r.period === '2026-T4').map((r) => [r.state, r.container])).toEqual([['delivered', sentContainer], ['delivered', sentContainer]]);
  });

  it('the CPN takes the town hall\'s receipts by the folder: pli due shows delivered, then opened, with its receipts', async () => {
    // T's first receive wrote the delivery receipt into the folder; P takes it.
    await ok('P', ['receive', '--folder', at('usb'), '--as', ids.clerk]);
    let rows = await due('P', ids.clerk, afterSend());
    let t4 = rows.filter((r) => r.period === '2026-T4');
    expect(t4.map((r) => [r.document, r.state, r.container])).toEqual([['IS 101', 'delivered', sentContainer], ['IST', 'delivered', sentContainer]]);
    expect(t4[0]!.receipts).toEqual([{ kind: 'delivered', at: expect.any(Number), by: ids.dgs, org: TOWN }]);
    // The opening (above) asked for an opening receipt: T writes it at its next visit of the folder.
    await ok('T', ['receive', '--folder', at('usb'), '--as', ids.dgs]);
    await ok('P', ['receive', '--folder', at('usb'), '--as', ids.clerk]);
    rows = await due('P', ids.clerk, afterSend());
    t4 = rows.filter((r) => r.period === '2026-T4');
    expect(t4.map((r) => r.state)).toEqual(['opened', 'opened']);
    expect(t4[0]!.receipts.map((r) => (r as { kind: string }).kind).sort()).toEqual(['delivered', 'opened']);
    // A rehearsal before the receipts' day shows the quarter as sent only.
    expect((await due('P', ids.clerk, '2026-10-09')).filter((r) => r.period === '2026-T4').map((r) => r.state)).not.toContain('opened');
  });

  it('the IS 101 state opened under the convention feeds the town hall\'s indicators', async () => {
    const run = await pli('T', ['indicators', '--json', '--as', ids.dgs]);
    expect(run.code, run.stderr).toBe(0);
    const figures = (JSON.parse(run.stdout) as { figures: { convention: string; commune: string; period: string; indicator: string; value: number; sourceContainer: string | null }[] }).figures;
    const mine = figures.filter((f) => f.sourceContainer === sentContainer);
    expect(mine.length).toBeGreaterThan(0);
    expect(new Set(mine.map((f) => `${f.convention} ${f.commune} ${f.period}`))).toEqual(new Set([`${conventionId} Saint-Laurent-Blangy 2026-T4`]));
    expect(mine.find((f) => f.indicator.endsWith('homicides'))?.value).toBe(1);
  });

  it('the register of each side lists it under the convention, with its period, documents and receipts', async () => {
    await ok('P', ['register', '--convention', conventionId, '--year', yearOfRow('P', 'sent'), '--out', at('registre-P.csv'), '--as', ids.clerk]);
    const p = readFileSync(at('registre-P.csv'), 'utf8').slice(1).trimEnd().split('\r\n').slice(1).map((l) => l.split(';'));
    expect(p).toHaveLength(1);
    expect(p[0]!.slice(2, 9)).toEqual(['envoyé', `dossier ${at('usb')}`, conventionId, '2026-T4', 'IS 101, IST', 'États du 4e trimestre', sentContainer.slice(0, 16)]);
    // The receipts' cell holds « ; » between receipts: quoted, so read from the raw line; the last
    // cell says the sending date is proven by the row's time seal (docs/profile.md).
    expect(readFileSync(at('registre-P.csv'), 'utf8')).toMatch(/;"remis le [^;"]+ \(Mairie de Saint-Laurent-Blangy\) ; ouvert le [^;"]+ par Claire Dumont \(Mairie de Saint-Laurent-Blangy\)";oui\r\n$/);
    await ok('T', ['register', '--convention', conventionId, '--year', yearOfRow('T', 'received'), '--out', at('registre-T.csv'), '--as', ids.dgs]);
    const t = readFileSync(at('registre-T.csv'), 'utf8').slice(1).trimEnd().split('\r\n').slice(1).map((l) => l.split(';'));
    expect(t.map((cells) => cells.slice(2, 9))).toEqual([['reçu', `Paul Lefebvre (${CPN})`, conventionId, '2026-T4', 'IS 101, IST', 'États du 4e trimestre', sentContainer.slice(0, 16)]]);
  });

  it('a certified person outside the list cannot open a container that names it, even addressed to her (exit 2, audited, nothing written)', async () => {
    await craft('clerk', 'stagiaire', at('usb2'));
    await ok('T', ['receive', '--folder', at('usb2'), '--as', ids.dgs]);
    const inbox = JSON.parse((await pli('T', ['inbox', '--json'])).stdout) as { id: number; state: string }[];
    const id = inbox[inbox.length - 1]!.id;
    await refused(2, 'T', ['open', String(id), '--as', ids.stagiaire, '--out', at('stagiaire')], /Léa Roux ne figure pas sur la liste nominative/);
    expect(existsSync(at('stagiaire')) ? readdirSync(at('stagiaire')).filter((n) => !n.startsWith('.')) : []).toEqual([]);
    const events = JSON.parse((await pli('T', ['audit', 'list', '--json'])).stdout) as { action: string; outcome: string; actor: string; detail: { reason?: string } }[];
    expect(events.some((e) => e.action === 'container.refused' && e.actor === ids.stagiaire && e.detail.reason === 'not-in-convention')).toBe(true);
    // Still openable by nobody else here, and not marked refused for everyone (it depends on the person).
    expect((JSON.parse((await pli('T', ['inbox', '--json'])).stdout) as { id: number; state: string }[]).find((r) => r.id === id)?.state).toBe('verified');
  });

  it('a container naming the convention from a certified sender outside the list is refused at opening', async () => {
    await craft('intruder', 'dgs', at('usb3'));
    await ok('T', ['receive', '--folder', at('usb3'), '--as', ids.dgs]);
    const inbox = JSON.parse((await pli('T', ['inbox', '--json'])).stdout) as { id: number }[];
    await refused(2, 'T', ['open', String(inbox[inbox.length - 1]!.id), '--as', ids.dgs, '--out', at('intrus')], /Yves Martin ne figure pas sur la liste nominative/);
    expect(existsSync(at('intrus')) ? readdirSync(at('intrus')).filter((n) => !n.startsWith('.')) : []).toEqual([]);
  });

  it('a version 1 container (no convention) is filed « sans convention »', async () => {
    writeFileSync(at('note.pdf'), '%PDF-1.4\n');
    await ok('P', ['send', '--as', ids.clerk, '--to', ids.dgs, '--folder', at('usb4'), at('note.pdf')]);
    await ok('T', ['receive', '--folder', at('usb4'), '--as', ids.dgs]);
    const inbox = JSON.parse((await pli('T', ['inbox', '--json'])).stdout) as { id: number }[];
    const id = inbox[inbox.length - 1]!.id;
    const run = await pli('T', ['open', String(id), '--as', ids.dgs, '--out', at('v1')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('Classé sans convention.');
    const db = new Database(path.join(at('T'), 'profile.sqlite'), { readonly: true });
    const row = db.prepare('SELECT convention_id, period, filed_at, filing_mac FROM inbox WHERE id = ?').get(id) as { convention_id: string | null; period: string | null; filed_at: number | null; filing_mac: Buffer | null };
    db.close();
    expect(row.convention_id).toBeNull();
    expect(row.period).toBeNull();
    expect(row.filed_at).not.toBeNull();
    expect(row.filing_mac).not.toBeNull();
  });
});

describe('the attacker of docs/profile.md re-files a container (better-sqlite3)', () => {
  it('an inbox row moved to another period is detected (exit 2)', async () => {
    const db = new Database(copyOf('T', 'T-refile'));
    expect(db.prepare("UPDATE inbox SET period = '2026-T3' WHERE period = '2026-T4'").run().changes).toBe(1);
    db.close();
    await refused(2, 'T-refile', ['due', '--at', '2027-01-09', '--as', ids.dgs], /modifié en dehors de Pli/);
  });

  it('an outbox row moved to another period is detected (exit 2)', async () => {
    const db = new Database(copyOf('P', 'P-refile'));
    expect(db.prepare("UPDATE outbox SET period = '2026-T3' WHERE period = '2026-T4'").run().changes).toBe(1);
    db.close();
    await refused(2, 'P-refile', ['due', '--at', '2027-01-09', '--as', ids.clerk], /modifié en dehors de Pli/);
  });

  it('a v1 row filed under the convention afterwards (no seal of its own) counts for nothing', async () => {
    const db = new Database(copyOf('T', 'T-plant'));
    const sealed = db.prepare("SELECT filing_mac FROM inbox WHERE period = '2026-T4'").get() as { filing_mac: Buffer };
    // The v1 row, re-filed under T3 with the seal of the T4 row: the seal covers the row's identity.
    db.prepare("UPDATE inbox SET convention_id = ?, period = '2026-T3', documents = '[\"IS 101\"]', filing_mac = ? WHERE convention_id IS NULL AND filed_at IS NOT NULL").run(conventionId, sealed.filing_mac);
    db.close();
    await refused(2, 'T-plant', ['due', '--at', '2027-01-09', '--as', ids.dgs], /modifié en dehors de Pli/);
    const db2 = new Database(path.join(at('T-plant'), 'profile.sqlite'));
    db2.prepare("UPDATE inbox SET filing_mac = NULL WHERE period = '2026-T3'").run();
    db2.close();
    const rows = await due('T-plant', ids.dgs, '2027-01-09');
    expect(rows.filter((r) => r.period === '2026-T3').map((r) => r.state)).toEqual(['late', 'late']);
  });
});


describe('the register under the attacker of docs/profile.md', () => {
  it('a container sent sans convention never appears under it: re-filed with a copied seal it is refused, unsealed it is left out', async () => {
    const year = yearOfRow('T', 'received');
    // T opened the v1 container « sans convention » (above): its row is filed, sealed, with no convention.
    const db = new Database(copyOf('T', 'T-register'));
    const sealed = db.prepare("SELECT filing_mac FROM inbox WHERE period = '2026-T4'").get() as { filing_mac: Buffer };
    expect(db.prepare("UPDATE inbox SET convention_id = ?, period = '2026-T4', documents = '[\"IST\"]', filing_mac = ? WHERE convention_id IS NULL AND filed_at IS NOT NULL").run(conventionId, sealed.filing_mac).changes).toBe(1);
    db.close();
    await refused(2, 'T-register', ['register', '--convention', conventionId, '--year', year, '--out', at('reg-copied.csv'), '--as', ids.dgs], /modifié en dehors de Pli/);
    expect(existsSync(at('reg-copied.csv'))).toBe(false);
    const db2 = new Database(path.join(at('T-register'), 'profile.sqlite'));
    db2.prepare("UPDATE inbox SET filing_mac = NULL WHERE documents = '[\"IST\"]'").run();
    db2.close();
    await ok('T-register', ['register', '--convention', conventionId, '--year', year, '--out', at('reg-unsealed.csv'), '--as', ids.dgs]);
    const lines = readFileSync(at('reg-unsealed.csv'), 'utf8').slice(1).trimEnd().split('\r\n').slice(1);
    expect(lines.map((l) => l.split(';')[8])).toEqual([sentContainer.slice(0, 16)]);
  });
});

describe('termination and the retention run, 15 days later', () => {
  // The workstation's day, as Pli reads it: the pinned one; « n days later » is noon of that day + n (daysAfter).
  const today = PIN_DAY;

  it('terminated today: nothing is destroyed on day 14; on day 15 the containers and the unchanged files are, the changed one is listed', async () => {
    await ok('O', ['convention', 'terminate', conventionId, '--date', today, '--reason', 'Fin du partenariat']);
    await ok('O', ['directory', 'export', '--out', at('d2.json')]);
    await ok('T', ['directory', 'import', at('d2.json'), '--as', ids.dgs]);
    await ok('P', ['directory', 'import', at('d2.json'), '--as', ids.clerk]);
    // Sending under it is now refused (its last day is today: refused from tomorrow).
    await refused(1, 'P', ['send', '--as', ids.clerk, '--convention', conventionId, '--period', '2026-T4', '--doc', 'IS 101', '--folder', at('usb9'), at('IS101_T4_2026.xls')], /résiliée/, { offsetMs: daysAfter(today, 1) });
    // The town hall changed one of the files it received: Pli must not delete it.
    appendFileSync(at('ouverts/IST_T4_2026.csv'), 'ligne ajoutée\n');
    const inbox = JSON.parse((await pli('T', ['inbox', '--json'])).stdout) as { id: number; sha256: string }[];
    const stored = path.join(at('T'), 'inbox', `${inbox[0]!.sha256}.pli`);
    expect(existsSync(stored)).toBe(true);
    await refused(1, 'T', ['retention', 'run', '--as', ids.dgs, '--at', '2099-01-01'], /après aujourd'hui/);

    const early = await pli('T', ['retention', 'run', '--as', ids.dgs], { offsetMs: daysAfter(today, 14) });
    expect(early.code, early.stderr).toBe(0);
    expect(early.stdout).toContain('Rien à détruire');
    expect(existsSync(at('ouverts/IS101_T4_2026.xls'))).toBe(true);

    const run = await pli('T', ['retention', 'run', '--as', ids.dgs], { offsetMs: daysAfter(today, 15) });
    expect(run.code, run.stderr).toBe(0);
    // Two containers: the one opened, and the one crafted for the trainee, never opened, tied at
    // reception to the convention of its signer (docs/convention.md 8.3).
    expect(run.stdout).toContain('2 plis et 1 fichier détruits.');
    expect(run.stdout).toContain(`à détruire à la main : ${at('ouverts/IST_T4_2026.csv')} (modifié depuis son ouverture)`);
    expect(existsSync(at('ouverts/IS101_T4_2026.xls'))).toBe(false);
    expect(existsSync(at('ouverts/IST_T4_2026.csv'))).toBe(true);
    expect(existsSync(stored)).toBe(false);
    // Outside the convention: the v1 container's file stays.
    expect(existsSync(at('v1/note.pdf'))).toBe(true);
    const events = JSON.parse((await pli('T', ['audit', 'list', '--json'])).stdout) as { action: string; actor: string; detail: { what?: string } }[];
    expect(events.filter((e) => e.action === 'retention.destroyed').map((e) => [e.actor, e.detail.what])).toEqual([[ids.dgs, 'container'], [ids.dgs, 'container'], [ids.dgs, 'file']]);
    expect(events.filter((e) => e.action === 'retention.left')).toHaveLength(1);

    // The signed record, for the certificate: verified against the director's key.
    const profile = openProfile(at('T'));
    try {
      const records = await retentionRecords(profile.db, conventionId);
      expect(records).toHaveLength(1);
      expect(records[0]!.body).toMatchObject({ convention: conventionId, conventionVersion: 2, retentionDays: 15, lastDay: today, by: { id: ids.dgs, name: 'Claire Dumont' } });
      expect(records[0]!.body.destroyed.map((d) => d.what)).toEqual(['container', 'container', 'file']);
      expect(records[0]!.body.manual).toEqual([{ container: expect.any(String), path: at('ouverts/IST_T4_2026.csv'), reason: 'changed' }]);
    } finally {
      profile.close();
    }
  });

  it('a record edited with better-sqlite3 does not verify', async () => {
    const db = new Database(copyOf('T', 'T-record'));
    db.prepare("UPDATE retention_records SET text = replace(text, 'Claire Dumont', 'Jean Morel')").run();
    db.close();
    const profile = openProfile(at('T-record'));
    try {
      await expect(retentionRecords(profile.db, conventionId)).rejects.toMatchObject({ code: 'profile-tampered' });
    } finally {
      profile.close();
    }
  });

  it('the CPN\'s copy of what it sent is destroyed too', async () => {
    const copy = path.join(at('P'), 'outbox', `${sentContainer}.pli`);
    expect(existsSync(copy)).toBe(true);
    const run = await pli('P', ['retention', 'run', '--as', ids.clerk], { offsetMs: daysAfter(today, 15) });
    expect(run.code, run.stderr).toBe(0);
    // Its copy, and the same container read back from the exchange folder (never opened, tied at reception).
    expect(run.stdout).toContain('2 plis et 0 fichier détruits.');
    expect(existsSync(copy)).toBe(false);
    // A second run has nothing left to do.
    expect((await pli('P', ['retention', 'run', '--as', ids.clerk], { offsetMs: daysAfter(today, 16) })).stdout).toContain('Rien à détruire');
  });
});
