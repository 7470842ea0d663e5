// Benchmark: the cost of one Ed25519 signature and one verification through Pli's libsodium
// (whose heap is zeroed on every free, docs/profile.md "Secrets at rest"), against Node's own
// Ed25519 (OpenSSL) as the peer. Targets: Pli's signature and verification each under a
// millisecond per operation (Node's figures are shown for comparison, not judged).
//   npm run build && node bench/sign.mjs [rounds]
// Exit 0 when both targets pass, 2 when one fails, 1 on an error. Raw figures: bench/out/sign-<date>.json.
import { generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { machine, printHeader, Targets, writeJson } from './machine.mjs';
import { ed25519Keygen, ed25519Sign, ed25519Verify } from '../dist/electron/core/crypto/keys.js';

const LIMIT_MS = 1;
const rounds = Number(process.argv[2] ?? 2000);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write('bench: the number of rounds must be a positive integer\n');
  process.exit(1);
}
const box = await machine();
printHeader(`Ed25519: one signature and one verification of 32 bytes, ${rounds} operations each`, box);

const message = Buffer.alloc(32, 1);
const perOp = async (fn) => {
  for (let i = 0; i < 50; i++) await fn(); // warm-up
  const start = performance.now();
  for (let i = 0; i < rounds; i++) await fn();
  return (performance.now() - start) / rounds;
};

let exitCode = 0;
try {
  const { publicKey, secretKey } = await ed25519Keygen();
  const signature = await ed25519Sign(secretKey, message);
  if (!(await ed25519Verify(publicKey, message, signature))) throw new Error('Pli\'s signature does not verify');
  const pliSign = await perOp(() => ed25519Sign(secretKey, message));
  const pliVerify = await perOp(() => ed25519Verify(publicKey, message, signature));
  const pair = generateKeyPairSync('ed25519');
  const nodeSignature = nodeSign(null, message, pair.privateKey);
  const peerSign = await perOp(() => nodeSign(null, message, pair.privateKey));
  const peerVerify = await perOp(() => nodeVerify(null, message, pair.publicKey, nodeSignature));

  const us = (v) => `${(v * 1000).toFixed(0).padStart(5)} µs`;
  console.log(`Pli (libsodium, heap zeroed on free)  signature ${us(pliSign)}   verification ${us(pliVerify)}`);
  console.log(`Node (OpenSSL)                        signature ${us(peerSign)}   verification ${us(peerVerify)}`);
  const targets = new Targets();
  targets.check(`Pli signature < ${LIMIT_MS} ms`, pliSign, LIMIT_MS, pliSign < LIMIT_MS, `${us(pliSign).trim()} (Node: ${us(peerSign).trim()})`);
  targets.check(`Pli verification < ${LIMIT_MS} ms`, pliVerify, LIMIT_MS, pliVerify < LIMIT_MS, `${us(pliVerify).trim()} (Node: ${us(peerVerify).trim()})`);
  targets.print();
  exitCode = targets.exitCode();
  const outFile = writeJson('sign', { machine: box, rounds, ms: { pliSign, pliVerify, nodeSign: peerSign, nodeVerify: peerVerify }, targets });
  console.log(`\nRaw results: ${outFile}`);
} catch (error) {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  exitCode = 1;
}
process.exitCode = exitCode;
