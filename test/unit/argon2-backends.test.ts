// Issue 13: Argon2id runs through sodium-native's libsodium when its binary loads, and through
// libsodium-wrappers-sumo (WebAssembly, in a worker) when it does not. Both must give the same
// bytes: each back-end is forced here and checked against a known answer (the password container
// of test/vectors/container-v1.json, written by the earlier, WebAssembly-only code, opens only
// with the exact key) and against the other one.
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { argon2Backend, argon2id, type Argon2Backend } from '../../electron/core/crypto/argon2.js';
import { getSodium } from '../../electron/core/crypto/sodium.js';
import { hkdf, unwrapKey } from '../../electron/core/crypto/primitives.js';
import { KDF_INFO } from '../../electron/core/crypto/labels.js';
import { readInfo } from '../../electron/core/container/open.js';
import { bufferSource } from '../../electron/core/container/sinks.js';
import { PliError } from '../../electron/core/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VECTORS = path.join(ROOT, 'test/vectors');
const BACKENDS: Argon2Backend[] = ['native', 'wasm'];
const CHEAP = { opslimit: 1, memlimitKib: 8 * 1024 };

interface PasswordVector { file: string; recipients: { kind: string; passwordHex: string; salt: string; opslimit: number; memlimitKib: number } }
const passwordVectors = (JSON.parse(readFileSync(path.join(VECTORS, 'container-v1.json'), 'utf8')) as { containers: PasswordVector[] })
  .containers.filter((c) => c.recipients.kind === 'password');

const temp = mkdtempSync(path.join(tmpdir(), 'pli-argon2-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('Argon2id back-ends', () => {
  it('the native back-end is the one used on this machine (linux x64 has a prebuilt binary)', () => {
    expect(argon2Backend()).toBe('native');
  });

  it('there is a password container among the vectors, with the default parameters of a password recipient', () => {
    expect(passwordVectors.length).toBeGreaterThan(0);
    expect(passwordVectors[0]!.recipients).toMatchObject({ opslimit: 3, memlimitKib: 64 * 1024 });
  });

  for (const backend of BACKENDS) {
    it(`${backend}: the key of the vector's password opens the stored container's password entry`, async () => {
      for (const v of passwordVectors) {
        const stored = readFileSync(path.join(VECTORS, v.file));
        const { header } = await readInfo(bufferSource(stored));
        const entry = header.recipients[0];
        if (entry?.type !== 'password') throw new Error('the vector is not a password container');
        expect(entry.salt.toString('hex')).toBe(v.recipients.salt);
        const key = await argon2id(Buffer.from(v.recipients.passwordHex, 'hex'), entry.salt, { opslimit: entry.opslimit, memlimitKib: entry.memlimitKib }, backend);
        expect(unwrapKey(hkdf(key, header.containerId, KDF_INFO.wrapPassword), entry.wrapped)).not.toBeNull();
        // One bit off, and the entry no longer opens: the check above is on the exact bytes.
        key[0]! ^= 1;
        expect(unwrapKey(hkdf(key, header.containerId, KDF_INFO.wrapPassword), entry.wrapped)).toBeNull();
      }
    });
  }

  it('both back-ends give the bytes libsodium-wrappers-sumo gives in this thread, for passwords and parameters of every kind', async () => {
    const sodium = await getSodium();
    const cases = [
      { password: Buffer.alloc(0), salt: Buffer.alloc(16, 1), params: CHEAP },
      { password: Buffer.from('é'.normalize('NFC')), salt: Buffer.alloc(16, 2), params: { opslimit: 2, memlimitKib: 8 * 1024 } },
      { password: Buffer.from('une phrase de passe assez longue pour un agent'), salt: Buffer.from('00112233445566778899aabbccddeeff', 'hex'), params: { opslimit: 3, memlimitKib: 16 * 1024 } },
      // A slice of a larger buffer: the back-end must read only the slice.
      { password: Buffer.from('xxsecretxx').subarray(2, 8), salt: Buffer.alloc(20, 3).subarray(2, 18), params: CHEAP },
    ];
    for (const c of cases) {
      const expected = Buffer.from(sodium.crypto_pwhash(32, c.password, c.salt, c.params.opslimit, c.params.memlimitKib * 1024, sodium.crypto_pwhash_ALG_ARGON2ID13)).toString('hex');
      for (const backend of BACKENDS) {
        expect((await argon2id(c.password, c.salt, c.params, backend)).toString('hex'), backend).toBe(expected);
      }
    }
  });

  for (const backend of BACKENDS) {
    it(`${backend}: the key is an array of its own (the caller's fill(0) leaves no other copy) and the caller's password is left as given`, async () => {
      const password = Buffer.from('phrase du poste');
      const key = await argon2id(password, Buffer.alloc(16, 9), CHEAP, backend);
      expect(key.length).toBe(32);
      expect(key.buffer.byteLength).toBe(32);
      expect(password.toString()).toBe('phrase du poste'); // the caller zeroes its own copy
    });

    it(`${backend}: bad parameters are a temporary error, not a crash`, async () => {
      for (const [salt, params] of [[Buffer.alloc(15), CHEAP], [Buffer.alloc(16), { opslimit: 0, memlimitKib: 8 * 1024 }], [Buffer.alloc(16), { opslimit: 1, memlimitKib: 1 }]] as const) {
        const error = await argon2id(Buffer.from('x'), salt, params, backend).then(() => null, (e: unknown) => e);
        expect(error).toBeInstanceOf(PliError);
        expect(error).toMatchObject({ kind: 'temporary', code: 'argon2' });
      }
    });
  }

  it('native: the derivation does not block this thread (the desktop app\'s main process keeps answering meanwhile)', async () => {
    let turns = 0;
    let running = true;
    const spin = (): void => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    const started = performance.now();
    await argon2id(Buffer.from('phrase'), Buffer.alloc(16, 4), { opslimit: 3, memlimitKib: 64 * 1024 }, 'native');
    running = false;
    const elapsed = performance.now() - started;
    // A call that held the thread would let no turn run until it returned.
    expect(elapsed).toBeGreaterThan(20);
    expect(turns).toBeGreaterThan(10);
  });
});

describe('where the binary does not load, the WebAssembly back-end takes over', () => {
  it('an installation whose sodium-native has no binary for this platform derives the same key through the worker', () => {
    const copy = path.join(temp, 'install');
    cpSync(path.join(ROOT, 'dist'), path.join(copy, 'dist'), { recursive: true });
    writeFileSync(path.join(copy, 'package.json'), JSON.stringify({ type: 'module' }));
    // node_modules as installed, except sodium-native: its package without its prebuilds folder.
    const modules = path.join(copy, 'node_modules');
    mkdirSync(modules);
    for (const name of readdirSync(path.join(ROOT, 'node_modules'))) {
      if (name !== 'sodium-native') symlinkSync(path.join(ROOT, 'node_modules', name), path.join(modules, name));
    }
    mkdirSync(path.join(modules, 'sodium-native'));
    cpSync(path.join(ROOT, 'node_modules/sodium-native/package.json'), path.join(modules, 'sodium-native/package.json'));
    const body = `
      const { argon2id, argon2Backend } = await import(${JSON.stringify(pathToFileURL(path.join(copy, 'dist/electron/core/crypto/argon2.js')).href)});
      const key = await argon2id(Buffer.from('phrase'), Buffer.alloc(16, 5), ${JSON.stringify(CHEAP)});
      console.log(JSON.stringify({ backend: argon2Backend(), key: key.toString('hex') }));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', body], { cwd: copy, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const seen = JSON.parse(run.stdout) as { backend: string; key: string };
    expect(seen.backend).toBe('wasm');
    return argon2id(Buffer.from('phrase'), Buffer.alloc(16, 5), CHEAP, 'native').then((key) => expect(seen.key).toBe(key.toString('hex')));
  });
});
