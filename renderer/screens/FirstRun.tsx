// First run of the workstation: create the profile, then the first person (keys protected by a
// passphrase); the SSI authority step is shown as pending until that service exists.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, newOpId } from '../api';
import { ErrorBox, Heading, ProgressBar, useProgress } from '../components/common';
import type { ResponseOf, SessionInfo } from '../../shared/ipc';

type Status = ResponseOf<'profile:status'>;

export function FirstRun({ status, onChanged, onSignedIn, onCancel }: {
  status: Status; onChanged: () => void; onSignedIn: (session: SessionInfo) => void; onCancel?: () => void;
}) {
  const { t } = useTranslation();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [opId, setOpId] = useState<string | null>(null);
  const progress = useProgress(opId);
  const [form, setForm] = useState({ name: '', email: '', org: '', passphrase: '', confirm: '' });
  const set = (key: keyof typeof form) => (e: { currentTarget: HTMLInputElement }) => setForm({ ...form, [key]: e.currentTarget.value });

  const createProfile = async () => {
    setError(null);
    setBusy(true);
    try {
      await call('profile:init', {});
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const createPerson = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    if (form.passphrase !== form.confirm) {
      setError(t('firstRun.mismatch'));
      return;
    }
    const id = newOpId();
    setOpId(id);
    setBusy(true);
    try {
      const result = await call('identities:create', { opId: id, name: form.name, email: form.email, org: form.org, passphrase: form.passphrase });
      setForm({ ...form, passphrase: '', confirm: '' });
      onSignedIn(result.session);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
      setOpId(null);
    }
  };

  const hasPerson = status.ownIdentities.length > 0;
  return (
    <main className="narrow">
      <Heading>{hasPerson ? t('firstRun.addTitle') : t('firstRun.title')}</Heading>
      {!hasPerson && <p>{t('firstRun.intro')}</p>}
      <ol className="steps">
        <li className={status.exists ? 'done' : 'current'}>
          <h2>{t('firstRun.step1')}</h2>
          <p>{t('firstRun.profileWhere', { home: status.home })}</p>
          {status.exists
            ? <p className="ok">{t('firstRun.profileReady')}</p>
            : <button type="button" onClick={createProfile} disabled={busy}>{t('firstRun.createProfile')}</button>}
        </li>
        <li className={status.exists ? 'current' : 'todo'}>
          <h2>{t('firstRun.step2')}</h2>
          {status.exists && (
            <form onSubmit={createPerson} aria-describedby="passphrase-rule">
              <label htmlFor="fr-name">{t('person.name')}</label>
              <input id="fr-name" required autoComplete="name" value={form.name} onChange={set('name')} />
              <label htmlFor="fr-email">{t('person.email')}</label>
              <input id="fr-email" type="email" required autoComplete="email" value={form.email} onChange={set('email')} />
              <label htmlFor="fr-org">{t('person.org')}</label>
              <input id="fr-org" required value={form.org} onChange={set('org')} placeholder={t('firstRun.orgExample')} />
              <label htmlFor="fr-pass">{t('firstRun.passphrase')}</label>
              <input id="fr-pass" type="password" required autoComplete="new-password" value={form.passphrase} onChange={set('passphrase')} />
              <label htmlFor="fr-confirm">{t('firstRun.confirm')}</label>
              <input id="fr-confirm" type="password" required autoComplete="new-password" value={form.confirm} onChange={set('confirm')} />
              <p id="passphrase-rule" className="hint">{t('firstRun.passphraseRule')}</p>
              <div className="actions">
                <button type="submit" disabled={busy}>{t('firstRun.createPerson')}</button>
                {onCancel && <button type="button" className="secondary" onClick={onCancel} disabled={busy}>{t('common.cancel')}</button>}
              </div>
              {busy && <ProgressBar label={t('firstRun.creating')} progress={progress} />}
            </form>
          )}
          <p className="pending">{t('firstRun.importPending')}</p>
        </li>
        <li className="pending-step">
          <h2>{t('firstRun.step3')}</h2>
          <p className="pending">{t('firstRun.authorityPending')}</p>
        </li>
      </ol>
      <ErrorBox message={error} />
    </main>
  );
}
