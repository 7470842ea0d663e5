// Benchmark: the cost of one Ed25519 signature and one verification through Pli's libsodium
// (whose heap is zeroed on every free, docs/profile.md "Secrets at rest"), against Node's own
// Ed25519 (OpenSSL) as the peer. Target: both well under a millisecond per operation.
// Usage: npm run build && node bench/sign.mjs [rounds]
import { cpus } from 'node:os';
import { generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ed25519Keygen, ed25519Sign, ed25519Verify } from '../dist/electron/core/crypto/keys.js';

const rounds = Number(process.argv[2] ?? 2000);
const message = Buffer.alloc(32, 1);
const perOp = async (fn) => {
  for (let i = 0; i < 50; i++) await fn(); // warm-up
  const start = performance.now();
  for (let i = 0; i < rounds; i++) await fn();
  return (performance.now() - start) / rounds;
};

const { publicKey, secretKey } = await ed25519Keygen();
const signature = await ed25519Sign(secretKey, message);
const pliSign = await perOp(() => ed25519Sign(secretKey, message));
const pliVerify = await perOp(() => ed25519Verify(publicKey, message, signature));
const pair = generateKeyPairSync('ed25519');
const nodeSignature = nodeSign(null, message, pair.privateKey);
const peerSign = await perOp(() => nodeSign(null, message, pair.privateKey));
const peerVerify = await perOp(() => nodeVerify(null, message, pair.publicKey, nodeSignature));

const ms = (v) => `${(v * 1000).toFixed(0).padStart(5)} µs`;
console.log(`CPU: ${cpus()[0]?.model ?? 'inconnu'} (${cpus().length} cœurs), Node ${process.version}, ${rounds} opérations`);
console.log(`Pli (libsodium, tas remis à zéro)  signature ${ms(pliSign)}   vérification ${ms(pliVerify)}`);
console.log(`Node (OpenSSL)                     signature ${ms(peerSign)}   vérification ${ms(peerVerify)}`);
const ok = pliSign < 1 && pliVerify < 1;
console.log(ok ? 'Objectif tenu : moins d’une milliseconde par opération.' : 'Objectif MANQUÉ : une opération dépasse une milliseconde.');
process.exitCode = ok ? 0 : 1;
