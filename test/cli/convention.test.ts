// Conventions through the real `pli` binary (issue 14, first step; docs/convention.md): the
// officer's profile O (SSI of the DIPN du Pas-de-Calais) signs the Saint-Laurent-Blangy convention
// with the CPN of Arras (quarterly on the 8th, « IS 101 » and « IST », five habilitated people of
// the town hall); the town hall's workstation T receives it with the next directory. The attacker of
// docs/profile.md then edits, deletes or rolls back the stored convention with better-sqlite3 on
// copies of T, and a directory carrying a convention with a bad signature is refused.
// Needs `npm run build`. Directories no command can produce (a bad convention inside a well-signed
// directory) are built in process with the core's makeEnvelope and the authority key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openProfile } from '../../electron/core/profile/profile.js';
import { unlockIdentity } from '../../electron/core/profile/identities.js';
import { unlockAuthority } from '../../electron/core/authority/authority.js';
import { makeEnvelope } from '../../electron/core/authority/signed.js';
import type { Context } from '../../electron/core/context.js';
import { cliSandbox, CPN, SLB_FIVE, slbConventionArgs, slbTownHall, TOWN } from './support.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-convention-cli-', PASS);
const { root, at, pli, ok, refused } = cli;
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ids = { officer: '', clerk: '', maire: '', adjoint: '', dgs: '', chef: '', agent: '', outsider: '' };
let conventionId = '';

interface DueRow { convention: string; title: string; period: string; document: string; due: string; state: string; container: string | null; receipts: unknown[] }

const newArgs = (people: [string, string][]) => slbConventionArgs(people, { types: '.doc,.XLS,csv,.pdf' });

/** A copy of T's profile for one attack (the original stays intact). */
function copyOfT(name: string): string {
  cpSync(at('T'), at(name), { recursive: true });
  return path.join(at(name), 'profile.sqlite');
}

async function dueAt(home: string, day: string): Promise<DueRow[]> {
  const run = await pli(home, ['due', '--json', '--at', day]);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as DueRow[];
}

beforeAll(async () => {
  // The DGS gets T as her workstation (provisioned key file); the others are certified cards.
  const setUp = await slbTownHall(cli, PASS, { others: [['outsider', 'Eve Garnier', "Mairie d'Achicourt"]] });
  Object.assign(ids, setUp.ids);
});

const FIVE = (): [string, string][] => SLB_FIVE.map(([key, , fn]) => [ids[key], fn]);

describe('pli convention new (officer only, validated)', () => {
  it('refuses a person certified for another organisation than the parties, and signs nothing', async () => {
    await refused(1, 'O', newArgs([...FIVE(), [ids.outsider, 'Secrétaire']]), /Eve Garnier.*Mairie d'Achicourt.*partie/);
    expect(JSON.parse((await pli('O', ['convention', 'list', '--json'])).stdout)).toEqual([]);
  });

  it('refuses a party whose organisation no certified person belongs to', async () => {
    const args = newArgs(FIVE());
    args[args.indexOf(`${CPN}=cpn-arras@interieur.gouv.fr`)] = 'CPN de Lens=cpn-lens@interieur.gouv.fr';
    await refused(1, 'O', args, /CPN de Lens/);
  });

  it('refuses a bad schedule, no --expect, an impossible start date', async () => {
    const bad = (from: string, to: string) => newArgs(FIVE()).map((a) => (a === from ? to : a));
    await refused(1, 'O', bad('quarterly:8', 'quarterly:31'), /--schedule/);
    await refused(1, 'O', bad('quarterly:8', 'weekly:8'), /--schedule/);
    await refused(1, 'O', bad('2026-01-01', '2026-02-30'), /--start/);
    await refused(1, 'O', newArgs(FIVE()).filter((a, i, all) => a !== '--expect' && all[i - 1] !== '--expect'), /--expect/);
  });

  it('refuses anyone but the officer (exit 2), on a workstation of the town hall', async () => {
    await refused(2, 'T', newArgs(FIVE()), /officier SSI/);
  });

  it('creates the Saint-Laurent-Blangy convention: id on the last line, shown as signed', async () => {
    conventionId = await ok('O', newArgs(FIVE()));
    expect(conventionId).toMatch(/^conv-[0-9a-z]{16}$/);
    const shown = JSON.parse((await pli('O', ['convention', 'show', conventionId, '--json'])).stdout) as {
      id: string; version: number; types: string[]; schedule: { every: string; day: number }; expect: string[];
      parties: { org: string; address: string }[]; people: { id: string; org: string; name: string; function: string; role: string }[]; status: { state: string };
    };
    expect(shown.id).toBe(conventionId);
    expect(shown.version).toBe(1);
    expect(shown.types).toEqual(['.csv', '.doc', '.pdf', '.xls']);
    expect(shown.schedule).toEqual({ every: 'quarterly', day: 8 });
    expect(shown.expect).toEqual(['IS 101', 'IST']);
    expect(shown.parties.map((p) => p.org)).toEqual([CPN, TOWN]);
    expect(shown.people).toHaveLength(5);
    expect(shown.people.find((p) => p.id === ids.dgs)).toMatchObject({ org: TOWN, name: 'Claire Dumont', function: 'Directrice générale des services', role: 'operator' });
    expect(shown.status.state).toBe('active');
    const text = (await pli('O', ['convention', 'show', conventionId])).stdout;
    expect(text).toContain('Directrice générale des services');
    expect(text).toContain('le 8 de chaque trimestre');
  });
});

describe('distribution to the town hall', () => {
  it('travels in the next directory and is verified at import', async () => {
    await ok('O', ['directory', 'export', '--out', at('d2.json')]);
    expect(JSON.parse(JSON.parse(readFileSync(at('d2.json'), 'utf8')).body).conventions).toHaveLength(1);
    expect(await ok('T', ['directory', 'import', at('d2.json')])).toMatch(/(?:[01] révocation|\d+ révocations), 1 convention nouvelle ou modifiée\./);
    const listed = JSON.parse((await pli('T', ['convention', 'list', '--json'])).stdout) as { id: string; title: string; status: { state: string } }[];
    expect(listed.map((c) => c.id)).toEqual([conventionId]);
    const events = (await pli('T', ['audit', 'list', '--json'])).stdout;
    expect(events).toContain('convention.imported');
  });

  it('pli due --at: à venir the day before the 8th, à envoyer aujourd\'hui on the 8th, en retard the day after', async () => {
    expect(await dueAt('T', '2025-12-20')).toEqual([]);
    const before = await dueAt('T', '2026-04-07');
    const t1 = (rows: DueRow[]) => rows.filter((r) => r.period === '2026-T1');
    expect(t1(before).map((r) => [r.document, r.due, r.state])).toEqual([['IS 101', '2026-04-08', 'upcoming'], ['IST', '2026-04-08', 'upcoming']]);
    expect(before[0]).toMatchObject({ convention: conventionId, container: null, receipts: [] });
    expect(t1(await dueAt('T', '2026-04-08')).map((r) => r.state)).toEqual(['due', 'due']);
    const after = await dueAt('T', '2026-04-09');
    expect(t1(after).map((r) => r.state)).toEqual(['late', 'late']);
    expect(after.filter((r) => r.period === '2026-T2').map((r) => [r.due, r.state])).toEqual([['2026-07-08', 'upcoming'], ['2026-07-08', 'upcoming']]);
    expect((await pli('T', ['due', '--at', '2026-04-07'])).stdout).toContain('à venir');
    expect((await pli('T', ['due', '--at', '2026-04-08'])).stdout).toContain("à envoyer aujourd'hui");
    expect((await pli('T', ['due', '--at', '2026-04-09'])).stdout).toContain('en retard');
    // The fourth quarter is due on the 8th of January of the next year.
    expect((await dueAt('T', '2026-12-01')).filter((r) => r.period === '2026-T4')[0]?.due).toBe('2027-01-08');
    await refused(1, 'T', ['due', '--at', '2026-13-01'], /--at/);
  });
});

describe('the attacker of docs/profile.md on the stored convention', () => {
  it('an edited convention row is detected (exit 2), nothing decided', async () => {
    const file = copyOfT('T-edit');
    const db = new Database(file);
    db.prepare("UPDATE conventions SET text = replace(text, 'IS 101', 'IS 102')").run();
    db.close();
    await refused(2, 'T-edit', ['due', '--at', '2026-04-09'], /modifié en dehors de Pli/);
  });

  it('a deleted convention row is detected (exit 2)', async () => {
    const file = copyOfT('T-drop');
    const db = new Database(file);
    expect(db.prepare('DELETE FROM conventions').run().changes).toBe(1);
    db.close();
    await refused(2, 'T-drop', ['convention', 'list'], /modifié en dehors de Pli/);
  });

  it('a convention planted from another profile is detected (exit 2)', async () => {
    const file = copyOfT('T-plant');
    const db = new Database(file);
    const row = db.prepare('SELECT * FROM conventions').get() as { id: string; authority: Buffer; version: number; text: string; imported_at: number };
    db.prepare('INSERT INTO conventions (id, authority, version, text, imported_at) VALUES (?, ?, ?, ?, ?)').run('conv-0000000000000000', row.authority, 1, row.text, row.imported_at);
    db.close();
    await refused(2, 'T-plant', ['due'], /modifié en dehors de Pli/);
  });
});

describe('a directory carrying a convention with a bad signature', () => {
  it('is refused whole (exit 2), nothing stored', async () => {
    const profile = openProfile(at('O'));
    const ctx: Context = { profile, unlocker: { unlock: (row) => unlockIdentity(profile.db, row.id, PASS) } };
    try {
      const authority = await unlockAuthority(ctx);
      try {
        const body = JSON.parse(JSON.parse(readFileSync(at('d2.json'), 'utf8')).body) as { serial: number; conventions: string[] };
        const envelope = JSON.parse(body.conventions[0]!) as { body: string; signature: string };
        envelope.body = envelope.body.replace('"day":8', '"day":9');
        body.conventions = [JSON.stringify(envelope)];
        body.serial += 100;
        writeFileSync(at('d-bad.json'), await makeEnvelope('directory', body, authority.secretKey));
      } finally {
        authority.wipe();
      }
    } finally {
      profile.close();
    }
    await refused(2, 'T', ['directory', 'import', at('d-bad.json')], /Annuaire refusé.*convention/);
    expect((await dueAt('T', '2026-04-09')).filter((r) => r.period === '2026-T1')[0]?.due).toBe('2026-04-08');
  });
});

describe('pli convention terminate', () => {
  it('officer only; a new signed version that reaches the town hall and ends the periods', async () => {
    await refused(2, 'T', ['convention', 'terminate', conventionId, '--date', '2026-09-30', '--reason', 'Fin du partenariat'], /officier SSI/);
    await refused(1, 'O', ['convention', 'terminate', conventionId, '--date', '2025-09-30', '--reason', 'Fin du partenariat'], /début/);
    await ok('O', ['convention', 'terminate', conventionId, '--date', '2026-09-30', '--reason', 'Fin du partenariat']);
    await refused(1, 'O', ['convention', 'terminate', conventionId, '--date', '2026-10-30', '--reason', 'encore'], /déjà résiliée/);
    const rollback = copyOfT('T-before-termination');
    await ok('O', ['directory', 'export', '--out', at('d3.json')]);
    await ok('T', ['directory', 'import', at('d3.json')]);
    const shown = JSON.parse((await pli('T', ['convention', 'show', conventionId, '--json'])).stdout) as { version: number; status: { state: string; date: string; reason: string } };
    expect(shown.version).toBe(2);
    expect(shown.status).toEqual({ state: 'terminated', date: '2026-09-30', reason: 'Fin du partenariat' });
    const periods = new Set((await dueAt('T', '2027-02-01')).map((r) => r.period));
    expect([...periods]).toEqual(['2026-T1', '2026-T2', '2026-T3']);
    expect((await pli('T', ['convention', 'list'])).stdout).toContain('résiliée le 2026-09-30');

    // The attacker puts back the version before the termination (a genuine signed text): the seal shows it.
    const old = new Database(rollback, { readonly: true });
    const before = old.prepare('SELECT text, version FROM conventions').get() as { text: string; version: number };
    old.close();
    const file = copyOfT('T-rollback');
    const db = new Database(file);
    db.prepare('UPDATE conventions SET text = ?, version = ?').run(before.text, before.version);
    db.close();
    await refused(2, 'T-rollback', ['convention', 'show', conventionId], /modifié en dehors de Pli/);
  });
});
