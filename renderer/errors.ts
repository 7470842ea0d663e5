// The interface's wording of errors: a refusal from main arrives as data (shared/ipc.ts
// errorSchema: kind, code, params, the core's French message, a detail). Its message is built
// from the i18n key `errors.<code>` with its params, in the chosen language; a code without a key
// falls back to the core's French message. A detail (a mail server's reply, an unexpected error's
// text) is outside text: shown escaped on its own line (ErrorBox), never as the message.
import i18n from './i18n';
import { describeErrorWith, type ErrorData, type ShownError, type Wording } from '../shared/errors';
import { timeOfDay } from './components/common';

export type { ShownError };

/** An error as screens keep it: data from main, or a sentence the screen wrote itself. */
export type ErrorText = ShownError | string | null;

/** The interface's words, for the pure wordings of shared/ (errors, the retention notice). */
export const wording: Wording = {
  exists: (key) => i18n.exists(key), t: (key, params) => i18n.t(key, params),
  // "bloquée jusqu'à 6 h 54": a time in the reader's words (components/common.tsx, the one formatter).
  time: (ms) => timeOfDay(ms, i18n.language) ?? i18n.t('format.unreadableDate'),
};

export function describeError(error: ErrorData): ShownError {
  return describeErrorWith(wording, error);
}
