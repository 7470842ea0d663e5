#!/usr/bin/env node
// What a format with one hash per block (issue 13's lead: "a tree of per-block hashes under the
// signature, so both cores hash") could give, measured before anyone writes it: a prototype that
// is not Pli's writer, with none of its checks, on the same input as age.
//
// Each of N threads reads its own blocks (block i goes to thread i mod N) with pread, seals their
// 64 KiB chunks with Pli's chunk cipher (dist/: the addon, or Node's API), hashes the sealed block
// with SHA-256 and writes it with pwrite at its place; the digest is the SHA-256 of the blocks'
// digests. Nothing waits for anything else: it is the best case of such a format on this machine.
// Beside it, `age` on the same file (its whole command: its fixed cost is ~0.01 s). Pli's own
// stream today is crypto.mjs's figure; this one has no fixed cost, no header and no signature.
// Then the same layouts in C (floor.c, compiled here when `cc` and OpenSSL's headers are found):
// the floor of the format's work on this CPU, with no JavaScript in the way.
// It prints figures only, and judges no target: it informs a decision (bench/README.md).
//
//   node bench/pipeline.mjs [--dir DOSSIER] [--size MiB] [--reps N] [--hashes sha256,sha512-256,...]
// --hashes: the C floor's layouts again for each other OpenSSL digest named (sha256 alone by
// default): what a format on that hash would cost here (bench/README.md, "A CPU without SHA-NI").
// Needs `npm run build` (the chunk cipher from dist/) and age on the PATH.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createHash, createSecretKey, randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { chunkSealer } = await import(path.join(ROOT, 'dist/electron/core/container/gcm.js'));
const { chunkNonce, CHUNK_PLAIN, CHUNK_SEALED, NONCE_BYTES } = await import(path.join(ROOT, 'dist/electron/core/container/format.js'));
const { asBuffer } = await import(path.join(ROOT, 'dist/electron/core/container/discard.js'));

/** Reads the `n` chunks from chunk `first` into `plain` (the end padded with zeros) and their
 * nonces into `nonces`; returns `n`. */
function readBlock(fd, plain, nonces, first, n, chunks) {
  let got = 0;
  while (got < n * CHUNK_PLAIN) {
    const read = readSync(fd, plain, got, n * CHUNK_PLAIN - got, first * CHUNK_PLAIN + got);
    if (read === 0) {
      plain.fill(0, got, n * CHUNK_PLAIN);
      break;
    }
    got += read;
  }
  for (let c = 0; c < n; c++) chunkNonce(first + c, first + c === chunks - 1, nonces.subarray(c * NONCE_BYTES, (c + 1) * NONCE_BYTES));
  return n;
}

/** One thread's share: blocks me, me + threads, ...; returns [block, digest] pairs. */
function share({ input, output, blockChunks, me, threads, key }) {
  const fd = openSync(input, 'r');
  const out = openSync(output, 'r+');
  try {
    const chunks = Math.max(1, Math.ceil(fstatSync(fd).size / CHUNK_PLAIN));
    const sealer = chunkSealer(createSecretKey(Buffer.from(key)));
    const plain = Buffer.alloc(blockChunks * CHUNK_PLAIN);
    const sealed = Buffer.alloc(blockChunks * CHUNK_SEALED);
    const nonces = Buffer.alloc(blockChunks * NONCE_BYTES);
    const digests = [];
    for (let block = me; block * blockChunks < chunks; block += threads) {
      const first = block * blockChunks;
      const n = readBlock(fd, plain, nonces, first, Math.min(blockChunks, chunks - first), chunks);
      sealer.seal(plain.subarray(0, n * CHUNK_PLAIN), nonces.subarray(0, n * NONCE_BYTES), sealed.subarray(0, n * CHUNK_SEALED));
      digests.push([block, createHash('sha256').update(sealed.subarray(0, n * CHUNK_SEALED)).digest()]);
      writeSync(out, sealed, 0, n * CHUNK_SEALED, first * CHUNK_SEALED);
    }
    sealer.close();
    return digests;
  } finally {
    closeSync(fd);
    closeSync(out);
  }
}

/** The worker of the one-hash layout (today's format): hashes the blocks in order, gives them
 * back ({ block }), and answers 'digest' with { digest }. */
function hashInOrder() {
  const hash = createHash('sha256');
  parentPort.on('message', (block) => {
    if (block === 'digest') return parentPort.postMessage({ digest: hash.digest() });
    hash.update(block);
    parentPort.postMessage({ block }, [block.buffer]);
  });
}

if (!isMainThread) {
  if (workerData.hashInOrder) hashInOrder();
  else parentPort.postMessage(share(workerData));
} else {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, size: { type: 'string', default: '256' }, reps: { type: 'string', default: '5' }, hashes: { type: 'string', default: 'sha256' } } });
  const { machine, median, printHeader } = await import('./machine.mjs');
  printHeader('Per-block hashing on N threads (a prototype of a format change, not Pli\'s writer) against age', await machine());
  const dir = mkdtempSync(path.join(values.dir ?? ROOT, 'pli-pipeline-'));
  const reps = Number(values.reps);
  try {
    const input = path.join(dir, 'in');
    const output = path.join(dir, 'out');
    writeFileSync(input, randomBytes(Number(values.size) * 1024 * 1024));
    /** One run: a new output file each time (its pages are allocated as it is written, as a real one's are). */
    async function prototype(blockChunks, threads) {
      rmSync(output, { force: true });
      closeSync(openSync(output, 'w'));
      const key = randomBytes(32);
      const started = performance.now();
      const others = Array.from({ length: threads - 1 }, (_, i) => new Promise((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: { input, output, blockChunks, me: i + 1, threads, key } });
        worker.once('message', resolve);
        worker.once('error', reject);
      }));
      const all = [...share({ input, output, blockChunks, me: 0, threads, key }), ...(await Promise.all(others)).flat()].sort((a, b) => a[0] - b[0]);
      const digest = createHash('sha256');
      for (const [, d] of all) digest.update(d);
      digest.digest();
      return (performance.now() - started) / 1000;
    }

    /** Today's format, done the same way: this thread reads, seals and writes every block; a
     * worker hashes them in order (one SHA-256 over all), at most `inFlight` blocks behind. */
    async function oneHash(blockChunks, inFlight = 4) {
      rmSync(output, { force: true });
      const out = openSync(output, 'w');
      const fd = openSync(input, 'r');
      const started = performance.now();
      const worker = new Worker(new URL(import.meta.url), { workerData: { hashInOrder: true } });
      const spares = [];
      let waiting = null;
      let behind = 0;
      let digested = null;
      worker.on('message', (m) => {
        if (m.digest) return digested?.(m.digest);
        spares.push(asBuffer(m.block));
        behind--;
        waiting?.();
      });
      const chunks = Math.max(1, Math.ceil(fstatSync(fd).size / CHUNK_PLAIN));
      const sealer = chunkSealer(createSecretKey(randomBytes(32)));
      const plain = Buffer.alloc(blockChunks * CHUNK_PLAIN);
      const nonces = Buffer.alloc(blockChunks * NONCE_BYTES);
      for (let first = 0; first < chunks; first += blockChunks) {
        const n = readBlock(fd, plain, nonces, first, Math.min(blockChunks, chunks - first), chunks);
        while (behind >= inFlight) await new Promise((resolve) => (waiting = resolve));
        const sealed = spares.pop() ?? Buffer.allocUnsafeSlow(blockChunks * CHUNK_SEALED);
        sealer.seal(plain.subarray(0, n * CHUNK_PLAIN), nonces.subarray(0, n * NONCE_BYTES), sealed.subarray(0, n * CHUNK_SEALED));
        writeSync(out, sealed, 0, n * CHUNK_SEALED);
        behind++;
        worker.postMessage(sealed.subarray(0, n * CHUNK_SEALED), [sealed.buffer]);
      }
      await new Promise((resolve) => {
        digested = resolve;
        worker.postMessage('digest');
      });
      sealer.close();
      closeSync(fd);
      closeSync(out);
      await worker.terminate();
      return (performance.now() - started) / 1000;
    }

    const timed = (command, args) => {
      const started = performance.now();
      const run = spawnSync(command, args, { stdio: 'ignore' });
      if (run.status !== 0) throw new Error(`${command} failed`);
      return (performance.now() - started) / 1000;
    };
    const hasAge = spawnSync('age', ['--version']).status === 0;
    const ageKey = path.join(dir, 'age.key');
    if (hasAge) spawnSync('age-keygen', ['-o', ageKey], { stdio: 'ignore' });
    const ageRecipient = hasAge && existsSync(ageKey) ? spawnSync('age-keygen', ['-y', ageKey], { encoding: 'utf8' }).stdout.trim() : null;

    const rows = [];
    /** `reps` runs of `run` (seconds each), one row. */
    const row = async (name, run) => {
      const seconds = [];
      for (let r = 0; r < reps; r++) seconds.push(await run());
      rows.push([name, median(seconds), seconds]);
    };
    for (const [blockChunks, threads] of [[8, 1], [8, 2], [32, 2]]) {
      await row(`prototype, blocks of ${blockChunks * 64} KiB, ${threads} thread${threads > 1 ? 's' : ''}`, () => prototype(blockChunks, threads));
    }
    for (const blockChunks of [8, 32]) await row(`today's format (one hash, on a worker), ${blockChunks * 64} KiB`, () => oneHash(blockChunks));
    // The same work in C (floor.c), where a compiler and OpenSSL's headers are found: what is
    // the format's and what is the way it is done. Its own clock (process start excluded), as above.
    const floor = path.join(dir, 'floor');
    const built = spawnSync('cc', ['-O2', '-o', floor, path.join(ROOT, 'bench/floor.c'), '-lcrypto', '-lpthread'], { encoding: 'utf8' });
    if (built.status === 0) {
      const layouts = [['one', 'one thread does it all'], ['today', "today's format, hash on a 2nd thread"], ['perblock', 'per-block digests, 2 threads'], ['nohash', 'no hash at all, one thread']];
      const hashes = values.hashes.split(',').filter(Boolean);
      for (const [i, hash] of hashes.entries()) {
        for (const [layout, name] of layouts) {
          if (layout === 'nohash' && i > 0) continue; // the same for every hash
          await row(`C floor, 1 MiB blocks: ${name}${hashes.length > 1 && layout !== 'nohash' ? ` (${hash})` : ''}`, () => {
            rmSync(output, { force: true });
            const run = spawnSync(floor, [layout, input, output, hash], { encoding: 'utf8' });
            if (run.status !== 0) throw new Error(`floor ${layout} ${hash} failed: ${run.stderr}`);
            return Number(run.stdout);
          });
        }
      }
      // SHA-256 over 8 blocks at once in AVX2 lanes (floor.c, perblock8, with native/sha256x8.c): x86-64
      // with AVX2 only; floor.c checks the lanes against OpenSSL's SHA-256 first, and declines
      // (exit 3) where it cannot run.
      const check = spawnSync(floor, ['check8', input, output], { encoding: 'utf8' });
      if (check.status === 1) throw new Error(`native/sha256x8.c differs from OpenSSL's SHA-256: ${check.stdout.trim()}`);
      if (check.status === 0) console.log(`(native/sha256x8.c against OpenSSL's SHA-256: ${check.stdout.trim()})`);
      const probe = spawnSync(floor, ['perblock8', input, output], { encoding: 'utf8' });
      if (probe.status === 0) {
        const lanes = [['today8', "version 1's threads, the 2nd hashing the blocks' digests 8 at a time in AVX2 lanes"], ['perblock8', 'per-block digests, 2 threads, SHA-256 of 8 blocks in AVX2 lanes']];
        for (const [layout, name] of lanes) {
          await row(`C floor, 1 MiB blocks: ${name}`, () => {
            rmSync(output, { force: true });
            const run = spawnSync(floor, [layout, input, output], { encoding: 'utf8' });
            if (run.status !== 0) throw new Error(`floor ${layout} failed: ${run.stderr}`);
            return Number(run.stdout);
          });
        }
      } else {
        console.log(`(SHA-256 in AVX2 lanes not measured: ${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()})`);
      }
    } else {
      console.log(`(C floor not measured: no C compiler or no OpenSSL headers here: ${(built.stderr || built.error?.message || '').trim().split('\n')[0]})`);
    }
    if (ageRecipient) {
      await row('age -r (whole command)', () => {
        rmSync(output, { force: true });
        return timed('age', ['-r', ageRecipient, '-o', output, input]);
      });
    }
    console.log(`${values.size} MiB in ${values.dir ?? ROOT}, median of ${reps}:`);
    for (const [name, m, all] of rows) console.log(`  ${name.padEnd(60)} ${m.toFixed(3)} s   [${all.map((s) => s.toFixed(3)).join(' ')}]`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
