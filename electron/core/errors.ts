// One error type for everything the core refuses, carrying the exit code the CLI contract
// promises: 1 usage or input, 2 refused for security, 3 temporary (try again later).
// Messages are French (the users' language), say what happened and what to do in words, and never
// contain a key, a passphrase, a password or plaintext. They name no CLI flag and no `pli`
// command: each front end adds its own hint (the CLI from electron/cli/hints.ts, keyed by code)
// or builds its own sentence from `code` and `params` (the interface, through i18n).

export type ErrorKind = 'input' | 'security' | 'temporary';

/**
 * What a front end needs to build its own sentence: names, paths, counts, codes. Never a secret.
 * By convention `server` holds a mail server's own reply and `system` the operating system's
 * error text (outside text, often English): a front end shows them only as an escaped detail,
 * never as the message nor inside it.
 */
export type ErrorParams = Readonly<Record<string, string | number | boolean | null>>;

const EXIT: Record<ErrorKind, number> = { input: 1, security: 2, temporary: 3 };

export class PliError extends Error {
  readonly kind: ErrorKind;
  /** A stable machine-readable code (tests, IPC, audit, i18n keys), e.g. "not-addressed". */
  readonly code: string;
  /** The values the message names, for a front end's own wording (see ErrorParams). */
  readonly params: ErrorParams;
  constructor(kind: ErrorKind, code: string, message: string, options?: { cause?: unknown; params?: ErrorParams }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PliError';
    this.kind = kind;
    this.code = code;
    this.params = Object.freeze({ ...(options?.params ?? {}) });
  }
  get exitCode(): number {
    return EXIT[this.kind];
  }
}

export const inputError = (code: string, message: string, params?: ErrorParams): PliError =>
  new PliError('input', code, message, { params });
export const securityError = (code: string, message: string, params?: ErrorParams): PliError =>
  new PliError('security', code, message, { params });
export const temporaryError = (code: string, message: string, cause?: unknown, params?: ErrorParams): PliError =>
  new PliError('temporary', code, message, { cause, params });
