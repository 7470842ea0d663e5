// Signed JSON envelopes (docs/authority.md): the signature covers the exact bytes of `body`, a
// string, so no canonicalisation is needed; the body is parsed only after the signature verified.
import type { z } from 'zod';
import { lazySchema } from '../zod.js';
import { ed25519Sign, ed25519Verify } from '../crypto/keys.js';
import { signedDigest, type SignedObject } from '../crypto/primitives.js';
import { inputError, securityError } from '../errors.js';

const envelopeSchema = lazySchema((z) => z.strictObject({
  pli: z.string(),
  v: z.literal(1),
  body: z.string().max(64 * 1024 * 1024),
  signature: z.string().max(200),
}));

export interface Envelope { kind: string; body: string; signature: Buffer }

const NAMES: Record<string, string> = {
  card: "carte d'identité", certificate: 'certificat', directory: 'annuaire', keyfile: 'fichier de clés', convention: 'convention',
};

/** The kinds of envelope the authority signs. */
export type SignedKind = 'certificate' | 'directory' | 'keyfile' | 'convention';

export async function makeEnvelope(kind: SignedKind, body: unknown, secretKey: Uint8Array): Promise<string> {
  const text = JSON.stringify(body);
  const signature = await ed25519Sign(secretKey, signedDigest(kind as SignedObject, Buffer.from(text, 'utf8')));
  return `${JSON.stringify({ pli: kind, v: 1, body: text, signature: Buffer.from(signature).toString('base64') }, null, 1)}\n`;
}

/** Parses the outer envelope only (not trusted yet). */
export function parseEnvelope(text: string, kind: SignedKind): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw inputError('not-' + kind, `Ce fichier n'est pas un ${NAMES[kind]} Pli : vérifiez que vous avez choisi le bon fichier.`);
  }
  const parsed = envelopeSchema().safeParse(value);
  if (!parsed.success || parsed.data.pli !== kind) throw inputError('not-' + kind, `Ce fichier n'est pas un ${NAMES[kind]} Pli : vérifiez que vous avez choisi le bon fichier.`);
  return { kind, body: parsed.data.body, signature: Buffer.from(parsed.data.signature, 'base64') };
}

export async function envelopeSignedBy(envelope: Envelope, publicKey: Uint8Array): Promise<boolean> {
  return ed25519Verify(publicKey, signedDigest(envelope.kind as SignedObject, Buffer.from(envelope.body, 'utf8')), envelope.signature);
}

/** Parses the (already verified) body with a strict schema. */
export function parseBody<T>(envelope: Envelope, schema: z.ZodType<T>, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(envelope.body);
  } catch {
    throw securityError('malformed-' + envelope.kind, `${what} illisible : refusé.`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw securityError('malformed-' + envelope.kind, `${what} non conforme : refusé.`);
  return parsed.data;
}
