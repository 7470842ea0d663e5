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

export const roleSchema = z.enum(['officer', 'operator', 'reader']);
export type Role = z.infer<typeof roleSchema>;
export const ROLE_NAMES = roleSchema.options;

/** A person's certificate from the SSI authority, as this workstation sees it now. */
export const certificateSchema = z.strictObject({
  state: z.enum(['none', 'valid', 'expired', 'revoked', 'not-yet-valid']),
  role: roleSchema.nullable(),
  notAfter: z.number().nullable(),
  revocationReason: z.string().nullable(),
});
export type Certificate = z.infer<typeof certificateSchema>;

const days = z.number().int().min(1).max(3660);
const orgRecipient = z.string().min(5).max(204).startsWith('org:');

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
  /** State 'none' when no authority is pinned or the person has no certificate from it. */
  certificate: certificateSchema,
});
export type Person = z.infer<typeof personSchema>;

export const languageSchema = z.enum(['fr', 'en']);
export type Language = z.infer<typeof languageSchema>;

export const settingsSchema = z.strictObject({
  language: languageSchema,
  /** Minutes of inactivity before the session locks; null while there is no profile yet. */
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
  /** The sender's certificate now, when an authority is pinned (the verdict comes at opening). */
  senderCertificate: certificateSchema.nullable(),
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
      ownIdentities: z.array(z.strictObject({ id: identityId, name: z.string(), org: z.string(), certificate: certificateSchema })),
      session: sessionSchema.nullable(),
      /** The pinned SSI authority and the freshness of its directory; null when none is pinned. */
      authority: z.strictObject({
        name: z.string(),
        fingerprint: z.string(),
        serial: z.number(),
        nextUpdate: z.number(),
        refuseAfter: z.number(),
        freshness: z.enum(['fresh', 'stale', 'expired']),
        /** This profile holds the authority key (the SSI officer's workstation). */
        isAuthority: z.boolean(),
      }).nullable(),
      /** The signed-in person holds a valid officer certificate on the authority's profile. */
      officer: z.boolean(),
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
    /** session is null when an authority is pinned and the new person is not certified yet. */
    response: z.strictObject({ person: personSchema, session: sessionSchema.nullable() }),
  },
  'identities:importCard': {
    request: z.strictObject({ path: filePath }),
    response: z.strictObject({ person: personSchema, added: z.boolean() }),
  },
  'identities:exportCard': {
    request: z.strictObject({ id: identityId }),
    response: z.union([cancelled, z.strictObject({ status: z.literal('done'), path: z.string() })]),
  },
  /** Path (b) of enrolment: the key file is chosen in main's native dialog. */
  'identities:importKeyfile': {
    request: z.strictObject({ opId, oneTimePassphrase: passphrase, passphrase }),
    response: z.union([cancelled, z.strictObject({ status: z.literal('done'), person: personSchema, session: sessionSchema.nullable() })]),
  },
  /** Path (a), last step: the certificate file is chosen in main's native dialog. */
  'identities:installCertificate': {
    request: empty,
    response: z.union([cancelled, z.strictObject({
      status: z.literal('done'), id: identityId, name: z.string(), role: roleSchema, notAfter: z.number(),
    })]),
  },
  /** The directory file is chosen in main's native dialog; `pin` is required at the first import. */
  'directory:import': {
    request: z.strictObject({ pin: z.string().max(200).optional() }),
    response: z.union([cancelled, z.strictObject({
      status: z.literal('done'), authorityName: z.string(), fingerprint: z.string(), serial: z.number(),
      certificates: z.number(), revocations: z.number(), pinnedNow: z.boolean(), nextUpdate: z.number(),
    })]),
  },
  /** The nominative list: this workstation's own people and their certificate. */
  'directory:people': {
    request: empty,
    response: z.strictObject({ people: z.array(z.strictObject({
      id: identityId, name: z.string(), org: z.string(), email: z.string(), fingerprint: z.string(), certificate: certificateSchema,
    })) }),
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
      /** Identity ids, or org:NAME for every certified, valid member of an organisation. */
      to: z.array(z.union([identityId, orgRecipient])).max(1024),
      /** Keep a copy readable by the signed-in person. */
      self: z.boolean(),
    }),
    response: z.union([cancelled, z.strictObject({
      status: z.literal('done'),
      out: z.string(),
      size: z.number(),
      containerId: z.string(),
      recipients: z.array(identityId),
      /** E.g. the directory is past its next update (in French, from the core). */
      warnings: z.array(z.string()),
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
    request: z.strictObject({
      limit: z.number().int().min(1).max(10000).optional(),
      actor: identityId.optional(),
      action: z.string().max(100).optional(),
      outcome: z.enum(['ok', 'refused', 'failed']).optional(),
      since: z.number().int().nonnegative().optional(),
    }),
    /** total: events matching the filter; actors and actions: the choices for the filters. */
    response: z.strictObject({
      events: z.array(eventSchema), total: z.number(),
      actors: z.array(z.strictObject({ id: z.string(), name: z.string() })), actions: z.array(z.string()),
    }),
  },
  'audit:verify': {
    request: empty,
    response: z.strictObject({
      ok: z.boolean(), events: z.number(), checkpoints: z.number(), lastCheckpoint: z.number().nullable(),
      firstBad: z.strictObject({ seq: z.number(), problem: z.string() }).nullable(),
    }),
  },
  'audit:export': {
    request: empty,
    response: z.union([cancelled, z.strictObject({ status: z.literal('done'), path: z.string(), sigPath: z.string(), events: z.number(), signer: z.string() })]),
  },
  'authority:init': {
    request: z.strictObject({ name: z.string().min(1).max(200) }),
    response: z.strictObject({ fingerprint: z.string() }),
  },
  /** Two native dialogs in main: the card to certify, then where to save the certificate. */
  'authority:certify': {
    request: z.strictObject({ role: roleSchema, days }),
    response: z.union([cancelled, z.strictObject({ status: z.literal('done'), id: identityId, name: z.string(), role: roleSchema, path: z.string() })]),
  },
  /** The one secret shown to a person: the key file's one-time passphrase, for the officer to dictate. */
  'authority:provision': {
    request: z.strictObject({ name: z.string().min(1).max(200), email: z.string().min(3).max(254), org: z.string().min(1).max(200), role: roleSchema, days }),
    response: z.union([cancelled, z.strictObject({
      status: z.literal('done'), id: identityId, name: z.string(), path: z.string(), oneTimePassphrase: z.string().max(100),
    })]),
  },
  'authority:revoke': {
    request: z.strictObject({ id: identityId, reason: z.string().min(1).max(500) }),
    response: z.strictObject({ name: z.string() }),
  },
  'authority:exportDirectory': {
    request: empty,
    response: z.union([cancelled, z.strictObject({ status: z.literal('done'), serial: z.number(), path: z.string() })]),
  },
  'settings:get': {
    request: empty,
    response: settingsSchema,
  },
  'settings:set': {
    request: z.strictObject({ language: languageSchema.optional(), idleLockMinutes: z.number().int().min(1).max(1440).optional() }),
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
