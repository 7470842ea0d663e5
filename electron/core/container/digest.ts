// The digest a container's signature covers (docs/format.md section 6 for version 1, section 11
// for version 2), one object for every path that computes it in JavaScript: the writer and its
// hash worker, the reader and its worker, the check without decryption. The addon's streams
// compute the same (native/digest.c), given the same prefix and the version this file reads in it.
//
// Invariant: the version comes from the container's own preamble, which the prefix carries after
// its label, and the label must be that version's: a prefix whose label and preamble disagree is
// refused, so no caller can hash a version 2 container the version 1 way or the other way round.
import { createHash, type Hash } from 'node:crypto';
import { SIGNATURE_LABELS } from '../crypto/labels.js';
import { CHUNK_SEALED, readPreamble, type FormatVersion } from './format.js';

const LABELS: Record<FormatVersion, Buffer> = {
  1: Buffer.from(SIGNATURE_LABELS.container, 'ascii'),
  2: Buffer.from(SIGNATURE_LABELS.containerV2, 'ascii'),
};

/** Version 2's block: 16 sealed chunks, whose plain SHA-256 is a leaf (format.md 11). */
export const LEAF_BYTES = 16 * CHUNK_SEALED;

/** What the signature's digest starts with: the version's label, then the preamble and the whole header. */
export function signedPrefix(headerBytes: Buffer): Buffer {
  return Buffer.concat([LABELS[preambleVersion(headerBytes)], headerBytes]);
}

/** The version of the preamble the bytes start with, checked as every reader checks it (format.ts). */
const preambleVersion = (bytes: Buffer): FormatVersion => readPreamble(bytes).version;

/** The version of a signature prefix (label ‖ preamble ‖ header); throws when label and preamble disagree. */
export function prefixVersion(prefix: Uint8Array): FormatVersion {
  const bytes = Buffer.from(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  for (const version of [1, 2] as const) {
    const label = LABELS[version];
    if (bytes.subarray(0, label.length).equals(label) && preambleVersion(bytes.subarray(label.length)) === version) return version;
  }
  throw new Error('signature prefix: label and preamble disagree');
}

/**
 * The signature's digest over a prefix (signedPrefix) and then the sealed chunks, given in
 * order in pieces of any size. Version 1: SHA-256 of all of it. Version 2: SHA-256 of the prefix
 * and of the leaves, a leaf being the SHA-256 of each block of 16 sealed chunks (the last may be
 * shorter); only the block being filled is held (one hash state), whatever the size.
 */
export class ContainerDigest {
  readonly version: FormatVersion;
  private readonly root: Hash = createHash('sha256');
  private leaf: Hash | null = null;
  private inLeaf = 0;

  constructor(prefix: Uint8Array) {
    this.version = prefixVersion(prefix);
    this.root.update(prefix);
  }

  update(data: Uint8Array): void {
    if (this.version === 1) {
      this.root.update(data);
      return;
    }
    let offset = 0;
    while (offset < data.byteLength) {
      this.leaf ??= createHash('sha256');
      const n = Math.min(LEAF_BYTES - this.inLeaf, data.byteLength - offset);
      this.leaf.update(data.subarray(offset, offset + n));
      this.inLeaf += n;
      offset += n;
      if (this.inLeaf === LEAF_BYTES) this.closeLeaf();
    }
  }

  digest(): Buffer {
    if (this.inLeaf > 0) this.closeLeaf();
    return this.root.digest();
  }

  private closeLeaf(): void {
    this.root.update(this.leaf!.digest());
    this.leaf = null;
    this.inLeaf = 0;
  }
}
