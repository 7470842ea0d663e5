// `pli convention edit ID …` (docs/convention.md 5): the SSI officer signs version n + 1 of a
// convention through the core function the desktop's « Modifier » calls (editConvention). Each
// option of `convention new` is optional: what is not given is kept from the current version, read
// by the core after the officer signed in (so under the trust seal). Refused as the interface
// refuses: anyone but the officer (exit 2), a bad value (exit 1), a terminated convention; nothing
// signed after a refusal. --no-renew-max removes the tacit renewal (not with --renew-max). The attacker of docs/profile.md who puts an older signed version back
// under the officer's feet gets no new version built on it (exit 2). Needs `npm run build`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { cliSandbox, SLB_TITLE, slbTownHall } from './support.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-convention-edit-', PASS);
const { root, at, pli, ok, refused } = cli;
afterAll(() => rmSync(root, { recursive: true, force: true }));
let id = '';

interface Shown {
  id: string; version: number; title: string; types: string[]; schedule: { every: string; day: number }; expect: string[]; start: string; years: number;
  renewMax: number | null; retentionDays: number; openReceipts: boolean; parties: { org: string; address: string }[]; people: { id: string; function: string }[];
  status: { state: string }; issued: string;
}
const show = async (home: string): Promise<Shown> => {
  const run = await pli(home, ['convention', 'show', id, '--json']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Shown;
};
const issuedCount = (home: string): number => {
  const db = new Database(path.join(at(home), 'profile.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM issued_conventions WHERE id = ?').pluck().get(id) as number;
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  id = (await slbTownHall(cli, PASS, { convention: true })).conventionId;
}, 180_000);

describe('pli convention edit', () => {
  it('signs version 2 with the options given and every other field kept; prints the version', async () => {
    const v1 = await show('O');
    expect(v1.version).toBe(1);
    const run = await pli('O', ['convention', 'edit', id, '--title', 'Convention SLB — états et bilan', '--expect', 'IS 101', '--expect', 'IST', '--expect', 'Bilan annuel', '--retention-days', '30']);
    expect(run.code, run.stderr).toBe(0);
    // The new version number, on the last line (as `new` prints the id there).
    expect(run.stdout.trim().split('\n').pop()).toBe('2');
    const v2 = await show('O');
    expect(v2).toMatchObject({ id, version: 2, title: 'Convention SLB — états et bilan', expect: ['IS 101', 'IST', 'Bilan annuel'], retentionDays: 30, status: { state: 'active' } });
    // Kept: what was not given.
    for (const key of ['types', 'schedule', 'start', 'years', 'renewMax', 'openReceipts', 'parties', 'people'] as const) expect(v2[key], key).toEqual(v1[key]);
    const text = (await pli('O', ['convention', 'show', id])).stdout;
    expect(text).toContain('version 2');
    expect(text).toContain('Bilan annuel');
    expect(text).toContain('Conservation après la fin : 30 jours');
    expect(issuedCount('O')).toBe(2);
    expect((await pli('O', ['audit', 'list', '--json'])).stdout).toContain('convention.edited');
  });

  it('a list option replaces the list: --person given once keeps only that person', async () => {
    const v2 = await show('O');
    const first = v2.people[0]!;
    expect(await ok('O', ['convention', 'edit', id, '--person', `${first.id}=${first.function}`, '--open-receipts'])).toBe('3');
    const v3 = await show('O');
    expect(v3.people.map((p) => p.id)).toEqual([first.id]);
    expect(v3.openReceipts).toBe(true);
    expect(v3.title).toBe(v2.title);
  });

  it('refuses anyone but the officer (exit 2) on the town hall workstation, which keeps its version', async () => {
    const before = await show('T');
    await refused(2, 'T', ['convention', 'edit', id, '--title', 'Autre titre'], /officier SSI/);
    expect(await show('T')).toEqual(before);
    expect(before.title).toBe(SLB_TITLE);
  });

  it('refuses a bad or unknown option value (exit 1) in the words of `new`; nothing signed', async () => {
    const before = await show('O');
    const count = issuedCount('O');
    await refused(1, 'O', ['convention', 'edit', id, '--schedule', 'weekly:3'], /Calendrier : quarterly:J.*\(option --schedule\)/);
    await refused(1, 'O', ['convention', 'edit', id, '--years', 'trois'], /--years attend une durée en années/);
    await refused(1, 'O', ['convention', 'edit', id, '--start', '2026-02-30'], /Date de début.*--start/);
    await refused(1, 'O', ['convention', 'edit', id, '--renew-max', '0'], /reconduction tacite/);
    await refused(1, 'O', ['convention', 'edit', id, '--colour', 'bleu'], /colour/);
    await refused(1, 'O', ['convention', 'edit', id], /Rien à modifier/);
    await refused(1, 'O', ['convention', 'edit', 'conv-zzzzzzzzzzzzzzzz', '--title', 'X'], /convention/i);
    expect(await show('O')).toEqual(before);
    expect(issuedCount('O')).toBe(count);
  });

  it('the attacker puts version 1 back in the officer\'s table: refused (exit 2), no version 4 built on it', async () => {
    cpSync(at('O'), at('O-rollback'), { recursive: true });
    const db = new Database(path.join(at('O-rollback'), 'profile.sqlite'));
    const v1 = db.prepare('SELECT text FROM issued_conventions WHERE id = ? AND version = 1').pluck().get(id) as string;
    expect(db.prepare('UPDATE conventions SET text = ?, version = 1 WHERE id = ?').run(v1, id).changes).toBe(1);
    db.close();
    await refused(2, 'O-rollback', ['convention', 'edit', id, '--years', '2'], /modifié en dehors de Pli/);
    expect(issuedCount('O-rollback')).toBe(3);
  });

  it('--no-renew-max removes the tacit renewal (renewMax null) in version n + 1; --renew-max N sets it', async () => {
    const before = await show('O');
    expect(await ok('O', ['convention', 'edit', id, '--renew-max', '5'])).toBe(String(before.version + 1));
    expect((await show('O')).renewMax).toBe(5);
    expect((await pli('O', ['convention', 'show', id])).stdout).toContain("reconduction tacite jusqu'à 5 ans");
    expect(await ok('O', ['convention', 'edit', id, '--no-renew-max'])).toBe(String(before.version + 2));
    const after = await show('O');
    expect(after).toMatchObject({ version: before.version + 2, renewMax: null, years: before.years, title: before.title });
    const text = (await pli('O', ['convention', 'show', id])).stdout;
    expect(text).toContain(`version ${before.version + 2}`);
    expect(text).not.toContain('reconduction tacite');
    expect(issuedCount('O')).toBe(before.version + 2);
  });

  it('--renew-max and --no-renew-max together: a usage error in French (exit 1), nothing signed', async () => {
    const before = await show('O');
    const count = issuedCount('O');
    await refused(1, 'O', ['convention', 'edit', id, '--renew-max', '5', '--no-renew-max'], /--renew-max ou --no-renew-max : l'un ou l'autre/);
    await refused(1, 'O', ['convention', 'edit', id, '--no-renew-max', '--renew-max', '3', '--title', 'X'], /l'un ou l'autre/);
    expect(await show('O')).toEqual(before);
    expect(issuedCount('O')).toBe(count);
  });

  it('a terminated convention is not edited (exit 1), as the interface says', async () => {
    await ok('O', ['convention', 'terminate', id, '--date', '2026-09-30', '--reason', 'Fin du partenariat']);
    const count = issuedCount('O');
    await refused(1, 'O', ['convention', 'edit', id, '--title', 'Réouverte'], /résiliée.*ne peut plus être modifiée/);
    expect(issuedCount('O')).toBe(count);
  });
});
