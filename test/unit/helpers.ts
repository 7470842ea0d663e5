// Test fixtures: real keys, real containers, all in memory so thousands of cases stay fast.
import { xwingKeygen, ed25519Keygen, ed25519Sign, xwingDecapsulate } from '../../electron/core/crypto/keys.js';
import { fingerprint, hkdf, unwrapKey } from '../../electron/core/crypto/primitives.js';
import { argon2id } from '../../electron/core/crypto/argon2.js';
import { sealToBuffer, type SealParams } from '../../electron/core/container/seal.js';
import { openStream, type OpenCallbacks, type PlainSink } from '../../electron/core/container/open.js';
import { bufferSource } from '../../electron/core/container/sinks.js';
import type { Manifest } from '../../electron/core/container/manifest.js';
import { chunkNonce, type ParsedHeader } from '../../electron/core/container/format.js';
import { ContainerDigest, signedPrefix } from '../../electron/core/container/digest.js';
import { PliError, securityError } from '../../electron/core/errors.js';
import { base32Encode } from '../../shared/ids.js';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterEach } from 'vitest';

export interface TestPerson {
  id: string;
  enc: { publicKey: Uint8Array; secretKey: Uint8Array; fpr: Buffer };
  sig: { publicKey: Uint8Array; secretKey: Uint8Array; fpr: Buffer };
}

/** A person with fresh keys, or with keys from fixed seeds (test vectors). */
export async function makePerson(fixed?: { id: string; xwingSeed: Uint8Array; ed25519Seed: Uint8Array }): Promise<TestPerson> {
  const enc = await xwingKeygen(fixed?.xwingSeed);
  const sig = await ed25519Keygen(fixed?.ed25519Seed);
  return {
    id: fixed?.id ?? base32Encode(randomBytes(10)),
    enc: { ...enc, fpr: fingerprint('xwing', enc.publicKey) },
    sig: { ...sig, fpr: fingerprint('ed25519', sig.publicKey) },
  };
}

export function sealParams(sender: TestPerson, recipients: TestPerson[], extra: Partial<SealParams> = {}): SealParams {
  return {
    senderId: sender.id,
    signing: { keyFpr: sender.sig.fpr, secretKey: sender.sig.secretKey },
    recipients: { kind: 'keys', keys: recipients.map((r) => ({ keyFpr: r.enc.fpr, publicKey: r.enc.publicKey })) },
    ...extra,
  };
}

export async function seal(sender: TestPerson, recipients: TestPerson[], files: { name: string; data: Buffer }[], extra: Partial<SealParams> = {}): Promise<Buffer> {
  return (await sealToBuffer(files, sealParams(sender, recipients, extra))).bytes;
}

/** Reader callbacks for `reader`, who knows `known` as correspondents. Decapsulation results are
 * memoised on the exact entry bytes: a pure function of its inputs, so caching changes nothing
 * but the time of tests that open the same header thousands of times. */
export function readerCallbacks(reader: TestPerson, known: TestPerson[]): OpenCallbacks {
  const cache = new Map<string, Uint8Array>();
  return {
    resolveSigner: async (header: ParsedHeader) => {
      const signer = known.find((p) => p.sig.fpr.equals(header.senderSigFpr));
      if (!signer) throw securityError('unknown-sender', 'unknown sender');
      return { identityId: signer.id, publicKey: signer.sig.publicKey };
    },
    unwrapFileKey: async (header: ParsedHeader) => {
      for (const entry of header.recipients) {
        if (entry.type !== 'xwing' || !entry.keyFpr.equals(reader.enc.fpr)) continue;
        const cacheKey = entry.kemCiphertext.toString('base64');
        let ss = cache.get(cacheKey);
        if (!ss) {
          ss = await xwingDecapsulate(entry.kemCiphertext, reader.enc.secretKey);
          cache.set(cacheKey, ss);
        }
        const kek = hkdf(ss, header.containerId, Buffer.concat([Buffer.from('pli/v1/wrap/xwing'), entry.keyFpr]));
        const key = unwrapKey(kek, entry.wrapped);
        if (key) return key;
      }
      throw securityError('not-addressed', 'not addressed');
    },
  };
}

export async function open(bytes: Buffer, callbacks: OpenCallbacks): Promise<{ name: string; data: Buffer }[]> {
  const sink = new MemorySink();
  await openStream(bufferSource(bytes), sink, callbacks);
  return sink.result();
}

/** Reader callbacks for a password container (the only recipient entry). Argon2 runs for real. */
export function passwordCallbacks(password: string, known: TestPerson[]): OpenCallbacks {
  return {
    resolveSigner: readerCallbacks(known[0]!, known).resolveSigner,
    unwrapFileKey: async (header: ParsedHeader) => {
      const entry = header.recipients[0];
      if (!entry || entry.type !== 'password') throw securityError('not-addressed', 'not a password container');
      const pwKey = await argon2id(Buffer.from(password, 'utf8'), entry.salt, { opslimit: entry.opslimit, memlimitKib: entry.memlimitKib });
      const key = unwrapKey(hkdf(pwKey, header.containerId, 'pli/v1/wrap/password'), entry.wrapped);
      if (!key) throw securityError('bad-password', 'bad password');
      return key;
    },
  };
}

export interface OpenOutcome { error: unknown; sink: MemorySink; begun: boolean; files: { name: string; data: Buffer }[] }

/** Opens into a fresh MemorySink and reports what happened instead of throwing: for tamper tests,
 * which need to see whether the sink was begun (plaintext started) or committed (released). */
export async function tryOpen(bytes: Buffer, callbacks: OpenCallbacks): Promise<OpenOutcome> {
  const sink = new MemorySink();
  let begun = false;
  const begin = sink.begin.bind(sink);
  sink.begin = async (manifest) => {
    begun = true;
    return begin(manifest);
  };
  let error: unknown = null;
  let files: { name: string; data: Buffer }[] = [];
  try {
    await openStream(bufferSource(bytes), sink, callbacks);
    files = sink.result();
  } catch (e) {
    error = e;
  }
  return { error, sink, begun, files };
}

/** Short description of an outcome, for assertion messages and tallies. */
export function describeError(error: unknown): string {
  if (error === null) return 'accepted';
  if (error instanceof PliError) return `${error.kind}/${error.code}`;
  return `NOT-PLI ${(error as Error)?.name}: ${(error as Error)?.message}`;
}

/** A container around an arbitrary plaintext stream (manifest length, manifest, files, padding),
 * with a genuine header, commitment, chunk encryption and signature: for reader checks that the
 * real sealer refuses to produce (bad names in the manifest, wrong padding...). The plaintext is
 * zero-padded to whole chunks unless `exact` (then it must already be a multiple of 65536). */
export async function sealRawPlaintext(sender: TestPerson, recipients: TestPerson[], plaintext: Buffer, options: { exact?: boolean; senderId?: string } = {}): Promise<Buffer> {
  const CHUNK = 65536;
  const padLength = plaintext.length === 0 ? CHUNK : (CHUNK - (plaintext.length % CHUNK)) % CHUNK;
  const padded = options.exact ? plaintext : Buffer.concat([plaintext, Buffer.alloc(padLength)]);
  if (padded.length === 0 || padded.length % CHUNK !== 0) throw new Error('plaintext must fill whole chunks');
  const containerId = randomBytes(16);
  const fileKey = randomBytes(32);
  // The header depends only on the keys, ids and recipients: take it from the real sealer.
  const { bytes } = await sealToBuffer([], sealParams(sender, recipients, {
    ...(options.senderId ? { senderId: options.senderId } : {}),
    fixed: { containerId: Buffer.from(containerId), fileKey: Buffer.from(fileKey) },
  }));
  const header = bytes.subarray(0, 16 + bytes.readUInt32BE(12));
  const chunks = sealChunksByHand(hkdf(fileKey, containerId, 'pli/v1/payload'), padded);
  // The digest of the header's version (format.md 6 or 11).
  const digest = new ContainerDigest(signedPrefix(header));
  digest.update(chunks);
  const signature = await ed25519Sign(sender.sig.secretKey, digest.digest());
  return Buffer.concat([header, chunks, signature]);
}

/** The sealed chunks of `padded` (whole chunks of 65536 bytes) under `payloadKey`, by
 * node:crypto, one chunk at a time (docs/format.md section 5.2). By default the whole payload;
 * `at` places them as chunks `first`, `first + 1`... of a payload of `total` chunks (the nonces'
 * index and last flag), as a recipient who knows the key would seal a block again. */
export function sealChunksByHand(payloadKey: Uint8Array, padded: Buffer, at?: { first: number; total: number }): Buffer {
  const CHUNK = 65536;
  const chunks: Buffer[] = [];
  const count = padded.length / CHUNK;
  const first = at?.first ?? 0;
  const total = at?.total ?? count;
  for (let i = 0; i < count; i++) {
    const cipher = createCipheriv('aes-256-gcm', payloadKey, chunkNonce(first + i, first + i === total - 1));
    const sealed = cipher.update(padded.subarray(i * CHUNK, (i + 1) * CHUNK));
    cipher.final();
    chunks.push(sealed, cipher.getAuthTag());
  }
  return Buffer.concat(chunks);
}

/** The addon (native/), called directly, or null where it is not built. */
export function loadNative<T>(): T | null {
  try {
    return createRequire(import.meta.url)('pli-native/build/Release/pli_gcm.node') as T;
  } catch {
    return null; // not built here: nothing of the addon to test
  }
}

/** Puts the environment variables `names` back as they were after each test of the file. */
export function restoreEnvAfterEach(...names: string[]): void {
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}

/** The plaintext stream for a manifest object and file contents, as the sealer lays it out. */
export function rawPlaintext(manifest: unknown, files: Buffer[] = []): Buffer {
  const json = Buffer.from(typeof manifest === 'string' ? manifest : JSON.stringify(manifest), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return Buffer.concat([length, json, ...files]);
}

/** Closes the profiles a test file opened (some may be closed already) and deletes its scratch folder. */
export function closeProfiles(profiles: { close(): void }[], root: string): void {
  for (const profile of profiles) {
    try {
      profile.close();
    } catch {
      // closed already by the test
    }
  }
  rmSync(root, { recursive: true, force: true });
}

/** Keeps the plaintext of an open in memory (tests only: the program writes into a private
 * folder through FolderSink). */
export class MemorySink implements PlainSink {
  manifest: Manifest | null = null;
  files: Buffer[][] = [];
  committed = false;
  async begin(manifest: Manifest): Promise<void> {
    this.manifest = manifest;
    this.files = manifest.files.map(() => []);
  }
  async write(index: number, parts: Buffer[]): Promise<void> {
    this.files[index]!.push(...parts.map((p) => Buffer.from(p)));
  }
  async commit(): Promise<void> {
    this.committed = true;
  }
  async abort(): Promise<void> {
    this.files = [];
    this.manifest = null;
  }
  result(): { name: string; data: Buffer }[] {
    return (this.manifest?.files ?? []).map((f, i) => ({ name: f.name, data: Buffer.concat(this.files[i] ?? []) }));
  }
}

/** The container labels of docs/format.md (sections 6 and 11), written out here, not taken from Pli's code. */
export const CONTAINER_LABELS = { 1: 'pli/v1/sig/container\0', 2: 'pli/v1/sig/container/v2\0' } as const;

/**
 * The digest a container's signature covers, written out from docs/format.md without Pli's digest
 * code (digest.ts, native/digest.c), for the tests to hold those against: `prefix` (the label and
 * the header) then the sealed chunks, in version 1 (section 6) hashed whole, in version 2
 * (section 11) as the SHA-256 of each block of 16 sealed chunks (the last may be shorter).
 */
export function digestByHand(version: 1 | 2, prefix: Uint8Array, payload: Uint8Array): Buffer {
  const root = createHash('sha256').update(prefix);
  if (version === 1) return root.update(payload).digest();
  const block = 16 * (65536 + 16);
  for (let at = 0; at < payload.length; at += block) root.update(createHash('sha256').update(payload.subarray(at, at + block)).digest());
  return root.digest();
}

/** digestByHand for a container's preamble and header: the label of its version, then them. */
export function headerDigestByHand(version: 1 | 2, header: Uint8Array, payload: Uint8Array): Buffer {
  return digestByHand(version, Buffer.concat([Buffer.from(CONTAINER_LABELS[version], 'ascii'), header]), payload);
}
