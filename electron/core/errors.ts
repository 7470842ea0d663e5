// One error type for everything the core refuses, carrying the exit code the CLI contract
// promises: 1 usage or input, 2 refused for security, 3 temporary (try again later).
// Messages are French (the users' language), say what happened and what to do, and never
// contain a key, a passphrase, a password or plaintext.

export type ErrorKind = 'input' | 'security' | 'temporary';

const EXIT: Record<ErrorKind, number> = { input: 1, security: 2, temporary: 3 };

export class PliError extends Error {
  readonly kind: ErrorKind;
  /** A stable machine-readable code (tests, IPC, audit), e.g. "not-addressed". */
  readonly code: string;
  constructor(kind: ErrorKind, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PliError';
    this.kind = kind;
    this.code = code;
  }
  get exitCode(): number {
    return EXIT[this.kind];
  }
}

export const inputError = (code: string, message: string): PliError => new PliError('input', code, message);
export const securityError = (code: string, message: string): PliError => new PliError('security', code, message);
export const temporaryError = (code: string, message: string, cause?: unknown): PliError =>
  new PliError('temporary', code, message, { cause });
