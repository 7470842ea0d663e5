// The typed IPC contract between the renderer and main: for every channel, the runtime schema of
// its request and of its answer. Main parses every request with these (the renderer is treated
// as untrusted input); the renderer parses every answer. No key, passphrase after sign-in, or
// plaintext ever appears in an answer: ids, names, fingerprints, paths, states and progress only.
import { z } from 'zod';
import { CHANNELS, PROGRESS_CHANNEL, type Channel } from './channels.js';

export { CHANNELS, PROGRESS_CHANNEL, type Channel };

// ---- building blocks ------------------------------------------------------------------------

const empty = z.strictObject({});
/** Chosen by the renderer so it can match progress events to the operation it started. */
export const opId = z.string().regex(/^[a-z0-9-]{1,64}$/);
const filePath = z.string().min(1).max(4096);
const identityId = z.string().regex(/^[0-9a-hjkmnp-tv-z]{16}$/);
const passphrase = z.string().min(1).max(1024);

export const errorSchema = z.strictObject({
  kind: z.enum(['input', 'security', 'temporary']),
  code: z.string().max(100),
  message: z.string().max(2000),
});
export type IpcError = z.infer<typeof errorSchema>;

export const sessionSchema = z.strictObject({ id: identityId, name: z.string() });
export type SessionInfo = z.infer<typeof sessionSchema>;

export const personSchema = z.strictObject({
  id: identityId,
  name: z.string(),
  email: z.string(),
  org: z.string(),
  own: z.boolean(),
  /** Signing key fingerprint, as read aloud on the phone (shared/ids.ts formatFingerprint). */
  fingerprint: z.string(),
  encryptionFingerprint: z.string(),
  addedAt: z.number(),
  /** 'none' until the SSI authority issues certificates. */
  certificate: z.enum(['none', 'valid', 'expired', 'revoked']),
});
export type Person = z.infer<typeof personSchema>;

export const languageSchema = z.enum(['fr', 'en']);
export type Language = z.infer<typeof languageSchema>;

export const settingsSchema = z.strictObject({
  language: languageSchema,
  /** Minutes of inactivity before the session locks; null until session locking exists. */
  idleLockMinutes: z.number().int().positive().nullable(),
});
export type Settings = z.infer<typeof settingsSchema>;

const writtenFile = z.strictObject({ name: z.string(), path: z.string(), size: z.number(), sha256: z.string() });

export const containerSummarySchema = z.strictObject({
  path: z.string(),
  fileName: z.string(),
  containerId: z.string(),
  senderId: z.string(),
  /** The sender as known in the directory; null when unknown (the container will be refused). */
  senderName: z.string().nullable(),
  senderOrg: z.string().nullable(),
  senderKey: z.string(),
  createdMs: z.number(),
  recipients: z.number(),
  passwordProtected: z.boolean(),
  payloadBytes: z.number(),
  size: z.number(),
});
export type ContainerSummary = z.infer<typeof containerSummarySchema>;

export const eventSchema = z.strictObject({
  seq: z.number(),
  at: z.number(),
  actor: z.string().nullable(),
  actorName: z.string().nullable(),
  workstation: z.string(),
  action: z.string(),
  object: z.string().nullable(),
  outcome: z.enum(['ok', 'refused', 'failed']),
  detail: z.string().nullable(),
});
export type AuditEvent = z.infer<typeof eventSchema>;

const cancelled = z.strictObject({ status: z.literal('cancelled') });

// ---- the contract ---------------------------------------------------------------------------

export const contract = {
  'profile:status': {
    request: empty,
    response: z.strictObject({
      home: z.string(),
      exists: z.boolean(),
      ownIdentities: z.array(z.strictObject({ id: identityId, name: z.string(), org: z.string() })),
      session: sessionSchema.nullable(),
      /** The SSI authority (pinning, signed directory) is not wired yet: always 'pending' for now. */
      authority: z.enum(['pending', 'pinned']),
      mailbox: z.enum(['pending', 'configured']),
    }),
  },
  'profile:init': {
    request: empty,
    response: z.strictObject({ home: z.string(), created: z.boolean() }),
  },
  'identities:list': {
    request: empty,
    response: z.strictObject({ people: z.array(personSchema) }),
  },
  'identities:create': {
    request: z.strictObject({
      opId,
      name: z.string().min(1).max(200),
      email: z.string().min(3).max(254),
      org: z.string().min(1).max(200),
      passphrase,
    }),
    response: z.strictObject({ person: personSchema, session: sessionSchema }),
  },
  'identities:importCard': {
    request: z.strictObject({ path: filePath }),
    response: z.strictObject({ person: personSchema, added: z.boolean() }),
  },
  'identities:exportCard': {
    request: z.strictObject({ id: identityId }),
    response: z.union([cancelled, z.strictObject({ status: z.literal('done'), path: z.string() })]),
  },
  'session:signIn': {
    request: z.strictObject({ opId, id: identityId, passphrase }),
    response: sessionSchema,
  },
  'session:signOut': {
    request: empty,
    response: z.strictObject({ signedOut: z.boolean() }),
  },
  'containers:inspect': {
    request: z.strictObject({ path: filePath }),
    response: containerSummarySchema,
  },
  'containers:encrypt': {
    request: z.strictObject({
      opId,
      files: z.array(filePath).min(1).max(1000),
      to: z.array(identityId).max(1024),
      /** Keep a copy readable by the signed-in person. */
      self: z.boolean(),
    }),
    response: z.union([cancelled, z.strictObject({
      status: z.literal('done'),
      out: z.string(),
      size: z.number(),
      containerId: z.string(),
      recipients: z.array(identityId),
    })]),
  },
  'containers:open': {
    request: z.strictObject({ opId, path: filePath }),
    response: z.union([cancelled, z.strictObject({
      status: z.literal('done'),
      containerId: z.string(),
      senderId: z.string(),
      senderName: z.string(),
      outDir: z.string(),
      files: z.array(writtenFile),
    })]),
  },
  'events:list': {
    request: z.strictObject({ limit: z.number().int().min(1).max(10000).optional() }),
    response: z.strictObject({ events: z.array(eventSchema), total: z.number() }),
  },
  'settings:get': {
    request: empty,
    response: settingsSchema,
  },
  'settings:set': {
    request: z.strictObject({ language: languageSchema }),
    response: settingsSchema,
  },
  'shell:showInFolder': {
    request: z.strictObject({ path: filePath }),
    response: z.strictObject({ shown: z.boolean() }),
  },
} as const satisfies Record<Channel, { request: z.ZodType; response: z.ZodType }>;

export type RequestOf<C extends Channel> = z.input<(typeof contract)[C]['request']>;
export type ResponseOf<C extends Channel> = z.output<(typeof contract)[C]['response']>;

/** Every answer crosses the bridge in this envelope: Electron's invoke() keeps only the message of
 * a thrown error, and the renderer needs the kind and code to say what to do. */
export function envelopeSchema<C extends Channel>(channel: C) {
  return z.discriminatedUnion('ok', [
    z.strictObject({ ok: z.literal(true), value: contract[channel].response }),
    z.strictObject({ ok: z.literal(false), error: errorSchema }),
  ]);
}
export type Envelope<C extends Channel> = { ok: true; value: ResponseOf<C> } | { ok: false; error: IpcError };

export const progressSchema = z.strictObject({
  opId,
  phase: z.enum(['unlock', 'seal', 'open', 'done']),
  done: z.number().nonnegative(),
  total: z.number().nonnegative(),
});
export type Progress = z.infer<typeof progressSchema>;

/** What the preload (or, in tests only, the bridge client) defines as `window.pli`. */
export type PliApi = {
  [C in Channel as (typeof CHANNELS)[C]]: (request: RequestOf<C>) => Promise<unknown>;
} & {
  /** Subscribes to progress events; returns the unsubscribe function. */
  onProgress(listener: (progress: unknown) => void): () => void;
  /** The filesystem path of a File from an <input type=file> or a drop (webUtils.getPathForFile). */
  pathForFile(file: unknown): string;
};
