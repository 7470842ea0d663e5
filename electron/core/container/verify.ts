// Checking a container's structure and its sender's signature WITHOUT decrypting it (docs/format.md
// sections 6 and 7 steps 1-3): the signature covers the ciphertext, so a receiving workstation can
// sort incoming containers into verified and refused before anyone signs in to open them.
import { readInfo, signaturePrefix, type CipherSource, type ContainerInfo, type Signer } from './open.js';
import type { ParsedHeader } from './format.js';
import { CHUNK_SEALED, SIGNATURE_BYTES } from './format.js';
import { ContainerDigest } from './digest.js';
import { ed25519Verify } from '../crypto/keys.js';
import { securityError } from '../errors.js';

const READ_BYTES = 16 * CHUNK_SEALED;

export interface VerifiedContainer { info: ContainerInfo; signer: Signer }

async function readExactly(source: CipherSource, target: Buffer, position: number): Promise<void> {
  let offset = 0;
  while (offset < target.length) {
    const n = await source.read(target, offset, target.length - offset, position + offset);
    if (n === 0) throw securityError('tampered', "Le pli a été modifié ou abîmé (fichier tronqué) : demandez à l'expéditeur de le renvoyer.");
    offset += n;
  }
}

/**
 * Structure, then signer (resolveSigner throws for an unknown one), then the Ed25519 signature over
 * digest of the container's version (digest.ts: format.md 6 or 11). Throws a security error on any failure.
 */
export async function verifyContainer(source: CipherSource, resolveSigner: (header: ParsedHeader, senderId: string) => Promise<Signer>): Promise<VerifiedContainer> {
  const info = await readInfo(source);
  const signer = await resolveSigner(info.header, info.senderId);
  const digest = new ContainerDigest(signaturePrefix(info.header));
  const start = info.header.headerBytes.length;
  const end = start + info.chunks * CHUNK_SEALED;
  const buffer = Buffer.alloc(Math.min(READ_BYTES, end - start));
  for (let position = start; position < end; position += buffer.length) {
    const slice = buffer.subarray(0, Math.min(buffer.length, end - position));
    await readExactly(source, slice, position);
    digest.update(slice);
  }
  const signature = Buffer.alloc(SIGNATURE_BYTES);
  await readExactly(source, signature, end);
  if (!(await ed25519Verify(signer.publicKey, digest.digest(), signature))) {
    throw securityError('bad-signature', "La signature de l'expéditeur est invalide : le pli a été modifié ou ne vient pas de la personne annoncée. Signalez-le à l'officier SSI.");
  }
  if (signer.identityId !== info.senderId) {
    throw securityError('sender-mismatch', "L'expéditeur annoncé dans le pli ne correspond pas à la clé qui l'a signé. Pli refusé ; signalez-le à l'officier SSI.");
  }
  return { info, signer };
}
