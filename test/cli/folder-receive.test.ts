// `pli receive --folder` on a folder anyone may write to (a USB key, a share): one file there must
// not stop every import. Found by a review: a name that is not UTF-8 made every receive of that
// folder fail (« erreur inattendue : ENOENT », the other plis never read, the receipts for that
// folder never written), and a link on the key to a local file was followed. Played with the
// real `pli`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { cliSandbox } from './support.js';

const PASS = 'une phrase de passe de test';
const { root, at, ok, pli } = cliSandbox('pli-folder-receive-', PASS);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ids: Record<string, string> = {};
beforeAll(async () => {
  writeFileSync(at('etat.csv'), 'IS 101;T3\n');
  await Promise.all([
    (async () => {
      await ok('S', ['init']);
      ids.sender = await ok('S', ['id', 'new', '--name', 'Paul Lefebvre', '--email', 'cpn@police.fr', '--org', 'CPN']);
    })(),
    (async () => {
      await ok('R', ['init']);
      ids.town = await ok('R', ['id', 'new', '--name', 'Claire Dumont', '--email', 'mairie@ville.fr', '--org', 'Mairie']);
      await ok('R', ['id', 'export', ids.town, '--out', at('claire.card')]);
    })(),
  ]);
  await ok('S', ['id', 'import', at('claire.card')]);
  await ok('S', ['id', 'export', ids.sender!, '--out', at('paul.card')]);
  await ok('R', ['id', 'import', at('paul.card')]);
  await ok('S', ['send', '--as', ids.sender!, '--to', ids.town!, '--folder', at('usb'), at('etat.csv')]);
});

describe('receive --folder with a hostile file beside the plis', () => {
  it('a name that is not UTF-8, a link to a local file and a folder named .pli: the pli is received, each of the others said', async () => {
    const usb = at('usb');
    expect(readdirSync(usb).filter((f) => f.endsWith('.pli'))).toHaveLength(1);
    // Written by another system: "a" then the byte 0xFF, which is no UTF-8.
    writeFileSync(Buffer.concat([Buffer.from(`${usb}${path.sep}a`), Buffer.from([0xff]), Buffer.from('.pli')]), 'pas un pli');
    symlinkSync(at('etat.csv'), path.join(usb, 'lien.pli'));
    mkdirSync(path.join(usb, 'dossier.pli'));

    const run = await pli('R', ['receive', '--folder', usb, '--as', ids.town!]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/erreur inattendue/);
    // The link and the folder are not read, and said so; the file with the odd name is read (and refused as no pli).
    expect(run.stderr).toMatch(/attention : « lien\.pli » n'est pas un fichier ordinaire/);
    expect(run.stderr).toMatch(/attention : « dossier\.pli » n'est pas un fichier ordinaire/);
    const inbox = JSON.parse((await pli('R', ['inbox', '--json'])).stdout) as { state: string; sender?: string | null }[];
    expect(inbox.filter((row) => row.state !== 'refused')).toHaveLength(1);
    expect(inbox).toHaveLength(2);
  });
});
