// Small shared pieces: error and status regions (aria-live), progress, file picking, formatting.
import { createContext, useCallback, useContext, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage, onProgress } from '../api';
import type { Certificate, Progress } from '../../shared/ipc';
import { forScreen } from '../../shared/text';
import { isDateMs } from '../../shared/dates';
import { dayFromFrench, dayToFrench } from '../../shared/french';
import type { ErrorText } from '../errors';

/**
 * An error that says what happened and what to do (worded by errors.ts from main's code, or the
 * screen's own sentence). A detail (a server's reply) is outside text: its own line, escaped.
 */
export function ErrorBox({ message }: { message: ErrorText }) {
  const { t } = useTranslation();
  const shown = typeof message === 'string' ? { message, detail: null } : message;
  return (
    <div role="alert" className={shown ? 'alert error' : 'alert-empty'}>
      {shown ? <><strong>{t('common.error')}</strong> {forScreen(shown.message)}</> : null}
      {shown?.detail ? <TechnicalDetails text={shown.detail} /> : null}
    </div>
  );
}

/**
 * Outside words (a server's English reply, the system's error text) folded away under "Détails
 * techniques": the sentence above says what happened and what to do; these are for IT support.
 */
export function TechnicalDetails({ text }: { text: string | null | undefined }) {
  const { t } = useTranslation();
  if (!text) return null;
  return (
    <details className="technical">
      <summary>{t('common.detail')}</summary>
      <span className="muted">{forScreen(text)} {t('common.detailHint')}</span>
    </details>
  );
}

/**
 * Text that came from outside (a name, an e-mail, an organisation, a subject, a server reply):
 * control, bidi and format characters shown as visible symbols, so they can neither hide nor
 * reverse the text around them (React escapes HTML already). For attributes and <option>, use
 * forScreen from shared/text directly.
 */
export function Outside({ text }: { text: string | null | undefined }) {
  return <>{forScreen(text ?? '')}</>;
}

export function StatusBox({ children }: { children: ReactNode }) {
  return <div role="status" aria-live="polite" className={children ? 'alert success' : 'alert-empty'}>{children}</div>;
}

/** Follows the progress events of one operation. */
export function useProgress(opId: string | null): Progress | null {
  const [progress, setProgress] = useState<Progress | null>(null);
  useEffect(() => {
    setProgress(null);
    if (!opId) return undefined;
    return onProgress((p) => { if (p.opId === opId) setProgress(p); });
  }, [opId]);
  return progress;
}

export function ProgressBar({ label, progress }: { label: string; progress: Progress | null }) {
  const { t } = useTranslation();
  const determinate = progress !== null && progress.total > 0 && progress.phase !== 'unlock';
  const percent = determinate ? Math.floor((100 * progress.done) / progress.total) : null;
  return (
    <div className="progress" role="status" aria-live="polite">
      <span>{label}</span>
      {percent === null
        ? <progress aria-label={label} />
        : <progress aria-label={label} value={percent} max={100} />}
      <span className="progress-text">{percent === null ? t('common.working') : t('common.percent', { percent })}</span>
    </div>
  );
}

export interface PickedFile { path: string; name: string; size: number }

/** A drop zone plus a keyboard-reachable "choose" button (a real <input type=file>). */
export function FilePicker({ label, hint, accept, multiple, onFiles, testId }: {
  label: string; hint: string; accept?: string; multiple?: boolean; onFiles: (files: PickedFile[]) => void; testId: string;
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const take = (list: FileList | null) => {
    if (!list || list.length === 0) return;
    const files = Array.from(list).map((file) => ({ path: window.pli.pathForFile(file), name: file.name, size: file.size }))
      .filter((f) => f.path);
    if (files.length > 0) onFiles(multiple ? files : files.slice(0, 1));
    if (input.current) input.current.value = '';
  };
  return (
    <div
      className={over ? 'dropzone over' : 'dropzone'}
      onDragOver={(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => { e.preventDefault(); setOver(false); take(e.dataTransfer.files); }}
    >
      <p id={`${id}-hint`}>{hint}</p>
      <label className="button" htmlFor={id}>{label}</label>
      <input
        ref={input} id={id} type="file" className="visually-hidden" data-testid={testId}
        accept={accept} multiple={multiple} aria-describedby={`${id}-hint`}
        onChange={(e) => take(e.currentTarget.files)}
      />
    </div>
  );
}

/** The one place a number becomes a date: null when it is no date (see useFormat). */
function formatWhen(locale: string, ms: unknown, options: Intl.DateTimeFormatOptions,
  shape = (formatter: Intl.DateTimeFormat, date: Date) => formatter.format(date)): string | null {
  return isDateMs(ms) ? shape(new Intl.DateTimeFormat(locale, options), new Date(ms)) : null;
}

/** A time of day as the language writes it: "6 h 45" in French (non-breaking spaces), "06:45" in English; null when no date. */
export function timeOfDay(ms: unknown, language: string): string | null {
  return language === 'en'
    ? formatWhen('en-GB', ms, { timeStyle: 'short' })
    : formatWhen('fr-FR', ms, { hour: 'numeric', minute: '2-digit', hourCycle: 'h23' }, (formatter, date) => {
      const parts = formatter.formatToParts(date);
      const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? '0');
      return `${hour}\u00a0h\u00a0${parts.find((p) => p.type === 'minute')?.value ?? '00'}`;
    });
}

/**
 * Formatting that never throws: every date shown comes from the profile's database (the attacker's
 * to write, docs/profile.md) or from outside, and `Intl` throws "Invalid time value" beyond
 * JavaScript's dates (±8.64e15 ms), which would take the whole screen into its error boundary for
 * one bad row. Such a value is shown as "date illisible" instead.
 * French dates and times as French administration writes them: "3 déc. 2026 à 6 h 45", "6 h 45"
 * (never "06:45" nor "mm/dd/yyyy"); one formatter for every screen.
 */
export function useFormat() {
  const { t, i18n } = useTranslation();
  const french = i18n.language !== 'en';
  const locale = french ? 'fr-FR' : 'en-GB';
  const when = (ms: unknown, options: Intl.DateTimeFormatOptions) => formatWhen(locale, ms, options) ?? t('format.unreadableDate');
  const time = (ms: number | null | undefined) => timeOfDay(ms, i18n.language) ?? t('format.unreadableDate');
  return {
    date: (ms: number | null | undefined) => (french && isDateMs(ms)
      ? `${when(ms, { dateStyle: 'medium' })} à ${time(ms)}`
      : when(ms, { dateStyle: 'medium', timeStyle: 'short' })),
    day: (ms: number | null | undefined) => when(ms, { dateStyle: 'long' }),
    time,
    size: (bytes: number) => {
      const number = (n: number) => new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(n);
      if (bytes < 1024) return t('units.bytes', { count: bytes, n: number(bytes) });
      if (bytes < 1024 * 1024) return t('units.kib', { n: number(bytes / 1024) });
      if (bytes < 1024 * 1024 * 1024) return t('units.mib', { n: number(bytes / 1024 / 1024) });
      return t('units.gib', { n: number(bytes / 1024 / 1024 / 1024) });
    },
  };
}

/**
 * A file's or folder's own name, from a path main returned: a person recognises "IS101-T3.pli"
 * and finds it with "Afficher dans le dossier"; a temporary folder's full path means nothing to them.
 */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]+/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/**
 * A long technical id (a container's, a digest) shortened for the eye: its first 12 characters in
 * groups of four ("3f9a 0c21 7be4…"), enough to compare aloud; the whole value stays in a title.
 */
export function shortId(id: string): string {
  const head = id.slice(0, 12).match(/.{1,4}/g)?.join('\u00a0') ?? '';
  return id.length > 12 ? `${head}…` : head;
}

/**
 * Moves the focus, once the next render is on screen, to the element with id `id` (RGAA 12.8): a
 * panel that opens, the button that opened it when it closes, the next item after one removed.
 * Asked in the same event as the change that shows the element.
 */
export function useFocusAfterRender(): (id: string) => void {
  // An object each time: the same id asked twice focuses twice.
  const [wanted, setWanted] = useState<{ id: string } | null>(null);
  useEffect(() => { if (wanted) document.getElementById(wanted.id)?.focus(); }, [wanted]);
  return useCallback((id: string) => setWanted({ id }), []);
}

/** Moves keyboard focus to a screen's heading when it appears (screen readers announce it). */
export function Heading({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => { ref.current?.focus(); }, []);
  return <h1 ref={ref} tabIndex={-1}>{children}</h1>;
}

const EXPIRY_WARNING_DAYS = 30;

/** A certificate's state in words, with its role, and a warning when it expires within 30 days. */
export function CertificateState({ certificate }: { certificate: Certificate }) {
  const { t } = useTranslation();
  const format = useFormat();
  const until = certificate.notAfter !== null ? format.day(certificate.notAfter) : '';
  const soon = certificate.state === 'valid' && certificate.notAfter !== null
    && certificate.notAfter - Date.now() < EXPIRY_WARNING_DAYS * 24 * 3600 * 1000;
  return (
    <span className={`cert cert-${certificate.state}`}>
      {t(`cert.state.${certificate.state}`, { date: until, reason: forScreen(certificate.revocationReason ?? '') })}
      {certificate.role && <> — {t(`cert.role.${certificate.role}`)}</>}
      {soon && <strong className="warning-text"> {t('cert.expiresSoon', { date: until })}</strong>}
    </span>
  );
}

/**
 * For a screen that asks main again whenever something changes (an event, a filter, a poll): each
 * call of `newest()` starts a request and returns whether it is still the newest one when its
 * answer comes. Answers can come back out of order (main waits on the disk; the first answer after
 * the keys were used pays for the session's checkpoint), and an older one must not replace a newer.
 */
export function useNewest(): () => () => boolean {
  const latest = useRef(0);
  return useCallback(() => {
    const ticket = ++latest.current;
    return () => ticket === latest.current;
  }, []);
}

/** App's hold on the navigation: taking it returns its release (once is enough). See useHold. */
export const HoldContext = createContext<() => () => void>(() => () => undefined);

/**
 * Runs `work` while App holds the navigation: the nav bar and « Se déconnecter » are disabled, and
 * what would change the screen from outside (a .pli offered or dropped, a notification clicked)
 * waits until it ends. So the screen that started an action stays until its outcome is shown: a
 * send's error, a provisioned key file's one-time passphrase (shown once, kept nowhere) are never
 * set on a screen that is gone, and a send cannot be started again from a fresh screen while the
 * first one runs. The idle lock does not wait (a screen left alone still closes).
 */
export function useHold(): <T>(work: () => Promise<T>) => Promise<T> {
  const hold = useContext(HoldContext);
  return useCallback(async <T,>(work: () => Promise<T>): Promise<T> => {
    const release = hold();
    try {
      return await work();
    } finally {
      release();
    }
  }, [hold]);
}

/** Holds the navigation (useHold) while `active`, e.g. while a one-time secret is on screen. */
export function useHoldWhile(active: boolean): void {
  const hold = useContext(HoldContext);
  useEffect(() => (active ? hold() : undefined), [active, hold]);
}

/**
 * Starts `work` held (useHold) unless one it started still runs: a double click, or Enter held
 * down, starts it once (a button disabled by state is disabled only at the next render).
 */
export function useStartOnce(): (work: () => Promise<void>) => void {
  const held = useHold();
  const running = useRef(false);
  return useCallback((work: () => Promise<void>) => {
    if (running.current) return;
    running.current = true;
    void held(work).finally(() => { running.current = false; });
  }, [held]);
}

/**
 * A screen's one action at a time: busy while it runs, its confirmation (what `work` returns) or
 * its error shown next to it, the previous message cleared first. `after` runs once it succeeded
 * (e.g. to reload the list). The navigation is held while it runs (useHold).
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<ErrorText>(null);
  const held = useHold();
  const running = useRef(0);
  // No guard against a second start here (the buttons are disabled by `busy`, rendered at once
  // after a click or a key): a screen may start one from an effect (MappingEditor's load of a new
  // state) while another runs, and it must not be dropped. Sends use useStartOnce.
  const act = async (work: () => Promise<string | null>, after?: () => void): Promise<void> => {
    setError(null);
    setNotice(null);
    setBusy(true);
    running.current += 1;
    try {
      setNotice(await held(work));
      after?.();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      running.current -= 1;
      setBusy(false);
    }
  };
  /** `act` from a button that stays focusable while busy (aria-disabled instead of disabled: a
   * disabled button drops the focus, RGAA 12.8): a press while one runs starts nothing. */
  const actOnce = (work: () => Promise<string | null>, after?: () => void): Promise<void> => (running.current > 0 ? Promise.resolve() : act(work, after));
  return { busy, notice, error, setNotice, setError, act, actOnce };
}

/** A required field's mark, in its label (RGAA 11.10): « (obligatoire) », seen and read with the label. */
export function RequiredMark() {
  const { t } = useTranslation();
  return <> {t('common.required')}</>;
}

/**
 * A day field in the French order, jj/mm/aaaa (issue 15: the browser's own date field follows the
 * system's order and showed « mm/dd/yyyy »). `day` and `onDay` carry ISO days (AAAA-MM-JJ); a text
 * that is not a real day is said beside the field and changes nothing.
 */
export function DayField({ id, day, onDay, required, hint, errorId }: {
  id: string; day: string | null; onDay: (day: string | null) => void; required?: boolean; hint?: string;
  /** The id of an error the form says beside the field: the field is then invalid, and described by it (RGAA 11.10). */
  errorId?: string;
}) {
  const { t } = useTranslation();
  const [text, setText] = useState(day ? dayToFrench(day) : '');
  useEffect(() => { if (day !== dayFromFrench(text)) setText(day ? dayToFrench(day) : ''); }, [day]);
  const invalid = text.trim() !== '' && dayFromFrench(text) === null;
  return (
    <>
      <input id={id} type="text" inputMode="numeric" placeholder="jj/mm/aaaa" autoComplete="off" value={text} required={required}
        aria-invalid={invalid || errorId !== undefined} aria-describedby={errorId ? `${errorId} ${id}-hint` : `${id}-hint`}
        onChange={(e) => {
          const typed = e.currentTarget.value;
          setText(typed);
          const parsed = dayFromFrench(typed);
          if (parsed !== null) onDay(parsed);
          else if (typed.trim() === '') onDay(null);
        }} />
      <span id={`${id}-hint`} className={invalid ? 'hint reason' : 'muted'}>{invalid ? t('common.dayInvalid') : (hint ?? t('common.dayHint'))}</span>
    </>
  );
}
