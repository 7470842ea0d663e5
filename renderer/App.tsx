// Which screen shows: first run until the workstation has a profile and a person, sign-in until
// someone is signed in, then the signed-in screens behind one navigation bar.
// Also here (issue 15): banners at the top of the screen; the idle lock, which keeps the container
// being prepared (its draft: file names and paths, recipients, never a password) and says why the
// session closed; a .pli handed to Pli from outside (main keeps its path, the interface holds a
// reference) or dropped on the window opens in the Container screen.
import { useCallback, useEffect, useRef, useState, type DragEvent, type MouseEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, onMailEvent } from './api';
import { ErrorBox, HoldContext, useFormat } from './components/common';
import { forScreen } from '../shared/text';
import { ErrorBoundary } from './components/ErrorBoundary';
import { Announce, Announcer } from './components/announce';
import { IDLE_WARNING_ATTRIBUTE, IdleWarning } from './components/IdleWarning';
import { FirstRun } from './screens/FirstRun';
import { SignIn } from './screens/SignIn';
import { Inbox } from './screens/Inbox';
import { ContainerView } from './screens/Container';
import { NewContainer, type ConventionPreset, type Draft, type SentNotice } from './screens/NewContainer';
import { Help, WhomToCall } from './screens/Help';
import { Outbox } from './screens/Outbox';
import { Directory } from './screens/Directory';
import { Audit } from './screens/Audit';
import { Indicators } from './screens/Indicators';
import { SettingsScreen } from './screens/Settings';
import { Officer } from './screens/Officer';
import { Calendar } from './screens/Calendar';
import { Convention } from './screens/Convention';
import type { ContainerSummary, Language, OfferedFile, ResponseOf, SessionInfo } from '../shared/ipc';
import type { ErrorText } from './errors';

type Status = ResponseOf<'profile:status'>;
type Screen = 'inbox' | 'container' | 'new' | 'outbox' | 'calendar' | 'conventions' | 'directory' | 'officer' | 'audit' | 'settings' | 'help' | 'indicators';
const NAV: Exclude<Screen, 'container'>[] = ['inbox', 'new', 'outbox', 'calendar', 'conventions', 'directory', 'indicators', 'officer', 'audit', 'settings', 'help'];
const NAV_END: readonly Exclude<Screen, 'container'>[] = ['settings', 'help'];
/** A container shown in the Container screen; `offerRef` when main keeps its path (offered.ts). */
type Shown = { summary: ContainerSummary; offerRef?: string };
/** Why the sign-in screen shows: the idle lock says so, with its delay. */
type Lock = { minutes: number; draftKept: boolean };
/** The idle timer's look: often enough for the warning to come about a minute before the lock. */
const IDLE_CHECK_MS = 5_000;
/** The warning comes this long before the lock (half the delay, for a one-minute delay). */
const IDLE_WARNING_MS = 60_000;
const warningLead = (delayMs: number): number => Math.min(IDLE_WARNING_MS, delayMs / 2);
/** As the held line's CSS (.held): shown, and said, only once an action lasts this long. */
const HELD_SHOWN_MS = 400;
/** The id App gives the current screen's <main> (see the title's effect). */
const MAIN_ID = 'main';

export function App() {
  const { t, i18n } = useTranslation();
  // The banner sits outside every screen's boundary: its dates go through the total formatter.
  const format = useFormat();
  const [status, setStatus] = useState<Status | null>(null);
  const [error, setError] = useState<ErrorText>(null);
  const [screen, setScreen] = useState<Screen>('inbox');
  const [container, setContainer] = useState<Shown | null>(null);
  const [draft, setDraft] = useState<{ owner: string; draft: Draft } | null>(null);
  const [lock, setLock] = useState<Lock | null>(null);
  const [restored, setRestored] = useState(false);
  const [offers, setOffers] = useState<OfferedFile[]>([]);
  const [dropped, setDropped] = useState<{ path: string; name: string } | null>(null);
  const [appError, setAppError] = useState<ErrorText>(null);
  const [dragging, setDragging] = useState(false);
  const [addingPerson, setAddingPerson] = useState(false);
  const [outboxNotice, setOutboxNotice] = useState<{ notice: SentNotice; key: number } | null>(null);
  const [idleLockMinutes, setIdleLockMinutes] = useState<number | null>(null);
  /** The idle lock's warning is shown; it counts down to the lock's deadline (ms since the epoch,
   * pushed back by activity) as the idle timer reads it. */
  const [idleWarning, setIdleWarning] = useState(false);
  const stayRef = useRef<() => void>(() => undefined);
  const idleDeadlineRef = useRef<() => number>(() => Date.now());
  // The Calendrier's « à envoyer » link: New container with that convention and period chosen.
  const [preset, setPreset] = useState<{ value: ConventionPreset; key: number } | null>(null);
  useEffect(() => { if (screen !== 'new') setPreset(null); }, [screen]); // used once: leaving New container forgets it
  // Actions running on the screen (useHold): while there is one, nothing changes the screen.
  // (The idle lock does not wait for them: a screen left alone closes, one-time passphrase included.)
  // The count is a ref, read by the effects below, and a state, which re-runs them and the render:
  // a screen's hold taken in an effect (a secret's dialog) counts at once for App's effects of the
  // same commit, which run after their children's (a provisioning's hold ends in the render that
  // shows its one-time passphrase, whose dialog then holds).
  const holds = useRef(0);
  const [held, setHeld] = useState(0);
  const hold = useCallback(() => {
    setHeld(++holds.current);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      setHeld(--holds.current);
    };
  }, []);
  // A desktop notification of a due period clicked (main): the Calendrier, once nothing holds the screen.
  const [calendarAsked, setCalendarAsked] = useState(false);
  useEffect(() => onMailEvent((event) => { if (event.type === 'calendar') setCalendarAsked(true); }), []);
  useEffect(() => {
    if (!calendarAsked || holds.current > 0) return;
    setCalendarAsked(false);
    setOutboxNotice(null);
    setScreen('calendar');
  }, [calendarAsked, held]);

  const setLanguage = useCallback((language: Language) => {
    void i18n.changeLanguage(language);
    document.documentElement.lang = language;
  }, [i18n]);

  const refresh = useCallback(async () => {
    try {
      setStatus(await call('profile:status', {}));
      const settings = await call('settings:get', {});
      setLanguage(settings.language);
      setIdleLockMinutes(settings.idleLockMinutes);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [setLanguage]);
  useEffect(() => { void refresh(); }, [refresh]);
  // A directory applied by the watcher (issue 17): the banner and the serial shown follow it.
  useEffect(() => onMailEvent((event) => { if (event.type === 'directory') void refresh(); }), [refresh]);

  const signedIn = (session: SessionInfo) => {
    setAddingPerson(false);
    // After the idle lock, the same person finds the container they were preparing.
    const resumed = lock?.draftKept === true && draft?.owner === session.id;
    if (!resumed) setDraft(null);
    setRestored(resumed);
    setLock(null);
    setScreen(resumed ? 'new' : 'inbox');
    void refresh();
  };
  const signOut = async (idle = false) => {
    try {
      await call('session:signOut', {});
    } catch (e) {
      setError(errorMessage(e));
    }
    setContainer(null);
    if (idle && idleLockMinutes) setLock({ minutes: idleLockMinutes, draftKept: draft !== null });
    else setDraft(null); // signing out on purpose ends the draft too
    void refresh();
  };
  // The idle timer's closure sees the latest signOut (and so the latest draft).
  const signOutRef = useRef(signOut);
  signOutRef.current = signOut;

  // A .pli handed to Pli from outside: main pings, the list gives references, never paths.
  const takeOffers = useCallback(() => {
    call('offered:list', {}).then((r) => { if (r.files.length > 0) setOffers((c) => [...c, ...r.files]); }, (e: unknown) => setAppError(errorMessage(e)));
  }, []);
  useEffect(() => {
    takeOffers();
    return window.pli.onOfferedFile(takeOffers);
  }, [takeOffers]);
  const signedInId = status?.session?.id ?? null;
  useEffect(() => {
    if (!signedInId || holds.current > 0) return; // opened once the action on screen has ended
    const [first, ...rest] = offers;
    if (first) {
      setOffers(rest);
      call('offered:inspect', { ref: first.ref }).then((summary) => {
        setContainer({ summary, offerRef: first.ref });
        setScreen('container');
      }, (e: unknown) => setAppError(errorMessage(e)));
    } else if (dropped) {
      setDropped(null);
      call('containers:inspect', { path: dropped.path }).then((summary) => {
        setContainer({ summary });
        setScreen('container');
      }, (e: unknown) => setAppError(errorMessage(e)));
    }
  }, [signedInId, offers, dropped, held]);

  // A .pli dropped anywhere on the window (a drop zone of a screen keeps its own drops).
  const onDragOver = (event: DragEvent) => {
    if (!event.dataTransfer.types.includes('Files')) return;
    event.preventDefault();
    setDragging(true);
  };
  const onDrop = (event: DragEvent) => {
    setDragging(false);
    if (event.defaultPrevented || event.dataTransfer.files.length === 0) return;
    event.preventDefault();
    const file = event.dataTransfer.files[0]!;
    setAppError(null);
    if (!file.name.toLowerCase().endsWith('.pli')) {
      setAppError(t('layout.offered.notPli'));
      return;
    }
    const path = window.pli.pathForFile(file);
    if (path) setDropped({ path, name: file.name });
  };

  // Idle lock: after the workstation's delay without activity (keyboard, pointer, or the focus
  // moving: a screen reader's navigation sends no key to the page), sign out (main wipes the keys);
  // the person signs in again with the passphrase. A minute before, a warning offers to stay
  // (RGAA 13.1): what is typed and not saved would be lost.
  const signedInNow = status?.session != null;
  useEffect(() => {
    if (!signedInNow || !idleLockMinutes) return undefined;
    const delay = idleLockMinutes * 60_000;
    const lead = warningLead(delay);
    let last = Date.now();
    let warned = false;
    const touch = () => { last = Date.now(); };
    // Only the warning's button or Escape close it: closed by a mere pointer move, it would let the
    // click meant for « Rester connecté » land on the screen under it. Activity still keeps the
    // session, and the warning then says so (IdleWarning) until it is closed.
    const stay = () => {
      touch();
      warned = false;
      window.clearTimeout(exact);
      setIdleWarning(false);
    };
    // The warning takes the focus when it opens: that is not the person's activity.
    const focusIn = (event: FocusEvent) => {
      if (!(event.target instanceof Element && event.target.closest(`[${IDLE_WARNING_ATTRIBUTE}]`))) touch();
    };
    const events = ['keydown', 'pointerdown', 'pointermove', 'wheel'] as const;
    events.forEach((e) => window.addEventListener(e, touch, { passive: true }));
    window.addEventListener('focusin', focusIn);
    stayRef.current = stay;
    idleDeadlineRef.current = () => last + delay;
    // While the warning shows, a look at the very deadline too: the lock comes as its count says 0,
    // not up to IDLE_CHECK_MS later (moved again at each look, as activity pushes the deadline back).
    let exact = 0;
    const check = () => {
      const idle = Date.now() - last;
      if (idle > delay) {
        window.clearInterval(timer); // once: the sign-out ends this effect
        window.clearTimeout(exact);
        // The warning closed first: the sign-in screen then takes the focus (a modal dialog still
        // open as it mounts would keep it, and leave it nowhere once closed).
        setIdleWarning(false);
        void signOutRef.current(true);
        return;
      }
      if (idle > delay - lead && !warned) {
        warned = true;
        setIdleWarning(true);
      }
      if (warned) {
        window.clearTimeout(exact);
        exact = window.setTimeout(check, delay - idle + 1);
      }
    };
    const timer = window.setInterval(check, IDLE_CHECK_MS);
    return () => {
      events.forEach((e) => window.removeEventListener(e, touch));
      window.removeEventListener('focusin', focusIn);
      window.clearInterval(timer);
      window.clearTimeout(exact);
      stayRef.current = () => undefined;
      idleDeadlineRef.current = () => Date.now();
      setIdleWarning(false);
    };
    // Deliberately keyed on the session and the delay only: signOut just calls main and refreshes.
  }, [signedInNow, idleLockMinutes]);

  // The window's title names the screen (RGAA 8.6): « <its h1> – Pli ». Each screen renders its own
  // <main> and h1 (some once their data came), so the page is watched rather than the screen state;
  // the same watch gives the current <main> the skip link's target id.
  useEffect(() => {
    const update = () => {
      const main = document.querySelector('main');
      if (main && main.id !== MAIN_ID) {
        main.id = MAIN_ID;
        main.tabIndex = -1;
      }
      const heading = main?.querySelector('h1')?.textContent?.trim();
      const title = heading ? t('layout.windowTitle', { screen: heading, app: t('app.name') }) : t('app.name');
      if (document.title !== title) document.title = title;
    };
    update();
    const observer = new MutationObserver(update);
    observer.observe(document.getElementById('root') ?? document.body, { childList: true, subtree: true, characterData: true });
    return () => observer.disconnect();
  }, [t]);
  /** The skip link (RGAA 12.7): to the screen's <main>, focused, whatever the URL. */
  const skipToMain = (event: MouseEvent) => {
    const main = document.getElementById(MAIN_ID);
    if (!main) return;
    event.preventDefault();
    main.focus();
    main.scrollIntoView();
  };

  // Every screen behind its own error boundary, keyed by the screen: a screen that fails to render
  // shows what failed and a way back, never a blank window, and the other screens still work.
  const guard = (name: string, label: string, node: ReactNode, toInbox?: () => void) => (
    <ErrorBoundary key={name} screen={label} onInbox={toInbox}>{node}</ErrorBoundary>
  );
  const backToInbox = () => { setOutboxNotice(null); setScreen('inbox'); };
  const waiting = offers[0]?.fileName ?? dropped?.name ?? null;
  // Said inside the sign-in screen's <main>, after its h1 (RGAA 7.5: read after the title, not
  // before the landmark the focus goes to), and through the live region.
  const lockLines = lock ? [t('layout.idle.closed', { count: lock.minutes }), ...(lock.draftKept ? [t('layout.idle.draftKept')] : [])] : [];
  const beforeSignIn = (
    <>
      {lock && (
        <div className="notice info" role="status" data-testid="lock-reason">
          {lockLines.map((line) => <p key={line}>{line}</p>)}
          <Announce text={lockLines.join(' ')} />
        </div>
      )}
      {waiting && <p className="notice info" role="status">{t('layout.offered.waiting', { name: forScreen(waiting) })}</p>}
    </>
  );

  let body;
  if (!status) {
    body = <main className="narrow"><p>{t('common.loading')}</p><ErrorBox message={error} /></main>;
  } else if (!status.exists || status.ownIdentities.length === 0 || (addingPerson && !status.session)) {
    body = guard('firstRun', t('boundary.firstRun'), <FirstRun status={status} onChanged={() => void refresh()} onSignedIn={signedIn}
      onPending={() => { setAddingPerson(false); void refresh(); }}
      onCancel={status.ownIdentities.length > 0 ? () => setAddingPerson(false) : undefined} />);
  } else if (!status.session) {
    body = guard('signIn', t('boundary.signIn'), <SignIn key={status.ownIdentities.length} status={status} notices={beforeSignIn} onSignedIn={signedIn} onNewPerson={() => setAddingPerson(true)} onChanged={() => void refresh()} />);
  } else {
    const wanted = screen === 'officer' && !status.officer ? 'inbox' : screen;
    const current = wanted === 'container' && container ? 'container' : wanted === 'container' ? 'inbox' : wanted;
    const freshness = status.authority?.freshness ?? 'fresh';
    body = (
      <>
        {freshness !== 'fresh' && status.authority && (
          <p className="banner" role="note">{t(`directory.freshness.${freshness}`, {
            next: format.day(status.authority.nextUpdate), refuse: format.day(status.authority.refuseAfter),
          })}{!status.authority.isAuthority && <WhomToCall />}</p>
        )}
        <nav aria-label={t('nav.label')}>
          {/* Settings and Help are a second list at the right end: when a narrow window (1024 px)
              wraps the bar, the two move onto the next row together. */}
          {[NAV.filter((name) => !NAV_END.includes(name)), NAV_END].map((names, end) => (
            <ul key={end} className={end ? 'nav-end' : undefined}>
              {names.filter((name) => name !== 'officer' || status.officer).map((name) => (
                <li key={name}>
                  <button type="button" className="nav" aria-current={current === name || (name === 'inbox' && current === 'container') ? 'page' : undefined}
                    disabled={held > 0} aria-describedby={held > 0 ? 'held-reason' : undefined}
                    onClick={() => { setOutboxNotice(null); setScreen(name); }}>{name === 'help' ? t('layout.nav.help') : t(`nav.${name}`)}</button>
                </li>
              ))}
            </ul>
          ))}
        </nav>
        {held > 0 && <p id="held-reason" className="hint held" role="status">{t('layout.held')}<Announce text={t('layout.held')} after={HELD_SHOWN_MS} /></p>}
        {current === 'inbox' && guard('inbox', t('nav.inbox'), <Inbox onOpen={(summary) => { setContainer({ summary }); setScreen('container'); }} onSettings={() => setScreen('settings')} onCalendar={() => setScreen('calendar')} />)}
        {current === 'container' && container && guard(`container:${container.offerRef ?? container.summary.path}`, t('boundary.container'),
          <ContainerView key={container.offerRef ?? container.summary.path} summary={container.summary} offerRef={container.offerRef} onBack={() => setScreen('inbox')} />, backToInbox)}
        {current === 'new' && guard('new', t('nav.new'), <NewContainer key={preset?.key ?? 0} preset={preset?.value ?? null} onDirectory={() => setScreen('directory')} authority={status.authority !== null} mailbox={status.mailbox === 'configured'}
          draft={draft?.owner === status.session.id ? draft.draft : null} restored={restored}
          onDraft={(next) => setDraft(next ? { owner: status.session!.id, draft: next } : null)}
          onSent={(notice) => { setDraft(null); setRestored(false); setPreset(null); setOutboxNotice({ notice, key: Date.now() }); setScreen('outbox'); }} />, backToInbox)}
        {current === 'outbox' && guard('outbox', t('nav.outbox'), <Outbox key={outboxNotice?.key ?? 0} notice={outboxNotice?.notice ?? null} onNew={() => setScreen('new')} onCalendar={() => setScreen('calendar')} />, backToInbox)}
        {current === 'calendar' && guard('calendar', t('nav.calendar'), <Calendar onSend={(convention, period) => { setPreset({ value: { convention, period }, key: Date.now() }); setScreen('new'); }} />, backToInbox)}
        {current === 'conventions' && guard('conventions', t('nav.conventions'), <Convention officer={status.officer} />, backToInbox)}
        {current === 'directory' && guard('directory', t('nav.directory'), <Directory status={status} onChanged={() => void refresh()} />, backToInbox)}
        {current === 'officer' && guard('officer', t('nav.officer'), <Officer fingerprint={status.authority?.fingerprint ?? null} />, backToInbox)}
        {current === 'audit' && guard('audit', t('nav.audit'), <Audit />, backToInbox)}
        {current === 'help' && guard('help', t('layout.nav.help'), <Help authority={status.authority} />, backToInbox)}
        {current === 'indicators' && guard('indicators', t('nav.indicators'), <Indicators />, backToInbox)}
        {current === 'settings' && guard('settings', t('nav.settings'), <SettingsScreen onLanguage={setLanguage} idleLockMinutes={idleLockMinutes} onIdleLock={setIdleLockMinutes} onMailbox={() => void refresh()} />, backToInbox)}
      </>
    );
  }

  return (
    <Announcer>
      <div className={dragging ? 'app dragging' : 'app'} onDragOver={onDragOver} onDragLeave={(e) => { if (e.currentTarget === e.target) setDragging(false); }} onDrop={onDrop}>
        <header>
          <a className="skip-link" href={`#${MAIN_ID}`} onClick={skipToMain}>{t('layout.skip')}</a>
          <span className="brand">{t('app.name')}</span>
          <span className="tagline">{t('app.tagline')}</span>
          {status?.session && (
            <span className="who">
              {t('app.signedInAs', { name: status.session.name })}
              <button type="button" className="secondary" onClick={() => void signOut(false)} disabled={held > 0} aria-describedby={held > 0 ? 'held-reason' : undefined}>{t('app.signOut')}</button>
            </span>
          )}
        </header>
        <HoldContext.Provider value={hold}>{body}</HoldContext.Provider>
        {dragging && <div className="drop-overlay" aria-hidden="true">{t('layout.offered.dropHint')}</div>}
        {appError && <div className="toast"><ErrorBox message={appError} /><button type="button" className="link" onClick={() => setAppError(null)}>{t('layout.close')}</button></div>}
        {idleWarning && status?.session && <IdleWarning deadline={() => idleDeadlineRef.current()} lead={warningLead((idleLockMinutes ?? 0) * 60_000)} onStay={() => stayRef.current()} />}
      </div>
    </Announcer>
  );
}
