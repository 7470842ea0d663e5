// Issue 10 (9): libsodium-wrappers copies every argument into the WebAssembly heap and frees it
// without zeroing, so a private seed stayed readable in the heap after the caller had wiped its
// own copy. These tests play someone who can read the process's memory after the operation: they
// scan the very heap libsodium used for the secrets it was handed, and must find none.
import { describe, it, expect, vi } from 'vitest';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { getSodium } from '../../electron/core/crypto/sodium.js';
import { ed25519Keygen, ed25519Sign, ed25519Verify, xwingKeygen } from '../../electron/core/crypto/keys.js';
import { unwrapKey, wrapKey } from '../../electron/core/crypto/primitives.js';
import { workerEntry } from '../../electron/core/workers.js';
import { argon2id } from '../../electron/core/crypto/argon2.js';

// Every random buffer keys.ts draws, to check what becomes of it.
const drawn = vi.hoisted(() => [] as Uint8Array[]);
vi.mock('../../electron/core/crypto/primitives.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../electron/core/crypto/primitives.js')>();
  return { ...actual, random: (length: number) => { const bytes = actual.random(length); drawn.push(bytes); return bytes; } };
});

// The options of every worker started, to see what argon2.ts hands its worker.
const started = vi.hoisted(() => [] as Array<{ workerData?: unknown; transferList?: readonly unknown[] }>);
vi.mock('node:worker_threads', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:worker_threads')>();
  class Recorded extends actual.Worker {
    constructor(file: string | URL, options?: import('node:worker_threads').WorkerOptions) {
      started.push(options ?? {});
      super(file, options);
    }
  }
  return { ...actual, Worker: Recorded };
});

const CORE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../electron/core');

/** How many times `needle` occurs in `haystack`. */
function occurrences(haystack: Uint8Array, needle: Uint8Array): number {
  const heap = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength);
  let count = 0;
  for (let at = heap.indexOf(needle); at !== -1; at = heap.indexOf(needle, at + 1)) count++;
  return count;
}

async function heap(): Promise<Uint8Array> {
  const sodium = await getSodium();
  return (sodium as unknown as { libsodium: { HEAPU8: Uint8Array } }).libsodium.HEAPU8;
}

/** Distinctive bytes that cannot occur in the heap by chance. */
const pattern = (length: number, start: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (start + 7 * i) & 0xff);

describe('no secret stays in the libsodium WebAssembly heap', () => {
  it('after an Ed25519 key pair from a known seed and a signature, neither the seed nor the 64-byte secret key is in the heap', async () => {
    const seed = pattern(32, 11);
    const { publicKey, secretKey } = await ed25519Keygen(Uint8Array.from(seed));
    const message = Buffer.from('état IS 101, premier trimestre');
    const signature = await ed25519Sign(secretKey, message);
    const secret = Uint8Array.from(secretKey);
    secretKey.fill(0); // what a caller's wipe() does with its own copy
    const memory = await heap();
    expect(occurrences(memory, seed)).toBe(0);
    expect(occurrences(memory, secret)).toBe(0);
    // The scan is meaningful: a secret written in the heap is found.
    memory.set(seed, 1024 * 1024);
    expect(occurrences(memory, seed)).toBe(1);
    memory.fill(0, 1024 * 1024, 1024 * 1024 + 32);
    expect(await ed25519Verify(publicKey, message, signature)).toBe(true);
  });

  it('after an AEAD open (the private keys at rest) with a known key, neither the key nor the plaintext is in the heap; nor after a refused open', async () => {
    const sodium = await getSodium();
    const key = pattern(32, 101);
    const plaintext = pattern(64, 53);
    const nonce = pattern(24, 3);
    const aad = Buffer.from('pli/v1/secrets');
    const sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, null, nonce, key);
    const opened = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed, aad, nonce, key);
    expect(Buffer.from(opened).equals(Buffer.from(plaintext))).toBe(true);
    opened.fill(0);
    const tampered = Uint8Array.from(sealed);
    tampered[0]! ^= 1;
    expect(() => sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, tampered, aad, nonce, key)).toThrow();
    const memory = await heap();
    expect(occurrences(memory, key)).toBe(0);
    expect(occurrences(memory, plaintext)).toBe(0);
  });
  // Its cost (a signature and a verification, well under a millisecond) is measured by
  // bench/sign.mjs, not by a timed test.
});

describe('a new X-Wing key', () => {
  it('the random seed drawn for it is zeroed once the key pair is made (noble keeps its own copy as the secret key)', async () => {
    drawn.length = 0;
    const { secretKey } = await xwingKeygen();
    expect(drawn).toHaveLength(1);
    expect(drawn[0]!.every((b) => b === 0)).toBe(true);
    expect(secretKey.some((b) => b !== 0)).toBe(true);
  });
});

describe('unwrapKey leaves no copy of the key it decrypts', () => {
  // Captures every buffer that AES-GCM decryption hands out, as someone reading the process's
  // memory afterwards would find them.
  function capturingUpdates(run: () => void): Buffer[] {
    const proto = Object.getPrototypeOf(createDecipheriv('aes-256-gcm', Buffer.alloc(32), Buffer.alloc(12))) as { update: (...args: unknown[]) => Buffer };
    const update = proto.update;
    const seen: Buffer[] = [];
    proto.update = function (this: unknown, ...args: unknown[]) {
      const out = update.apply(this, args);
      seen.push(out);
      return out;
    };
    try {
      run();
    } finally {
      proto.update = update;
    }
    return seen;
  }

  const kek = pattern(32, 5);
  const key = pattern(32, 77);

  it('a good tag: the key returned is the only buffer holding it (no intermediate left behind), and the format is unchanged', () => {
    const wrapped = wrapKey(kek, key);
    let unwrapped: Buffer | null = null;
    const seen = capturingUpdates(() => { unwrapped = unwrapKey(kek, wrapped); });
    expect(unwrapped).not.toBeNull();
    expect(Buffer.from(unwrapped!).equals(Buffer.from(key))).toBe(true);
    const holding = seen.filter((b) => b.equals(Buffer.from(key)));
    expect(holding).toHaveLength(1);
    expect(holding[0]!.buffer === unwrapped!.buffer && holding[0]!.byteOffset === unwrapped!.byteOffset).toBe(true);
    unwrapped!.fill(0); // the caller's wipe then leaves nothing
    expect(seen.every((b) => b.every((x) => x === 0))).toBe(true);
    // Same bytes as an AES-GCM ciphertext built by hand.
    const cipher = createCipheriv('aes-256-gcm', kek, Buffer.alloc(12));
    cipher.setAAD(Buffer.from('pli/v1/wrap', 'ascii'));
    expect(Buffer.concat([cipher.update(key), cipher.final(), cipher.getAuthTag()]).equals(wrapped)).toBe(true);
  });

  it('a tampered tag under the right key-encryption key: null, and the key decrypted before the tag check is zeroed', () => {
    const bad = Buffer.from(wrapKey(kek, key));
    bad[47]! ^= 1;
    let unwrapped: Buffer | null = Buffer.alloc(0);
    const seen = capturingUpdates(() => { unwrapped = unwrapKey(kek, bad); });
    expect(unwrapped).toBeNull();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((b) => b.every((x) => x === 0))).toBe(true);
  });
});

/**
 * Runs the real Argon2id worker (its bundled sources) in a thread of our own, with a probe in
 * front: it captures the worker's WebAssembly memory as libsodium instantiates it, and when the
 * worker posts its answer it reads what an attacker would read at that moment (the heap, the
 * workerData password, the key array left in the worker).
 */
function runProbedArgon2(password: Uint8Array): Promise<{ key: Uint8Array; probe: { passwordInHeap: number; keyInHeap: number; nonZeroHeapBytes: number; heapBytes: number; workerPasswordZeroed: boolean; keyLeftInWorker: number } }> {
  const entry = workerEntry('argon2', pathToFileURL(path.join(CORE, 'crypto/argon2.ts')).href);
  if (!entry.eval) throw new Error('the sources run the bundled worker');
  const probe = `{
    const threads = require('node:worker_threads');
    const memories = [];
    const instantiate = WebAssembly.instantiate;
    WebAssembly.instantiate = async (...args) => {
      const result = await instantiate.apply(WebAssembly, args);
      const instance = result.instance ?? result;
      for (const value of Object.values(instance.exports)) if (value instanceof WebAssembly.Memory) memories.push(value);
      return result;
    };
    const count = (bytes, needle) => { const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength); let n = 0; for (let at = b.indexOf(needle); at !== -1; at = b.indexOf(needle, at + 1)) n++; return n; };
    const port = threads.parentPort;
    const post = port.postMessage.bind(port);
    port.postMessage = (message, transfer) => {
      const heap = new Uint8Array(memories[0].buffer);
      let nonZero = 0;
      for (let i = 0; i < heap.length; i++) if (heap[i] !== 0) nonZero++;
      const key = message.key ? Buffer.from(message.key) : Buffer.alloc(0);
      const seen = {
        passwordInHeap: count(heap, Buffer.from(${JSON.stringify(Buffer.from(password).toString('hex'))}, 'hex')),
        keyInHeap: key.length ? count(heap, key) : -1,
        nonZeroHeapBytes: nonZero,
        heapBytes: heap.length,
        workerPasswordZeroed: threads.workerData.password.every((b) => b === 0),
      };
      post(message, transfer);
      seen.keyLeftInWorker = message.key ? message.key.byteLength : -1;
      post({ probe: seen });
    };
  }`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(probe + '\n' + entry.file, { eval: true, workerData: { password, salt: new Uint8Array(16).fill(9), opslimit: 1, memlimitKib: 8 * 1024 } });
    let key: Uint8Array | undefined;
    worker.on('message', (message: { key?: Uint8Array; probe?: never; error?: string }) => {
      if (message.error) reject(new Error(message.error));
      else if (message.key) key = message.key;
      else if (message.probe && key) {
        resolve({ key, probe: message.probe });
        void worker.terminate();
      }
    });
    worker.on('error', reject);
  });
}

describe('the Argon2id worker leaves nothing behind', () => {
  it('when it answers, its WebAssembly heap is all zeros (no passphrase, no key, no Argon2id block), its copy of the passphrase is zeroed and its key array has gone to the caller', async () => {
    const password = pattern(40, 150);
    const { key, probe } = await runProbedArgon2(password);
    const sodium = await getSodium();
    const expected = sodium.crypto_pwhash(32, password, new Uint8Array(16).fill(9), 1, 8 * 1024 * 1024, sodium.crypto_pwhash_ALG_ARGON2ID13);
    expect(Buffer.from(key).equals(Buffer.from(expected))).toBe(true);
    expect(probe.heapBytes).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    expect(probe.passwordInHeap).toBe(0);
    expect(probe.keyInHeap).toBe(0);
    expect(probe.nonZeroHeapBytes).toBe(0);
    expect(probe.workerPasswordZeroed).toBe(true);
    expect(probe.keyLeftInWorker).toBe(0); // transferred, not copied
  });

  it('argon2id (its WebAssembly back-end) gives the caller the transferred key itself, not a copy (so the caller\'s fill(0) leaves no other)', async () => {
    const key = await argon2id(pattern(20, 9), new Uint8Array(16).fill(9), { opslimit: 1, memlimitKib: 8 * 1024 }, 'wasm');
    // A copy would be a slice of Node's shared 8 KiB pool; the transferred array is 32 bytes of its own.
    expect(key.length).toBe(32);
    expect(key.buffer.byteLength).toBe(32);
  });

  it('argon2id moves the passphrase to the worker in an array of its own (a pooled Buffer would send the whole pool along)', async () => {
    const password = Buffer.from('une phrase de passe du poste');
    expect(password.buffer.byteLength).toBeGreaterThan(password.length); // a slice of Node's pool
    started.length = 0;
    await argon2id(password, new Uint8Array(16).fill(9), { opslimit: 1, memlimitKib: 8 * 1024 }, 'wasm');
    const options = started[0]!;
    const sent = (options.workerData as { password: Uint8Array; salt: Uint8Array }).password;
    expect(options.transferList?.includes(sent.buffer)).toBe(true);
    expect(sent.byteLength).toBe(0); // moved: nothing left in this thread
    expect(password.toString()).toBe('une phrase de passe du poste'); // the caller's own copy, for the caller to zero
  });
});
