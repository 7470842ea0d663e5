// One container: what its public header says, then, once opened with the signed-in person's keys,
// the files written into the chosen folder (signature verified before anything is moved there).
// A password container asks for its password; the signed-in person opens it all the same (their
// role is checked, and they are named in the audit log).
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, newOpId } from '../api';
import { CertificateState, ErrorBox, Heading, Outside, ProgressBar, shortId, useFormat, useProgress, useStartOnce } from '../components/common';
import { forScreen } from '../../shared/text';
import { OpenedFiles } from '../components/OpenedFiles';
import type { ContainerSummary, ResponseOf } from '../../shared/ipc';
import type { ErrorText } from '../errors';

type Opened = Extract<ResponseOf<'containers:open'>, { status: 'done' }>;

/** `offerRef`: a .pli handed to Pli from outside, opened by its reference (main keeps the path). */
export function ContainerView({ summary, onBack, offerRef }: { summary: ContainerSummary; onBack: () => void; offerRef?: string | undefined }) {
  const { t } = useTranslation();
  const format = useFormat();
  const [error, setError] = useState<ErrorText>(null);
  const [opId, setOpId] = useState<string | null>(null);
  const progress = useProgress(opId);
  const [opened, setOpened] = useState<Opened | null>(null);
  const [password, setPassword] = useState('');
  const needsPassword = summary.passwordProtected;
  const blocker = opId !== null ? 'busy' : needsPassword && password.length === 0 ? 'password' : null;

  // Held: the files written, or why not, show here before the screen may change.
  const start = useStartOnce();
  const open = async () => {
    setError(null);
    const op = newOpId();
    setOpId(op);
    try {
      const secret = needsPassword ? { password } : {};
      const result = offerRef
        ? await call('offered:open', { opId: op, ref: offerRef, ...secret })
        : await call('containers:open', { opId: op, path: summary.path, ...secret });
      if (result.status === 'done') {
        setOpened(result);
        setPassword('');
      }
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setOpId(null);
    }
  };
  const reveal = (path: string) => void call('shell:showInFolder', { path }).catch((e: unknown) => setError(errorMessage(e)));

  return (
    <main>
      <Heading>{t('container.title', { name: forScreen(summary.fileName) })}</Heading>
      <dl className="facts">
        <dt>{t('container.sender')}</dt>
        <dd>{summary.senderName
          ? <><Outside text={summary.senderName} /> <span className="muted">— <Outside text={summary.senderOrg} /></span></>
          : <span className="warning-text">{t('container.unknownSender')}</span>}</dd>
        {summary.senderCertificate && <><dt>{t('container.senderCertificate')}</dt><dd><CertificateState certificate={summary.senderCertificate} /></dd></>}
        <dt>{t('container.senderKey')}</dt>
        <dd><code>{summary.senderKey}</code></dd>
        <dt>{t('container.created')}</dt>
        <dd>{format.date(summary.createdMs)} <span className="muted">{t('container.senderClock')}</span></dd>
        <dt>{t('container.recipients')}</dt>
        <dd>{summary.passwordProtected ? t('container.password') : summary.recipients}</dd>
        <dt>{t('container.size')}</dt>
        <dd>{format.size(summary.size)}</dd>
        <dt>{t('container.id')}</dt>
        <dd><code title={summary.containerId}>{shortId(summary.containerId)}</code></dd>
      </dl>
      {!opened && (
        <section className="panel">
          <p>{t('container.namesHidden')}</p>
          {needsPassword && (
            <div className="field">
              <label htmlFor="container-password">{t('container.passwordLabel')}</label>
              <input id="container-password" type="password" autoComplete="off" spellCheck={false} value={password}
                onChange={(e) => setPassword(e.currentTarget.value)} aria-describedby="container-password-hint" />
              <p id="container-password-hint" className="hint">{t('container.passwordHint')}</p>
            </div>
          )}
          <div className="actions">
            <button type="button" onClick={() => start(open)} disabled={blocker !== null} aria-describedby={blocker ? 'open-reason' : undefined}>{t('container.open')}</button>
            <button type="button" className="secondary" onClick={onBack} disabled={opId !== null}>{t('common.back')}</button>
          </div>
          {blocker && <p id="open-reason" className="reason">{t('layout.reason.label')} {t(`layout.reason.${blocker}`)}</p>}
          {opId && <ProgressBar label={t('container.opening')} progress={progress} />}
        </section>
      )}
      {opened && (
        <section className="panel">
          <OpenedFiles opened={opened} onReveal={reveal}>
            <button type="button" className="secondary" onClick={onBack}>{t('container.backToInbox')}</button>
          </OpenedFiles>
        </section>
      )}
      <ErrorBox message={error} />
    </main>
  );
}
