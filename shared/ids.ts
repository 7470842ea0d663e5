// Identifiers as people see them: identity ids and key fingerprints, printed the same way
// everywhere (CLI, interface, exports). Pure functions: shared/ runs on both sides.

/** Crockford's base32 alphabet in lower case (no i, l, o, u: nothing to confuse on the phone). */
export const BASE32_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Base32 of docs/format.md 8: the bits most significant first (the first byte's high bit first),
 * five at a time, each group the index of a character of BASE32_ALPHABET; a last group shorter
 * than five bits is filled with zero bits on the right; no `=` padding (an id's 80 bits make 16
 * characters exactly).
 */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** Decodes exactly; returns null on any character outside the alphabet or a non-zero tail. Only
 * the lower-case alphabet: Crockford's decoding aliases (upper case, o for 0, i and l for 1,
 * hyphens) are not accepted (docs/format.md 8). */
export function base32Decode(text: string, byteLength: number): Uint8Array | null {
  if (text.length !== Math.ceil((byteLength * 8) / 5)) return null;
  const out = new Uint8Array(byteLength);
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const ch of text) {
    const value = BASE32_ALPHABET.indexOf(ch);
    if (value < 0) return null;
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      if (index >= byteLength) return null;
      out[index++] = (buffer >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
    buffer &= (1 << bits) - 1;
  }
  if (index !== byteLength || buffer !== 0) return null;
  return out;
}

/** An identity id is 10 random bytes, written as 16 base32 characters. */
export const ID_BYTES = 10;
export const ID_LENGTH = 16;
export const ID_MIN_PREFIX = 8;
/** The only declaration of an id's form (shared/ipc.ts and the core use it): 16 characters of
 * BASE32_ALPHABET, lower case, the canonical form only, never Crockford's aliases (upper case, o,
 * i, l, hyphens: docs/format.md 8). Commands lower-case a typed prefix before matching it. */
export const ID_PATTERN = /^[0-9a-hjkmnp-tv-z]{16}$/;
const ID_CHARACTERS = /^[0-9a-hjkmnp-tv-z]+$/;

export function isIdentityId(text: string): boolean {
  return ID_PATTERN.test(text);
}

export function isIdPrefix(text: string): boolean {
  return ID_CHARACTERS.test(text) && text.length >= ID_MIN_PREFIX && text.length <= ID_LENGTH;
}

/** First 100 bits of a fingerprint, upper case, in five groups of four: read aloud in ~15 s. */
export function formatFingerprint(fingerprint: Uint8Array): string {
  const text = base32Encode(fingerprint).slice(0, 20).toUpperCase();
  return text.match(/.{4}/g)!.join('-');
}

/** Accepts what people type: any case, with or without dashes and spaces. */
export function normalizeFingerprintText(text: string): string {
  return text.replace(/[\s-]/g, '').toLowerCase();
}
