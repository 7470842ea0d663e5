// The decryption temporary folder (docs/profile.md, "Temporary files") against the attacker who
// can write the destination folder: a symlink planted in the temporary folder, the temporary
// folder or the destination swapped for a symlink before the files are moved into place. Also:
// the sweep of leftovers, faults in the middle of a decryption, and sealToFile's no-replace rule.
import { describe, it, expect, beforeAll, afterAll, beforeEach, vi } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { openStream, type CipherSource } from '../../electron/core/container/open.js';
import { bufferSource, FolderSink, removeLiveTemporaries, sweepTemporaryFolders } from '../../electron/core/container/sinks.js';
import { sealToFile } from '../../electron/core/container/seal.js';
import { makePerson, seal, sealParams, readerCallbacks, describeError, type TestPerson } from './helpers.js';

// link() through a switch: a test can make the n-th call fail, to fault a commit half-way.
const hooks = vi.hoisted(() => ({ failLinkAt: 0, links: 0, noHardLinks: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const link = async (from: string, to: string): Promise<void> => {
    hooks.links++;
    // A file system without hard links (FAT/exFAT USB keys) answers EPERM.
    if (hooks.noHardLinks) throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' });
    if (hooks.links === hooks.failLinkAt) throw Object.assign(new Error('EIO: simulated failure, link'), { code: 'EIO' });
    return real.link(from, to);
  };
  return { ...real, default: { ...real, link }, link };
});

let root: string;
let sender: TestPerson;
let reader: TestPerson;
let sealed: Buffer; // three files, the first two over several blocks
const FILES = [
  { name: 'IS101_T3.xls', data: randomBytes(3_000_000) },
  { name: 'IST_T3.csv', data: randomBytes(2_500_000) },
  { name: 'vide.txt', data: Buffer.alloc(0) },
];
const SECRET = 'contenu de la victime, à ne pas toucher';

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pli-tempdir-'));
  [sender, reader] = await Promise.all([makePerson(), makePerson()]);
  sealed = await seal(sender, [reader], FILES);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeEach(() => {
  hooks.failLinkAt = 0;
  hooks.links = 0;
  hooks.noHardLinks = false;
});

let counter = 0;
const fresh = (name: string): string => {
  const dir = path.join(root, `${name}-${++counter}`);
  mkdirSync(dir);
  return dir;
};
const open = (sink: FolderSink, source: CipherSource = bufferSource(sealed)) => openStream(source, sink, readerCallbacks(reader, [sender])).then(() => null, (e: unknown) => e);
const outsideFile = (): string => {
  const file = path.join(fresh('ailleurs'), 'cible.txt');
  writeFileSync(file, SECRET);
  return file;
};

describe('a symlink planted in the temporary folder', () => {
  it('before any file is created: refused, never followed', async () => {
    const out = fresh('dest');
    const target = outsideFile();
    const sink = await FolderSink.create(out);
    symlinkSync(target, path.join(sink.tempDir, '0'));
    expect(describeError(await open(sink))).toBe('security/temp-tampered');
    expect(readFileSync(target, 'utf8')).toBe(SECRET);
    expect(readdirSync(out)).toEqual([]);
  });

  it('once the decryption has begun (under the name of a file still to write): refused, never followed', async () => {
    const out = fresh('dest');
    const targets = [outsideFile(), outsideFile()];
    const sink = await FolderSink.create(out);
    const begin = sink.begin.bind(sink);
    sink.begin = async (manifest) => {
      await begin(manifest);
      for (const i of [0, 1]) {
        rmSync(path.join(sink.tempDir, String(i)), { force: true });
        symlinkSync(targets[i]!, path.join(sink.tempDir, String(i)));
      }
    };
    expect(describeError(await open(sink))).toBe('security/temp-tampered');
    for (const target of targets) expect(readFileSync(target, 'utf8')).toBe(SECRET);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('a folder swapped for a symlink before the files are moved into place', () => {
  it('the temporary folder, swapped for one holding other files: refused, none of them placed', async () => {
    const out = fresh('dest');
    const planted = fresh('planted');
    for (const i of [0, 1, 2]) writeFileSync(path.join(planted, String(i)), 'contenu substitué');
    const sink = await FolderSink.create(out);
    const commit = sink.commit.bind(sink);
    const stolen = path.join(fresh('vole'), 'tmp');
    sink.commit = async () => {
      renameSync(sink.tempDir, stolen);
      symlinkSync(planted, sink.tempDir);
      return commit();
    };
    expect(describeError(await open(sink))).toBe('security/folder-changed');
    expect(readdirSync(out)).toEqual([]);
    expect(readdirSync(planted).sort()).toEqual(['0', '1', '2']);
  });

  it('one file of the temporary folder swapped for another: refused, neither it nor the others placed', async () => {
    const out = fresh('dest');
    const sink = await FolderSink.create(out);
    const commit = sink.commit.bind(sink);
    sink.commit = async () => {
      rmSync(path.join(sink.tempDir, '1'));
      writeFileSync(path.join(sink.tempDir, '1'), 'contenu substitué');
      return commit();
    };
    expect(describeError(await open(sink))).toBe('security/temp-tampered');
    expect(readdirSync(out)).toEqual([]);
  });

  it('the destination, swapped for a symlink to another folder: refused, nothing lands there', async () => {
    const parent = fresh('parent');
    const out = path.join(parent, 'recus');
    const elsewhere = fresh('ailleurs');
    const sink = await FolderSink.create(out);
    const commit = sink.commit.bind(sink);
    sink.commit = async () => {
      renameSync(out, path.join(parent, 'recus-deplace'));
      // The attacker also prepares a folder of the same name over there.
      mkdirSync(path.join(elsewhere, path.basename(sink.tempDir)));
      symlinkSync(elsewhere, out);
      return commit();
    };
    expect(describeError(await open(sink))).toBe('security/folder-changed');
    expect(readdirSync(elsewhere).filter((n) => !n.startsWith('.pli-tmp-'))).toEqual([]);
    expect(FILES.some((f) => existsSync(path.join(elsewhere, f.name)))).toBe(false);
  });
});

describe('faults in the middle of a decryption leave nothing', () => {
  it('a read error after the first blocks: no file, no temporary folder', async () => {
    const out = fresh('dest');
    const inner = bufferSource(sealed);
    const failing: CipherSource = {
      size: inner.size,
      read: async (target, offset, length, position) => {
        if (position > sealed.length - 300_000) throw Object.assign(new Error('EIO: simulated failure, read'), { code: 'EIO' });
        return inner.read(target, offset, length, position);
      },
    };
    const sink = await FolderSink.create(out);
    const written = sink.write.bind(sink);
    let wrote = 0;
    sink.write = async (index, parts) => {
      wrote += parts.length;
      return written(index, parts);
    };
    expect(await open(sink, failing)).toBeInstanceOf(Error);
    expect(wrote).toBeGreaterThan(0); // the failure came after plaintext was written
    expect(readdirSync(out)).toEqual([]);
  });

  it('a failure while moving the second file into place: the first one is taken back too', async () => {
    const out = fresh('dest');
    hooks.failLinkAt = 2;
    const sink = await FolderSink.create(out);
    expect(await open(sink)).toBeInstanceOf(Error);
    expect(hooks.links).toBeGreaterThanOrEqual(2);
    expect(readdirSync(out)).toEqual([]);
  });

  it('removeLiveTemporaries (what the CLI runs on a signal) removes the folder of a decryption in progress', async () => {
    const out = fresh('dest');
    const sink = await FolderSink.create(out);
    const write = sink.write.bind(sink);
    let seen: string[] = [];
    sink.write = async (index, parts) => {
      await write(index, parts);
      if (seen.length === 0) {
        seen = readdirSync(out);
        removeLiveTemporaries();
      }
    };
    await open(sink);
    expect(seen).toEqual([path.basename(sink.tempDir)]);
    expect(readdirSync(out)).toEqual([]);
  });

  it('after a successful decryption, the registry no longer holds its files', async () => {
    const out = fresh('dest');
    const sink = await FolderSink.create(out);
    expect(await open(sink)).toBeNull();
    removeLiveTemporaries();
    expect(readdirSync(out).sort()).toEqual(FILES.map((f) => f.name).sort());
    expect(readFileSync(path.join(out, 'IS101_T3.xls')).equals(FILES[0]!.data)).toBe(true);
  });
});

describe('on a file system without hard links (exclusive copy instead)', () => {
  it('decryption: the files are copied whole, an existing name or a symlink is never replaced or followed', async () => {
    hooks.noHardLinks = true;
    const out = fresh('dest');
    const target = outsideFile();
    symlinkSync(target, path.join(out, 'IS101_T3.xls'));
    const sink = await FolderSink.create(out);
    expect(await open(sink)).toBeNull();
    expect(readFileSync(target, 'utf8')).toBe(SECRET);
    expect(readFileSync(path.join(out, 'IS101_T3 (2).xls')).equals(FILES[0]!.data)).toBe(true);
    expect(readFileSync(path.join(out, 'IST_T3.csv')).equals(FILES[1]!.data)).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['IS101_T3 (2).xls', 'IS101_T3.xls', 'IST_T3.csv', 'vide.txt']);
  });

  it('decryption: a file swapped in the temporary folder is not copied', async () => {
    hooks.noHardLinks = true;
    const out = fresh('dest');
    const sink = await FolderSink.create(out);
    const commit = sink.commit.bind(sink);
    sink.commit = async () => {
      rmSync(path.join(sink.tempDir, '1'));
      writeFileSync(path.join(sink.tempDir, '1'), 'contenu substitué');
      return commit();
    };
    expect(describeError(await open(sink))).toBe('security/temp-tampered');
    expect(readdirSync(out)).toEqual([]);
  });

  it('sealToFile: an existing output is kept', async () => {
    hooks.noHardLinks = true;
    const dir = fresh('out');
    const output = path.join(dir, 'envoi.pli');
    const source = path.join(dir, 'rapport.pdf');
    writeFileSync(source, 'rapport');
    const params = sealParams(sender, [reader], { onProgress: () => { if (!existsSync(output)) writeFileSync(output, SECRET); } });
    expect(describeError(await sealToFile([source], output, params).then(() => null, (e: unknown) => e))).toBe('input/exists');
    expect(readFileSync(output, 'utf8')).toBe(SECRET);
    expect(readdirSync(dir).sort()).toEqual(['envoi.pli', 'rapport.pdf']);
  });
});

describe('sweepTemporaryFolders', () => {
  let alive: ChildProcess;
  beforeAll(async () => {
    alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await new Promise((resolve) => alive.once('spawn', resolve));
  });
  afterAll(() => {
    alive.kill();
  });

  it('deletes only the exact pattern of this version, owned here, whose process is gone', async () => {
    const dir = fresh('sweep');
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
      child.once('exit', () => resolve(child.pid!));
    });
    const make = (name: string): string => {
      const folder = path.join(dir, name);
      mkdirSync(folder);
      writeFileSync(path.join(folder, '0'), 'données');
      return folder;
    };
    const stale = make(`.pli-tmp-${dead}-0123456789ab`);
    const kept = [
      make('.pli-tmp-mine'), // a user's own folder
      make(`.pli-tmp-${dead}`),
      make(`.pli-tmp-${dead}-0123456789ab-copie`),
      make(`.pli-tmp-${dead}-0123456789AB`),
      make(`.pli-tmp-${dead}-123`),
      make(`.pli-tmp-x${dead}-0123456789ab`),
      make(`.pli-tmp-${alive.pid}-0123456789ab`), // a pid now used by another, live, process
      make(`.pli-tmp-${process.pid}-0123456789ab`),
    ];
    // A symlink under the exact name: neither it nor what it points to is touched.
    const pointed = make('dossier-pointe');
    symlinkSync(pointed, path.join(dir, `.pli-tmp-${dead}-ba9876543210`));
    // A plain file under the exact name.
    writeFileSync(path.join(dir, `.pli-tmp-${dead}-aaaaaaaaaaaa`), 'x');

    expect(await sweepTemporaryFolders(dir)).toBe(1);
    expect(existsSync(stale)).toBe(false);
    for (const folder of kept) expect(readdirSync(folder), folder).toEqual(['0']);
    expect(readdirSync(pointed)).toEqual(['0']);
    expect(lstatSync(path.join(dir, `.pli-tmp-${dead}-ba9876543210`)).isSymbolicLink()).toBe(true);
    expect(existsSync(path.join(dir, `.pli-tmp-${dead}-aaaaaaaaaaaa`))).toBe(true);
  });
});

describe('sealToFile never replaces a file', () => {
  const plain = (): string => {
    const file = path.join(fresh('src'), 'rapport.pdf');
    writeFileSync(file, randomBytes(3_000_000));
    return file;
  };

  it('an existing output: refused before any work (input/exists), bytes kept, no temporary file', async () => {
    const dir = fresh('out');
    const output = path.join(dir, 'envoi.pli');
    writeFileSync(output, SECRET);
    const error = await sealToFile([plain()], output, sealParams(sender, [reader])).then(() => null, (e: unknown) => e);
    expect(describeError(error)).toBe('input/exists');
    expect(readFileSync(output, 'utf8')).toBe(SECRET);
    expect(readdirSync(dir)).toEqual(['envoi.pli']);
  });

  it('a dangling symlink under the output name: refused, its target never created', async () => {
    const dir = fresh('out');
    const output = path.join(dir, 'envoi.pli');
    const aim = path.join(dir, 'cible.pli');
    symlinkSync(aim, output);
    const error = await sealToFile([plain()], output, sealParams(sender, [reader])).then(() => null, (e: unknown) => e);
    expect(describeError(error)).toBe('input/exists');
    expect(existsSync(aim)).toBe(false);
  });

  it('a file that appears under the output name while sealing: kept, refused, no temporary file', async () => {
    const dir = fresh('out');
    const output = path.join(dir, 'envoi.pli');
    const params = sealParams(sender, [reader], {
      onProgress: () => {
        if (!existsSync(output)) writeFileSync(output, SECRET);
      },
    });
    const error = await sealToFile([plain()], output, params).then(() => null, (e: unknown) => e);
    expect(describeError(error)).toBe('input/exists');
    expect(readFileSync(output, 'utf8')).toBe(SECRET);
    expect(readdirSync(dir)).toEqual(['envoi.pli']);
  });

  it('a new name: written whole, no temporary file left', async () => {
    const dir = fresh('out');
    const output = path.join(dir, 'envoi.pli');
    const result = await sealToFile([plain()], output, sealParams(sender, [reader]));
    expect(readFileSync(output).length).toBe(result.size);
    expect(readdirSync(dir)).toEqual(['envoi.pli']);
  });
});
