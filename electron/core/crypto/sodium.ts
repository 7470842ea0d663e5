// libsodium (sumo build: the standard build has no crypto_pwhash at run time) for Ed25519 with
// strict verification and for the AEAD that protects private keys at rest. The bulk of a
// container is carried by node:crypto AES-256-GCM instead (about 3x faster here).
// Loaded on first use, not at start-up: its WebAssembly instance (~14 MiB) is then never
// resident at the same time as the Argon2id worker that runs before it (peak memory).
type SodiumModule = typeof import('libsodium-wrappers-sumo');
export type Sodium = SodiumModule['default'];

let ready: Promise<Sodium> | undefined;

export function getSodium(): Promise<Sodium> {
  ready ??= import('libsodium-wrappers-sumo').then(async (module) => {
    await module.default.ready;
    return module.default;
  });
  return ready;
}
