// The reader's block pipeline (electron/core/container/opener.ts, open.ts): for payloads above
// OFF_THREAD_OPEN_BYTES the blocks are hashed and most are decrypted on a worker thread, one in
// four on this thread. Both paths must give the same plaintext and digest, report a bad tag at
// the right chunk, and refuse tampering of a large container exactly like a small one.
import { describe, it, expect, beforeAll } from 'vitest';
import { createCipheriv, createHash, createSecretKey, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { blockOpener, ChangedWhileReadingError, ChunkTagError, NONCE_BYTES, OFF_THREAD_OPEN_BYTES, startOpenerThread, type OpenerThread } from '../../electron/core/container/opener.js';
import { CHUNK_PLAIN, CHUNK_SEALED, encodePreamble, PREAMBLE_BYTES } from '../../electron/core/container/format.js';
import { signedPrefix } from '../../electron/core/container/digest.js';
import { openStream, type OpenCallbacks } from '../../electron/core/container/open.js';
import { bufferSource, FolderSink } from '../../electron/core/container/sinks.js';
import { PliError } from '../../electron/core/errors.js';
import { makePerson, seal, readerCallbacks, tryOpen, describeError, type TestPerson, type OpenOutcome } from './helpers.js';

const BLOCK = 32; // chunks per block in open.ts

function sealBlock(key: Buffer, plain: Buffer[], nonces: Buffer): Buffer {
  return Buffer.concat(plain.flatMap((chunk, c) => {
    const cipher = createCipheriv('aes-256-gcm', key, nonces.subarray(c * NONCE_BYTES, (c + 1) * NONCE_BYTES));
    return [cipher.update(chunk), cipher.final(), cipher.getAuthTag()];
  }));
}

/** Blocks of random chunks (the last one short), sealed under `key` with random nonces. */
function makeBlocks(key: Buffer, counts: number[]): { plain: Buffer[]; nonces: Buffer; sealed: Buffer }[] {
  return counts.map((count) => {
    const plain = Array.from({ length: count }, () => randomBytes(CHUNK_PLAIN));
    const nonces = randomBytes(count * NONCE_BYTES);
    return { plain, nonces, sealed: sealBlock(key, plain, nonces) };
  });
}

const big = OFF_THREAD_OPEN_BYTES + 1;
const small = OFF_THREAD_OPEN_BYTES;

describe('block opener: the worker thread and this thread agree', () => {
  const key = randomBytes(32);
  // Seven blocks: the worker opens four, this thread the second, fourth and sixth (one in two).
  const blocks = makeBlocks(key, [BLOCK, BLOCK, BLOCK, BLOCK, BLOCK, BLOCK, 5]);
  const prefix = Buffer.concat([signedPrefix(encodePreamble(1000, 1)), Buffer.from(' et un en-tête')]);
  const expectedDigest = blocks.reduce((h, b) => h.update(b.sealed), createHash('sha256').update(prefix)).digest();

  // A worker started before the key exists (during the Argon2id unlock) gets it afterwards.
  for (const [name, payloadBytes, early] of [['worker thread', big, false], ['worker thread started before the key', big, true], ['this thread', small, false]] as const) {
    it(`${name}: same plaintext, same digest, every sealed block handed back unchanged`, async () => {
      const recycled: Buffer[] = [];
      const thread = early ? startOpenerThread(payloadBytes) : null;
      if (early) expect(thread).not.toBeNull();
      const opener = blockOpener(payloadBytes, createSecretKey(key), (block) => recycled.push(Buffer.from(block)), thread);
      try {
        opener.prefix(Buffer.from(prefix));
        const opened = blocks.map((b) => opener.submit(Buffer.from(b.sealed), b.nonces));
        for (const [i, result] of opened.entries()) {
          const plain = await result;
          // The block's plaintext, in one or more parts (the chunk cipher writes a block at once).
          expect(Buffer.concat(plain).equals(Buffer.concat(blocks[i]!.plain)), `block ${i}`).toBe(true);
          opener.release(plain);
        }
        expect((await opener.digest()).equals(expectedDigest)).toBe(true);
      } finally {
        await opener.close();
      }
      expect(recycled.map((b) => b.toString('hex'))).toEqual(blocks.map((b) => b.sealed.toString('hex')));
    });
  }

  it('a bad tag is reported at its chunk, in a block opened by either thread', async () => {
    for (const bad of [0, 3, 4, 6]) { // block 3 is the one this thread opens
      const chunk = bad === 6 ? 4 : (bad * 7) % BLOCK;
      const opener = blockOpener(big, createSecretKey(key), () => {});
      opener.prefix(Buffer.from(prefix));
      try {
        const outcomes = await Promise.allSettled(blocks.map((b, i) => {
          const sealed = Buffer.from(b.sealed);
          if (i === bad) sealed[chunk * CHUNK_SEALED + 100]! ^= 0x01;
          return opener.submit(sealed, b.nonces);
        }));
        outcomes.forEach((outcome, i) => {
          if (i === bad) {
            expect(outcome.status).toBe('rejected');
            const reason = (outcome as PromiseRejectedResult).reason as unknown;
            expect(reason).toBeInstanceOf(ChunkTagError);
            expect((reason as ChunkTagError).chunk).toBe(chunk);
          } else if (i < bad) expect(outcome.status, `block ${i}`).toBe('fulfilled');
        });
      } finally {
        await opener.close();
      }
    }
  });

  it('a tag flipped in the last chunk, or a nonce changed, is refused', async () => {
    for (const variant of ['tag', 'nonce'] as const) {
      const opener = blockOpener(big, createSecretKey(key), () => {});
      opener.prefix(Buffer.from(prefix));
      try {
        const b = blocks[1]!;
        const sealed = Buffer.from(b.sealed);
        const nonces = Buffer.from(b.nonces);
        if (variant === 'tag') sealed[sealed.length - 1]! ^= 0x80;
        else nonces[(BLOCK - 1) * NONCE_BYTES]! ^= 0x01;
        await expect(opener.submit(sealed, nonces)).rejects.toMatchObject({ chunk: BLOCK - 1 });
      } finally {
        await opener.close();
      }
    }
  });

  it('a worker that dies fails what is pending and what follows with a temporary error', async () => {
    const opener = blockOpener(big, createSecretKey(key), () => {});
    const pending = opener.submit(Buffer.from(blocks[0]!.sealed), blocks[0]!.nonces);
    pending.catch(() => {});
    // As if the thread were killed or ran out of memory: not through close().
    await (opener as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    for (const outcome of [pending, opener.submit(Buffer.from(blocks[1]!.sealed), blocks[1]!.nonces), opener.digest()]) {
      await expect(outcome).rejects.toMatchObject({ kind: 'temporary', code: 'worker-stopped' });
    }
    await opener.close();
  });

  it('no thread is started ahead for a payload opened on this thread', () => {
    expect(startOpenerThread(small)).toBeNull();
  });

  it('a thread started ahead and never used ends with close()', async () => {
    const thread = startOpenerThread(big)!;
    const exited = new Promise<number>((resolve) => thread.worker.once('exit', resolve));
    await thread.close();
    await exited;
    expect(thread.worker.threadId).toBe(-1);
  });

  it('a thread started ahead that died before it was used fails the opening with a temporary error', async () => {
    const thread = startOpenerThread(big)!;
    await thread.worker.terminate(); // as if it had run out of memory while the unlock ran
    const opener = blockOpener(big, createSecretKey(key), () => {}, thread);
    await expect(opener.submit(Buffer.from(blocks[0]!.sealed), blocks[0]!.nonces)).rejects.toMatchObject({ kind: 'temporary', code: 'worker-stopped' });
    await expect(opener.digest()).rejects.toMatchObject({ kind: 'temporary', code: 'worker-stopped' });
    await opener.close();
  });

  it('once closed, it refuses more work instead of hanging', async () => {
    const opener = blockOpener(big, createSecretKey(key), () => {});
    await opener.close();
    await expect(opener.submit(Buffer.from(blocks[0]!.sealed), blocks[0]!.nonces)).rejects.toThrow(/closed/);
    await expect(opener.digest()).rejects.toThrow(/closed/);
  });
});

// The block worker started during the unlock reads the file and starts the digest itself; the
// opening pass reads the blocks again. A block changed on disk in between, even into one whose
// tags verify (by someone who knows the key), must be refused: else the signature would cover
// other bytes than those decrypted.
describe('pre-hashing from the file while the key is unlocked', () => {
  const key = randomBytes(32);
  const blocks = makeBlocks(key, [BLOCK, BLOCK, BLOCK, BLOCK, BLOCK, 5]);
  const prefix = Buffer.concat([signedPrefix(encodePreamble(1000, 1)), Buffer.from(' et un en-tête')]);
  const expectedDigest = blocks.reduce((h, b) => h.update(b.sealed), createHash('sha256').update(prefix)).digest();
  const headerBytes = 1000; // the blocks start after a stand-in header
  const chunks = 5 * BLOCK + 5;
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pli-prehash-'));
    file = path.join(dir, 'c.pli');
    writeFileSync(file, Buffer.concat([randomBytes(headerBytes), ...blocks.map((b) => b.sealed)]));
    return () => rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a worker pre-hashing the file open as `fd`; `stopped` resolves with the number of
   * blocks pre-hashed once pre-hashing stops (all of them, unless the key came first). */
  function startPrehash(fd: number): { thread: OpenerThread; stopped: Promise<number> } {
    const thread = startOpenerThread(big, { fd, prefix, start: headerBytes, chunks })!;
    const stopped = new Promise<number>((resolve) => {
      const listen = (m: { prehashed?: number }): void => {
        if (m.prehashed === undefined) return;
        thread.worker.off('message', listen);
        resolve(m.prehashed);
      };
      thread.worker.on('message', listen);
    });
    return { thread, stopped };
  }

  /** Opens the blocks with a pre-hashing thread; says whether the plaintext came back equal (a
   * small result: a failing expectation never prints megabytes). */
  async function openAfterPrehash(options: { wait: boolean; headerPrefix?: Buffer }): Promise<{ prehashed: number | null; samePlain: boolean; digest: string }> {
    const fd = openSync(file, 'r');
    const { thread, stopped } = startPrehash(fd);
    const prehashed = options.wait ? await stopped : null;
    const opener = blockOpener(big, createSecretKey(key), () => {}, thread);
    try {
      opener.prefix(Buffer.from(options.headerPrefix ?? prefix));
      const plain = await Promise.all(blocks.map((b) => opener.submit(Buffer.from(b.sealed), b.nonces)));
      const samePlain = plain.every((parts, i) => Buffer.concat(parts).equals(Buffer.concat(blocks[i]!.plain)));
      return { prehashed, samePlain, digest: (await opener.digest()).toString('hex') };
    } finally {
      await opener.close();
      closeSync(fd);
    }
  }

  it('all blocks pre-hashed, or few or none (the key came at once): same plaintext, same digest', async () => {
    for (const wait of [true, false]) {
      const { prehashed, samePlain, digest } = await openAfterPrehash({ wait });
      if (wait) expect(prehashed).toBe(blocks.length);
      expect(samePlain).toBe(true);
      expect(digest, `wait=${wait}`).toBe(expectedDigest.toString('hex'));
    }
  });

  it('a block replaced after it was pre-hashed by one whose tags verify is refused, whichever thread opens it', async () => {
    // Block 0 goes to the worker, block 1 is opened on this thread (one in two).
    for (const index of [0, 1]) {
      const forged = makeBlocks(key, [BLOCK])[0]!;
      const nonces = blocks[index]!.nonces;
      const resealed = sealBlock(key, forged.plain, nonces); // valid tags under the same key and nonces
      const read = blocks.map((b, i) => (i === index ? resealed : b.sealed));
      const fd = openSync(file, 'r');
      const { thread, stopped } = startPrehash(fd);
      expect(await stopped).toBe(blocks.length);
      const opener = blockOpener(big, createSecretKey(key), () => {}, thread);
      try {
        opener.prefix(Buffer.from(prefix));
        const outcomes = await Promise.allSettled(read.map((sealed, i) => opener.submit(Buffer.from(sealed), blocks[i]!.nonces)));
        // The digest (awaited before anything is kept) fails either way; a block opened by the
        // worker fails at once too.
        await expect(opener.digest()).rejects.toBeInstanceOf(ChangedWhileReadingError);
        if (index === 0) expect((outcomes[0] as PromiseRejectedResult).reason).toBeInstanceOf(ChangedWhileReadingError);
      } finally {
        await opener.close();
        closeSync(fd);
      }
    }
  });

  it('a header that is not the one pre-hashed is refused', async () => {
    const other = Buffer.from(prefix);
    other[other.length - 1]! ^= 0x01;
    await expect(openAfterPrehash({ wait: true, headerPrefix: other })).rejects.toBeInstanceOf(ChangedWhileReadingError);
  });

  it('a file cut short before pre-hashing stops it early; the opening pass then hashes the rest', async () => {
    const short = path.join(dir, 'court.pli');
    const fd = openSync(short, 'w+');
    writeSync(fd, Buffer.concat([randomBytes(headerBytes), blocks[0]!.sealed, blocks[1]!.sealed.subarray(0, 1000)]));
    const { thread, stopped } = startPrehash(fd);
    expect(await stopped).toBe(1); // block 0 whole, block 1 short
    const opener = blockOpener(big, createSecretKey(key), () => {}, thread);
    try {
      opener.prefix(Buffer.from(prefix));
      await Promise.all(blocks.map((b) => opener.submit(Buffer.from(b.sealed), b.nonces)));
      expect((await opener.digest()).equals(expectedDigest)).toBe(true);
    } finally {
      await opener.close();
      closeSync(fd);
    }
  });
});

describe('a container larger than OFF_THREAD_OPEN_BYTES (seven blocks)', () => {
  let alice: TestPerson, bob: TestPerson;
  let bytes: Buffer;
  let callbacks: OpenCallbacks;
  let start: number;
  let chunks: number;
  // Two files, the first ending inside block 3 (opened on this thread), the second spanning the rest.
  const first = randomBytes(3 * BLOCK * CHUNK_PLAIN + 12345);
  const second = randomBytes(OFF_THREAD_OPEN_BYTES - first.length + 2 * BLOCK * CHUNK_PLAIN + 999);

  beforeAll(async () => {
    [alice, bob] = await Promise.all([makePerson(), makePerson()]);
    bytes = await seal(alice, [bob], [{ name: 'IS101.xls', data: first }, { name: 'IST.csv', data: second }]);
    callbacks = readerCallbacks(bob, [alice]);
    start = PREAMBLE_BYTES + bytes.readUInt32BE(12);
    chunks = (bytes.length - start - 64) / CHUNK_SEALED;
    expect(chunks * CHUNK_PLAIN).toBeGreaterThan(OFF_THREAD_OPEN_BYTES);
    expect(Math.ceil(chunks / BLOCK)).toBe(7);
  });

  function expectRefused(outcome: OpenOutcome, code: string): void {
    expect(describeError(outcome.error)).toBe(`security/${code}`);
    expect(outcome.sink.committed).toBe(false);
    expect(outcome.sink.result()).toEqual([]);
  }
  const flip = (offset: number): Buffer => {
    const copy = Buffer.from(bytes);
    copy[offset]! ^= 0x04;
    return copy;
  };

  it('opens to the same files, and the folder sink records each file’s SHA-256', async () => {
    const opened = await tryOpen(bytes, callbacks);
    expect(describeError(opened.error)).toBe('accepted');
    expect(opened.files.map((f) => f.name)).toEqual(['IS101.xls', 'IST.csv']);
    expect(opened.files[0]!.data.equals(first)).toBe(true);
    expect(opened.files[1]!.data.equals(second)).toBe(true);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'pli-opener-'));
    try {
      const sink = await FolderSink.create(dir);
      await openStream(bufferSource(bytes), sink, callbacks);
      const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
      expect(sink.written.map((w) => [w.name, w.size, w.sha256])).toEqual([['IS101.xls', first.length, sha(first)], ['IST.csv', second.length, sha(second)]]);
      expect(readFileSync(path.join(dir, 'IST.csv')).equals(second)).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(['IS101.xls', 'IST.csv']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a byte flipped in a chunk of any block is refused, naming that chunk', async () => {
    // Chunks in blocks 0, 2 and 6 (worker thread) and 3 (this thread), and the very last one.
    for (const index of [5, 2 * BLOCK + 31, 3 * BLOCK, 3 * BLOCK + 17, chunks - 1]) {
      const outcome = await tryOpen(flip(start + index * CHUNK_SEALED + 7), callbacks);
      expectRefused(outcome, 'tampered');
      expect((outcome.error as PliError).message).toContain(`bloc ${index + 1} sur ${chunks}`);
    }
  });

  it('chunks swapped across a block boundary, a block dropped, the signature flipped: refused', async () => {
    const chunk = (i: number): Buffer => bytes.subarray(start + i * CHUNK_SEALED, start + (i + 1) * CHUNK_SEALED);
    const all = Array.from({ length: chunks }, (_, i) => chunk(i));
    const head = bytes.subarray(0, start);
    const signature = bytes.subarray(bytes.length - 64);
    const swapped = [...all];
    [swapped[BLOCK - 1], swapped[BLOCK]] = [swapped[BLOCK]!, swapped[BLOCK - 1]!];
    expectRefused(await tryOpen(Buffer.concat([head, ...swapped, signature]), callbacks), 'tampered');
    // Truncated at a block boundary with the signature kept: the last-chunk flag is missing.
    expectRefused(await tryOpen(Buffer.concat([head, ...all.slice(0, 4 * BLOCK), signature]), callbacks), 'tampered');
    expectRefused(await tryOpen(flip(bytes.length - 10), callbacks), 'bad-signature');
  });

  it('refused before any block is opened (not addressed)', async () => {
    expectRefused(await tryOpen(bytes, readerCallbacks(alice, [alice])), 'not-addressed');
  });

  it('refused into a folder: nothing is left behind', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pli-opener-'));
    try {
      const sink = await FolderSink.create(dir);
      await expect(openStream(bufferSource(flip(start + (chunks - 3) * CHUNK_SEALED)), sink, callbacks)).rejects.toBeInstanceOf(PliError);
      expect(readdirSync(dir)).toEqual([]);
      expect(existsSync(sink.tempDir)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
