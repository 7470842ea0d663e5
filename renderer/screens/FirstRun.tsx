// First run of the workstation: create the profile; pin the SSI authority by typing the
// fingerprint the officer reads aloud and import the signed directory (or, on the officer's own
// workstation, create the authority); then enrol the person: create keys here and have the card
// certified (path a), or install the key file the officer provisioned (path b).
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { UiError, call, errorMessage, newOpId } from '../api';
import { ErrorBox, Heading, ProgressBar, RequiredMark, StatusBox, baseName, useProgress } from '../components/common';
import type { ResponseOf, SessionInfo } from '../../shared/ipc';
import type { ErrorText } from '../errors';

type Status = ResponseOf<'profile:status'>;
type AuthorityMode = 'join' | 'officer';
type EnrolMode = 'create' | 'keyfile';
/** Where an error or a notice is shown: next to the step it concerns, so it is seen at 1280x800. */
type Step = 'profile' | 'authority' | 'identity';

export function FirstRun({ status, onChanged, onSignedIn, onPending, onCancel }: {
  status: Status; onChanged: () => void; onSignedIn: (session: SessionInfo) => void;
  /** A person was added who cannot sign in yet (waiting for a certificate). */
  onPending: () => void; onCancel?: () => void;
}) {
  const { t } = useTranslation();
  const ids = useId();
  const [failure, setFailure] = useState<{ step: Step; message: ErrorText } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const errorAt = (where: Step) => (failure?.step === where ? failure.message : null);
  const [busy, setBusy] = useState(false);
  const [opId, setOpId] = useState<string | null>(null);
  const progress = useProgress(opId);
  const [authorityMode, setAuthorityMode] = useState<AuthorityMode>('join');
  const [enrolMode, setEnrolMode] = useState<EnrolMode>('create');
  const [pin, setPin] = useState('');
  /** The last directory import was refused for its fingerprint: say how to get the right one. */
  const [pinMismatch, setPinMismatch] = useState(false);
  const [authorityName, setAuthorityName] = useState('');
  const [form, setForm] = useState({ name: '', email: '', org: '', passphrase: '', confirm: '', oneTime: '' });
  const [created, setCreated] = useState<{ session: SessionInfo; fingerprint: string | null } | null>(null);
  const set = (key: keyof typeof form) => (e: { currentTarget: HTMLInputElement }) => setForm({ ...form, [key]: e.currentTarget.value });
  const clearSecrets = () => setForm((f) => ({ ...f, passphrase: '', confirm: '', oneTime: '' }));

  const run = async (where: Step, action: () => Promise<void>) => {
    setFailure(null);
    setNotice(null);
    setBusy(true);
    try {
      await action();
    } catch (e) {
      setFailure({ step: where, message: errorMessage(e) });
    } finally {
      setBusy(false);
      setOpId(null);
    }
  };

  const createProfile = () => run('profile', async () => {
    await call('profile:init', {});
    onChanged();
  });

  const importDirectory = (event: FormEvent) => {
    event.preventDefault();
    setPinMismatch(false);
    void run('authority', async () => {
      let result: ResponseOf<'directory:import'>;
      try {
        result = await call('directory:import', { pin });
      } catch (e) {
        // Nothing on screen tells the right fingerprint (main never sends it): the person types
        // it again as the officer dictates it, into an empty field.
        if (e instanceof UiError && e.code === 'pin-mismatch') {
          setPin('');
          setPinMismatch(true);
        }
        throw e;
      }
      if (result.status === 'cancelled') return;
      setPin('');
      setNotice(t('firstRun.pinned', { name: result.authorityName, fingerprint: result.fingerprint, serial: result.serial, certificates: t('counts.certificates', { count: result.certificates }) }));
      onChanged();
    });
  };

  const createAuthority = (session: SessionInfo) => run('identity', async () => {
    const result = await call('authority:init', { name: authorityName.trim() });
    setCreated({ session, fingerprint: result.fingerprint });
  });

  /** The start both identity forms share: the passphrase typed twice must match; returns the
   * id of the operation whose progress is shown, or null when the form is refused. */
  const startIdentityForm = (event: FormEvent): string | null => {
    event.preventDefault();
    if (form.passphrase !== form.confirm) {
      setFailure({ step: 'identity', message: t('firstRun.mismatch') });
      return null;
    }
    const id = newOpId();
    setOpId(id);
    return id;
  };

  const createPerson = (event: FormEvent) => {
    const id = startIdentityForm(event);
    if (id === null) return;
    void run('identity', async () => {
      const result = await call('identities:create', { opId: id, name: form.name, email: form.email, org: form.org, passphrase: form.passphrase });
      clearSecrets();
      if (!result.session) {
        onPending(); // certified later: the sign-in screen explains the next steps
        return;
      }
      if (officerPath) {
        setCreated({ session: result.session, fingerprint: null });
        const authority = await call('authority:init', { name: authorityName.trim() });
        setCreated({ session: result.session, fingerprint: authority.fingerprint });
        return;
      }
      onSignedIn(result.session);
    });
  };

  const importKeyfile = (event: FormEvent) => {
    const id = startIdentityForm(event);
    if (id === null) return;
    void run('identity', async () => {
      const result = await call('identities:importKeyfile', { opId: id, oneTimePassphrase: form.oneTime, passphrase: form.passphrase });
      if (result.status === 'cancelled') return;
      clearSecrets();
      if (result.session) onSignedIn(result.session);
      else onPending();
    });
  };

  const hasPerson = status.ownIdentities.length > 0;
  const pinned = status.authority !== null;
  const officerPath = !pinned && authorityMode === 'officer';

  // The officer's workstation, right after the authority was created: the fingerprint to read aloud.
  if (created) {
    return (
      <main className="narrow">
        <Heading>{t('firstRun.authorityCreatedTitle')}</Heading>
        {created.fingerprint ? (
          <>
            <p>{t('firstRun.authorityCreated', { name: authorityName.trim() })}</p>
            <p className="fingerprint" aria-label={t('firstRun.authorityFingerprint')}><code>{created.fingerprint}</code></p>
            <p className="hint">{t('firstRun.authorityNext')}</p>
            <div className="actions"><button type="button" onClick={() => onSignedIn(created.session)}>{t('firstRun.continue')}</button></div>
          </>
        ) : (
          <div className="actions">
            <button type="button" disabled={busy} onClick={() => void createAuthority(created.session)}>{t('firstRun.retryAuthority')}</button>
            <button type="button" className="secondary" disabled={busy} onClick={() => onSignedIn(created.session)}>{t('firstRun.continueWithout')}</button>
          </div>
        )}
        <ErrorBox message={failure?.message ?? null} />
      </main>
    );
  }

  const identityForm = (
    <form onSubmit={createPerson} aria-describedby={`${ids}-rule`}>
      <label htmlFor="fr-name">{t('person.name')}<RequiredMark /></label>
      <input id="fr-name" required autoComplete="name" value={form.name} onChange={set('name')} />
      <label htmlFor="fr-email">{t('person.email')}<RequiredMark /></label>
      <input id="fr-email" type="email" required autoComplete="email" value={form.email} onChange={set('email')} aria-describedby={`${ids}-email`} />
      {pinned && <p id={`${ids}-email`} className="hint">{t('firstRun.emailHint')}</p>}
      <label htmlFor="fr-org">{t('person.org')}<RequiredMark /></label>
      <input id="fr-org" required value={form.org} onChange={set('org')} placeholder={t('firstRun.orgExample')} />
      <label htmlFor="fr-pass">{t('firstRun.passphrase')}<RequiredMark /></label>
      <input id="fr-pass" type="password" required autoComplete="new-password" value={form.passphrase} onChange={set('passphrase')} />
      <label htmlFor="fr-confirm">{t('firstRun.confirm')}<RequiredMark /></label>
      <input id="fr-confirm" type="password" required autoComplete="new-password" value={form.confirm} onChange={set('confirm')} />
      <p id={`${ids}-rule`} className="hint">{t('firstRun.passphraseRule')}</p>
      {pinned && <p className="hint">{t('firstRun.certifyLater')}</p>}
      <div className="actions">
        <button type="submit" disabled={busy || (officerPath && !authorityName.trim())}>
          {officerPath ? t('firstRun.createOfficer') : t('firstRun.createPerson')}
        </button>
        {onCancel && <button type="button" className="secondary" onClick={onCancel} disabled={busy}>{t('common.cancel')}</button>}
      </div>
      {busy && opId && <ProgressBar label={t('firstRun.creating')} progress={progress} />}
    </form>
  );

  const keyfileForm = (
    <form onSubmit={importKeyfile}>
      <p>{t('firstRun.keyfileIntro')}</p>
      <label htmlFor="fr-onetime">{t('firstRun.oneTime')}<RequiredMark /></label>
      <input id="fr-onetime" type="password" required autoComplete="off" value={form.oneTime} onChange={set('oneTime')}
        placeholder="xxxx-xxxx-xxxx-xxxx-xxxx-xxxx" aria-describedby={`${ids}-onetime`} />
      <p id={`${ids}-onetime`} className="hint">{t('firstRun.oneTimeHint')}</p>
      <label htmlFor="fr-kpass">{t('firstRun.newPassphrase')}<RequiredMark /></label>
      <input id="fr-kpass" type="password" required autoComplete="new-password" value={form.passphrase} onChange={set('passphrase')} />
      <label htmlFor="fr-kconfirm">{t('firstRun.confirm')}<RequiredMark /></label>
      <input id="fr-kconfirm" type="password" required autoComplete="new-password" value={form.confirm} onChange={set('confirm')} />
      <p className="hint">{t('firstRun.passphraseRule')}</p>
      <div className="actions">
        <button type="submit" disabled={busy}>{t('firstRun.chooseKeyfile')}</button>
        {onCancel && <button type="button" className="secondary" onClick={onCancel} disabled={busy}>{t('common.cancel')}</button>}
      </div>
      {busy && opId && <ProgressBar label={t('firstRun.installingKeys')} progress={progress} />}
    </form>
  );

  return (
    <main className="narrow">
      <Heading>{hasPerson ? t('firstRun.addTitle') : t('firstRun.title')}</Heading>
      {!hasPerson && <p>{t('firstRun.intro')}</p>}
      <ol className="steps">
        <li className={status.exists ? 'done' : 'current'} aria-current={status.exists ? undefined : 'step'}>
          <p className="step-count">{t('layout.steps.count', { n: 1, total: 3 })}</p>
          <h2>{t('firstRun.step1')}</h2>
          <p>{t('firstRun.profileWhere', { folder: baseName(status.home) })}</p>
          {status.exists
            ? <p className="ok">{t('firstRun.profileReady')}</p>
            : <button type="button" onClick={() => void createProfile()} disabled={busy}>{t('firstRun.createProfile')}</button>}
          <ErrorBox message={errorAt('profile')} />
        </li>
        <li className={pinned ? 'done' : status.exists ? 'current' : 'todo'} aria-current={!pinned && status.exists ? 'step' : undefined}>
          <p className="step-count">{t('layout.steps.count', { n: 2, total: 3 })}</p>
          <h2>{t('firstRun.step2')}</h2>
          {pinned ? (
            <p className="ok">{t('firstRun.authorityPinned', { name: status.authority!.name, fingerprint: status.authority!.fingerprint, serial: status.authority!.serial })}</p>
          ) : status.exists && (
            <>
              <fieldset>
                <legend>{t('firstRun.authorityQuestion')}</legend>
                <label className="choice"><input type="radio" name="authority-mode" checked={authorityMode === 'join'} onChange={() => setAuthorityMode('join')} /> {t('firstRun.modeJoin')}</label>
                <label className="choice"><input type="radio" name="authority-mode" checked={authorityMode === 'officer'} onChange={() => setAuthorityMode('officer')} /> {t('firstRun.modeOfficer')}</label>
              </fieldset>
              {authorityMode === 'join' ? (
                <form onSubmit={importDirectory}>
                  <p id={`${ids}-pin`}>{t('firstRun.pinInstructions')}</p>
                  <label htmlFor="fr-pin">{t('firstRun.pinLabel')}<RequiredMark /></label>
                  <input id="fr-pin" required autoComplete="off" spellCheck={false} value={pin} onChange={(e) => setPin(e.currentTarget.value)}
                    placeholder="XXXX-XXXX-XXXX-XXXX-XXXX" aria-describedby={`${ids}-pin`} />
                  <div className="actions"><button type="submit" disabled={busy || !pin.trim()}>{t('firstRun.chooseDirectory')}</button></div>
                  <ErrorBox message={errorAt('authority')} />
                  {pinMismatch && errorAt('authority') && <p className="hint">{t('firstRun.pinMismatchHint')}</p>}
                  <p className="hint">{t('firstRun.noAuthorityHint')}</p>
                </form>
              ) : (
                <>
                  <label htmlFor="fr-authority">{t('firstRun.authorityName')}<RequiredMark /></label>
                  <input id="fr-authority" required value={authorityName} onChange={(e) => setAuthorityName(e.currentTarget.value)}
                    placeholder={t('firstRun.authorityNameExample')} aria-describedby={`${ids}-officer`} />
                  <p id={`${ids}-officer`} className="hint">{t('firstRun.officerHint')}</p>
                </>
              )}
            </>
          )}
          <StatusBox>{notice}</StatusBox>
        </li>
        <li className={status.exists ? 'current' : 'todo'}>
          <p className="step-count">{t('layout.steps.count', { n: 3, total: 3 })}</p>
          <h2>{t('firstRun.step3')}</h2>
          {status.exists && pinned && !status.authority!.isAuthority && (
            <fieldset>
              <legend>{t('firstRun.enrolQuestion')}</legend>
              <label className="choice"><input type="radio" name="enrol-mode" checked={enrolMode === 'keyfile'} onChange={() => setEnrolMode('keyfile')} /> {t('firstRun.enrolKeyfile')}</label>
              <label className="choice"><input type="radio" name="enrol-mode" checked={enrolMode === 'create'} onChange={() => setEnrolMode('create')} /> {t('firstRun.enrolCreate')}</label>
            </fieldset>
          )}
          {status.exists && (pinned && enrolMode === 'keyfile' ? keyfileForm : identityForm)}
          <ErrorBox message={errorAt('identity')} />
        </li>
      </ol>
    </main>
  );
}
