// Issue 13: `npm run build` also bundles the CLI into dist/cli/ (scripts/bundle-cli.mjs), which
// bin/pli.js runs when it is not older than the compiled modules. The other CLI tests run bin/pli.js,
// hence the bundle; here: bin/pli.js's choice, the workers the bundle carries, and what it loads.
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BIN } from './support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const temp = mkdtempSync(path.join(tmpdir(), 'pli-bundle-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('bin/pli.js picks the bundle only when it is up to date', () => {
  const fake = path.join(temp, 'install');
  mkdirSync(path.join(fake, 'bin'), { recursive: true });
  cpSync(BIN, path.join(fake, 'bin/pli.js'));
  writeFileSync(path.join(fake, 'package.json'), JSON.stringify({ type: 'module' }));
  const modules = path.join(fake, 'dist/electron/cli/run.js');
  const bundle = path.join(fake, 'dist/cli/pli.js');
  const run = () => spawnSync(process.execPath, [path.join(fake, 'bin/pli.js')], { encoding: 'utf8' });
  const write = (file: string, text: string, seconds: number) => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `process.stdout.write(${JSON.stringify(text)});\n`);
    utimesSync(file, seconds, seconds);
  };

  it('nothing built: a clear message, exit 1', () => {
    const r = run();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not built yet.*npm run build/);
  });

  it('modules only: runs the modules', () => {
    write(modules, 'modules', 1_000_000);
    expect(run().stdout).toBe('modules');
  });

  it('a bundle as new as the modules: runs the bundle', () => {
    write(bundle, 'bundle', 1_000_000);
    expect(run().stdout).toBe('bundle');
  });

  it('a bundle older than the modules (tsc run alone after a change): runs the modules, never stale code', () => {
    write(modules, 'modules', 2_000_000);
    expect(run().stdout).toBe('modules');
  });
});

describe('the bundle built by npm run build', () => {
  it('is there, with every worker of the sources beside it (a worker added later is bundled too)', () => {
    expect(existsSync(path.join(ROOT, 'dist/cli/pli.js')), 'run npm run build first').toBe(true);
    const workers = readdirSync(path.join(ROOT, 'electron'), { recursive: true }).map(String).filter((f) => f.endsWith('.worker.ts'));
    expect(workers.length).toBeGreaterThanOrEqual(4);
    for (const worker of workers) expect(existsSync(path.join(ROOT, 'dist/cli', `${path.basename(worker, '.ts')}.js`)), worker).toBe(true);
  });

  it("carries zod's English messages only, not its other locales (never used: Pli's messages are its own)", () => {
    const text = readdirSync(path.join(ROOT, 'dist/cli')).map((f) => readFileSync(path.join(ROOT, 'dist/cli', f), 'utf8')).join('\n');
    expect(text).toMatch(/zod\/v4\/locales\/en\.cjs/);
    expect(text).not.toMatch(/zod\/v4\/locales\/(fr|de|ja)\.cjs/);
  });

  it('keeps zod in a file of its own (zod.cjs), out of the chunks every command loads and parses', () => {
    const files = readdirSync(path.join(ROOT, 'dist/cli'));
    expect(files).toContain('zod.cjs');
    for (const file of files.filter((f) => f !== 'zod.cjs')) {
      expect(readFileSync(path.join(ROOT, 'dist/cli', file), 'utf8'), file).not.toMatch(/node_modules\/zod\/v4\/core/);
    }
  });

  it('keeps its line breaks (no minified whitespace in our chunks): a stack trace names a readable line, not line 1 of a chunk', () => {
    for (const file of readdirSync(path.join(ROOT, 'dist/cli')).filter((f) => f.endsWith('.js'))) {
      const lines = readFileSync(path.join(ROOT, 'dist/cli', file), 'utf8').split('\n');
      expect(Math.max(...lines.map((l) => l.length)), file).toBeLessThan(2000);
    }
  });

  it('runs an encryption and a decryption whose workers start from the bundle, zod loaded only once a schema is used', () => {
    const home = path.join(temp, 'home');
    const env = { ...process.env, PLI_PASSPHRASE: 'phrase de passe du test du paquet' };
    // A preload that tells, at exit, whether zod was loaded (its core sets this global).
    const probe = path.join(temp, 'probe.mjs');
    writeFileSync(probe, "process.on('exit', () => process.stderr.write(`zod:${globalThis.__zod_globalConfig !== undefined}\\n`));\n");
    const pli = (...args: string[]) => spawnSync(process.execPath, ['--import', pathToFileURL(probe).href, BIN, '--home', home, ...args], { encoding: 'utf8', env });
    expect(pli('init').status).toBe(0);
    const created = pli('id', 'new', '--name', 'Agent Paquet', '--email', 'paquet@test.invalid', '--org', 'Test');
    expect(created.status, created.stderr).toBe(0);
    const list = pli('id', 'list');
    expect(list.status).toBe(0);
    expect(list.stderr).toMatch(/zod:false/);
    const input = path.join(temp, 'note.txt');
    // Large enough for the block worker and the hash worker of the stream to start.
    writeFileSync(input, Buffer.alloc(24 * 1024 * 1024, 7));
    const sealed = pli('encrypt', '--to', created.stdout.trim(), '--out', path.join(temp, 'note.pli'), input);
    expect(sealed.status, sealed.stderr).toBe(0);
    expect(sealed.stderr).toMatch(/zod:true/);
    const outDir = path.join(temp, 'out');
    mkdirSync(outDir);
    const opened = pli('decrypt', '--out', outDir, path.join(temp, 'note.pli'));
    expect(opened.status, opened.stderr).toBe(0);
    expect(readdirSync(outDir)).toEqual(['note.txt']);
  });
});
