// The writer's layouts (native/stream.c): in format version 2 without the lanes (a CPU with
// SHA-NI, or PLI_SHA256_LANES=0), two workers each read, seal, hash and write whole blocks at their
// places (two blocks at a time with their leaves hashed together where SHA-NI is, one at a time
// with PLI_SHA256_PAIRS=0), and the leaves join the digest in the blocks' order; in order
// (PLI_SEAL_WORKERS=1, version 1, the lanes, an output opened to append), one thread seals and
// appends, another hashes. All must give the same bytes, the same digest (docs/format.md section
// 11, computed here by hand), leave the output's offset after the last block, and report the
// first failure in the stream's order. The addon is called directly, with real files and threads.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { digestByHand, loadNative, restoreEnvAfterEach, sealChunksByHand } from './helpers.js';

const CHUNK_PLAIN = 65536;
const BLOCK_PLAIN = 16 * CHUNK_PLAIN;

interface Native {
  context(key: Uint8Array, encrypt: boolean): object;
  close(context: object): void;
  stream(context: object, prefix: Uint8Array, fds: Int32Array, sizes: Float64Array, chunks: number, outFd: number, hashPrefix: Uint8Array, control: Int32Array, version: number): Promise<Buffer>;
}

const native = loadNative<Native>();
restoreEnvAfterEach('PLI_SHA256_LANES', 'PLI_SEAL_WORKERS', 'PLI_SHA256_PAIRS');

/** The layouts: the workers take two blocks at a time and hash their leaves together where the
 * CPU has SHA-NI (native/sha256x2.c), one at a time with PLI_SHA256_PAIRS=0 or elsewhere. */
type Which = 'workers' | 'workers, one leaf at a time' | 'in order';
const LAYOUTS: Which[] = ['workers', 'workers, one leaf at a time', 'in order'];

/** Which layout the next stream takes: it reads the environment as it starts. */
function layout(which: Which): void {
  process.env.PLI_SHA256_LANES = '0';
  if (which === 'in order') process.env.PLI_SEAL_WORKERS = '1';
  else delete process.env.PLI_SEAL_WORKERS;
  if (which === 'workers, one leaf at a time') process.env.PLI_SHA256_PAIRS = '0';
  else delete process.env.PLI_SHA256_PAIRS;
}

/** The sealed chunks of `plain`, padded with zeros to whole chunks, by node:crypto. */
function sealByHand(key: Buffer, plain: Buffer): Buffer {
  const chunks = Math.max(1, Math.ceil(plain.length / CHUNK_PLAIN));
  return sealChunksByHand(key, Buffer.concat([plain, Buffer.alloc(chunks * CHUNK_PLAIN - plain.length)]));
}

describe.runIf(native !== null && process.platform !== 'win32')("the writer's workers (native/stream.c)", () => {
  const key = randomBytes(32);
  const hashPrefix = Buffer.concat([Buffer.from('pli/v1/sig/container/v2\0'), randomBytes(60)]);
  let root: string;
  beforeAll(() => void (root = mkdtempSync(path.join(os.tmpdir(), 'pli-seal-workers-'))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  interface Layout { prefix: Buffer; files: Buffer[] }
  interface Sealed { file: Buffer; digest: Buffer; blocksCounted: number }

  /** Streams `files` after `prefix` into an output that already holds `head` bytes, then writes
   * `tail` through the same descriptor (as seal.ts writes the signature after the stream). */
  async function stream({ prefix, files }: Layout, options: { head?: Buffer; tail?: Buffer; flags?: string } = {}): Promise<Sealed> {
    const dir = mkdtempSync(path.join(root, 'run-'));
    const names = files.map((data, i) => {
      const name = path.join(dir, `f${i}`);
      writeFileSync(name, data);
      return name;
    });
    const fds = names.map((name) => openSync(name, 'r'));
    const out = path.join(dir, 'out');
    const outFd = openSync(out, options.flags ?? 'w');
    const context = native!.context(key, true);
    const control = new Int32Array(3);
    const total = prefix.length + files.reduce((n, f) => n + f.length, 0);
    const chunks = Math.max(1, Math.ceil(total / CHUNK_PLAIN));
    try {
      if (options.head) writeSync(outFd, options.head);
      const digest = await native!.stream(context, prefix, Int32Array.from(fds), Float64Array.from(files, (f) => f.length), chunks, outFd, hashPrefix, control, 2);
      if (options.tail) writeSync(outFd, options.tail);
      return { file: readFileSync(out), digest, blocksCounted: Atomics.load(control, 1) };
    } finally {
      native!.close(context);
      for (const fd of [...fds, outFd]) closeSync(fd);
    }
  }

  /** A random payload: a prefix (the manifest's part of the plaintext) and 1 to 6 files, some
   * empty, some ending on a chunk's or a block's edge, the whole up to `maxBlocks` blocks. */
  function randomLayout(maxBlocks: number): Layout {
    const size = (): number => {
      const edge = [0, 1, CHUNK_PLAIN, BLOCK_PLAIN, BLOCK_PLAIN - 1, 3 * BLOCK_PLAIN + 1][Math.floor(Math.random() * 6)]!;
      return Math.random() < 0.4 ? edge : Math.floor(Math.random() * (maxBlocks / 3) * BLOCK_PLAIN);
    };
    const prefix = randomBytes(Math.random() < 0.3 ? 0 : Math.floor(Math.random() * 3 * CHUNK_PLAIN));
    const files = Array.from({ length: 1 + Math.floor(Math.random() * 6) }, () => randomBytes(size()));
    return { prefix, files };
  }

  it('give the bytes and the digest of the format, as the in-order layout does, for random layouts of up to 45 blocks', async () => {
    const head = randomBytes(1000);
    const tail = Buffer.from('signature');
    const layouts = [...Array.from({ length: 10 }, () => randomLayout(12)), randomLayout(45), { prefix: Buffer.alloc(0), files: [randomBytes(40 * BLOCK_PLAIN + 5)] }];
    for (const [n, l] of layouts.entries()) {
      const plain = Buffer.concat([l.prefix, ...l.files]);
      const sealed = sealByHand(key, plain);
      const blocks = Math.max(1, Math.ceil(plain.length / BLOCK_PLAIN));
      const what = `layout ${n}: prefix ${l.prefix.length}, files ${l.files.map((f) => f.length).join(' ')}`;
      for (const which of LAYOUTS) {
        layout(which);
        const run = await stream(l, { head, tail });
        // The header before, the sealed chunks, then what the caller wrote after: the output's
        // offset was where the last block ends.
        expect(run.file.length, `${what}, ${which}`).toBe(head.length + sealed.length + tail.length);
        expect(run.file.subarray(0, head.length).equals(head), `${what}, ${which}`).toBe(true);
        expect(run.file.subarray(head.length, head.length + sealed.length).equals(sealed), `${what}, ${which}`).toBe(true);
        expect(run.file.subarray(head.length + sealed.length).equals(tail), `${what}, ${which}`).toBe(true);
        expect(run.digest.toString('hex'), `${what}, ${which}`).toBe(digestByHand(2, hashPrefix, sealed).toString('hex'));
        expect(run.blocksCounted, `${what}, ${which}`).toBe(blocks);
      }
    }
  });

  it('leave an output opened to append to the in-order layout: the same bytes, in order', async () => {
    const l: Layout = { prefix: randomBytes(100), files: [randomBytes(9 * BLOCK_PLAIN + 17)] };
    const sealed = sealByHand(key, Buffer.concat([l.prefix, ...l.files]));
    const head = randomBytes(333);
    layout('workers');
    const run = await stream(l, { head, flags: 'a', tail: Buffer.from('fin') });
    expect(run.file.equals(Buffer.concat([head, sealed, Buffer.from('fin')]))).toBe(true);
    expect(run.digest.equals(digestByHand(2, hashPrefix, sealed))).toBe(true);
  });

  it('of two files cut short, name the first in the stream, though a worker meets the second first', async () => {
    // Block 5 is read from 4096 sources of 256 bytes (one small file, given again and again), the
    // last of which is cut short: its worker makes 4096 reads before it finds that. Block 6 starts
    // a file that was emptied: the other worker takes it meanwhile and fails at its first read.
    // The first failure in the stream's order must be the one reported.
    const dir = mkdtempSync(path.join(root, 'short-'));
    const write = (name: string, bytes: number): number => {
      writeFileSync(path.join(dir, name), randomBytes(bytes));
      return openSync(path.join(dir, name), 'r');
    };
    const a = write('a', 5 * BLOCK_PLAIN);
    const small = write('small', 256);
    const cut = write('cut', 100);
    const emptied = write('emptied', 3 * BLOCK_PLAIN);
    truncateSync(path.join(dir, 'emptied'), 0);
    const fds = [a, ...Array<number>(4095).fill(small), cut, emptied];
    const sizes = [5 * BLOCK_PLAIN, ...Array<number>(4096).fill(256), 3 * BLOCK_PLAIN];
    const outFd = openSync(path.join(dir, 'out'), 'w');
    const context = native!.context(key, true);
    try {
      for (let round = 0; round < 10; round++) {
        layout(round % 2 === 0 ? 'workers' : 'workers, one leaf at a time');
        const run = native!.stream(context, Buffer.alloc(0), Int32Array.from(fds), Float64Array.from(sizes), 9 * 16, outFd, hashPrefix, new Int32Array(3), 2);
        await expect(run, `round ${round}`).rejects.toMatchObject({ code: 'ERR_PLI_STREAM_SHORT', source: 4096 });
      }
    } finally {
      native!.close(context);
      for (const fd of [a, small, cut, emptied, outFd]) closeSync(fd);
    }
  });

  it('stop at the next block once asked, and report a failed read or write as the system gave it', async () => {
    const dir = mkdtempSync(path.join(root, 'io-'));
    writeFileSync(path.join(dir, 'in'), randomBytes(30 * BLOCK_PLAIN));
    const input = openSync(path.join(dir, 'in'), 'r');
    const folder = openSync(dir, 'r');
    const readOnly = openSync(path.join(dir, 'in'), 'r');
    const output = openSync(path.join(dir, 'out'), 'w');
    const context = native!.context(key, true);
    const size = Float64Array.of(30 * BLOCK_PLAIN);
    try {
      // The stream clears control[0] as it starts: asked to stop right after, it stops well
      // before its 30 blocks.
      layout('workers');
      const control = new Int32Array(3);
      const run = native!.stream(context, Buffer.alloc(0), Int32Array.of(input), size, 30 * 16, output, hashPrefix, control, 2);
      Atomics.store(control, 0, 1);
      await expect(run).rejects.toMatchObject({ code: 'ERR_PLI_STREAM_STOPPED' });
      expect(Atomics.load(control, 1)).toBeLessThan(15);
      layout('workers');
      await expect(native!.stream(context, Buffer.alloc(0), Int32Array.of(folder), size, 30 * 16, output, hashPrefix, new Int32Array(3), 2))
        .rejects.toMatchObject({ code: 'ERR_PLI_STREAM_IO', syscall: 'read', errno: expect.any(Number) });
      layout('workers');
      await expect(native!.stream(context, Buffer.alloc(0), Int32Array.of(input), size, 30 * 16, readOnly, hashPrefix, new Int32Array(3), 2))
        .rejects.toMatchObject({ code: 'ERR_PLI_STREAM_IO', syscall: 'write', errno: expect.any(Number) });
    } finally {
      native!.close(context);
      for (const fd of [input, folder, readOnly, output]) closeSync(fd);
    }
  });
});
