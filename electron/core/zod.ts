// zod, loaded when a schema is first used rather than at start-up. Its hundred-odd modules hold
// about 9 MiB, and a decryption parses nothing before its Argon2id unlock: loading zod after
// the unlock keeps those 9 MiB out of the unlock's 64 MiB peak, which is the command's peak
// memory (bench/crypto.mjs).
import { createRequire } from 'node:module';
import type { z as Z } from 'zod';

type ZodNamespace = typeof Z;
let loaded: ZodNamespace | null = null;

/** For a caller that already holds zod's ES module (the desktop app's IPC layer): one copy of
 * zod in the process instead of two (the ES module and, from here, the CommonJS one). */
export function provideZod(z: ZodNamespace): void {
  loaded ??= z;
}

/** Loads zod now, if not yet: the CLI calls it while Argon2id runs on another thread (the
 * unlock), so that the manifest's parse after the unlock does not wait for it. */
export function loadZod(): ZodNamespace {
  return (loaded ??= (createRequire(import.meta.url)('zod') as { z: ZodNamespace }).z);
}

/** A schema built on first use. */
export function lazySchema<T>(build: (z: ZodNamespace) => T): () => T {
  let schema: T | undefined;
  return () => (schema ??= build(loadZod()));
}
