// libsodium (sumo build: the standard build has no crypto_pwhash at run time) for Ed25519 with
// strict verification and for the AEAD that protects private keys at rest. The bulk of a
// container is carried by node:crypto AES-256-GCM instead (about 3x faster here).
import sodiumModule from 'libsodium-wrappers-sumo';

export type Sodium = typeof sodiumModule;

let ready: Promise<Sodium> | undefined;

export function getSodium(): Promise<Sodium> {
  ready ??= sodiumModule.ready.then(() => sodiumModule);
  return ready;
}
