// Records every HKDF derivation the core makes (its info label and output), for the tests that
// check which keys a profile derives and when. Used from a vi.mock factory of
// electron/core/crypto/primitives.js:
//   vi.mock('../../electron/core/crypto/primitives.js', async (original) => (await import('./hkdf-spy.js')).recordingHkdf(original));
// The test file reads `derivations` from this module (one copy per test file: vitest isolates them).
import type * as Primitives from '../../electron/core/crypto/primitives.js';

export const derivations: { info: string; out: Buffer }[] = [];

export async function recordingHkdf(importOriginal: <T>() => Promise<T>): Promise<typeof Primitives> {
  const actual = await importOriginal<typeof Primitives>();
  return {
    ...actual,
    hkdf: (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array | string, length?: number): Buffer => {
      const out = actual.hkdf(ikm, salt, info, length);
      derivations.push({ info: typeof info === 'string' ? info : Buffer.from(info).toString('latin1'), out });
      return out;
    },
  };
}
