// How a front end words an error received as data (errorSchema in shared/ipc.ts): the sentence
// from its own wording of `code` with `params`, else the core's French message; the detail (a
// server's reply, an unexpected error's text) kept apart, never interpolated. Pure: the renderer
// passes its i18n (renderer/errors.ts), tests pass theirs.

/** What an error box shows: the sentence, and the outside words, if any, apart. */
export interface ShownError { message: string; detail: string | null }

/** The part of an i18n instance this needs. */
export interface Wording {
  exists(key: string): boolean;
  t(key: string, params: Record<string, string | number>): string;
  /** A time of day in the reader's words ("6 h 54"): a param named `until` (ms) is shown with it. */
  time?(ms: number): string;
}

export interface ErrorData {
  code: string;
  message: string;
  params?: Record<string, string | number | boolean | null> | undefined;
  detail?: string | null | undefined;
}

export const errorKey = (code: string): string => `errors.${code}`;

/** Params that name a place on disk (core/faults.ts placeParams, core/profile/profile.ts). */
const PLACE_PARAMS = new Set(['home', 'place', 'path', 'folder', 'dir']);
const ABSOLUTE = /^(\/|[A-Za-z]:[\\/]|\\\\)/;

/** The last part of a path: the folder's or the file's own name, as a person knows it. */
export function placeName(path: string): string {
  const parts = path.split(/[\\/]+/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

export function describeErrorWith(wording: Wording, error: ErrorData): ShownError {
  let detail = error.detail ?? null;
  if (!/^[a-z0-9-]{1,100}$/.test(error.code) || !wording.exists(errorKey(error.code))) return { message: error.message, detail };
  const params: Record<string, string | number> = {};
  const paths: string[] = [];
  for (const [name, value] of Object.entries(error.params ?? {})) {
    // A place by its own name (a temporary folder's full path means nothing to a person); the
    // full path goes to the folded technical detail, for IT support, unless there is one already.
    if (PLACE_PARAMS.has(name) && typeof value === 'string' && ABSOLUTE.test(value)) {
      params[name] = placeName(value);
      paths.push(value);
      continue;
    }
    if (name === 'until' && typeof value === 'number' && wording.time) {
      params[name] = wording.time(value);
      continue;
    }
    params[name] = typeof value === 'number' || typeof value === 'string' ? value : value === null ? '' : String(value);
  }
  if (detail === null && paths.length > 0) detail = paths.join(' ; ');
  const message = wording.t(errorKey(error.code), params);
  // A wording that needs a param this error does not carry (another throw site of the same code)
  // would show "{{name}}": the core's own sentence is better.
  return { message: /\{\{\s*\w+\s*\}\}/.test(message) ? error.message : message, detail };
}
