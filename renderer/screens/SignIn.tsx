// Sign in: choose your name from the nominative list, type your passphrase. The keys are unlocked
// in main; the interface gets back only your id and name. Once an authority is pinned, a person
// without a valid certificate cannot sign in: the screen says why and how to get certified
// (export the card for the officer, then install the certificate received).
import { useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, newOpId } from '../api';
import { CertificateState, ErrorBox, Heading, Outside, ProgressBar, RequiredMark, StatusBox, baseName, useProgress } from '../components/common';
import type { ResponseOf, SessionInfo } from '../../shared/ipc';
import type { ErrorText } from '../errors';

export function SignIn({ status, notices, onSignedIn, onNewPerson, onChanged }: {
  status: ResponseOf<'profile:status'>; onSignedIn: (session: SessionInfo) => void; onNewPerson: () => void; onChanged: () => void;
  /** App's notices (why the session was locked, a file waiting): after the h1, inside <main>. */
  notices?: ReactNode;
}) {
  const { t } = useTranslation();
  const people = status.ownIdentities;
  const [id, setId] = useState(people[0]?.id ?? '');
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<ErrorText>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [opId, setOpId] = useState<string | null>(null);
  const progress = useProgress(opId);
  const field = useRef<HTMLInputElement>(null);
  const authority = status.authority;
  const selected = people.find((p) => p.id === id);
  const pending = authority !== null && selected !== undefined && selected.certificate.state !== 'valid';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setNotice(null);
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

  const exportCard = async () => {
    setError(null);
    setNotice(null);
    try {
      const result = await call('identities:exportCard', { id });
      if (result.status === 'done') setNotice(t('signIn.cardExported', { name: selected?.name ?? '', file: baseName(result.path) }));
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const installCertificate = async () => {
    setError(null);
    setNotice(null);
    try {
      const result = await call('identities:installCertificate', {});
      if (result.status === 'done') {
        setNotice(t('signIn.certificateInstalled', { name: result.name, role: t(`cert.role.${result.role}`) }));
        onChanged();
      }
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <main className="narrow">
      <Heading>{t('signIn.title')}</Heading>
      {notices}
      {authority && <p className="hint">{t('signIn.list', { name: authority.name })}</p>}
      <form onSubmit={submit}>
        <fieldset>
          <legend>{t('signIn.who')}</legend>
          {people.map((p) => (
            <label key={p.id} className="choice">
              <input type="radio" name="person" value={p.id} checked={id === p.id} onChange={() => { setId(p.id); setError(null); }} />
              {' '}<Outside text={p.name} /> <span className="muted">— <Outside text={p.org} /></span>
              {authority && <span className="muted"> — <CertificateState certificate={p.certificate} /></span>}
            </label>
          ))}
        </fieldset>
        <label htmlFor="signin-pass">{t('signIn.passphrase')}<RequiredMark /></label>
        <input id="signin-pass" ref={field} type="password" required autoComplete="current-password" autoFocus
          value={passphrase} onChange={(e) => setPassphrase(e.currentTarget.value)} />
        <div className="actions">
          <button type="submit" disabled={opId !== null || !id}>{t('signIn.submit')}</button>
          <button type="button" className="secondary" onClick={onNewPerson}>{t('signIn.newPerson')}</button>
        </div>
        {opId && <ProgressBar label={t('signIn.unlocking')} progress={progress} />}
      </form>
      {pending && selected && (
        <section className="panel" aria-labelledby="pending-title">
          <h2 id="pending-title">{t('signIn.pendingTitle', { name: selected.name })}</h2>
          <p>{t('signIn.pendingExplain', { name: selected.name })}</p>
          <ol>
            <li>{t('signIn.pendingStep1')} <button type="button" className="link" onClick={() => void exportCard()}>{t('signIn.exportCard')}</button></li>
            <li>{t('signIn.pendingStep2')} <button type="button" className="link" onClick={() => void installCertificate()}>{t('signIn.installCertificate')}</button></li>
          </ol>
        </section>
      )}
      <StatusBox>{notice}</StatusBox>
      <ErrorBox message={error} />
      <p className="hint">{t('signIn.forgotten')}</p>
    </main>
  );
}
