// The idle lock's warning (RGAA 13.1): shortly before the session closes by itself, a modal
// alertdialog says so and offers « Rester connecté ». The button or Escape closes it; any activity
// keeps the session (App's idle timer); left alone, the lock comes as before.
// Activity while it is open (a pointer moving to the button, a key) pushes the lock back beyond
// the warning's time: the dialog then says « Session maintenue » with a « Fermer » button in the
// same place (it stays open: closed under a moving pointer, the click meant for its button would
// land on the screen under it), said once in its live region. Left open and alone until the
// warning's time comes again, it counts down again, and says so.
// The seconds left count down on screen, read each second from the lock's real deadline (a timer's
// ticks come late on a busy machine or in a window in the background: counting them would drift).
// A screen reader is not told every second: the sentence it reads (the dialog's description, spoken
// as the dialog opens and takes the focus) keeps the count it had then; the visible sentence, which
// changes each second, is hidden from it and is no live region. At 30 and 10 seconds left, a short
// sentence in a live region inside the dialog says how long is left (the app's own region is
// outside the modal dialog, so inert while it is open), and the described sentence takes that count.
import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

/** Marks the dialog: the focus it takes when it opens is not the person's activity (App). */
export const IDLE_WARNING_ATTRIBUTE = 'data-idle-warning';

/** The counts at which a screen reader is told the time left (besides when the warning opens). */
const SPOKEN_AT = [30, 10];

/** Whole seconds left before `deadline` (ms since the epoch, as Date.now), never below 0. */
const secondsBefore = (deadline: number) => Math.max(0, Math.ceil((deadline - Date.now()) / 1000));

/** `deadline`: when the session closes if nothing happens (ms since the epoch); read again each
 * second, since activity pushes it back. `lead`: how long before the deadline the warning comes
 * (ms): a deadline further than that was pushed back by activity. */
export function IdleWarning({ deadline, lead, onStay }: { deadline: () => number; lead: number; onStay: () => void }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const textId = useId();
  const deadlineRef = useRef(deadline);
  deadlineRef.current = deadline;
  /** Shown on screen, each second. */
  const [left, setLeft] = useState(() => secondsBefore(deadline()));
  /** In the sentence a screen reader reads: the count at the opening, then at each SPOKEN_AT. */
  const [said, setSaid] = useState(left);
  const saidRef = useRef(said);
  /** The live region's sentence: empty until a SPOKEN_AT count comes, or the session is kept. */
  const [notice, setNotice] = useState('');
  /** Activity pushed the lock back beyond the warning's time: the session is kept. */
  const [kept, setKept] = useState(false);
  const keptRef = useRef(false);
  const leadRef = useRef(lead);
  leadRef.current = lead;
  useEffect(() => {
    const dialog = ref.current;
    // Where the person was: given back when the warning goes (kept, the screen under it is unchanged).
    const before = document.activeElement;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      if (dialog?.open) dialog.close();
      if (before instanceof HTMLElement && before.isConnected) before.focus();
    };
  }, []);
  useEffect(() => {
    let timer = 0;
    // The first look (as the dialog opens) sets the described count, silently: the dialog is read.
    saidRef.current = -1;
    const tick = () => {
      const ms = deadlineRef.current() - Date.now();
      const now = Math.max(0, Math.ceil(ms / 1000));
      setLeft(now);
      const keptNow = ms > leadRef.current;
      if (keptNow !== keptRef.current) {
        // Kept by activity, or (left alone since) warned again: said once either way.
        keptRef.current = keptNow;
        setKept(keptNow);
        saidRef.current = now;
        setSaid(now);
        setNotice(keptNow ? t('layout.idle.kept') : t('layout.idle.warning', { count: now }));
      } else if (keptNow) {
        saidRef.current = now; // no count is shown nor said while kept
      } else if (now > saidRef.current) {
        // The opening, or activity pushed the deadline back: the described sentence follows, silently.
        saidRef.current = now;
        setSaid(now);
      } else if (SPOKEN_AT.some((at) => now <= at && at < saidRef.current)) {
        // A threshold crossed (several at once after a long stall: one sentence, with the true count).
        saidRef.current = now;
        setSaid(now);
        setNotice(t('layout.idle.left', { count: now }));
      }
      // Woken as the next second starts; at 0 the number stays (App signs out at the deadline), but
      // is still looked at each second in case activity came at the last moment.
      timer = window.setTimeout(tick, ms > 0 ? ms % 1000 || 1000 : 1000);
    };
    tick();
    return () => window.clearTimeout(timer);
  }, [t]);
  return (
    <dialog ref={ref} role="alertdialog" aria-labelledby={titleId} aria-describedby={textId} className="secret" {...{ [IDLE_WARNING_ATTRIBUTE]: '' }}
      onCancel={(e) => { e.preventDefault(); onStay(); }}>
      <h2 id={titleId} className="stacked">
        <span className={kept ? 'off' : undefined}>{t('layout.idle.warningTitle')}</span>
        <span className={kept ? undefined : 'off'}>{t('layout.idle.keptTitle')}</span>
      </h2>
      <p id={textId} className="visually-hidden">{kept ? t('layout.idle.kept') : t('layout.idle.warning', { count: said })}</p>
      {/* As the titles: both sentences take their room, one hidden; so do both labels below: nothing
          moves under the pointer, whatever the width (a title on two lines at 400 % zoom). */}
      <div className="stacked" aria-hidden="true">
        <p className={kept ? 'off' : undefined}>{t('layout.idle.warning', { count: left })}</p>
        <p className={kept ? undefined : 'off'}>{t('layout.idle.kept')}</p>
      </div>
      <p className="visually-hidden" aria-live="polite" aria-atomic="true">{notice}</p>
      <div className="actions">
        <span className="stacked">
          <button type="button" onClick={onStay}>{kept ? t('layout.idle.close') : t('layout.idle.stay')}</button>
          {/* The other label's room: never seen, focused nor read (visibility: hidden). */}
          <button type="button" className="off" tabIndex={-1} aria-hidden="true" disabled>{kept ? t('layout.idle.stay') : t('layout.idle.close')}</button>
        </span>
      </div>
    </dialog>
  );
}
