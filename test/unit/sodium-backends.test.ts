// Issue 13: Ed25519, X25519 and the XChaCha20-Poly1305 of the keys at rest run in sodium-native's
// libsodium (loaded anyway for Argon2id) instead of the WebAssembly build, whose load and calls
// were part of every command's fixed cost; the WebAssembly build stays the fallback where the
// binary does not load. Both must give the same bytes and the same refusals: each back-end is
// forced here, on random inputs, and the native one is fed the bad lengths that would make its C
// code abort the process (it must throw instead, as the WebAssembly build does).
import { describe, it, expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { getSodiumOps, sodiumOpsBackend, type SodiumOps } from '../../electron/core/crypto/sodium.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
/** A point of order 8 on Curve25519 (RFC 7748 section 6.1's "all-zero output" family). */
const LOW_ORDER = Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex');

describe('libsodium: native and WebAssembly give the same bytes', () => {
  it('the native back-end is the one used here', () => {
    expect(sodiumOpsBackend()).toBe('native');
  });

  it('Ed25519, X25519, XChaCha20-Poly1305 on random inputs', async () => {
    const native = await getSodiumOps('native');
    const wasm = await getSodiumOps('wasm');
    expect(native).not.toBe(wasm);
    for (let i = 0; i < 8; i++) {
      const seed = randomBytes(32);
      const a = native.crypto_sign_seed_keypair(Uint8Array.from(seed));
      const b = wasm.crypto_sign_seed_keypair(Uint8Array.from(seed));
      expect(hex(a.publicKey)).toBe(hex(b.publicKey));
      expect(hex(a.privateKey)).toBe(hex(b.privateKey));
      const message = randomBytes(i * 37);
      const signature = native.crypto_sign_detached(message, a.privateKey);
      expect(hex(signature)).toBe(hex(wasm.crypto_sign_detached(message, b.privateKey)));
      for (const lib of [native, wasm]) {
        expect(lib.crypto_sign_verify_detached(signature, message, a.publicKey)).toBe(true);
        const changed = Uint8Array.from(signature);
        changed[i]! ^= 1;
        expect(lib.crypto_sign_verify_detached(changed, message, a.publicKey)).toBe(false);
      }
      const fresh = native.crypto_sign_keypair();
      expect(wasm.crypto_sign_verify_detached(native.crypto_sign_detached(message, fresh.privateKey), message, fresh.publicKey)).toBe(true);

      const scalar = randomBytes(32);
      const other = randomBytes(32);
      const point = native.crypto_scalarmult_base(Uint8Array.from(other));
      expect(hex(point)).toBe(hex(wasm.crypto_scalarmult_base(Uint8Array.from(other))));
      expect(hex(native.crypto_scalarmult(scalar, point))).toBe(hex(wasm.crypto_scalarmult(scalar, point)));

      const key = randomBytes(32);
      const nonce = randomBytes(native.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
      const aad = randomBytes(i * 5);
      const plain = randomBytes(i * 19);
      const sealed = native.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, aad, null, nonce, key);
      expect(hex(sealed)).toBe(hex(wasm.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, aad, null, nonce, key)));
      for (const lib of [native, wasm]) {
        expect(hex(lib.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed, aad, nonce, key))).toBe(hex(plain));
        const tampered = Uint8Array.from(sealed);
        tampered[tampered.length - 1]! ^= 0x80;
        expect(() => lib.crypto_aead_xchacha20poly1305_ietf_decrypt(null, tampered, aad, nonce, key)).toThrow();
        const otherAad = Buffer.concat([aad, Buffer.from([1])]);
        expect(() => lib.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed, otherAad, nonce, key)).toThrow();
      }
    }
  });

  it('refusals: a low-order point, and every bad length, throw in both (never abort)', async () => {
    const libs: SodiumOps[] = [await getSodiumOps('native'), await getSodiumOps('wasm')];
    for (const lib of libs) {
      expect(() => lib.crypto_scalarmult(randomBytes(32), LOW_ORDER)).toThrow();
      expect(() => lib.crypto_scalarmult(randomBytes(31), randomBytes(32))).toThrow();
      expect(() => lib.crypto_scalarmult(randomBytes(32), randomBytes(33))).toThrow();
      expect(() => lib.crypto_scalarmult_base(randomBytes(16))).toThrow();
      expect(() => lib.crypto_sign_seed_keypair(randomBytes(31))).toThrow();
      expect(() => lib.crypto_sign_detached(randomBytes(10), randomBytes(32))).toThrow();
      const pair = lib.crypto_sign_keypair();
      // A short signature or key is refused (false or an exception), never a crash.
      const short = (): boolean => lib.crypto_sign_verify_detached(randomBytes(63), randomBytes(10), pair.publicKey);
      expect((() => { try { return short(); } catch { return false; } })()).toBe(false);
      const shortKey = (): boolean => lib.crypto_sign_verify_detached(randomBytes(64), randomBytes(10), randomBytes(31));
      expect((() => { try { return shortKey(); } catch { return false; } })()).toBe(false);
      const key = randomBytes(32);
      const nonce = randomBytes(24);
      expect(() => lib.crypto_aead_xchacha20poly1305_ietf_encrypt(randomBytes(4), null, null, randomBytes(23), key)).toThrow();
      expect(() => lib.crypto_aead_xchacha20poly1305_ietf_encrypt(randomBytes(4), null, null, nonce, randomBytes(31))).toThrow();
      expect(() => lib.crypto_aead_xchacha20poly1305_ietf_decrypt(null, randomBytes(15), null, nonce, key)).toThrow();
      expect(() => lib.crypto_aead_xchacha20poly1305_ietf_decrypt(null, randomBytes(40), null, nonce, randomBytes(33))).toThrow();
    }
  });
});
