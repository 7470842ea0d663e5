// The attacker of docs/profile.md ("The attacker": writes the profile's database and folders,
// knows no passphrase) against the outbox's copies outside the mail send (test/mail/outbox-tamper
// plays the mail send), through the real `pli` binary where a command reaches the code:
//   - a receipt coming back is checked against the sender's own copy of the container: that copy is
//     outbox/<container id>.pli read without following a symlink, never the row's `path` (a FIFO
//     planted there made `receive --folder` hang; a symlink made it read any file);
//   - the folder transport's writer reads the copy once without following a link and never
//     replaces a file at the destination name (files.ts helpers, in process: the container id
//     that names the destination file is not known before the send);
//   - `send --folder` keeps its copy 0600.
// Needs `npm run build`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, lstatSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { asAttacker } from '../unit/attacker.js';
import { BIN, cliSandbox } from './support.js';
import { mailFileMode, NotRegularFileError, placeNoReplace, readRegularFile } from '../../electron/core/files.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-outbox-tamper-', PASS);
const { root, at, pli, ok, person, installDirectory } = cli;
afterAll(() => { if (!process.env.PLI_KEEP_TEST_ROOT) rmSync(root, { recursive: true, force: true }); });

const TOWN = 'Mairie de Saint-Laurent-Blangy';
const CPN = "CPN d'Arras";
const ids = { officer: '', tom: '', sam: '' };

interface ReceiptJson { type: string; state: string; container: string | null; sameBytes: boolean | null }
const receipts = async (home: string): Promise<ReceiptJson[]> => JSON.parse((await pli(home, ['receipts', '--json'])).stdout) as ReceiptJson[];

/** The attacker: writes straight into the profile's database (triggers out of the way). */
const tamper = (home: string, action: (db: Database.Database) => void): void => asAttacker(at(home), action);

/** `pli` with a deadline: a run still going after `ms` is killed and reported as hung (code null). */
function pliWithin(home: string, args: string[], ms: number): Promise<{ code: number | null; stderr: string; hung: boolean }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PLI_'))) as Record<string, string>;
  const child = spawn(process.execPath, [BIN, '--home', at(home), ...args], { env: { ...base, PLI_PASSPHRASE: PASS }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
  let hung = false;
  const timer = setTimeout(() => { hung = true; child.kill('SIGKILL'); }, ms);
  return new Promise((resolve) => child.once('close', (code) => { clearTimeout(timer); resolve({ code, stderr, hung }); }));
}

/** Sam sends a container to Tom through `key`; Tom receives it (a "remis" receipt goes back). */
async function sendAndDeliver(key: string): Promise<string> {
  await ok('S', ['send', '--as', ids.sam, '--to', ids.tom, '--folder', key, at('IS101.csv')]);
  const rows = JSON.parse((await pli('S', ['outbox', '--json'])).stdout) as { container_id: string }[];
  const container = rows[rows.length - 1]!.container_id;
  const town = await pli('T', ['receive', '--folder', key, '--as', ids.tom]);
  expect(town.code, town.stderr).toBe(0);
  expect(readdirSync(key).filter((n) => n.startsWith('pli-objet-receipt-'))).toHaveLength(1);
  return container;
}

beforeAll(async () => {
  let pin = '';
  [ids.officer, ids.tom, ids.sam] = await Promise.all([
    (async () => {
      const id = await person('O', 'Olivier Ssi', 'ssi@interieur.gouv.fr', 'DIPN du Pas-de-Calais', 'O.card');
      pin = await ok('O', ['authority', 'init', '--name', 'SSI DIPN 62']);
      return id;
    })(),
    person('T', 'Tom Garnier', 'mairie@saint-laurent-blangy.fr', TOWN, 'T.card'),
    person('S', 'Sam Lefebvre', 'cpn-arras@interieur.gouv.fr', CPN, 'S.card'),
  ]);
  await ok('O', ['authority', 'certify', at('T.card'), '--role', 'operator', '--out', at('tom.cert')]);
  await ok('O', ['authority', 'certify', at('S.card'), '--role', 'operator', '--out', at('sam.cert')]);
  await installDirectory(pin, [['T', 'tom.cert'], ['S', 'sam.cert']]);
  writeFileSync(at('IS101.csv'), 'type;nombre\ncambriolages;12\n');
}, 300_000);

describe("a receipt is checked against the profile's own copy, never the row's path", () => {
  it('send --folder keeps its copy in outbox/ 0600', async () => {
    mkdirSync(at('K0'));
    await ok('S', ['send', '--as', ids.sam, '--to', ids.tom, '--folder', at('K0'), at('IS101.csv')]);
    const copies = readdirSync(at('S/outbox')).filter((n) => n.endsWith('.pli'));
    expect(copies.length).toBeGreaterThan(0);
    for (const name of copies) expect(statSync(at(`S/outbox/${name}`)).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(at('K0'), readdirSync(at('K0'))[0]!)).mode & 0o077).toBe(0o044);
  }, 120_000);

  it("a FIFO as the outbox row's path: the receipt is still read, against outbox/<id>.pli", async () => {
    const key = at('K1');
    mkdirSync(key);
    const container = await sendAndDeliver(key);
    const fifo = at('piege.fifo');
    execFileSync('mkfifo', [fifo]);
    tamper('S', (db) => db.prepare('UPDATE outbox SET path = ? WHERE container_id = ?').run(fifo, container));
    const police = await pliWithin('S', ['receive', '--folder', key, '--as', ids.sam], 60_000);
    expect(police.hung, 'receive --folder hung reading the row’s path').toBe(false);
    expect(police.code, police.stderr).toBe(0);
    expect((await receipts('S')).find((r) => r.container === container)).toMatchObject({ state: 'matched', sameBytes: true });
  }, 120_000);

  it('outbox/<id>.pli swapped for a symlink (to the genuine copy moved away): not followed', async () => {
    const key = at('K2');
    mkdirSync(key);
    const container = await sendAndDeliver(key);
    const copy = at(`S/outbox/${container}.pli`);
    const moved = at('ailleurs.pli');
    renameSync(copy, moved);
    symlinkSync(moved, copy);
    const police = await pli('S', ['receive', '--folder', key, '--as', ids.sam]);
    // No copy read: a folder send has no mailbox to match the signer against, so the receipt is
    // not taken (refused, as when the copy is gone), never matched through the link.
    expect(police.stderr).toMatch(/Accusé de réception refusé/);
    expect((await receipts('S')).find((r) => r.container === container)).toBeUndefined();
    expect(lstatSync(copy).isSymbolicLink() && readlinkSync(copy)).toBe(moved);
  }, 120_000);
});

describe("the folder writer's helpers (files.ts)", () => {
  it('readRegularFile: a symlink, a FIFO or a folder is refused, never followed; a file is read once', async () => {
    const dir = at('helpers');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'secret.txt'), 'secret');
    symlinkSync(path.join(dir, 'secret.txt'), path.join(dir, 'link.pli'));
    execFileSync('mkfifo', [path.join(dir, 'fifo.pli')]);
    mkdirSync(path.join(dir, 'folder.pli'));
    for (const name of ['link.pli', 'fifo.pli', 'folder.pli']) {
      await expect(readRegularFile(path.join(dir, name), 1 << 20)).rejects.toBeInstanceOf(NotRegularFileError);
    }
    expect(await readRegularFile(path.join(dir, 'absent.pli'), 1 << 20)).toBeNull();
    expect((await readRegularFile(path.join(dir, 'secret.txt'), 1 << 20))!.toString()).toBe('secret');
    await expect(readRegularFile(path.join(dir, 'secret.txt'), 3)).rejects.toMatchObject({ reason: 'too-big' });
  });

  it('placeNoReplace: an existing file or link (even dangling) at the name is left as it is', async () => {
    const dir = at('place');
    mkdirSync(dir);
    const target = path.join(dir, 'pli-0123456789abcdef.pli');
    const victim = path.join(dir, 'victim.txt');
    writeFileSync(victim, 'à garder');
    for (const plant of [() => writeFileSync(target, 'déjà là'), () => symlinkSync(victim, target), () => symlinkSync(path.join(dir, 'nowhere'), target)]) {
      rmSync(target, { force: true });
      plant();
      const before = lstatSync(target);
      const part = path.join(dir, '.part');
      writeFileSync(part, 'nouveau pli');
      expect(await placeNoReplace(part, target)).toBe(false);
      const after = lstatSync(target);
      expect([after.ino, after.isSymbolicLink()]).toEqual([before.ino, before.isSymbolicLink()]);
      expect(readFileSync(victim, 'utf8')).toBe('à garder');
      rmSync(part, { force: true });
    }
    rmSync(target);
    const part = path.join(dir, '.part');
    writeFileSync(part, 'nouveau pli');
    expect(await placeNoReplace(part, target)).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('nouveau pli');
    expect(() => statSync(part)).toThrow();
  });

  it.skipIf(process.platform === 'win32')('mailFileMode: 0660 in a shared profile\'s outbox (group folder), so that the other people\'s flushes read it; 0600 otherwise', async () => {
    const dir = at('modes');
    for (const [mode, expected] of [[0o2770, 0o660], [0o700, 0o600]] as const) {
      const folder = path.join(dir, mode.toString(8));
      mkdirSync(folder, { recursive: true });
      chmodSync(folder, mode);
      expect(await mailFileMode(folder)).toBe(expected);
    }
  });
});
