// Generates test/vectors/container-v1.json, container-v2.json and the .pli files they describe
// (docs/format.md; version 2: section 11). The same inputs make both versions, so that their
// payloads are the same bytes and only the version, the commitment and the signature differ.
// Every input is fixed (key seeds, container id, file key, KEM seeds, salt, time), so the output
// is byte-for-byte reproducible: test/unit/vectors.test.ts rebuilds each container from the JSON
// alone and compares it with the stored file. Run with `npm run vectors`.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { xwingKeygen, ed25519Keygen } from '../electron/core/crypto/keys.js';
import { fingerprint } from '../electron/core/crypto/primitives.js';
import { sealToBuffer, type SealParams } from '../electron/core/container/seal.js';
import type { ManifestConvention } from '../electron/core/container/manifest.js';
import { CHUNK_SEALED, PREAMBLE_BYTES, SIGNATURE_BYTES, type FormatVersion } from '../electron/core/container/format.js';
import { ContainerDigest, signedPrefix } from '../electron/core/container/digest.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();
/** Fixed "random" bytes: SHA-256 of a label, so each input is documented by where it came from. */
const fixedBytes = (label: string, length: number): Buffer => {
  const out: Buffer[] = [];
  for (let i = 0; out.length * 32 < length; i++) out.push(sha256(`pli test vector/${label}/${i}`));
  return Buffer.concat(out).subarray(0, length);
};

/** The one content generator the JSON may name (besides plain hex); the test implements it too. */
export const AFFINE = 'byte[i] = (i * mul + add) mod 256';
export function affineBytes(length: number, mul: number, add: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * mul + add) & 0xff;
  return out;
}

type Content = { hex: string } | { generator: typeof AFFINE; length: number; mul: number; add: number };
const contentBytes = (c: Content): Buffer => ('hex' in c ? Buffer.from(c.hex, 'hex') : affineBytes(c.length, c.mul, c.add));

interface PersonInput { label: string; id: string }
const PEOPLE: PersonInput[] = [
  { label: 'alice', id: 'a11ce0000000000z' },
  { label: 'bob', id: 'b0b0000000000001' },
  { label: 'carol', id: 'ca70100000000002' },
  { label: 'dave', id: 'dave000000000003' },
];

interface ContainerInput {
  name: string;
  description: string;
  sender: string;
  recipients: { kind: 'keys'; people: string[] } | { kind: 'password'; password: string; opslimit: number; memlimitKib: number };
  files: { name: string; mtime: number | null; content: Content }[];
  /** Manifest minor version 1 (docs/format.md 5.3): sent under a convention. */
  convention?: ManifestConvention;
  openWith: string[];
  cannotOpen: string[];
  /** Only in these versions (all when absent). */
  versions?: FormatVersion[];
  /** Too large to keep in the repository: the JSON records its SHA-256, the test rebuilds it. */
  notStored?: boolean;
}

const CREATED_MS = 1790000000000;
const CONTAINERS: ContainerInput[] = [
  {
    name: 'one-file',
    description: 'one file, one recipient',
    sender: 'alice',
    recipients: { kind: 'keys', people: ['bob'] },
    files: [{ name: 'IS101_T3_2026.xls', mtime: 1789990000000, content: { hex: Buffer.from('Effectifs;T3;2026\r\n12;7;3\r\n', 'latin1').toString('hex') } }],
    openWith: ['bob'],
    cannotOpen: ['alice', 'carol'],
  },
  {
    name: 'three-files',
    description: 'three files (one empty, one of exactly 65536 bytes) to three recipients',
    sender: 'alice',
    recipients: { kind: 'keys', people: ['bob', 'carol', 'alice'] },
    files: [
      { name: 'vide.csv', mtime: null, content: { hex: '' } },
      { name: 'bloc exact.bin', mtime: 1789000000000, content: { generator: AFFINE, length: 65536, mul: 7, add: 3 } },
      { name: 'Note été.txt', mtime: 1789000001234, content: { hex: Buffer.from('Réunion à 9 h.\n', 'utf8').toString('hex') } },
    ],
    openWith: ['bob', 'carol', 'alice'],
    cannotOpen: ['dave'],
  },
  {
    name: 'zero-files',
    description: 'no file at all (one chunk: manifest and padding)',
    sender: 'bob',
    recipients: { kind: 'keys', people: ['carol'] },
    files: [],
    openWith: ['carol'],
    cannotOpen: ['bob'],
  },
  {
    name: 'password',
    description: 'password recipient, minimum accepted Argon2id parameters',
    sender: 'carol',
    recipients: { kind: 'password', password: 'cheval correct agrafe batterie', opslimit: 3, memlimitKib: 65536 },
    files: [{ name: 'rapport.pdf', mtime: 1789500000000, content: { hex: Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n', 'latin1').toString('hex') } }],
    openWith: [],
    cannotOpen: ['bob'],
  },
  {
    name: 'convention',
    description: 'sent under a convention: manifest minor version 1 (convention, period, documents, subject)',
    sender: 'alice',
    recipients: { kind: 'keys', people: ['bob', 'alice'] },
    files: [
      { name: 'IS101_T4_2026.xls', mtime: 1789990000000, content: { hex: Buffer.from('Homicides;0\r\nCambriolages;7\r\n', 'latin1').toString('hex') } },
      { name: 'IST_T4_2026.csv', mtime: 1789990001000, content: { hex: Buffer.from('Atteintes aux biens;31\r\n', 'utf8').toString('hex') } },
    ],
    convention: { id: 'conv-0123456789abcdef', period: '2026-T4', documents: ['IS 101', 'IST'], subject: 'États statistiques du 4e trimestre 2026' },
    openWith: ['bob', 'alice'],
    cannotOpen: ['carol'],
  },
  {
    name: 'two-leaves',
    description: 'version 2: 17 chunks, so two blocks, the second of one chunk (two leaves)',
    sender: 'dave',
    recipients: { kind: 'keys', people: ['bob'] },
    files: [{ name: 'gros.bin', mtime: 1789000002000, content: { generator: AFFINE, length: 16 * 65536 + 1000, mul: 13, add: 5 } }],
    openWith: ['bob'],
    cannotOpen: ['carol'],
    versions: [2],
    notStored: true,
  },
];

function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('project root not found');
    dir = up;
  }
  return dir;
}

interface Keys { id: string; encPublic: Uint8Array; encFpr: Buffer; sigSecret: Uint8Array; sigFpr: Buffer }

async function main(): Promise<void> {
  const outDir = path.join(projectRoot(), 'test', 'vectors');
  mkdirSync(outDir, { recursive: true });

  const people: Record<string, unknown> = {};
  const keys = new Map<string, Keys>();
  for (const p of PEOPLE) {
    const xwingSeed = fixedBytes(`${p.label}/xwing`, 32);
    const ed25519Seed = fixedBytes(`${p.label}/ed25519`, 32);
    const enc = await xwingKeygen(xwingSeed);
    const sig = await ed25519Keygen(ed25519Seed);
    const encFpr = fingerprint('xwing', enc.publicKey);
    const sigFpr = fingerprint('ed25519', sig.publicKey);
    keys.set(p.label, { id: p.id, encPublic: enc.publicKey, encFpr, sigSecret: sig.secretKey, sigFpr });
    people[p.label] = {
      id: p.id,
      xwingSeed: hex(xwingSeed),
      // The X-Wing secret key is its 32-byte seed (draft section 5.2).
      xwingSecretKey: hex(enc.secretKey),
      xwingPublicKeySha256: hex(sha256(enc.publicKey)),
      xwingFpr: hex(encFpr),
      ed25519Seed: hex(ed25519Seed),
      ed25519PublicKey: hex(sig.publicKey),
      ed25519Fpr: hex(sigFpr),
    };
  }

  for (const version of [1, 2] as const) await writeSuite(outDir, version, people, keys);
}

async function writeSuite(outDir: string, version: FormatVersion, people: Record<string, unknown>, keys: Map<string, Keys>): Promise<void> {
  const containers: unknown[] = [];
  for (const c of CONTAINERS.filter((c) => !c.versions || c.versions.includes(version))) {
    const sender = keys.get(c.sender)!;
    const containerId = fixedBytes(`${c.name}/container-id`, 16);
    const fileKey = fixedBytes(`${c.name}/file-key`, 32);
    const recipientLabels = c.recipients.kind === 'keys' ? c.recipients.people : [];
    const eseeds = recipientLabels.map((r) => fixedBytes(`${c.name}/eseed/${r}`, 64));
    const salt = c.recipients.kind === 'password' ? fixedBytes(`${c.name}/salt`, 16) : undefined;
    const params: SealParams = {
      senderId: sender.id,
      signing: { keyFpr: sender.sigFpr, secretKey: sender.sigSecret },
      recipients: c.recipients.kind === 'keys'
        ? { kind: 'keys', keys: recipientLabels.map((r) => ({ keyFpr: keys.get(r)!.encFpr, publicKey: keys.get(r)!.encPublic })) }
        : { kind: 'password', password: Buffer.from(c.recipients.password, 'utf8'), params: { opslimit: c.recipients.opslimit, memlimitKib: c.recipients.memlimitKib } },
      createdMs: CREATED_MS,
      version,
      ...(c.convention ? { convention: c.convention } : {}),
      // sealStream zeroes the file key after use: hand it a copy so the recorded value stays intact.
      fixed: { containerId: Buffer.from(containerId), fileKey: Buffer.from(fileKey), eseeds, ...(salt ? { salt } : {}) },
    };
    const files = c.files.map((f) => ({ name: f.name, data: contentBytes(f.content), mtime: f.mtime }));
    const { bytes, result } = await sealToBuffer(files, params);
    const headerLength = bytes.readUInt32BE(12);
    if (bytes.length !== PREAMBLE_BYTES + headerLength + result.chunks * CHUNK_SEALED + SIGNATURE_BYTES) throw new Error(`${c.name}: length mismatch`);
    // The digest the signature covers, for another implementation to compare with its own.
    const digest = new ContainerDigest(signedPrefix(bytes.subarray(0, PREAMBLE_BYTES + headerLength)));
    digest.update(bytes.subarray(PREAMBLE_BYTES + headerLength, bytes.length - SIGNATURE_BYTES));
    const file = c.notStored ? null : `container-v${version}-${c.name}.pli`;
    if (file) writeFileSync(path.join(outDir, file), bytes);
    containers.push({
      name: c.name,
      description: c.description,
      file,
      sender: c.sender,
      recipients: c.recipients.kind === 'keys'
        ? { kind: 'keys', people: recipientLabels }
        : { ...c.recipients, passwordHex: hex(Buffer.from(c.recipients.password, 'utf8')), salt: hex(salt!) },
      containerId: hex(containerId),
      fileKey: hex(fileKey),
      eseeds: eseeds.map(hex),
      createdMs: CREATED_MS,
      ...(c.convention ? { convention: c.convention } : {}),
      files: c.files.map((f) => ({ ...f, sha256: hex(sha256(contentBytes(f.content))), size: contentBytes(f.content).length })),
      openWith: c.openWith,
      cannotOpen: c.cannotOpen,
      expected: { length: bytes.length, sha256: hex(sha256(bytes)), headerLength, chunks: result.chunks, signedDigest: hex(digest.digest()) },
    });
  }

  const json = {
    format: `pli container v${version} (docs/format.md${version === 2 ? ', section 11' : ''})`,
    version,
    generatedBy: 'scripts/gen-vectors.ts (npm run vectors)',
    note: 'Test keys only: every secret here is public. Seeds are SHA-256("pli test vector/<label>/<i>"), recorded in hex; the X-Wing secret key is its seed. A container whose file is null is not stored: rebuild it from its inputs.',
    contentGenerators: { [AFFINE]: 'content given as {generator, length, mul, add}' },
    people,
    containers,
  };
  const target = path.join(outDir, `container-v${version}.json`);
  const text = `${JSON.stringify(json, null, 2)}\n`;
  const previous = existsSync(target) ? readFileSync(target, 'utf8') : null;
  writeFileSync(target, text);
  console.log(`${previous === null ? 'written' : previous === text ? 'unchanged' : 'CHANGED'}: ${path.relative(process.cwd(), target)} (${containers.length} containers)`);
}

await main();
