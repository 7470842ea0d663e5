// The SSI officer's contact through the real `pli` binary (docs/authority.md 5.2; issues 15, 17):
// `pli authority contact --name --phone --mail` on the officer's workstation O, published to the
// town hall T over the folder transport, shown by `directory status` as whom to call once the
// directory is past its next update; a contact edited in T's database with better-sqlite3 (the
// attacker of docs/profile.md) is never named as the officer's. Needs `npm run build`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { cliSandbox } from './support.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-contact-cli-', PASS);
const { root, at, pli, ok, refused } = cli;
afterAll(() => { if (!process.env.PLI_KEEP_TEST_ROOT) rmSync(root, { recursive: true, force: true }); });

const TOWN = 'Mairie de Saint-Laurent-Blangy';
const ids = { officer: '', tom: '' };
const DAY = 24 * 3600 * 1000;

beforeAll(async () => {
  await Promise.all([ok('O', ['init']), ok('T', ['init'])]);
  ids.officer = await ok('O', ['id', 'new', '--name', 'Olivier Ssi', '--email', 'ssi@interieur.gouv.fr', '--org', 'DIPN du Pas-de-Calais']);
  ids.tom = await ok('T', ['id', 'new', '--name', 'Tom Garnier', '--email', 'mairie@saint-laurent-blangy.fr', '--org', TOWN]);
  await ok('T', ['id', 'export', ids.tom, '--out', at('T.card')]);
  const pin = await ok('O', ['authority', 'init', '--name', 'SSI DIPN 62']);
  await ok('O', ['authority', 'certify', at('T.card'), '--role', 'operator', '--out', at('tom.cert')]);
  await ok('O', ['directory', 'export', '--out', at('d1.json')]);
  await ok('T', ['directory', 'import', at('d1.json'), '--pin', pin]);
  await ok('T', ['id', 'install', at('tom.cert')]);
}, 300_000);

describe('pli authority contact', () => {
  it('refuses bad fields (exit 1) and an incomplete command, and signs nothing', async () => {
    await refused(1, 'O', ['authority', 'contact', '--name', 'Olivier Ssi', '--phone', 'le standard', '--mail', 'ssi@interieur.gouv.fr'], /Numéro de téléphone invalide/);
    await refused(1, 'O', ['authority', 'contact', '--name', 'Olivier Ssi', '--phone', '03 21 00 00 00'], /--mail/);
    expect((await pli('O', ['authority', 'contact'])).stdout).toContain("Aucune coordonnée de l'officier SSI");
  }, 60_000);

  it('a town hall\'s certified person cannot set it (refused for the role, exit 2)', async () => {
    await refused(2, 'T', ['authority', 'contact', '--name', 'Tom', '--phone', '03 21 00 00 00', '--mail', 'tom@mairie.fr'], /rôle « officier SSI »/);
  }, 60_000);

  it('set by the officer, published, shown by directory status past nextUpdate as whom to call', async () => {
    await ok('O', ['authority', 'contact', '--name', 'Olivier Ssi', '--phone', '03 21 55 00 62', '--mail', 'ssi-dipn62@interieur.gouv.fr']);
    expect((await pli('O', ['authority', 'contact'])).stdout).toContain('À publier : Olivier Ssi, 03 21 55 00 62, ssi-dipn62@interieur.gouv.fr');
    const key = at('P1');
    mkdirSync(key);
    await ok('O', ['authority', 'publish', '--folder', key]);
    const town = await pli('T', ['receive', '--folder', key, '--as', ids.tom]);
    expect(town.code, town.stderr).toBe(0);
    const json = JSON.parse((await pli('T', ['directory', 'status', '--json'])).stdout) as { contact: unknown };
    expect(json.contact).toMatchObject({ state: 'valid', name: 'Olivier Ssi', phone: '03 21 55 00 62', mail: 'ssi-dipn62@interieur.gouv.fr' });
    // 35 days later the directory is past its next update: the workstation says whom to call.
    const late = await pli('T', ['directory', 'status'], { offsetMs: 35 * DAY });
    expect(late.stdout).toMatch(/devait être mis à jour le .* Appelez Olivier Ssi au 03 21 55 00 62 \(ssi-dipn62@interieur\.gouv\.fr\)/);
  }, 180_000);

  it('a contact edited in the town hall\'s database is not named as the officer\'s', async () => {
    const db = new Database(path.join(at('T'), 'profile.sqlite'));
    try {
      const stored = JSON.parse(db.prepare("SELECT value FROM meta WHERE key = 'directory.contact'").pluck().get() as string) as Record<string, unknown>;
      db.prepare("UPDATE meta SET value = ? WHERE key = 'directory.contact'").run(JSON.stringify({ ...stored, phone: '06 66 66 66 66' }));
    } finally {
      db.close();
    }
    const late = await pli('T', ['directory', 'status'], { offsetMs: 35 * DAY });
    expect(late.stdout).not.toContain('06 66 66 66 66');
    expect(late.stdout).toContain('modifiées en dehors de Pli');
    const json = JSON.parse((await pli('T', ['directory', 'status', '--json'])).stdout) as { contact: unknown };
    expect(json.contact).toEqual({ state: 'unverified' });
  }, 60_000);
});
