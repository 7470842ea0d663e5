// The typed IPC contract between the renderer and main: for every channel, the runtime schema of
// its request and of its answer. Main parses every request with these (the renderer is treated
// as untrusted input); the renderer parses every answer. No key, passphrase after sign-in, or
// plaintext ever appears in an answer: ids, names, fingerprints, paths, states and progress only.
import { z } from 'zod';
import { CHANNELS, MAIL_EVENT_CHANNEL, PROGRESS_CHANNEL, type Channel } from './channels.js';
import { ID_PATTERN } from './ids.js';
import { ROLES, type Role } from './roles.js';

export { CHANNELS, MAIL_EVENT_CHANNEL, PROGRESS_CHANNEL, type Channel };

// ---- building blocks ------------------------------------------------------------------------

const empty = z.strictObject({});
/** Chosen by the renderer so it can match progress events to the operation it started. */
export const opId = z.string().regex(/^[a-z0-9-]{1,64}$/);
/** A path the interface names (also what main accepts as a chosen file, electron/ipc/chosen.ts). */
export const filePath = z.string().min(1).max(4096);
const identityId = z.string().regex(ID_PATTERN);
const passphrase = z.string().min(1).max(1024);

/**
 * A refusal or failure as data: the interface words it from `code` and `params` through i18n
 * (renderer/errors.ts); `message` is the core's French sentence, the fallback for a code it does
 * not know. `detail` holds outside words (a mail server's reply, an unexpected error's text): the
 * interface shows them escaped on a line of their own, never as the message.
 */
export const errorSchema = z.strictObject({
  kind: z.enum(['input', 'security', 'temporary']),
  code: z.string().max(100),
  message: z.string().max(2000),
  /** The values the message names (names, paths, counts): core/errors.ts ErrorParams, minus `server` and `system` (the detail). */
  params: z.record(z.string().max(64), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()])).optional(),
  detail: z.string().max(2000).nullable().optional(),
});
export type IpcError = z.infer<typeof errorSchema>;

/**
 * The directory past its next update (core/authority/directory.ts DirectoryWarning): data the
 * interface words through i18n (`directory.freshness.*`), never a sentence from main.
 */
export const directoryWarningSchema = z.strictObject({
  kind: z.enum(['directory-stale', 'directory-expired']),
  nextUpdate: z.number(),
  refuseAfter: z.number(),
  daysLate: z.number(),
  daysLeft: z.number(),
});
export type DirectoryWarningView = z.infer<typeof directoryWarningSchema>;

export const roleSchema = z.enum(ROLES);
export type { Role };
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

/** A fingerprint checked by voice (issue 15): when, and by which person of this workstation. */
export const voiceCheckSchema = z.strictObject({ at: z.number(), byName: z.string() });
export type VoiceCheckView = z.infer<typeof voiceCheckSchema>;

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
  /** The voice check of `fingerprint` (its current key); null when not checked. */
  voiceCheck: voiceCheckSchema.nullable().optional(),
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

// ---- the functional mailbox ------------------------------------------------------------------

export const tlsModeSchema = z.enum(['tls', 'starttls']);
export const endpointSchema = z.strictObject({
  host: z.string().trim().min(1).max(253).regex(/^[^\s/:]+$|^\[[0-9a-fA-F:.]+\]$/),
  port: z.number().int().min(1).max(65535),
  /** Implicit TLS or STARTTLS: there is no plaintext mode. */
  mode: tlsModeSchema,
});
export type EndpointInput = z.infer<typeof endpointSchema>;

/** The saved settings as the renderer may see them: never the password, never the CA's text. */
export const mailboxViewSchema = z.strictObject({
  imap: endpointSchema,
  smtp: endpointSchema,
  user: z.string(),
  privateCa: z.boolean(),
  maxMessageBytes: z.number(),
});
export type MailboxView = z.infer<typeof mailboxViewSchema>;

export const probeLineSchema = z.strictObject({
  what: z.enum(['SMTP', 'IMAP']),
  ok: z.boolean(),
  /** The core's sentence, in French. */
  text: z.string(),
  /** On failure: tls-untrusted, no-tls, mail-auth, server-unreachable, server-unavailable, server-error... */
  code: z.string().nullable(),
});
export type ProbeLine = z.infer<typeof probeLineSchema>;

/** A container's convention, period, documents and subject (docs/format.md 5.3, minor 1). */
export const sentUnderSchema = z.strictObject({
  id: z.string().max(100),
  period: z.string().max(20),
  documents: z.array(z.string().max(100)).min(1).max(20),
  subject: z.string().max(200).optional(),
});

export const outboxStateSchema = z.enum(['queued', 'sending', 'sent', 'failed']);
export const outboxItemSchema = z.strictObject({
  id: z.number(),
  containerId: z.string(),
  transport: z.enum(['mail', 'folder']),
  destination: z.string(),
  state: outboxStateSchema,
  attempts: z.number(),
  /** The server's last answer (one line, no secret). */
  lastError: z.string().nullable(),
  queuedAt: z.number(),
  sentAt: z.number().nullable(),
  nextAttemptAt: z.number(),
  size: z.number(),
});
export type OutboxItem = z.infer<typeof outboxItemSchema>;

export const inboxItemSchema = z.strictObject({
  id: z.number(),
  containerId: z.string().nullable(),
  state: z.enum(['verified', 'refused', 'opened']),
  /**
   * Why it was refused (core/mail/inbox.ts inboxRefusal), null otherwise: the code (bad-signature,
   * unknown-sender, sender-revoked...; the row's, so outside text), its params, and the core's
   * French sentence, shown only for a code the interface has no wording of.
   */
  refusal: z.strictObject({
    code: z.string().max(200),
    params: z.record(z.string().max(64), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()])),
    message: z.string().max(2000),
  }).nullable(),
  /** old, same-id-different-bytes, not-kept, purged, refused-at-opening */
  flags: z.array(z.string()),
  senderId: z.string().nullable(),
  senderName: z.string().nullable(),
  senderOrg: z.string().nullable(),
  createdMs: z.number().nullable(),
  arrivedAt: z.number(),
  openedAt: z.number().nullable(),
  source: z.enum(['imap', 'folder']),
  size: z.number(),
});
export type InboxItem = z.infer<typeof inboxItemSchema>;

export const watcherSchema = z.strictObject({
  state: z.enum(['off', 'starting', 'watching', 'reconnecting', 'stopped']),
  /** Why it stopped, reconnects or cannot send (code + params, worded by the interface); null when all is well. */
  error: errorSchema.nullable(),
  /** While reconnecting: seconds before the next attempt; null otherwise. */
  retryInSeconds: z.number().nullable(),
});
export type WatcherStatus = z.infer<typeof watcherSchema>;

const receivedCounts = z.strictObject({ received: z.number(), refused: z.number(), known: z.number() });

/** Main → renderer (MAIL_EVENT_CHANNEL): the renderer re-reads the list concerned. */
export const mailEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('inbox'), id: z.number(), state: z.enum(['verified', 'refused', 'opened']) }),
  z.strictObject({ type: z.literal('outbox') }),
  z.strictObject({ type: z.literal('watcher'), watcher: watcherSchema }),
  // A desktop notification of a due period was clicked (main): the interface opens the Calendrier.
  z.strictObject({ type: z.literal('calendar') }),
  // d1-officer: a pushed directory applied without a click (the screens showing its serial reload).
  z.strictObject({ type: z.literal('directory'), serial: z.number() }),
]);
export type MailEvent = z.infer<typeof mailEventSchema>;

/** As containers:open answers (kept apart so that this block only adds lines). */
const containerOpenResponse = z.union([cancelled, z.strictObject({
  status: z.literal('done'),
  containerId: z.string(),
  senderId: z.string(),
  senderName: z.string(),
  outDir: z.string(),
  files: z.array(writtenFile),
})]);

/** A .pli handed to Pli from outside: a reference main keeps the path under, and the file's name. */
const offeredRef = z.string().regex(/^f[0-9a-z]{1,24}$/);
export const offeredFileSchema = z.strictObject({ ref: offeredRef, fileName: z.string().max(1000) });
export type OfferedFile = z.infer<typeof offeredFileSchema>;
// ---- conventions (issue 14 §6, docs/convention.md) --------------------------------------------

const calendarDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const conventionId = z.string().regex(/^conv-[0-9a-hjkmnp-tv-z]{16}$/);
export const dueStateSchema = z.enum(['upcoming', 'due', 'late', 'sent', 'delivered', 'opened']);
export type DueStateView = z.infer<typeof dueStateSchema>;

/** A convention as signed by the authority (verified in main at every read). */
export const conventionViewSchema = z.strictObject({
  id: conventionId,
  title: z.string(),
  version: z.number(),
  /** When this version was signed (ms). */
  issued: z.number(),
  /** The authority's fingerprint, in groups. */
  authority: z.string(),
  state: z.enum(['active', 'terminated']),
  terminated: z.strictObject({ date: calendarDay, reason: z.string() }).nullable(),
  parties: z.array(z.strictObject({ org: z.string(), address: z.string() })),
  people: z.array(z.strictObject({ id: identityId, org: z.string(), name: z.string(), role: roleSchema, function: z.string() })),
  types: z.array(z.string()),
  schedule: z.strictObject({ every: z.enum(['quarterly', 'monthly', 'half-yearly']), day: z.number() }),
  expect: z.array(z.string()),
  start: calendarDay,
  lastDay: calendarDay,
  years: z.number(),
  renewMax: z.number().nullable(),
  retentionDays: z.number(),
  openReceipts: z.boolean(),
});
export type ConventionView = z.infer<typeof conventionViewSchema>;

// ---- k1-convedit: a convention as the officer's form sends it (issue 14 §6) ----
/** The fields of `pli convention new`, structured; limits as the signed object's (the core
 * checks them again, with French words, and resolves the people among the certified). */
export const newConventionRequest = z.strictObject({
  title: z.string().max(300),
  parties: z.array(z.strictObject({ org: z.string().max(200), address: z.string().max(254) })).max(10),
  people: z.array(z.strictObject({ id: identityId, function: z.string().max(200) })).max(500),
  types: z.array(z.string().max(100)).max(50), // the core says, in words, what an extension may be
  schedule: z.strictObject({ every: z.enum(['quarterly', 'monthly', 'half-yearly']), day: z.number().int() }),
  expect: z.array(z.string().max(100)).max(20),
  start: calendarDay,
  years: z.number().int(),
  renewMax: z.number().int().nullable(),
  retentionDays: z.number().int(),
  openReceipts: z.boolean(),
});
export type NewConventionRequest = z.infer<typeof newConventionRequest>;

// ---- c2-lists (issue 15: recognisable containers; issue 14 §6: late periods) ------------------
/** A row's filing: not yet opened (the manifest is encrypted: nothing guessed), sans convention,
 * filed under a convention (its subject, period and documents), or a seal that no longer holds. */
export const listFilingSchema = z.discriminatedUnion('state', [
  z.strictObject({ state: z.literal('unopened') }),
  z.strictObject({ state: z.literal('none') }),
  z.strictObject({
    state: z.literal('filed'), convention: z.string().max(100), title: z.string().max(500).nullable(), period: z.string().max(20),
    documents: z.array(z.string().max(100)).max(20), subject: z.string().max(200).nullable(),
  }),
  z.strictObject({ state: z.literal('tampered') }),
]);
export type ListFilingView = z.infer<typeof listFilingSchema>;
/** A person named by the directory (name and organisation null when it does not know the id). */
const listPerson = z.strictObject({ id: z.string(), name: z.string().nullable(), org: z.string().nullable() });
export type ListPersonView = z.infer<typeof listPerson>;
export const inboxDetailsSchema = z.strictObject({
  id: z.number(), filing: listFilingSchema, openedBy: listPerson.nullable(),
  /** The files the opening wrote: their names (never the folder) and sizes. */
  files: z.array(z.strictObject({ name: z.string(), size: z.number() })),
});
export type InboxDetailsView = z.infer<typeof inboxDetailsSchema>;
export const outboxDetailsSchema = z.strictObject({
  container: z.string(),
  /** null: a container of files; else the Pli object it carries ('receipt', 'directory'). */
  object: z.string().max(40).nullable(),
  filing: listFilingSchema, recipients: z.array(listPerson),
  /** How many files were sealed; null when unknown. */
  files: z.number().nullable(),
  /** u1-outbox: their names and sizes, kept sealed in the row: `none` for a row sent before they
   * were kept, `locked` without the session's key, `unreadable` when the value is not Pli's. */
  names: z.discriminatedUnion('state', [
    z.strictObject({ state: z.literal('none') }),
    z.strictObject({ state: z.literal('locked') }),
    z.strictObject({ state: z.literal('unreadable') }),
    z.strictObject({ state: z.literal('known'), files: z.array(z.strictObject({ name: z.string().max(500), size: z.number() })).max(1000) }),
  ]),
  receipts: z.array(z.strictObject({ kind: z.enum(['delivered', 'opened']), at: z.number(), by: listPerson, org: z.string() })),
});
export type OutboxDetailsView = z.infer<typeof outboxDetailsSchema>;
const latePeriodSchema = z.strictObject({ convention: conventionId, title: z.string(), period: z.string(), documents: z.array(z.string()), due: calendarDay });
export type LatePeriodView = z.infer<typeof latePeriodSchema>;

// ---- the contract ---------------------------------------------------------------------------

// ---- indicators (docs/indicators.md) -----------------------------------------------------------
const periodText = z.string().regex(/^\d{4}(?:-(?:T[1-4]|S[12]|0[1-9]|1[0-2]))?$/);
const indicatorText = z.string().min(1).max(100);
const changeSchema = z.strictObject({ delta: z.number(), percent: z.number().nullable() }).nullable();
export const communeViewSchema = z.strictObject({
  commune: z.string().nullable(),
  indicators: z.array(z.strictObject({
    indicator: z.string(), label: z.string(), modified: z.array(z.string()),
    quarters: z.array(z.strictObject({
      quarter: z.string(), value: z.number(), previous: changeSchema, yearAgo: changeSchema,
      yearToDate: z.strictObject({ value: z.number(), complete: z.boolean() }), state: z.enum(['ok', 'unverified', 'modified']),
    })),
  })),
});
export type CommuneViewData = z.infer<typeof communeViewSchema>;
/** A correction as shown beside its figure (docs/indicators.md 4): the audit log's when, who and why. */
const correctionSchema = z.strictObject({
  commune: z.string(), period: z.string(), indicator: z.string(), value: z.number(), original: z.number().nullable(), at: z.number(), by: z.string(), reason: z.string(),
});
/** Where the figures shown came from, and who signed or imported them (docs/indicators.md 7.1). */
export const indicatorSourceSchema = z.strictObject({
  kind: z.enum(['container', 'hand', 'correction']), period: z.string(), file: z.string(), container: z.string().nullable(),
  receivedAt: z.number(), signedBy: z.string().nullable(), importedBy: z.string().nullable(), importedAt: z.number(), reason: z.string().nullable(),
});
export type IndicatorSource = z.infer<typeof indicatorSourceSchema>;
const importDone = z.strictObject({
  status: z.literal('done'), recognised: z.boolean(), reason: z.string().nullable(), rows: z.number(), communes: z.array(z.string()), file: z.string(),
  /** A state not recognised: main keeps its path under this token for the mapping editor. */
  token: z.string().nullable(),
});
const indicatorChoice = z.record(z.string().min(1).max(60), z.string().min(1).max(200));

/** The SSI officer's contact (core/authority/directory.ts ContactView): `unverified` when what is
 * stored is not signed by the pinned authority (edited outside Pli): never shown as its. */
export const contactViewSchema = z.discriminatedUnion('state', [
  z.strictObject({ state: z.literal('none') }),
  z.strictObject({ state: z.literal('valid'), name: z.string(), phone: z.string(), mail: z.string(), at: z.number() }),
  z.strictObject({ state: z.literal('unverified') }),
]);
export type ContactViewData = z.infer<typeof contactViewSchema>;

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
        /** The voice check of the pinned fingerprint; null when not checked. */
        voiceCheck: voiceCheckSchema.nullable().optional(),
      }).nullable(),
      /** The signed-in person holds a valid officer certificate on the authority's profile. */
      officer: z.boolean(),
      mailbox: z.enum(['none', 'configured']),
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
      /** A container password instead of recipients (then `to` is empty): at least 16
       * characters, checked in main; the interface offers only generated ones. */
      password: z.string().min(1).max(1024).optional(),
    }),
    response: z.union([cancelled, z.strictObject({
      status: z.literal('done'),
      out: z.string(),
      size: z.number(),
      containerId: z.string(),
      recipients: z.array(identityId),
      /** E.g. the directory is past its next update (data, worded by the interface). */
      warnings: z.array(directoryWarningSchema),
    })]),
  },
  /** A new container password (100 random bits, `xxxx-xxxx-xxxx-xxxx-xxxx`), made in main. */
  'containers:generatePassword': {
    request: empty,
    response: z.strictObject({ password: z.string() }),
  },
  'containers:open': {
    /** `password` for a password container; the signed-in person opens it (and is its actor). */
    request: z.strictObject({ opId, path: filePath, password: z.string().min(1).max(1024).optional() }),
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
  /** An anchor of the log's head, signed by the signed-in person, saved where a native dialog says
   * (never over a file): kept apart, it later proves the log was not cut back (pli audit verify --anchor). */
  'audit:anchor': {
    request: empty,
    response: z.union([cancelled, z.strictObject({ status: z.literal('done'), path: z.string(), seq: z.number(), signer: z.string() })]),
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
  // d1-officer (issues 15, 17): the officer console's publication and acknowledgements, and the
  // SSI officer's contact as the directory carries it (docs/authority.md 5.1, 5.2).
  /** The officer console: what « Publier l’annuaire » will do, and each organisation's acknowledgements. */
  'authority:console': {
    request: empty,
    response: z.strictObject({
      serial: z.number(), nextUpdate: z.number(),
      /** soon: within seven days of nextUpdate (offer to publish). */
      freshness: z.enum(['fresh', 'soon', 'stale', 'expired']),
      /** mail: to every organisation's functional mailbox; folder: no mailbox set here, a folder (USB key) is chosen. */
      transport: z.enum(['mail', 'folder']),
      targets: z.array(z.strictObject({ org: z.string(), people: z.number(), destinations: z.array(z.string()) })),
      organisations: z.array(z.strictObject({
        org: z.string(), published: z.number(), publishedAt: z.number(),
        workstations: z.array(z.strictObject({ name: z.string(), serial: z.number(), at: z.number(), behind: z.number() })),
      })),
      contact: z.strictObject({
        /** What the next directory will carry. */
        pending: contactViewSchema,
        /** What the directory in force carries. */
        published: contactViewSchema,
      }),
    }),
  },
  /** Signs and sends the directory: by mail when a mailbox is set here, else into a folder chosen in a native dialog. */
  'authority:publish': {
    request: empty,
    response: z.union([cancelled, z.strictObject({
      status: z.literal('done'), serial: z.number(), transport: z.enum(['mail', 'folder']),
      orgs: z.array(z.strictObject({ org: z.string(), destinations: z.array(z.string()) })),
      sent: z.number(), pending: z.number(), sendError: errorSchema.nullable(), folder: z.string().nullable(),
    })]),
  },
  'authority:setContact': {
    request: z.strictObject({ name: z.string().min(1).max(200), phone: z.string().min(1).max(40), mail: z.string().min(3).max(254) }),
    response: z.strictObject({ name: z.string(), phone: z.string(), mail: z.string() }),
  },
  /** The SSI officer's contact as the pinned authority signed it (Help, whom to call). */
  'directory:contact': {
    request: empty,
    response: contactViewSchema,
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
  'mailbox:get': {
    request: empty,
    response: z.strictObject({ settings: mailboxViewSchema.nullable(), watcher: watcherSchema }),
  },
  /** The internal CA's certificate file, chosen in main's native dialog and held there until saved. */
  'mailbox:chooseCa': {
    request: empty,
    response: z.union([cancelled, z.strictObject({ status: z.literal('done'), fileName: z.string() })]),
  },
  'mailbox:set': {
    request: z.strictObject({
      imap: endpointSchema,
      smtp: endpointSchema,
      user: z.string().trim().min(1).max(254),
      /** Crosses once, renderer → main; never sent back nor logged. Omitted on edit: unchanged. */
      password: z.string().min(1).max(1024).optional(),
      /** keep the saved CA, none (public CAs only), or the file just chosen (mailbox:chooseCa). */
      ca: z.enum(['keep', 'none', 'chosen']),
      maxMessageMb: z.number().min(0.1).max(2000),
    }),
    response: z.strictObject({ settings: mailboxViewSchema }),
  },
  'mailbox:test': {
    request: empty,
    response: z.strictObject({ lines: z.array(probeLineSchema) }),
  },
  /** Encrypt and queue (mail: the recipients' functional mailboxes) or write into a folder chosen in main's dialog. */
  'outbox:send': {
    request: z.strictObject({
      opId,
      files: z.array(filePath).min(1).max(1000),
      // Empty only under a convention: then the other parties' habilitated people (the core decides).
      to: z.array(z.union([identityId, orgRecipient])).max(1024),
      self: z.boolean(),
      transport: z.enum(['mail', 'folder']),
      /** Sent under a convention (docs/convention.md 7): checked by the core before anything is sealed. */
      convention: sentUnderSchema.optional(),
    }),
    response: z.union([cancelled, z.strictObject({
      status: z.literal('done'),
      containerId: z.string(),
      destinations: z.array(z.string()),
      size: z.number(),
      warnings: z.array(directoryWarningSchema),
      items: z.array(outboxItemSchema),
      /** Why some rows are still queued (server unreachable...); null when all went. */
      sendError: errorSchema.nullable(),
      /** What it was filed under (docs/convention.md 7); absent: sans convention. */
      convention: sentUnderSchema.optional(),
    })]),
  },
  'outbox:list': {
    request: empty,
    response: z.strictObject({
      items: z.array(outboxItemSchema),
      /** c2-lists: one per container, what makes it recognisable (subject, recipients, receipts). */
      details: z.array(outboxDetailsSchema),
    }),
  },
  /** Sends the queued rows now (all, or the ones given). */
  'outbox:flush': {
    request: z.strictObject({ opId, ids: z.array(z.number().int().positive()).max(10000).optional() }),
    response: z.strictObject({ sent: z.number(), failed: z.number(), pending: z.number(), error: errorSchema.nullable() }),
  },
  'inbox:list': {
    request: empty,
    response: z.strictObject({
      items: z.array(inboxItemSchema), mailbox: z.boolean(), watcher: watcherSchema,
      /** Room the refused files kept in the profile take (docs/mailbox.md section 4). */
      refusedRoom: z.strictObject({ bytes: z.number(), files: z.number() }),
      /** What the retention run at sign-in (or at the day's change) did: one line at the top (docs/convention.md 8.1),
       * worded by the interface from the data (shared/retention-words.ts); `message` is the core's French sentence. */
      retention: z.strictObject({
        day: z.string(), state: z.enum(['done', 'waiting', 'failed']), message: z.string().max(2000),
        conventions: z.number().int().nonnegative(), titles: z.array(z.string().max(300)).max(50),
        containers: z.number().int().nonnegative(), files: z.number().int().nonnegative(), manual: z.number().int().nonnegative(),
        error: errorSchema.nullable(),
      }).nullable().optional(),
      /** c2-lists: per row, its filing once opened, who opened it, the files written. */
      details: z.array(inboxDetailsSchema),
    }),
  },
  /** One catch-up round on the functional mailbox (IMAP). */
  'inbox:receive': {
    request: z.strictObject({ opId }),
    response: receivedCounts,
  },
  /** Every .pli of a folder chosen in main's dialog (a USB key). */
  'inbox:importFolder': {
    request: z.strictObject({ opId }),
    // unreadable: a sentence per file of the folder that could not be read (the others were), the
    // first 20, then how many more; unreadableCount: how many in all.
    response: z.union([cancelled, receivedCounts.extend({ status: z.literal('done'), folder: z.string(), unreadable: z.array(z.string().max(2000)).max(21), unreadableCount: z.number().int().nonnegative() })]),
  },
  /** Decrypts an inbox item into a folder chosen in main's dialog (as of its arrival time). */
  'inbox:open': {
    request: z.strictObject({ opId, id: z.number().int().positive() }),
    response: z.union([cancelled, z.strictObject({
      status: z.literal('done'), id: z.number(), containerId: z.string(), senderId: z.string(), senderName: z.string(),
      outDir: z.string(), files: z.array(writtenFile),
      /** Filed from its manifest under a convention (docs/convention.md 7); null: sans convention. */
      convention: sentUnderSchema.nullable().optional(),
    })]),
  },
  // ---- issue 15 (h2-layout): voice check, a .pli opened from outside -----------------------
  /** Marks a correspondent's (identity id) or the authority's ('authority') fingerprint checked by
   * voice; `fingerprint` is the one on screen (refused when the key changed since). */
  'directory:voiceCheck': {
    request: z.strictObject({ subject: z.union([identityId, z.literal('authority')]), fingerprint: z.string().min(1).max(100) }),
    response: voiceCheckSchema,
  },
  /** The .pli files handed to Pli from outside (double-click, "open with") not shown yet: main
   * keeps each path and gives the interface only a reference and the file's name. */
  'offered:list': {
    request: empty,
    response: z.strictObject({ files: z.array(offeredFileSchema) }),
  },
  /** The public header of an offered .pli (its `path` is empty: the interface never gets it). */
  'offered:inspect': {
    request: z.strictObject({ ref: offeredRef }),
    response: containerSummarySchema,
  },
  /** Opens an offered .pli as containers:open does. */
  'offered:open': {
    request: z.strictObject({ opId, ref: offeredRef, password: z.string().min(1).max(1024).optional() }),
    response: containerOpenResponse,
  },
  // ---- indicators (docs/indicators.md) ----
  /** The figures of one commune (or all), per indicator and quarter, with their integrity state. */
  'indicators:list': {
    request: z.strictObject({ commune: indicatorText.optional(), from: periodText.optional(), to: periodText.optional() }),
    response: z.strictObject({
      communes: z.array(z.string()), conventions: z.array(z.strictObject({ id: z.string(), title: z.string() })),
      views: z.array(communeViewSchema), checked: z.boolean(), modified: z.number(),
      missing: z.array(z.strictObject({ convention: z.string(), period: z.string(), expected: z.number(), found: z.number() })),
      corrections: z.array(correctionSchema), sources: z.array(indicatorSourceSchema),
    }),
  },
  /** A state chosen in main's dialog, read under a convention for a period. */
  'indicators:import': {
    request: z.strictObject({ convention: z.string().min(1).max(100), period: periodText, commune: indicatorText.optional() }),
    response: z.union([cancelled, importDone]),
  },
  /** The security council's report, saved where main's dialog says (never over a file). */
  'indicators:report': {
    request: z.strictObject({ commune: indicatorText.optional(), agglomeration: z.boolean().optional(), period: periodText }),
    response: z.union([cancelled, z.strictObject({ status: z.literal('done'), path: z.string(), quarter: z.string() })]),
  },
  'indicators:export': {
    request: z.strictObject({ commune: indicatorText.optional(), from: periodText.optional(), to: periodText.optional() }),
    response: z.union([cancelled, z.strictObject({ status: z.literal('done'), path: z.string(), rows: z.number() })]),
  },
  'indicators:correct': {
    request: z.strictObject({
      convention: z.string().min(1).max(100), commune: indicatorText, period: periodText, indicator: z.string().min(1).max(60),
      value: z.number().int().min(0).max(1e12), reason: z.string().min(1).max(300),
    }),
    response: z.strictObject({ value: z.number(), state: z.enum(['ok', 'unverified', 'modified']) }),
  },
  /** The mapping editor (docs/indicators.md 3.1): a state's labels as read (the file of a token an
   * import gave, or one chosen in main's dialog), a draft's preview, the mapping saved, the state read again. */
  'indicators:labels': {
    request: z.strictObject({ token: z.string().min(1).max(64).optional() }),
    response: z.union([cancelled, z.strictObject({
      status: z.literal('done'), token: z.string(), file: z.string(), readable: z.boolean(), reason: z.string().nullable(), rows: z.array(z.string()), columns: z.array(z.string()),
    })]),
  },
  'indicators:preview': {
    request: z.strictObject({ token: z.string().min(1).max(64), choice: indicatorChoice, commune: indicatorText.optional() }),
    response: z.strictObject({
      recognised: z.boolean(), reason: z.string().nullable(),
      figures: z.array(z.strictObject({ commune: z.string().nullable(), indicator: z.string(), value: z.number() })),
    }),
  },
  'indicators:mapping': {
    request: z.strictObject({ name: z.string().min(1).max(100), choice: indicatorChoice }),
    response: z.strictObject({ name: z.string(), indicators: z.number() }),
  },
  'indicators:reread': {
    request: z.strictObject({ token: z.string().min(1).max(64), convention: z.string().min(1).max(100), period: periodText, commune: indicatorText.optional() }),
    response: importDone,
  },
  // ---- conventions (issue 14 §6) ----
  'conventions:list': {
    request: empty,
    /** today: this workstation's calendar day (the interface's default year). */
    response: z.strictObject({ conventions: z.array(conventionViewSchema), today: calendarDay }),
  },
  /** The year of every convention (periods by the year of their due day) as of the day `at`
   * (today by default; another day for a rehearsal, as `pli due --at`), and what is due within
   * seven days (the banner). */
  'conventions:calendar': {
    /** year: by default, the year of `at`. */
    request: z.strictObject({ year: z.number().int().min(2000).max(2199).optional(), at: calendarDay.optional() }),
    response: z.strictObject({
      at: calendarDay,
      year: z.number(),
      conventions: z.array(z.strictObject({
        id: conventionId, title: z.string(), state: z.enum(['active', 'terminated']), lastDay: calendarDay,
        items: z.array(z.strictObject({ period: z.string(), document: z.string(), due: calendarDay, state: dueStateSchema, container: z.string().nullable() })),
      })),
      soon: z.array(z.strictObject({ convention: conventionId, title: z.string(), period: z.string(), documents: z.array(z.string()), due: calendarDay, days: z.number() })),
    }),
  },
  /** The nominative list as a PDF, saved where main's native dialog says (never over a file). */
  'conventions:annex': {
    request: z.strictObject({ id: conventionId }),
    response: z.union([cancelled, z.strictObject({ status: z.literal('done'), path: z.string(), people: z.number() })]),
  },
  /** The year's register, PDF or CSV, saved where main's native dialog says (never over a file). */
  'conventions:register': {
    request: z.strictObject({ id: conventionId, year: z.number().int().min(2000).max(2199), format: z.enum(['pdf', 'csv']) }),
    response: z.union([cancelled, z.strictObject({ status: z.literal('done'), path: z.string(), rows: z.number() })]),
  },
  /** Officer only: signs version n + 1, terminated on `date` for `reason`. */
  'conventions:terminate': {
    request: z.strictObject({ id: conventionId, date: calendarDay, reason: z.string().trim().min(1).max(500) }),
    response: z.strictObject({ convention: conventionViewSchema }),
  },
  // ---- k1-convedit: the officer creates and edits a convention (issue 14 §6) ----
  /** Officer only (checked in main by the core): signs version 1 of a new convention; the core
   * checks every field (certified parties and people) and names the one at fault. */
  'conventions:create': {
    request: newConventionRequest,
    response: z.strictObject({ convention: conventionViewSchema }),
  },
  /** Officer only: version n + 1 of the same convention, signed again (the next directory carries it). */
  'conventions:edit': {
    request: newConventionRequest.extend({ id: conventionId }),
    response: z.strictObject({ convention: conventionViewSchema }),
  },
  // ---- New container under a convention (issue 14 §6, docs/convention.md 12) ----
  /** For the signed-in person: each convention running today, whether they are on its list, its
   * recipients and the periods begun and not all sent (the current one first, then the late
   * ones). Only a help to choose: the core checks the send again before anything is sealed. */
  'containers:conventionChoices': {
    request: empty,
    response: z.strictObject({
      today: calendarDay,
      conventions: z.array(z.strictObject({
        id: conventionId, title: z.string(), types: z.array(z.string()), expect: z.array(z.string()), habilitated: z.boolean(),
        recipients: z.array(z.strictObject({ id: identityId, name: z.string(), org: z.string(), function: z.string() })),
        periods: z.array(z.strictObject({
          period: z.string(), due: calendarDay, late: z.boolean(),
          documents: z.array(z.strictObject({ document: z.string(), state: dueStateSchema })),
        })),
      })),
    }),
  },
  // ---- c2-lists: the late periods of the inbox's and the outbox's banners ----
  /** Periods past their due day with nothing received (inbox) or sent (outbox), on `at` (today). */
  'lists:late': {
    request: z.strictObject({ at: calendarDay.optional() }),
    response: z.strictObject({ at: calendarDay, inbox: z.array(latePeriodSchema), outbox: z.array(latePeriodSchema) }),
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
  phase: z.enum(['unlock', 'seal', 'send', 'receive', 'open', 'done']),
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
  /** Subscribes to mailbox events (MAIL_EVENT_CHANNEL); returns the unsubscribe function. */
  onMailEvent(listener: (event: unknown) => void): () => void;
  /** The filesystem path of a File from an <input type=file> or a drop (webUtils.getPathForFile). */
  pathForFile(file: unknown): string;
  /** Subscribes to .pli files handed to Pli from outside (OFFERED_CHANNEL); returns the unsubscribe function. */
  onOfferedFile(listener: () => void): () => void;
};
