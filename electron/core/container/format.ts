// Binary layout of a .pli container, versions 1 and 2 (docs/format.md; version 2 differs only in
// what the signature covers, section 11, digest.ts). The header is parsed before
// anything is authenticated, so every length is checked against its bound and against the bytes
// left before the field is read, and nothing unknown is skipped.
import { securityError } from '../errors.js';
import { XWING_CIPHERTEXT_BYTES } from '../crypto/keys.js';
import { ACCEPTED } from '../crypto/argon2.js';
import {
  COMMITMENT_BYTES, CONTAINER_ID_BYTES, FPR_BYTES, HEADER_FIXED_BYTES, MAX_HEADER, MAX_RECIPIENTS, SENDER_ID_BYTES, XWING_BODY_BYTES,
  createdProblem,
} from './limits.js';

// The sizes and bounds shared with the writer live in limits.ts; re-exported for existing callers.
export { COMMITMENT_BYTES, CONTAINER_ID_BYTES, FPR_BYTES, MAX_HEADER, MAX_RECIPIENTS, SENDER_ID_BYTES };
import { KDF_INFO } from '../crypto/labels.js';

export const MAGIC = Buffer.from([0x89, 0x50, 0x4c, 0x49, 0x0d, 0x0a, 0x1a, 0x0a]);
/** The versions this Pli reads (format.md 2). */
export type FormatVersion = 1 | 2;
/** The version this Pli writes (format.md 11, "Writing, and when"). */
export const WRITE_VERSION: FormatVersion = 2;
export const SUITE = 1;
export const PREAMBLE_BYTES = 16;
export const CHUNK_PLAIN = 65536;
export const TAG_BYTES = 16;
export const CHUNK_SEALED = CHUNK_PLAIN + TAG_BYTES;
export const SIGNATURE_BYTES = 64;
export const MAX_CHUNKS = 2 ** 32;

const TYPE_XWING = 0x01;
const TYPE_PASSWORD = 0x02;
const XWING_BODY = XWING_BODY_BYTES;
const PASSWORD_BODY = 16 + 4 + 4 + 48;
const FIXED_HEAD = HEADER_FIXED_BYTES;
export const MIN_HEADER = FIXED_HEAD + 3 + PASSWORD_BODY + COMMITMENT_BYTES;

export interface XWingRecipient { type: 'xwing'; keyFpr: Buffer; kemCiphertext: Buffer; wrapped: Buffer }
export interface PasswordRecipient { type: 'password'; salt: Buffer; opslimit: number; memlimitKib: number; wrapped: Buffer }
export type RecipientEntry = XWingRecipient | PasswordRecipient;

export interface Header {
  version: FormatVersion;
  containerId: Buffer;
  createdMs: number;
  senderId: Buffer;
  senderSigFpr: Buffer;
  recipients: RecipientEntry[];
}

export interface ParsedHeader extends Header {
  commitment: Buffer;
  /** Preamble and header up to (not including) the commitment: what the commitment covers. */
  committedBytes: Buffer;
  /** Preamble and the whole header: the start of what the signature covers. */
  headerBytes: Buffer;
}

/**
 * Why a password entry's Argon2id parameters are refused, or null (docs/format.md section 3:
 * 3 <= opslimit <= 10, 65 536 <= memlimit_kib <= 1 048 576). The reader checks them at parse,
 * before the container is stored or shown; the unwrap checks again before any derivation, and
 * the writer never encodes others.
 */
export function argon2Problem(opslimit: number, memlimitKib: number): string | null {
  if (opslimit < ACCEPTED.minOps || opslimit > ACCEPTED.maxOps) return `coût Argon2id du mot de passe hors limites : ${opslimit} passes`;
  if (memlimitKib < ACCEPTED.minMemKib || memlimitKib > ACCEPTED.maxMemKib) return `mémoire Argon2id du mot de passe hors limites : ${memlimitKib} Kio`;
  return null;
}

function bad(detail: string): never {
  throw securityError('malformed', `Ce fichier n'est pas un pli chiffré valide (${detail}). Il a pu être abîmé ou modifié en route : demandez à l'expéditeur de le renvoyer.`);
}

export function encodePreamble(headerLength: number, version: FormatVersion): Buffer {
  const preamble = Buffer.alloc(PREAMBLE_BYTES);
  MAGIC.copy(preamble, 0);
  preamble.writeUInt16BE(version, 8);
  preamble.writeUInt16BE(SUITE, 10);
  preamble.writeUInt32BE(headerLength, 12);
  return preamble;
}

/** Encodes preamble + header without the commitment; the caller appends the commitment. */
export function encodeHeaderForCommitment(header: Header): Buffer {
  // The writer's callers (seal.ts) refuse these with a message first; this is the last guard, so
  // that no header a reader would refuse is ever encoded.
  if (header.recipients.length < 1 || header.recipients.length > MAX_RECIPIENTS) throw new Error('recipient count out of bounds');
  if (header.version !== 1 && header.version !== 2) throw new Error('unknown format version');
  const dateProblem = createdProblem(header.createdMs);
  if (dateProblem) throw new Error(dateProblem);
  const parts: Buffer[] = [];
  const created = Buffer.alloc(8);
  created.writeBigUInt64BE(BigInt(header.createdMs));
  const count = Buffer.alloc(2);
  count.writeUInt16BE(header.recipients.length);
  parts.push(header.containerId, created, header.senderId, header.senderSigFpr, count);
  for (const entry of header.recipients) {
    if (entry.type === 'xwing') {
      parts.push(Buffer.from([TYPE_XWING, XWING_BODY >> 8, XWING_BODY & 0xff]), entry.keyFpr, entry.kemCiphertext, entry.wrapped);
    } else {
      const argonProblem = argon2Problem(entry.opslimit, entry.memlimitKib);
      if (argonProblem) throw new Error(argonProblem);
      const params = Buffer.alloc(8);
      params.writeUInt32BE(entry.opslimit, 0);
      params.writeUInt32BE(entry.memlimitKib, 4);
      parts.push(Buffer.from([TYPE_PASSWORD, PASSWORD_BODY >> 8, PASSWORD_BODY & 0xff]), entry.salt, params, entry.wrapped);
    }
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([encodePreamble(body.length + COMMITMENT_BYTES, header.version), body]);
}

/** Reads and checks the preamble; returns the header length. */
export function parsePreamble(preamble: Buffer): number {
  return readPreamble(preamble).headerLength;
}

/** Reads and checks the preamble: its version and the header length. */
export function readPreamble(preamble: Buffer): { version: FormatVersion; headerLength: number } {
  if (preamble.length < PREAMBLE_BYTES) bad('fichier trop court');
  if (!preamble.subarray(0, 8).equals(MAGIC)) bad("signature de format absente : ce n'est pas un fichier .pli");
  const version = preamble.readUInt16BE(8);
  if (version !== 1 && version !== 2) bad(`version ${version} inconnue ; mettez Pli à jour`);
  const suite = preamble.readUInt16BE(10);
  if (suite !== SUITE) bad(`suite cryptographique ${suite} inconnue`);
  const length = preamble.readUInt32BE(12);
  if (length < MIN_HEADER || length > MAX_HEADER) bad("longueur d'en-tête hors limites");
  return { version, headerLength: length };
}

/** Number of chunks implied by the total file length, or a refusal if the length is not exact. */
export function chunkCountFor(totalLength: number, headerLength: number): number {
  const payload = totalLength - PREAMBLE_BYTES - headerLength - SIGNATURE_BYTES;
  if (payload < CHUNK_SEALED || payload % CHUNK_SEALED !== 0) bad('longueur du fichier incohérente : fichier tronqué ou rallongé');
  const chunks = payload / CHUNK_SEALED;
  if (chunks > MAX_CHUNKS) bad('trop de blocs');
  return chunks;
}

export function parseHeader(preamble: Buffer, body: Buffer): ParsedHeader {
  const { version, headerLength } = readPreamble(preamble);
  if (body.length !== headerLength) bad('en-tête tronqué');
  let offset = 0;
  const take = (length: number): Buffer => {
    if (length > body.length - offset) bad('en-tête tronqué');
    const field = body.subarray(offset, offset + length);
    offset += length;
    return field;
  };
  const containerId = take(CONTAINER_ID_BYTES);
  // Range-checked here, at parse: a date outside the window is refused as malformed, and so never
  // reaches the inbox row nor any display (where an out-of-range Date throws "Invalid time value").
  const createdMs = Number(take(8).readBigUInt64BE());
  const dateProblem = createdProblem(createdMs);
  if (dateProblem) bad(`${dateProblem} : horloge de l'expéditeur déréglée ou pli falsifié`);
  const senderId = take(SENDER_ID_BYTES);
  const senderSigFpr = take(FPR_BYTES);
  const count = take(2).readUInt16BE();
  if (count < 1 || count > MAX_RECIPIENTS) bad('nombre de destinataires hors limites');
  const recipients: RecipientEntry[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const type = take(1)[0];
    const length = take(2).readUInt16BE();
    if (type === TYPE_XWING) {
      if (length !== XWING_BODY) bad('entrée de destinataire de taille invalide');
      const keyFpr = take(FPR_BYTES);
      const key = keyFpr.toString('hex');
      if (seen.has(key)) bad('destinataire en double');
      seen.add(key);
      recipients.push({ type: 'xwing', keyFpr, kemCiphertext: take(XWING_CIPHERTEXT_BYTES), wrapped: take(48) });
    } else if (type === TYPE_PASSWORD) {
      if (length !== PASSWORD_BODY) bad('entrée de mot de passe de taille invalide');
      const salt = take(16);
      const params = take(8);
      const opslimit = params.readUInt32BE(0);
      const memlimitKib = params.readUInt32BE(4);
      // At parse, as every number of the header: out of bounds, the container is malformed
      // wherever it is read (inspect, the inbox's reception, verification), not only at the unwrap.
      const argonProblem = argon2Problem(opslimit, memlimitKib);
      if (argonProblem) bad(argonProblem);
      recipients.push({ type: 'password', salt, opslimit, memlimitKib, wrapped: take(48) });
    } else {
      bad(`type de destinataire ${type} inconnu`);
    }
  }
  if (recipients.some((r) => r.type === 'password') && recipients.length !== 1) bad('un mot de passe doit être le seul destinataire');
  const committedLength = PREAMBLE_BYTES + offset;
  const commitment = take(COMMITMENT_BYTES);
  if (offset !== body.length) bad('champ inconnu après l’en-tête');
  const headerBytes = Buffer.concat([preamble.subarray(0, PREAMBLE_BYTES), body]);
  return {
    version, containerId, createdMs, senderId, senderSigFpr, recipients, commitment,
    committedBytes: headerBytes.subarray(0, committedLength),
    headerBytes,
  };
}

/** HKDF info of a recipient entry: the label and the recipient's key fingerprint (format.md 4.2). */
export const xwingWrapInfo = (keyFpr: Buffer): Buffer => Buffer.concat([Buffer.from(KDF_INFO.wrapXwing, 'ascii'), keyFpr]);

export const NONCE_BYTES = 12;

/** Nonce of chunk i: 11-byte big-endian counter, then the last-chunk flag. */
export function chunkNonce(index: number, last: boolean, into: Buffer = Buffer.alloc(NONCE_BYTES)): Buffer {
  into.fill(0, 0, 3);
  into.writeUIntBE(Math.floor(index / 2 ** 32), 3, 4);
  into.writeUInt32BE(index % 2 ** 32, 7);
  into[11] = last ? 1 : 0;
  return into;
}
