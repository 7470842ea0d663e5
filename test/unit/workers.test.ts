// Workers are modules (issue 11): the Argon2id worker, the reader's block worker, the writer's hash
// worker and the audit chain's segment worker are
// `*.worker.ts` files compiled with the rest, so that tsc and eslint read them, instead of source
// text evaluated from a template string. The compiled program runs the `.worker.js` beside the
// module that starts it (dist/, `npm run build` first); tests run the `.ts` sources, bundled by
// esbuild (electron/core/workers.ts). A missing compiled worker is a clear temporary error.
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { argon2id } from '../../electron/core/crypto/argon2.js';
import { getSodium } from '../../electron/core/crypto/sodium.js';
import { workerEntry } from '../../electron/core/workers.js';
import { OFF_THREAD_HASH_BYTES, sha256Stream } from '../../electron/core/container/sinks.js';
import { signedPrefix } from '../../electron/core/container/digest.js';
import { encodePreamble } from '../../electron/core/container/format.js';
import { digestByHand } from './helpers.js';
import { randomBytes } from 'node:crypto';
import { PliError } from '../../electron/core/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CORE = path.join(ROOT, 'electron/core');
const DIST_CORE = path.join(ROOT, 'dist/electron/core');
// [floor, worker, the module that starts it]
const WORKERS = [['crypto', 'argon2', 'argon2'], ['container', 'opener', 'opener'], ['container', 'hash', 'sinks'], ['services', 'audit-segment', 'audit']] as const;
const CHEAP = { opslimit: 1, memlimitKib: 8 * 1024 };

const temp = mkdtempSync(path.join(tmpdir(), 'pli-workers-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Runs `body` (an ES module) in a new Node process from `cwd`; returns what it printed, parsed. */
function probe(body: string, cwd = ROOT): Record<string, unknown> {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', body], { cwd, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

const href = (file: string): string => JSON.stringify(pathToFileURL(file).href);

describe('each worker is a module of its own', () => {
  for (const [floor, name, starterName] of WORKERS) {
    it(`${floor}/${name}.worker.ts exists, is compiled to dist/, and ${starterName}.ts evaluates no source text`, () => {
      expect(existsSync(path.join(CORE, floor, `${name}.worker.ts`))).toBe(true);
      expect(existsSync(path.join(DIST_CORE, floor, `${name}.worker.js`)), 'run npm run build first').toBe(true);
      const starter = readFileSync(path.join(CORE, floor, `${starterName}.ts`), 'utf8');
      expect(starter).not.toMatch(/eval:\s*true/);
      expect(starter).not.toMatch(/require\(/);
    });
  }
});

describe('the compiled program runs the compiled workers', () => {
  it('argon2id from dist/ gives the key libsodium gives here', async () => {
    const password = 'une phrase de passe';
    const salt = Buffer.alloc(16, 7);
    const seen = probe(`
      const { argon2id } = await import(${href(path.join(DIST_CORE, 'crypto/argon2.js'))});
      const key = await argon2id(Buffer.from(${JSON.stringify(password)}), Buffer.alloc(16, 7), ${JSON.stringify(CHEAP)});
      console.log(JSON.stringify({ key: key.toString('hex') }));`);
    const sodium = await getSodium();
    const expected = sodium.crypto_pwhash(32, Buffer.from(password), salt, CHEAP.opslimit, CHEAP.memlimitKib * 1024, sodium.crypto_pwhash_ALG_ARGON2ID13);
    expect(seen.key).toBe(Buffer.from(expected).toString('hex'));
  });

  it('the block worker from dist/ opens a payload larger than OFF_THREAD_OPEN_BYTES and gives its digest', () => {
    // Two blocks sealed here, opened by the compiled worker in a fresh process.
    const seen = probe(`
      const { createCipheriv, createHash, createSecretKey, randomBytes } = await import('node:crypto');
      const { blockOpener, NONCE_BYTES, OFF_THREAD_OPEN_BYTES, BLOCK_CHUNKS } = await import(${href(path.join(DIST_CORE, 'container/opener.js'))});
      const { CHUNK_PLAIN, encodePreamble } = await import(${href(path.join(DIST_CORE, 'container/format.js'))});
      const { signedPrefix } = await import(${href(path.join(DIST_CORE, 'container/digest.js'))});
      // A version 1 prefix: the digest is then the SHA-256 of everything, computed here.
      const prefix = signedPrefix(encodePreamble(1000, 1));
      const key = randomBytes(32);
      const blocks = [BLOCK_CHUNKS, 3].map((count) => {
        const plain = Array.from({ length: count }, () => randomBytes(CHUNK_PLAIN));
        const nonces = randomBytes(count * NONCE_BYTES);
        const sealed = Buffer.concat(plain.flatMap((p, c) => {
          const cipher = createCipheriv('aes-256-gcm', key, nonces.subarray(c * NONCE_BYTES, (c + 1) * NONCE_BYTES));
          return [cipher.update(p), cipher.final(), cipher.getAuthTag()];
        }));
        return { plain, nonces, sealed };
      });
      const expected = blocks.reduce((h, b) => h.update(b.sealed), createHash('sha256').update(prefix)).digest('hex');
      const opener = blockOpener(OFF_THREAD_OPEN_BYTES + 1, createSecretKey(key), () => {});
      opener.prefix(Buffer.from(prefix));
      let same = true;
      for (const b of blocks) {
        const plain = await opener.submit(Buffer.from(b.sealed), b.nonces);
        same &&= Buffer.concat(plain).equals(Buffer.concat(b.plain));
      }
      const digest = (await opener.digest()).toString('hex');
      await opener.close();
      console.log(JSON.stringify({ same, digestMatches: digest === expected }));`);
    expect(seen).toEqual({ same: true, digestMatches: true });
  });
});

describe('a missing compiled worker', () => {
  it('workerEntry says what to do and names the file in its detail (temporary error), before any thread starts', () => {
    const from = pathToFileURL(path.join(temp, 'argon2.js')).href;
    let error: unknown;
    try {
      workerEntry('argon2', from);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PliError);
    expect(error).toMatchObject({ kind: 'temporary', code: 'worker-missing' });
    expect((error as PliError).message).toMatch(/installation de Pli est incomplète.*Réinstallez Pli/);
    expect((error as PliError).params.system).toMatch(/argon2\.worker\.js/); // the file: the detail, for IT support
    writeFileSync(path.join(temp, 'argon2.worker.js'), '');
    expect(workerEntry('argon2', from)).toEqual({ file: new URL('./argon2.worker.js', from), eval: false, execArgv: [] });
  });

  it('an installation without argon2.worker.js refuses an unlock through the WebAssembly back-end with that error (exit code 3), not a crash', () => {
    const copy = path.join(temp, 'install');
    cpSync(path.join(ROOT, 'dist'), path.join(copy, 'dist'), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    writeFileSync(path.join(copy, 'package.json'), JSON.stringify({ type: 'module' }));
    rmSync(path.join(copy, 'dist/electron/core/crypto/argon2.worker.js'));
    const seen = probe(`
      const { argon2id } = await import(${href(path.join(copy, 'dist/electron/core/crypto/argon2.js'))});
      const outcome = await argon2id(Buffer.from('x'), Buffer.alloc(16), ${JSON.stringify(CHEAP)}, 'wasm').then(() => ({ ok: true }), (e) => ({ code: e.code, exitCode: e.exitCode, message: e.message }));
      console.log(JSON.stringify(outcome));`, copy);
    expect(seen).toMatchObject({ code: 'worker-missing', exitCode: 3 });
    expect(seen.message).toMatch(/installation de Pli est incomplète/);
  });
});

describe("the writer's hash worker", () => {
  const parts = [randomBytes(5 * 1024 * 1024), randomBytes(4 * 1024 * 1024 + 3), Buffer.from('fin')];
  // What docs/format.md says, computed without digest.ts: version 1 hashes everything,
  // version 2 the prefix and the SHA-256 of each block of 16 sealed chunks.
  const expected = (version: 1 | 2): string => digestByHand(version, signedPrefix(encodePreamble(1000, version)), Buffer.concat(parts)).toString('hex');

  it('the two versions differ (the check below can fail)', () => {
    expect(expected(1)).not.toBe(expected(2));
  });

  it.each([1, 2] as const)('from the sources, version %i: the digest of every part, in order, as format.md says', async (version) => {
    const stream = sha256Stream(OFF_THREAD_HASH_BYTES + 1, signedPrefix(encodePreamble(1000, version)));
    try {
      for (const part of parts) await stream.update([Buffer.from(part)]);
      expect((await stream.digest()).toString('hex')).toBe(expected(version));
    } finally {
      await stream.close();
    }
  });

  it('from dist/: the same digest, computed by the compiled hash.worker.js', () => {
    const seen = probe(`
      const { createHash } = await import('node:crypto');
      const { sha256Stream, OFF_THREAD_HASH_BYTES } = await import(${href(path.join(DIST_CORE, 'container/sinks.js'))});
      const { ContainerDigest, signedPrefix } = await import(${href(path.join(DIST_CORE, 'container/digest.js'))});
      const { encodePreamble } = await import(${href(path.join(DIST_CORE, 'container/format.js'))});
      const parts = [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.alloc(4 * 1024 * 1024 + 3, 2), Buffer.from('fin')];
      const prefix = signedPrefix(encodePreamble(1000, 2));
      const inline = new ContainerDigest(prefix);
      inline.update(Buffer.concat(parts));
      const expected = inline.digest().toString('hex');
      const stream = sha256Stream(OFF_THREAD_HASH_BYTES + 1, prefix);
      for (const part of parts) await stream.update([Buffer.from(part)]);
      const digest = (await stream.digest()).toString('hex');
      await stream.close();
      console.log(JSON.stringify({ same: digest === expected, worker: stream.constructor.name }));`);
    expect(seen).toEqual({ same: true, worker: 'WorkerSha256' });
  });
});

describe('from the TypeScript sources (vitest)', () => {
  it('each worker is its .worker.ts bundled whole: no local module left to load at run time', () => {
    for (const [floor, name, starterName] of WORKERS) {
      const entry = workerEntry(name, pathToFileURL(path.join(CORE, floor, `${starterName}.ts`)).href);
      expect(entry.eval).toBe(true);
      expect(entry.file).not.toMatch(/require\(["']\.{1,2}\//);
      expect(entry.file).not.toMatch(/import\(["']\.{1,2}\//);
    }
  });
});

describe('the Argon2id worker ends after its one derivation', () => {
  // WebAssembly memory never shrinks: only ending the thread returns the 64 MiB+ it used.
  const threads = (): number => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  it.runIf(existsSync('/proc/self/status')).each(['wasm', 'native'] as const)('%s: no thread is left once argon2id has answered', async (backend) => {
    // The first call may start esbuild's own thread (wasm) or libuv's pool (native).
    await argon2id(Buffer.from('x'), Buffer.alloc(16), CHEAP, backend);
    const before = threads();
    const derivations = Array.from({ length: 3 }, () => argon2id(Buffer.from('x'), Buffer.alloc(16), CHEAP, backend));
    await Promise.all(derivations);
    expect(threads()).toBe(before);
  });
});
