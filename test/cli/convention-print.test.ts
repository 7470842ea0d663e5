// The printable documents of a convention through the real `pli` binary (issue 14 §2, §6;
// docs/convention.md section 9): `pli convention annex` (the nominative list annexed to the paper
// convention) and `pli register` (every container sent and received). The Saint-Laurent-Blangy
// convention: the officer's profile O (SSI of the DIPN du Pas-de-Calais), the town hall's
// workstation T, five habilitated people of the town hall and one clerk of the CPN of Arras.
// The PDFs are read back with poppler-utils (pdftotext, pdffonts, pdfinfo) and page 1 is rendered
// into test/artifacts for a look. The attacker of docs/profile.md edits T's database and loses.
// Needs `npm run build`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { cliSandbox, CPN, PIN_DAY, pinClock, SLB_FIVE, slbTownHall, TOWN, unpinClock } from './support.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-convention-print-', PASS);
const { root, at, pli, ok, refused } = cli;
afterAll(() => rmSync(root, { recursive: true, force: true }));
// The convention runs from 2026 for one year, renewable: the sends under its 2026-T4 need a day inside it, not the day the tests run.
beforeAll(() => pinClock(PIN_DAY));
afterAll(() => unpinClock());

const ARTIFACTS = path.resolve(import.meta.dirname, '../artifacts');
const ids = { officer: '', clerk: '', maire: '', adjoint: '', dgs: '', chef: '', agent: '' };
let conventionId = '';

// The adjoint's middle name carries an accent the PDF must keep.
const ADJOINT = 'Sophie Bérénice Bernard';
const FIVE = SLB_FIVE.map(([key, name, fn]) => [key, key === 'adjoint' ? ADJOINT : name, fn] as const);

const run = (tool: string, ...args: string[]) => execFileSync(tool, args, { encoding: 'utf8' });
/** The PDF's text with every run of white space made one space, and a word cut after its
 * hyphen joined again (table cells wrap: « Pas-de-⏎Calais »). */
const flatText = (file: string) => run('pdftotext', file, '-').replace(/\s+/g, ' ').replace(/(\p{L})- (?=\p{L})/gu, '$1-');

beforeAll(async () => {
  const setUp = await slbTownHall(cli, PASS, { names: { adjoint: ADJOINT }, convention: true });
  Object.assign(ids, setUp.ids);
  conventionId = setUp.conventionId;
  mkdirSync(ARTIFACTS, { recursive: true });
});

describe('pli convention annex', () => {
  it('writes the nominative list: the five names and functions with their accents, per party, with fingerprints', async () => {
    const file = at('annexe.pdf');
    expect(await ok('T', ['convention', 'annex', conventionId.slice(0, 13), '--out', file])).toBe(file);
    const text = flatText(file);
    for (const [, name, fn] of FIVE) {
      expect(text).toContain(name);
      expect(text).toContain(fn);
    }
    expect(text).toContain('Liste nominative des personnes habilitées');
    expect(text).toContain('Convention Saint-Laurent-Blangy — états statistiques');
    expect(text).toContain(`${TOWN} — 5 personnes habilitées`);
    expect(text).toContain(`${CPN} — 1 personne habilitée`);
    expect(text).toContain('mairie@saint-laurent-blangy.fr');
    expect(text).toContain(`${conventionId}, version 1`);
    // Each person's signing-key fingerprint, as `pli id list` shows it on this workstation.
    const listed = JSON.parse((await pli('T', ['id', 'list', '--json'])).stdout) as { id: string; fingerprint: string }[];
    for (const [key] of FIVE) expect(text).toContain(listed.find((p) => p.id === ids[key])!.fingerprint);
    // The authority's fingerprint, as pinned.
    const authority = (await pli('T', ['id', 'list'])).stdout;
    const pinned = /empreinte ([A-Z0-9]{4}(?:-[A-Z0-9]{4}){4})/.exec(authority)![1]!;
    expect(text).toContain(pinned);
    expect(text).toMatch(/page 1 sur \d/);
    run('pdftoppm', '-png', '-r', '70', '-f', '1', '-l', '1', file, path.join(ARTIFACTS, 'annexe-saint-laurent-blangy'));
  });

  it('embeds its fonts, and carries its title and date in the metadata', () => {
    const fonts = run('pdffonts', at('annexe.pdf')).split('\n').slice(2).filter((l) => l.trim());
    expect(fonts.length).toBeGreaterThanOrEqual(2);
    for (const line of fonts) expect(line).toMatch(/DejaVuSans\S*\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes/);
    const info = run('pdfinfo', at('annexe.pdf'));
    expect(info).toMatch(/Title:\s+Liste nominative des personnes habilitées — Convention Saint-Laurent-Blangy/);
    expect(info).toMatch(/A4/);
  });

  it('is logged in the audit journal', async () => {
    const events = JSON.parse((await pli('T', ['audit', 'list', '--json'])).stdout) as { action: string; object: string | null }[];
    expect(events.some((e) => e.action === 'convention.printed' && e.object === conventionId)).toBe(true);
  });

  it('refuses an existing output file and leaves it unchanged; a planted link too, with nothing at its target', async () => {
    writeFileSync(at('existing.pdf'), 'le fichier de quelqu’un');
    await refused(1, 'T', ['convention', 'annex', conventionId, '--out', at('existing.pdf')], /existing\.pdf existe déjà/);
    expect(readFileSync(at('existing.pdf'), 'utf8')).toBe('le fichier de quelqu’un');
    symlinkSync(at('target.pdf'), at('link.pdf'));
    await refused(1, 'T', ['convention', 'annex', conventionId, '--out', at('link.pdf')], /existe déjà/);
    expect(existsSync(at('target.pdf'))).toBe(false);
  });

  it('refuses an unknown convention and writes nothing', async () => {
    await refused(1, 'T', ['convention', 'annex', 'conv-zzzzzzzzzzzzzzzz', '--out', at('none.pdf')], /Convention inconnue/);
    expect(existsSync(at('none.pdf'))).toBe(false);
  });

  it('the attacker who rewrites a function in the stored convention loses: refused as a modified profile, nothing written', async () => {
    cpSync(at('T'), at('T-edit'), { recursive: true });
    const db = new Database(path.join(at('T-edit'), 'profile.sqlite'));
    const text = db.prepare('SELECT text FROM conventions WHERE id = ?').pluck().get(conventionId) as string;
    db.prepare('UPDATE conventions SET text = ? WHERE id = ?').run(text.replace('Agent de la voirie publique', 'Agent de la voirie privée'), conventionId);
    db.close();
    await refused(2, 'T-edit', ['convention', 'annex', conventionId, '--out', at('edited.pdf')], /profil/);
    expect(existsSync(at('edited.pdf'))).toBe(false);
  });
});

describe('pli register', () => {
  /**
   * The year of the container sent under the convention, as the register reads it (local time):
   * not the year at the file's start, which a run across midnight on 31 December left behind.
   */
  const year = (): string => {
    const db = new Database(path.join(at('T'), 'profile.sqlite'), { readonly: true });
    try {
      return String(new Date(db.prepare('SELECT max(sent_at) FROM outbox WHERE convention_id = ?').pluck().get(conventionId) as number).getFullYear());
    } finally {
      db.close();
    }
  };
  beforeAll(async () => {
    writeFileSync(at('etat-is101.csv'), 'type;nombre\nCambriolages;12\n');
    mkdirSync(at('vers-cpn'));
    mkdirSync(at('vers-mairie'));
    await ok('T', ['send', '--as', ids.dgs, '--to', ids.clerk, '--folder', at('vers-cpn'), at('etat-is101.csv')]);
    // The one container filed under the convention (the two others are « sans convention »).
    await ok('T', ['send', '--as', ids.dgs, '--convention', conventionId, '--period', '2026-T4', '--doc', 'IS 101', '--subject', 'État du 4e trimestre', '--folder', at('vers-cpn'), at('etat-is101.csv')]);
    await ok('O', ['send', '--as', ids.officer, '--to', ids.dgs, '--folder', at('vers-mairie'), at('etat-is101.csv')]);
    await ok('T', ['receive', '--folder', at('vers-mairie'), '--as', ids.dgs]);
  });

  it('writes a CSV for a French spreadsheet: BOM, « ; », one line per container filed under the convention', async () => {
    const file = at('registre.csv');
    expect(await ok('T', ['register', '--convention', conventionId, '--year', year(), '--out', file])).toBe(file);
    const bytes = readFileSync(file);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).trimEnd().split('\r\n');
    expect(lines[0]).toBe('Date;Heure;Sens;Partenaire;Convention;Période;Documents;Objet;Pli;État;Accusés de réception;Date prouvée');
    // Only the container sent under the convention: neither the one sent sans convention nor the
    // one received (not opened, so not filed) is listed.
    expect(lines).toHaveLength(2);
    const sent = lines[1]!.split(';');
    expect(sent[2]).toBe('envoyé');
    expect(sent[3]).toBe(`dossier ${at('vers-cpn')}`);
    expect(sent.slice(4, 8)).toEqual([conventionId, '2026-T4', 'IS 101', 'État du 4e trimestre']);
    expect(sent[9]).toBe('envoyé');
    expect(sent[0]).toMatch(/^\d{2}\/\d{2}\/\d{4}$/);
    // Its outbox row was sealed at the send (time_mac): its date is proven.
    expect(sent[11]).toBe('oui');
  });

  it('writes a PDF: title, the container filed under it, numbered pages; an empty year says so', async () => {
    const file = at('registre.pdf');
    await ok('T', ['register', '--convention', conventionId, '--year', year(), '--out', file]);
    run('pdftoppm', '-png', '-r', '60', '-f', '1', '-l', '1', file, path.join(ARTIFACTS, 'registre-saint-laurent-blangy'));
    const text = flatText(file);
    expect(text).toContain(`Registre des échanges — année ${year()}`);
    expect(text).toContain('Convention « Convention Saint-Laurent-Blangy — états statistiques »');
    expect(text).toContain('État du 4e trimestre');
    expect(text).toContain('IS 101');
    expect(text).not.toContain('Olivier Ssi');
    expect(text).not.toContain('sans convention');
    expect(text).toMatch(/page 1 sur 1/);
    await ok('T', ['register', '--convention', conventionId, '--year', '2025', '--out', at('registre-2025.pdf')]);
    expect(flatText(at('registre-2025.pdf'))).toContain('Aucun pli envoyé ni reçu cette année.');
  });

  it('refuses another format, an existing file (unchanged), an unknown convention: nothing written', async () => {
    await refused(1, 'T', ['register', '--convention', conventionId, '--out', at('registre.txt')], /\.pdf ou \.csv/);
    expect(existsSync(at('registre.txt'))).toBe(false);
    writeFileSync(at('deja.csv'), 'avant');
    await refused(1, 'T', ['register', '--convention', conventionId, '--out', at('deja.csv')], /existe déjà/);
    expect(readFileSync(at('deja.csv'), 'utf8')).toBe('avant');
    await refused(1, 'T', ['register', '--convention', 'conv-zzzzzzzzzzzzzzzz', '--out', at('inconnue.csv')], /Convention inconnue/);
    expect(existsSync(at('inconnue.csv'))).toBe(false);
  });

  it('the attacker who plants a formula in the filed outbox row loses: its filing seal covers the destination, refused, nothing written', async () => {
    // (The CSV's neutralisation of a formula is tested on its own in test/unit/convention-words.test.ts.)
    cpSync(at('T'), at('T-formula'), { recursive: true });
    const db = new Database(path.join(at('T-formula'), 'profile.sqlite'));
    db.prepare("UPDATE outbox SET transport = 'mail', destination = ?").run('=HYPERLINK("http://exemple.invalid";"ouvrir")');
    db.close();
    await refused(2, 'T-formula', ['register', '--convention', conventionId, '--out', at('formule.csv')], /modifié en dehors de Pli/);
    expect(existsSync(at('formule.csv'))).toBe(false);
  });

  it('the attacker who moves a received container\'s arrival date loses, even for a container not filed under it: refused as a modified profile, nothing written', async () => {
    cpSync(at('T'), at('T-arrival'), { recursive: true });
    const db = new Database(path.join(at('T-arrival'), 'profile.sqlite'));
    db.prepare('UPDATE inbox SET arrived_at = arrived_at - 86400000').run();
    db.close();
    await refused(2, 'T-arrival', ['register', '--convention', conventionId, '--out', at('deplace.csv')], /profil/);
    expect(existsSync(at('deplace.csv'))).toBe(false);
  });

  it('the attacker who moves an arrival into the year before loses: the register of the year it arrived is refused, not written without it', async () => {
    // Found by the clock: the test above, run just before midnight on 31 December, had the moved
    // row leave the year asked for, and the register skipped it before checking its seal.
    cpSync(at('T'), at('T-year'), { recursive: true });
    const db = new Database(path.join(at('T-year'), 'profile.sqlite'));
    const arrived = db.prepare('SELECT arrived_at FROM inbox ORDER BY id LIMIT 1').pluck().get() as number;
    db.prepare('UPDATE inbox SET arrived_at = arrived_at - 366 * 86400000').run();
    db.close();
    const year = String(new Date(arrived).getFullYear());
    await refused(2, 'T-year', ['register', '--convention', conventionId, '--year', year, '--out', at('annee.csv')], /profil/);
    expect(existsSync(at('annee.csv'))).toBe(false);
  });

  /** A copy of T for one attack, its database edited by `edit`; returns the register's year as the
   * filed container's sent_at said before the edit. */
  const attacked = (name: string, edit: (db: Database.Database) => void): string => {
    const before = year();
    cpSync(at('T'), at(name), { recursive: true });
    const db = new Database(path.join(at(name), 'profile.sqlite'));
    try {
      edit(db);
    } finally {
      db.close();
    }
    return before;
  };
  const filedRow = 'SELECT id FROM outbox WHERE convention_id IS NOT NULL';
  const otherRow = 'SELECT id FROM outbox WHERE convention_id IS NULL AND object_kind IS NULL ORDER BY id LIMIT 1';

  it('the attacker who moves a sent container into the year before loses: the register of the year it was sent is refused, not written without it', async () => {
    // outbox.sent_at was a plain column (its filing seal does not cover it): moved back a year,
    // the container left that year's register unseen, and the register called its rows proven.
    const sentYear = attacked('T-sent-year', (db) => {
      db.prepare(`UPDATE outbox SET sent_at = sent_at - 366 * 86400000 WHERE id = (${filedRow})`).run();
    });
    await refused(2, 'T-sent-year', ['register', '--convention', conventionId, '--year', sentYear, '--out', at('envoi-annee.csv')], /modifié en dehors de Pli \(envoi n° \d+ de la file d'envoi/);
    expect(existsSync(at('envoi-annee.csv'))).toBe(false);
    // A container not filed under it too: every sent row's seal is checked, whatever its filing.
    attacked('T-sent-year-other', (db) => {
      db.prepare(`UPDATE outbox SET sent_at = sent_at - 366 * 86400000, queued_at = queued_at - 366 * 86400000 WHERE id = (${otherRow})`).run();
    });
    await refused(2, 'T-sent-year-other', ['register', '--convention', conventionId, '--year', sentYear, '--out', at('envoi-annee.csv')], /modifié en dehors de Pli/);
    expect(existsSync(at('envoi-annee.csv'))).toBe(false);
  });

  it('the attacker who copies a sent row\'s seal onto another loses: refused as a modified profile, nothing written', async () => {
    const sentYear = attacked('T-sent-copy', (db) => {
      db.prepare(`UPDATE outbox SET time_mac = (SELECT time_mac FROM outbox WHERE id = (${otherRow})) WHERE id = (${filedRow})`).run();
    });
    await refused(2, 'T-sent-copy', ['register', '--convention', conventionId, '--year', sentYear, '--out', at('envoi-copie.csv')], /modifié en dehors de Pli \(envoi n° \d+ de la file d'envoi/);
    expect(existsSync(at('envoi-copie.csv'))).toBe(false);
  });

  it('the attacker who deletes a sent row\'s seal gains nothing hidden: the container is listed, its date marked as not proven (CSV and PDF)', async () => {
    const sentYear = attacked('T-sent-unsealed', (db) => {
      expect(db.prepare(`SELECT time_mac FROM outbox WHERE id = (${filedRow})`).pluck().get()).toBeInstanceOf(Buffer);
      db.prepare(`UPDATE outbox SET time_mac = NULL WHERE id = (${filedRow})`).run();
    });
    const csv = at('envoi-non-prouve.csv');
    await ok('T-sent-unsealed', ['register', '--convention', conventionId, '--year', sentYear, '--out', csv]);
    const lines = readFileSync(csv, 'utf8').slice(1).trimEnd().split('\r\n');
    expect(lines).toHaveLength(2);
    const sent = lines[1]!.split(';');
    expect(sent[2]).toBe('envoyé');
    expect(sent[7]).toBe('État du 4e trimestre');
    expect(sent[11]).toBe('non');
    const pdf = at('envoi-non-prouve.pdf');
    await ok('T-sent-unsealed', ['register', '--convention', conventionId, '--year', sentYear, '--out', pdf]);
    expect(flatText(pdf)).toContain('(envoi non prouvé)');
    expect(flatText(at('registre.pdf'))).not.toContain('non prouvé');
  });
});
