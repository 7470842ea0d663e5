// Expected failures of the real `pli` binary (bin/pli.js over dist/: `npm run build` first) on real
// file systems: a destination too small (a 5 MiB tmpfs), a file too big for it (a file size
// limit, as FAT32's 4 GiB), a read-only profile (a read-only bind mount), a 255-byte name that
// collides, every "name (n)" taken, and a decryption killed while the files are being placed on
// a file system without hard links. Each must exit with its own code and French message (never
// "erreur inattendue"), place every file or none, and leave an audit event. Mounting needs root
// (as here and in CI): otherwise those tests say they are skipped.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { scriptedTable } from '../unit/handler-table.js';
import { describeErrorWith } from '../../shared/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'pli.js');
const PASS = 'phrase de passe des pannes 1';
const isRoot = process.getuid?.() === 0;
/** A test that mounts: its title says why it is skipped when not run as root. */
const asRoot = (title: string): string => (isRoot ? title : `skipped: needs root to mount (tmpfs, bind) — ${title}`);

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** `fileSizeKiB`: the largest file the process may write (the shell's ulimit -f; Node ignores
 * SIGXFSZ, so a write beyond it fails with EFBIG, as on a FAT32 key beyond 4 GiB). */
function pli(args: string[], options: { env?: Record<string, string>; node?: string[]; fileSizeKiB?: number } = {}): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PLI_'))) as Record<string, string>;
  const command = [process.execPath, ...(options.node ?? []), BIN, ...args];
  const [file, ...argv] = options.fileSizeKiB === undefined ? command : ['bash', '-c', `ulimit -f ${options.fileSizeKiB} && exec "$@"`, 'bash', ...command];
  return new Promise((resolve, reject) => {
    const child = spawn(file!, argv, { env: { ...base, PLI_PASSPHRASE: PASS, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** An expected failure: its exit code, one French `pli: ` line, never the message kept for bugs. */
function expectNamedFailure(run: Run, code: number, words: RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stderr).toMatch(/^pli: /);
  expect(run.stderr).not.toMatch(/inattendue/i);
  expect(run.stderr).toMatch(words);
}

function sh(command: string, args: string[]): void {
  const run = spawnSync(command, args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${run.stderr || run.error?.message}`);
}
const mounted: string[] = [];
function mount(args: string[], target: string): void {
  sh('mount', [...args, target]);
  mounted.push(target);
}

let work: string;
let home: string;
const dir = (name: string): string => {
  const d = path.join(work, name);
  mkdirSync(d, { recursive: true });
  return d;
};
/** Seals `files` (name → bytes) to the profile's own person; returns the container's path. */
async function sealed(name: string, files: Record<string, Buffer>): Promise<string> {
  const src = dir(`src-${name}`);
  const paths = Object.entries(files).map(([file, data]) => {
    writeFileSync(path.join(src, file), data);
    return path.join(src, file);
  });
  const out = path.join(work, `${name}.pli`);
  const run = await pli(['--home', home, 'encrypt', '--out', out, ...paths]);
  expect(run.code, run.stderr).toBe(0);
  return out;
}

interface Event { action: string; outcome: string; detail: Record<string, unknown> | null }
async function lastEvent(action: string): Promise<Event | undefined> {
  const run = await pli(['--home', home, 'audit', 'list', '--json']);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as Event[]).filter((e) => e.action === action).at(-1);
}
/** The entries a user sees in a folder (Pli's own dot-names apart). */
const visible = (d: string): string[] => readdirSync(d).filter((n) => !n.startsWith('.pli-')).sort();

/** The own person's id (the first of `id list`). */
async function ownId(at = home): Promise<string> {
  const run = await pli(['--home', at, 'id', 'list', '--json']);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { id: string }[])[0]!.id;
}

/** The desktop app's answer to `channel` on the profile `at` (its IPC handler table), and what its
 * French screen shows (renderer/i18n/fr.json, as renderer/errors.ts words it). */
const FR = JSON.parse(readFileSync(path.join(ROOT, 'renderer/i18n/fr.json'), 'utf8')) as Record<string, unknown>;
async function appAnswer(at: string, channel: string): Promise<{ code: string; params: Record<string, unknown>; shown: string }> {
  const { table } = scriptedTable(at);
  try {
    const answer = await table.invoke(channel, {});
    expect(answer.ok, JSON.stringify(answer)).toBe(false);
    if (answer.ok) throw new Error('unreachable');
    const get = (key: string): unknown => key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], FR);
    const shown = describeErrorWith({
      exists: (key) => typeof get(key) === 'string',
      t: (key, params) => (get(key) as string).replace(/\{\{\s*(\w+)\s*\}\}/g, (m, name: string) => (name in params ? String(params[name]) : m)),
    }, answer.error).message;
    return { code: answer.error.code, params: answer.error.params ?? {}, shown };
  } finally {
    table.close();
  }
}

beforeAll(async () => {
  expect(existsSync(path.join(ROOT, 'dist/electron/cli/run.js')), 'run `npm run build` first').toBe(true);
  work = mkdtempSync(path.join(os.tmpdir(), 'pli-faults-'));
  home = path.join(work, 'home');
  expect((await pli(['--home', home, 'init'])).code).toBe(0);
  const created = await pli(['--home', home, 'id', 'new', '--name', 'Claire Petit', '--email', 'mairie@ville.example', '--org', 'Mairie']);
  expect(created.code, created.stderr).toBe(0);
}); // the project's hook time (vitest.config.ts), not 60 s: two runs of pli, one with Argon2 at full cost

afterAll(() => {
  // Always unmounted, in reverse order, before the folders are removed.
  for (const target of mounted.reverse()) spawnSync('umount', ['-l', target]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a destination without enough room (5 MiB tmpfs)', () => {
  it.skipIf(!isRoot)(asRoot('exit 3, says where and how much is needed, places nothing, writes the audit event'), async () => {
    const container = await sealed('big', { 'IS101_T3.xls': randomBytes(3_000_000), 'IST_T3.csv': randomBytes(3_500_000) });
    const small = dir('small');
    mount(['-t', 'tmpfs', '-o', 'size=5m', 'tmpfs'], small);
    const run = await pli(['--home', home, 'decrypt', '--out', small, container]);
    expectNamedFailure(run, 3, /place/i);
    expect(run.stderr).toContain(small);
    expect(run.stderr).toMatch(/Mo/);
    expect(readdirSync(small)).toEqual([]);
    const event = await lastEvent('container.opened');
    expect(event?.outcome).toBe('failed');
    expect(event?.detail?.reason).toBe('disk-full');
  });
});

describe('a file bigger than the destination takes (EFBIG: a FAT32 key beyond 4 GiB; here a file size limit)', () => {
  // 24 MiB: both streams run in the addon's workers (above 8 MiB), and the limit (12 MiB) is met
  // in the middle, while the other worker may still hold an earlier block to write.
  const LIMIT_KIB = 12 * 1024;

  it('encrypt: exit 1 with what to do, no container and no partial file left', async () => {
    const src = dir('efbig-src');
    const input = path.join(src, 'IS101_T3.xls');
    writeFileSync(input, randomBytes(24 << 20));
    const out = dir('efbig-enc');
    const run = await pli(['--home', home, 'encrypt', '--out', path.join(out, 'gros.pli'), input], { fileSizeKiB: LIMIT_KIB });
    expectNamedFailure(run, 1, /trop gros.*FAT32.*recommencez/s);
    expect(run.stderr).toContain(out);
    expect(readdirSync(out)).toEqual([]);
  });

  it('decrypt: exit 1 with what to do, nothing placed, the audit event says why', async () => {
    const container = await sealed('efbig', { 'IST_T3.csv': randomBytes(24 << 20) });
    const out = dir('efbig-dec');
    const run = await pli(['--home', home, 'decrypt', '--out', out, container], { fileSizeKiB: LIMIT_KIB });
    expectNamedFailure(run, 1, /trop gros.*FAT32.*recommencez/s);
    expect(run.stderr).toContain(out);
    expect(readdirSync(out)).toEqual([]);
    const event = await lastEvent('container.opened');
    expect(event?.outcome).toBe('failed');
    expect(event?.detail?.reason).toBe('file-too-big-for-disk');
  });
});

describe('names', () => {
  it('a 255-byte name that collides: placed under a shortened "name (2)", the first copy untouched', async () => {
    const name = `${'é'.repeat(124)}_T3.csv`; // 248 + 7 bytes: the most a Linux name may have
    expect(Buffer.byteLength(name)).toBe(255);
    const data = randomBytes(1000);
    const container = await sealed('long', { [name]: data });
    const out = dir('long-out');
    expect((await pli(['--home', home, 'decrypt', '--out', out, container])).code).toBe(0);
    const run = await pli(['--home', home, 'decrypt', '--out', out, container]);
    expect(run.code, run.stderr).toBe(0);
    const names = visible(out);
    expect(names).toHaveLength(2);
    const second = names.find((n) => n !== name)!;
    expect(second).toMatch(/ \(2\)_T3\.csv$|\(2\)\.csv$/);
    expect(Buffer.byteLength(second)).toBeLessThanOrEqual(255);
    expect(readFileSync(path.join(out, name)).equals(data)).toBe(true);
    expect(readFileSync(path.join(out, second)).equals(data)).toBe(true);
  });

  it('every "name (n)" taken: exit 1 with what to do, nothing placed (not even the free name), an audit event', async () => {
    const container = await sealed('names', { 'libre.txt': Buffer.from('un'), 'etat.csv': Buffer.from('deux') });
    const out = dir('full-names');
    writeFileSync(path.join(out, 'etat.csv'), 'déjà là');
    for (let n = 2; n < 10000; n++) writeFileSync(path.join(out, `etat (${n}).csv`), '');
    const before = visible(out).length;
    const run = await pli(['--home', home, 'decrypt', '--out', out, container]);
    expectNamedFailure(run, 1, /autre dossier/);
    expect(existsSync(path.join(out, 'libre.txt'))).toBe(false);
    expect(visible(out)).toHaveLength(before);
    const event = await lastEvent('container.opened');
    expect(event?.outcome).toBe('failed');
    expect(event?.detail?.reason).toBe('name-exhausted');
  }); // no 60 s of its own (10 000 files, then 9 999 names tried): the project's time for a test is a guard against a hang, not a budget a loaded machine can miss
});

describe('a read-only profile (read-only bind mount)', () => {
  it.skipIf(!isRoot)(asRoot('id list and decrypt: exit 1, says the profile cannot be written and what to do'), async () => {
    const container = await sealed('ro', { 'a.txt': Buffer.from('a') });
    const ro = dir('ro-home');
    mount(['--bind', home], ro);
    mount(['-o', 'remount,ro,bind'], ro);
    expectNamedFailure(await pli(['--home', ro, 'id', 'list']), 1, /lecture seule/);
    const out = dir('ro-out');
    expectNamedFailure(await pli(['--home', ro, 'decrypt', '--out', out, container]), 1, /lecture seule/);
    expect(readdirSync(out)).toEqual([]);
    // The desktop app says the same: the profile, by its name, read-only (not "un dossier de ce poste").
    const app = await appAnswer(ro, 'identities:list');
    expect([app.code, app.params]).toEqual(['profile-read-only', { place: ro, placeKind: 'profile' }]);
    expect(app.shown).toMatch(/^Le profil «\u00a0ro-home\u00a0» est en lecture seule .*journal d’audit/);
    expect(app.shown).not.toMatch(/un dossier de ce poste|\{\{|SQLITE/);
  });
});

describe('a read-only destination (a write-protected USB key: read-only bind mount)', () => {
  it.skipIf(!isRoot)(asRoot('exit 1, says the folder is read-only and what to do, an audit event'), async () => {
    const container = await sealed('ro-dest', { 'a.txt': Buffer.from('a') });
    const key = dir('ro-key');
    mount(['--bind', dir('ro-key-src')], key);
    mount(['-o', 'remount,ro,bind'], key);
    const run = await pli(['--home', home, 'decrypt', '--out', key, container]);
    expectNamedFailure(run, 1, /lecture seule/);
    expect(run.stderr).toContain(key);
    expect(run.stderr).not.toMatch(/EROFS|read-only file system/);
    const event = await lastEvent('container.opened');
    expect(event?.outcome).toBe('failed');
    expect(event?.detail?.reason).toBe('read-only');
  });
});

describe('a profile on a full disk (an 8 MiB tmpfs, filled)', () => {
  it.skipIf(!isRoot)(asRoot('decrypt and id list: exit 3, says the profile\'s disk is full and what to do'), async () => {
    const disk = dir('full-disk');
    mount(['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs'], disk);
    const full = path.join(disk, 'profil');
    expect((await pli(['--home', full, 'init'])).code).toBe(0);
    const created = await pli(['--home', full, 'id', 'new', '--name', 'Marc Roux', '--email', 'cpn@police.example', '--org', 'CPN']);
    expect(created.code, created.stderr).toBe(0);
    const src = path.join(dir('full-src'), 'IS101_T3.csv');
    writeFileSync(src, 'état');
    const container = path.join(work, 'full.pli');
    expect((await pli(['--home', full, 'encrypt', '--out', container, src])).code).toBe(0);
    // Whatever room is left, taken by another file (the disk of a busy workstation).
    spawnSync('dd', ['if=/dev/zero', `of=${path.join(disk, 'autre')}`, 'bs=1M', 'count=64'], { stdio: 'ignore' });
    const out = dir('full-out');
    expectNamedFailure(await pli(['--home', full, 'decrypt', '--out', out, container]), 3, /place/i);
    expect(readdirSync(out)).toEqual([]);
    const listed = await pli(['--home', full, 'id', 'list']);
    expectNamedFailure(listed, 3, /Plus de place sur le disque du profil/);
    expect(listed.stderr).toContain(full);
    // The desktop app says the same (SQLite says SQLITE_IOERR_SHMSIZE or SQLITE_FULL: never an I/O error).
    const app = await appAnswer(full, 'identities:list');
    expect([app.code, app.params]).toEqual(['profile-full', { place: full, placeKind: 'profile' }]);
    expect(app.shown).toMatch(/^Plus de place sur le disque du profil «\u00a0profil\u00a0»/);
    expect(app.shown).not.toMatch(/un dossier de ce poste|lecture ou d’écriture|\{\{/);
  });
});

// A Node loader hook that gives the binary a file system without hard links (link() answers
// EPERM, as on FAT/exFAT) and kills it (SIGKILL: no handler runs) as soon as something is placed in
// the destination: under a final name, the first bytes of a copy, or the first file moved.
function noHardLinksKiller(): string[] {
  const hooks = path.join(work, 'hooks');
  mkdirSync(hooks, { recursive: true });
  writeFileSync(path.join(hooks, 'register.mjs'), `import { register } from 'node:module';\nregister('./resolve.mjs', import.meta.url);\n`);
  writeFileSync(path.join(hooks, 'resolve.mjs'), `export async function resolve(specifier, context, next) {
  if ((specifier === 'node:fs/promises' || specifier === 'fs/promises') && !String(context.parentURL).endsWith('/fsp.mjs')) {
    return { url: new URL('./fsp.mjs', import.meta.url).href, shortCircuit: true };
  }
  return next(specifier, context);
}\n`);
  writeFileSync(path.join(hooks, 'fsp.mjs'), `import * as real from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
export * from 'node:fs/promises';
const dest = process.env.PLI_TEST_DEST;
const inDest = (p) => typeof p === 'string' && path.dirname(path.resolve(p)) === dest && !path.basename(p).startsWith('.pli-');
const die = () => process.kill(process.pid, 'SIGKILL');
export async function link() { throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' }); }
export async function rename(from, to) { await real.rename(from, to); if (inDest(to)) die(); }
export async function open(p, flags, mode) {
  const handle = await real.open(p, flags, mode);
  if (inDest(p) && typeof flags === 'number' && (flags & constants.O_CREAT)) {
    const write = handle.write.bind(handle);
    handle.write = async (...args) => { const r = await write(...args); die(); return r; };
  }
  return handle;
}
export default { ...real, link, rename, open };
`);
  return ['--import', pathToFileURL(path.join(hooks, 'register.mjs')).href];
}

describe('a file system without hard links (FAT/exFAT USB key), the command killed while placing files', () => {
  it('no truncated file under a final name, and the next run places the same names (no "name (2)")', async () => {
    // A real FAT image needs the kernel's vfat driver; where it is missing (this sandbox), the
    // loader hook above plays the file system without hard links.
    const files = { 'IS101_T3.xls': randomBytes(2_500_000), 'IST_T3.csv': randomBytes(2_500_000) };
    const container = await sealed('fat', files);
    const out = dir('fat-out');
    const killed = await pli(['--home', home, 'decrypt', '--out', out, container], { node: noHardLinksKiller(), env: { PLI_TEST_DEST: out } });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(visible(out), 'killed once the first file was placed, before the second').toHaveLength(1);
    for (const name of visible(out)) {
      expect(readFileSync(path.join(out, name)).equals(files[name as keyof typeof files]), `${name} is truncated`).toBe(true);
    }
    const again = await pli(['--home', home, 'decrypt', '--out', out, container]);
    expect(again.code, again.stderr).toBe(0);
    expect(visible(out)).toEqual(Object.keys(files).sort());
    expect(readdirSync(out).filter((n) => n.startsWith('.pli-'))).toEqual([]);
    for (const [name, data] of Object.entries(files)) expect(readFileSync(path.join(out, name)).equals(data)).toBe(true);
  });

  const fat = (() => {
    if (!isRoot) return 'skipped: needs root to mount a FAT image';
    const probe = spawnSync('sh', ['-c', 'grep -qw vfat /proc/filesystems && command -v mkfs.vfat'], { encoding: 'utf8' });
    return probe.status === 0 ? null : 'skipped: this kernel has no vfat driver (or mkfs.vfat is missing): the loader hook above plays FAT';
  })();
  it.skipIf(fat !== null)(fat ?? 'on a real FAT image: every file placed whole, under its own name', async () => {
    const img = path.join(work, 'fat.img');
    sh('truncate', ['-s', '20M', img]);
    sh('mkfs.vfat', [img]);
    const key = dir('usb');
    mount(['-o', 'loop', img], key);
    const files = { 'IS101_T3.xls': randomBytes(1_000_000), 'IST_T3.csv': randomBytes(500_000) };
    const container = await sealed('fat-real', files);
    const run = await pli(['--home', home, 'decrypt', '--out', key, container]);
    expect(run.code, run.stderr).toBe(0);
    expect(visible(key)).toEqual(Object.keys(files).sort());
    for (const [name, data] of Object.entries(files)) expect(readFileSync(path.join(key, name)).equals(data)).toBe(true);
  });
});

describe('a damaged profile database (SQLITE_NOTADB, SQLITE_CORRUPT)', () => {
  /** A copy of the profile whose database is replaced (`notadb`) or has its pages after the first overwritten (`corrupt`). */
  function damaged(name: string, how: 'notadb' | 'corrupt'): string {
    const copy = path.join(work, name);
    cpSync(home, copy, { recursive: true });
    for (const extra of ['-wal', '-shm']) rmSync(path.join(copy, `profile.sqlite${extra}`), { force: true });
    const db = path.join(copy, 'profile.sqlite');
    const bytes = readFileSync(db);
    if (how === 'notadb') bytes.fill(0x5a);
    else bytes.fill(0x5a, bytes.readUInt16BE(16) || 65536);
    writeFileSync(db, bytes);
    return copy;
  }

  it('the CLI and the app: exit 1, the profile is damaged, restore it from its backup or tell the SSI officer', async () => {
    for (const how of ['notadb', 'corrupt'] as const) {
      const at = damaged(`damaged-${how}`, how);
      const run = await pli(['--home', at, 'id', 'list']);
      expectNamedFailure(run, 1, /endommagé.*sauvegarde.*officier SSI/s);
      expect(run.stderr).toContain(at);
      expect(run.stderr).not.toMatch(/malformed|not a database|SQLITE/);
      const app = await appAnswer(at, 'identities:list');
      expect([app.code, app.params], how).toEqual(['profile-damaged', { place: at, placeKind: 'profile' }]);
      expect(app.shown).toMatch(new RegExp(`^Le profil «\\u00a0damaged-${how}\\u00a0» est endommagé.*sauvegarde`));
    }
  });
});

describe('a folder that cannot take the file (encrypt --out, send --folder, id export, audit anchor)', () => {
  it('a missing folder, or a file where the folder should be: exit 1, says so in words, nothing left', async () => {
    const src = path.join(dir('nofolder-src'), 'IS101_T3.csv');
    writeFileSync(src, 'état');
    const file = path.join(work, 'un-fichier');
    writeFileSync(file, 'x');
    for (const folder of [path.join(work, 'absent'), file]) {
      const run = await pli(['--home', home, 'encrypt', '--out', path.join(folder, 'x.pli'), src]);
      expectNamedFailure(run, 1, /introuvable, ou une partie de son chemin est un fichier/);
      expect(run.stderr).toContain(folder);
      expect(run.stderr).not.toMatch(/ENOENT|ENOTDIR|\.part/);
      const exported = await pli(['--home', home, 'id', 'export', await ownId(), '--out', path.join(folder, 'carte')]);
      expectNamedFailure(exported, 1, /introuvable, ou une partie de son chemin est un fichier/);
    }
    expect(existsSync(path.join(work, 'absent'))).toBe(false);
    // init under a file: the profile's folder cannot be made.
    expectNamedFailure(await pli(['--home', path.join(file, 'profil'), 'init']), 1, /dossier du profil .* introuvable, ou une partie de son chemin est un fichier/);
  });

  it.skipIf(!isRoot)(asRoot('a read-only folder (write-protected key): exit 1 in words; send leaves no container behind in the profile'), async () => {
    const key = dir('ro-drop');
    mount(['--bind', dir('ro-drop-src')], key);
    mount(['-o', 'remount,ro,bind'], key);
    const src = path.join(dir('ro-drop-files'), 'IS101_T3.csv');
    writeFileSync(src, 'état');
    const id = await ownId();
    const outbox = path.join(home, 'outbox');
    const before = existsSync(outbox) ? readdirSync(outbox).sort() : [];
    const runs = [
      await pli(['--home', home, 'encrypt', '--out', path.join(key, 'x.pli'), src]),
      await pli(['--home', home, 'send', '--as', id, '--to', id, '--folder', key, src]),
      await pli(['--home', home, 'id', 'export', id, '--out', path.join(key, 'carte')]),
      await pli(['--home', home, 'audit', 'anchor', '--out', path.join(key, 'ancre')]),
    ];
    for (const run of runs) {
      expectNamedFailure(run, 1, /lecture seule.*Choisissez un dossier/s);
      expect(run.stderr).toContain(key);
      expect(run.stderr).not.toMatch(/EROFS|read-only file system|\.part/);
    }
    expect(existsSync(outbox) ? readdirSync(outbox).sort() : []).toEqual(before);
  });

  it.skipIf(!isRoot)(asRoot('a full folder (a 1 MiB tmpfs, filled): exit 3, says there is no room and what to do, nothing left'), async () => {
    const key = dir('full-drop');
    mount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs'], key);
    spawnSync('dd', ['if=/dev/zero', `of=${path.join(key, 'autre')}`, 'bs=64k', 'count=64'], { stdio: 'ignore' });
    const src = path.join(dir('full-drop-files'), 'IS101_T3.csv');
    writeFileSync(src, randomBytes(200_000));
    const id = await ownId();
    const outbox = path.join(home, 'outbox');
    const before = existsSync(outbox) ? readdirSync(outbox).sort() : [];
    const runs = [
      await pli(['--home', home, 'send', '--as', id, '--to', id, '--folder', key, src]),
      await pli(['--home', home, 'id', 'export', id, '--out', path.join(key, 'carte')]),
      await pli(['--home', home, 'audit', 'anchor', '--out', path.join(key, 'ancre')]),
    ];
    for (const run of runs) {
      expectNamedFailure(run, 3, /place.*Libérez de la place/s);
      expect(run.stderr).toContain(key);
      expect(run.stderr).not.toMatch(/ENOSPC|no space left|droits/);
    }
    expect(readdirSync(key)).toEqual(['autre']);
    expect(existsSync(outbox) ? readdirSync(outbox).sort() : []).toEqual(before);
  });
});

describe('what is read is not a file (a folder given to decrypt, inspect, id import)', () => {
  it('exit 1, says it is no ordinary file (never « erreur inattendue » nor « introuvable »)', async () => {
    const folder = dir('un-dossier.pli');
    for (const args of [['decrypt', '--out', dir('folder-out'), folder], ['inspect', folder], ['id', 'import', folder]]) {
      const run = await pli(['--home', home, ...args]);
      expectNamedFailure(run, 1, /n'est pas un fichier ordinaire/);
      expect(run.stderr).not.toMatch(/EISDIR|introuvable/);
    }
  });

  it('decrypt --out naming an existing file: says it is no folder, in words', async () => {
    const container = await sealed('out-file', { 'a.txt': Buffer.from('a') });
    const file = path.join(work, 'pas-un-dossier');
    writeFileSync(file, 'x');
    const run = await pli(['--home', home, 'decrypt', '--out', file, container]);
    expectNamedFailure(run, 1, /introuvable, ou une partie de son chemin est un fichier/);
    expect(run.stderr).not.toMatch(/EEXIST|already exists/);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });
});

describe('a file the person may not read (0600, another account\'s)', () => {
  // As root every file is readable: the reading is then done as "nobody" (setpriv), which must be
  // able to read the project's dist/ (a checkout under a private home is not).
  const asNobody = isRoot ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'] : [];
  const unable = (() => {
    if (!isRoot) return null;
    const probe = spawnSync(asNobody[0]!, [...asNobody.slice(1), process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(path.join(ROOT, 'dist/electron/core/faults.js'))})`]);
    return probe.status === 0 ? null : 'skipped: setpriv is missing, or "nobody" cannot read this checkout\'s dist/';
  })();
  it.skipIf(unable !== null)(unable ?? 'encrypt and decrypt inputs: « Droits insuffisants pour lire », never blamed on a write nor « introuvable »', () => {
    // A folder of its own that "nobody" may enter (the test's folder is private), the file not.
    const open = mkdtempSync(path.join(os.tmpdir(), 'pli-noread-'));
    chmodSync(open, 0o755);
    const secret = path.join(open, 'IS101_T3.csv');
    writeFileSync(secret, 'état', { mode: 0o600 });
    if (!isRoot) chmodSync(secret, 0);
    const probe = path.join(open, 'read-probe.mjs');
    writeFileSync(probe, `const { fileSources } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/electron/core/container/seal.js')).href)});
const { fileSource } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/electron/core/container/sinks.js')).href)});
const out = [];
for (const read of [() => fileSources([process.argv[2]]), () => fileSource(process.argv[2])]) {
  try { await read(); out.push(null); } catch (e) { out.push({ code: e.code, message: e.message }); }
}
console.log(JSON.stringify(out));
`);
    const [file, ...argv] = [...asNobody, process.execPath, probe, secret];
    const run = spawnSync(file!, argv, { encoding: 'utf8' });
    rmSync(open, { recursive: true, force: true });
    expect(run.status, run.stderr).toBe(0);
    const answers = JSON.parse(run.stdout) as ({ code: string; message: string } | null)[];
    for (const answer of answers) {
      expect(answer?.code).toBe('no-read-permission');
      expect(answer?.message).toMatch(/^Droits insuffisants pour lire .*IS101_T3\.csv/);
      expect(answer?.message).not.toMatch(/écrire|introuvable|EACCES/);
    }
  });
});
