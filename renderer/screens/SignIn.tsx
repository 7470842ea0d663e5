// Sign in: choose your name, type your passphrase. The keys are unlocked in main; the interface
// gets back only your id and name.
import { useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, newOpId } from '../api';
import { ErrorBox, Heading, ProgressBar, useProgress } from '../components/common';
import type { ResponseOf, SessionInfo } from '../../shared/ipc';

export function SignIn({ status, onSignedIn, onNewPerson }: {
  status: ResponseOf<'profile:status'>; onSignedIn: (session: SessionInfo) => void; onNewPerson: () => void;
}) {
  const { t } = useTranslation();
  const people = status.ownIdentities;
  const [id, setId] = useState(people[0]?.id ?? '');
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [opId, setOpId] = useState<string | null>(null);
  const progress = useProgress(opId);
  const field = useRef<HTMLInputElement>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const op = newOpId();
    setOpId(op);
    try {
      const session = await call('session:signIn', { opId: op, id, passphrase });
      setPassphrase('');
      onSignedIn(session);
    } catch (e) {
      setPassphrase('');
      setError(errorMessage(e));
      field.current?.focus();
    } finally {
      setOpId(null);
    }
  };

  return (
    <main className="narrow">
      <Heading>{t('signIn.title')}</Heading>
      <form onSubmit={submit}>
        <fieldset>
          <legend>{t('signIn.who')}</legend>
          {people.map((p) => (
            <label key={p.id} className="choice">
              <input type="radio" name="person" value={p.id} checked={id === p.id} onChange={() => setId(p.id)} />
              {' '}{p.name} <span className="muted">— {p.org}</span>
            </label>
          ))}
        </fieldset>
        <label htmlFor="signin-pass">{t('signIn.passphrase')}</label>
        <input id="signin-pass" ref={field} type="password" required autoComplete="current-password" autoFocus
          value={passphrase} onChange={(e) => setPassphrase(e.currentTarget.value)} />
        <div className="actions">
          <button type="submit" disabled={opId !== null || !id}>{t('signIn.submit')}</button>
          <button type="button" className="secondary" onClick={onNewPerson}>{t('signIn.newPerson')}</button>
        </div>
        {opId && <ProgressBar label={t('signIn.unlocking')} progress={progress} />}
      </form>
      <ErrorBox message={error} />
      <p className="hint">{t('signIn.forgotten')}</p>
    </main>
  );
}
