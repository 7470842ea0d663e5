// Which screen shows: first run until the workstation has a profile and a person, sign-in until
// someone is signed in, then the signed-in screens behind one navigation bar.
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from './api';
import { ErrorBox, useFormat } from './components/common';
import { ErrorBoundary } from './components/ErrorBoundary';
import { FirstRun } from './screens/FirstRun';
import { SignIn } from './screens/SignIn';
import { Inbox } from './screens/Inbox';
import { ContainerView } from './screens/Container';
import { NewContainer, type SentNotice } from './screens/NewContainer';
import { Outbox } from './screens/Outbox';
import { Directory } from './screens/Directory';
import { Audit } from './screens/Audit';
import { SettingsScreen } from './screens/Settings';
import { Officer } from './screens/Officer';
import { Calendar } from './screens/Calendar';
import { Convention } from './screens/Convention';
import type { ContainerSummary, Language, ResponseOf, SessionInfo } from '../shared/ipc';
import type { ErrorText } from './errors';

type Status = ResponseOf<'profile:status'>;
type Screen = 'inbox' | 'container' | 'new' | 'outbox' | 'calendar' | 'conventions' | 'directory' | 'officer' | 'audit' | 'settings';
const NAV: Exclude<Screen, 'container'>[] = ['inbox', 'new', 'outbox', 'calendar', 'conventions', 'directory', 'officer', 'audit', 'settings'];

export function App() {
  const { t, i18n } = useTranslation();
  // The banner sits outside every screen's boundary: its dates go through the total formatter.
  const format = useFormat();
  const [status, setStatus] = useState<Status | null>(null);
  const [error, setError] = useState<ErrorText>(null);
  const [screen, setScreen] = useState<Screen>('inbox');
  const [container, setContainer] = useState<ContainerSummary | null>(null);
  const [addingPerson, setAddingPerson] = useState(false);
  const [outboxNotice, setOutboxNotice] = useState<{ notice: SentNotice; key: number } | null>(null);
  const [idleLockMinutes, setIdleLockMinutes] = useState<number | null>(null);

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

  const signedIn = (_session: SessionInfo) => {
    setAddingPerson(false);
    setScreen('inbox');
    void refresh();
  };
  const signOut = async () => {
    try {
      await call('session:signOut', {});
    } catch (e) {
      setError(errorMessage(e));
    }
    setContainer(null);
    void refresh();
  };

  // Idle lock: after the workstation's delay without keyboard or pointer activity, sign out
  // (main wipes the keys); the person signs in again with the passphrase.
  const signedInNow = status?.session != null;
  useEffect(() => {
    if (!signedInNow || !idleLockMinutes) return undefined;
    let last = Date.now();
    const touch = () => { last = Date.now(); };
    const events = ['keydown', 'pointerdown', 'pointermove', 'wheel'] as const;
    events.forEach((e) => window.addEventListener(e, touch, { passive: true }));
    const timer = window.setInterval(() => {
      if (Date.now() - last > idleLockMinutes * 60_000) void signOut();
    }, 15_000);
    return () => {
      events.forEach((e) => window.removeEventListener(e, touch));
      window.clearInterval(timer);
    };
    // Deliberately keyed on the session and the delay only: signOut just calls main and refreshes.
  }, [signedInNow, idleLockMinutes]);

  // Every screen behind its own error boundary, keyed by the screen: a screen that fails to render
  // shows what failed and a way back, never a blank window, and the other screens still work.
  const guard = (name: string, label: string, node: ReactNode, toInbox?: () => void) => (
    <ErrorBoundary key={name} screen={label} onInbox={toInbox}>{node}</ErrorBoundary>
  );
  const backToInbox = () => { setOutboxNotice(null); setScreen('inbox'); };

  let body;
  if (!status) {
    body = <main className="narrow"><p>{t('common.loading')}</p><ErrorBox message={error} /></main>;
  } else if (!status.exists || status.ownIdentities.length === 0 || (addingPerson && !status.session)) {
    body = guard('firstRun', t('boundary.firstRun'), <FirstRun status={status} onChanged={() => void refresh()} onSignedIn={signedIn}
      onPending={() => { setAddingPerson(false); void refresh(); }}
      onCancel={status.ownIdentities.length > 0 ? () => setAddingPerson(false) : undefined} />);
  } else if (!status.session) {
    body = guard('signIn', t('boundary.signIn'), <SignIn key={status.ownIdentities.length} status={status} onSignedIn={signedIn} onNewPerson={() => setAddingPerson(true)} onChanged={() => void refresh()} />);
  } else {
    const wanted = screen === 'officer' && !status.officer ? 'inbox' : screen;
    const current = wanted === 'container' && container ? 'container' : wanted === 'container' ? 'inbox' : wanted;
    const freshness = status.authority?.freshness ?? 'fresh';
    body = (
      <>
        <nav aria-label={t('nav.label')}>
          <ul>
            {NAV.filter((name) => name !== 'officer' || status.officer).map((name) => (
              <li key={name}>
                <button type="button" className="nav" aria-current={current === name || (name === 'inbox' && current === 'container') ? 'page' : undefined}
                  onClick={() => { setOutboxNotice(null); setScreen(name); }}>{t(`nav.${name}`)}</button>
              </li>
            ))}
          </ul>
        </nav>
        {current === 'inbox' && guard('inbox', t('nav.inbox'), <Inbox onOpen={(summary) => { setContainer(summary); setScreen('container'); }} onSettings={() => setScreen('settings')} />)}
        {current === 'container' && container && guard(`container:${container.path}`, t('boundary.container'), <ContainerView key={container.path} summary={container} onBack={() => setScreen('inbox')} />, backToInbox)}
        {freshness !== 'fresh' && status.authority && (
          <p className="banner" role="note">{t(`directory.freshness.${freshness}`, {
            next: format.day(status.authority.nextUpdate), refuse: format.day(status.authority.refuseAfter),
          })}</p>
        )}
        {current === 'new' && guard('new', t('nav.new'), <NewContainer onDirectory={() => setScreen('directory')} authority={status.authority !== null} mailbox={status.mailbox === 'configured'}
          onSent={(notice) => { setOutboxNotice({ notice, key: Date.now() }); setScreen('outbox'); }} />, backToInbox)}
        {current === 'outbox' && guard('outbox', t('nav.outbox'), <Outbox key={outboxNotice?.key ?? 0} notice={outboxNotice?.notice ?? null} onNew={() => setScreen('new')} />, backToInbox)}
        {current === 'calendar' && guard('calendar', t('nav.calendar'), <Calendar />, backToInbox)}
        {current === 'conventions' && guard('conventions', t('nav.conventions'), <Convention officer={status.officer} />, backToInbox)}
        {current === 'directory' && guard('directory', t('nav.directory'), <Directory status={status} onChanged={() => void refresh()} />, backToInbox)}
        {current === 'officer' && guard('officer', t('nav.officer'), <Officer fingerprint={status.authority?.fingerprint ?? null} />, backToInbox)}
        {current === 'audit' && guard('audit', t('nav.audit'), <Audit />, backToInbox)}
        {current === 'settings' && guard('settings', t('nav.settings'), <SettingsScreen onLanguage={setLanguage} idleLockMinutes={idleLockMinutes} onIdleLock={setIdleLockMinutes} onMailbox={() => void refresh()} />, backToInbox)}
      </>
    );
  }

  return (
    <div className="app">
      <header>
        <span className="brand">{t('app.name')}</span>
        <span className="tagline">{t('app.tagline')}</span>
        {status?.session && (
          <span className="who">
            {t('app.signedInAs', { name: status.session.name })}
            <button type="button" className="secondary" onClick={() => void signOut()}>{t('app.signOut')}</button>
          </span>
        )}
      </header>
      {body}
    </div>
  );
}
