// The renderer's only way to main: window.pli (the preload's verbs). Every answer is parsed with
// the contract's schema before use, and failures become UiError carrying main's error as data
// (kind, code, params, detail); errors.ts words it in the chosen language.
import { z } from 'zod';
import { describeError, type ShownError } from './errors';
import { CHANNELS, envelopeSchema, mailEventSchema, progressSchema, type Channel, type IpcError, type MailEvent, type Progress, type RequestOf, type ResponseOf } from '../shared/ipc';

// The CSP forbids eval: tell zod not to probe for it (each probe logs a CSP violation).
z.config({ jitless: true });

export class UiError extends Error {
  readonly kind: IpcError['kind'];
  readonly code: string;
  readonly params: NonNullable<IpcError['params']>;
  readonly detail: string | null;
  constructor(error: IpcError) {
    super(error.message);
    this.kind = error.kind;
    this.code = error.code;
    this.params = error.params ?? {};
    this.detail = error.detail ?? null;
  }
}

export async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
  const verb = CHANNELS[channel];
  const fn = window.pli[verb] as (r: RequestOf<C>) => Promise<unknown>;
  let raw: unknown;
  try {
    raw = await fn(request);
  } catch (error) {
    throw new UiError({ kind: 'temporary', code: 'bridge', message: 'La liaison avec Pli a échoué. Réessayez ; si cela persiste, relancez Pli.', detail: String((error as Error)?.message ?? error) });
  }
  const parsed = envelopeSchema(channel).safeParse(raw);
  if (!parsed.success) {
    throw new UiError({ kind: 'input', code: 'bad-answer', message: 'Réponse inattendue de Pli : relancez l’application ; si cela se reproduit, signalez-le à l’officier SSI.' });
  }
  if (!parsed.data.ok) throw new UiError(parsed.data.error);
  return parsed.data.value as ResponseOf<C>;
}

export function onProgress(listener: (progress: Progress) => void): () => void {
  return window.pli.onProgress((raw) => {
    const parsed = progressSchema.safeParse(raw);
    if (parsed.success) listener(parsed.data);
  });
}

/** New arrivals, outbox changes and the background watcher's state, pushed by main. */
export function onMailEvent(listener: (event: MailEvent) => void): () => void {
  return window.pli.onMailEvent((raw) => {
    const parsed = mailEventSchema.safeParse(raw);
    if (parsed.success) listener(parsed.data);
  });
}

let counter = 0;
export function newOpId(): string {
  counter += 1;
  return `op-${Date.now().toString(36)}-${counter}`;
}

/** What an error box shows for anything a call threw (errors.ts describeError). */
export function errorMessage(error: unknown): ShownError {
  if (error instanceof UiError) return describeError(error);
  return describeError({ code: 'unexpected', message: 'Erreur inattendue dans l’interface. Réessayez ; si elle persiste, signalez-la à l’officier SSI.', detail: String((error as Error)?.message ?? error) });
}
