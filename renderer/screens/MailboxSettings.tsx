// Settings → functional mailbox: IMAP and SMTP servers (implicit TLS or STARTTLS, never plain),
// the mailbox login and password (sent once to main, never shown again; left empty on edit it
// stays unchanged), an optional internal CA chosen in main's dialog, the maximum message size,
// and "test the connection", which says in plain words what works and what does not.
import { useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api';
import { ErrorBox, ProgressBar, RequiredMark, StatusBox, TechnicalDetails, useStartOnce } from '../components/common';
import type { EndpointInput, MailboxView, ProbeLine } from '../../shared/ipc';
import type { ErrorText } from '../errors';

const PROBE_CODES = ['tls-untrusted', 'no-tls', 'mail-auth', 'server-unreachable', 'server-unavailable', 'server-error'];

function EndpointFields({ which, value, onChange }: { which: 'imap' | 'smtp'; value: EndpointInput; onChange: (v: EndpointInput) => void }) {
  const { t } = useTranslation();
  const id = useId();
  return (
    <fieldset>
      <legend>{t(`mailbox.${which}Legend`)}</legend>
      <div className="endpoint">
        <div>
          <label htmlFor={`${id}-host`}>{t(`mailbox.${which}Host`)}<RequiredMark /></label>
          <input id={`${id}-host`} type="text" required autoComplete="off" spellCheck={false} value={value.host}
            onChange={(e) => onChange({ ...value, host: e.currentTarget.value })} />
        </div>
        <div>
          <label htmlFor={`${id}-port`}>{t(`mailbox.${which}Port`)}<RequiredMark /></label>
          <input id={`${id}-port`} type="number" required min={1} max={65535} value={value.port || ''}
            onChange={(e) => onChange({ ...value, port: Number(e.currentTarget.value) })} />
        </div>
        <div>
          <label htmlFor={`${id}-mode`}>{t(`mailbox.${which}Mode`)}</label>
          <select id={`${id}-mode`} value={value.mode} onChange={(e) => onChange({ ...value, mode: e.currentTarget.value === 'starttls' ? 'starttls' : 'tls' })}>
            <option value="tls">{t('mailbox.modeTls')}</option>
            <option value="starttls">{t('mailbox.modeStarttls')}</option>
          </select>
        </div>
      </div>
    </fieldset>
  );
}

export function MailboxSettings({ onSaved }: { onSaved: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [saved, setSaved] = useState<MailboxView | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [imap, setImap] = useState<EndpointInput>({ host: '', port: 993, mode: 'tls' });
  const [smtp, setSmtp] = useState<EndpointInput>({ host: '', port: 587, mode: 'starttls' });
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [ca, setCa] = useState<'keep' | 'none' | 'chosen'>('keep');
  const [caFile, setCaFile] = useState<string | null>(null);
  const [maxMb, setMaxMb] = useState('25');
  const [error, setError] = useState<ErrorText>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [testing, setTesting] = useState(false);
  const [lines, setLines] = useState<ProbeLine[] | null>(null);

  const fill = (view: MailboxView | null) => {
    setSaved(view);
    if (view) {
      setImap(view.imap);
      setSmtp(view.smtp);
      setUser(view.user);
      setMaxMb(String(view.maxMessageBytes / 1_000_000).replace('.', ','));
    }
    setCa('keep');
    setCaFile(null);
    setPassword('');
  };
  useEffect(() => {
    call('mailbox:get', {}).then((r) => { fill(r.settings); setLoaded(true); }, (e: unknown) => setError(errorMessage(e)));
  }, []);

  const chooseCa = async () => {
    setError(null);
    try {
      const result = await call('mailbox:chooseCa', {});
      if (result.status === 'done') {
        setCa('chosen');
        setCaFile(result.fileName);
      }
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  // A save and a test, one at a time: a second save while the first waits on the watcher's stop
  // (up to 3 s) would be overwritten by the first one's older settings, its password lost.
  const start = useStartOnce();
  const [saving, setSaving] = useState(false);
  const save = async () => {
    setError(null);
    setStatus(null);
    setLines(null);
    const mb = Number(maxMb.replace(',', '.'));
    if (!Number.isFinite(mb) || mb < 0.1 || mb > 2000) {
      setError(t('mailbox.maxSizeInvalid'));
      return;
    }
    if (!saved && !password) {
      setError(t('mailbox.passwordRequired'));
      return;
    }
    setSaving(true);
    try {
      const result = await call('mailbox:set', {
        imap: { ...imap, host: imap.host.trim() }, smtp: { ...smtp, host: smtp.host.trim() }, user: user.trim(),
        ...(password ? { password } : {}), ca, maxMessageMb: mb,
      });
      fill(result.settings);
      setStatus(t('mailbox.saved', { user: result.settings.user }));
      onSaved();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setSaving(false);
    }
  };

  const test = async () => {
    setError(null);
    setStatus(null);
    setLines(null);
    setTesting(true);
    try {
      const result = await call('mailbox:test', {});
      setLines(result.lines);
      setStatus(result.lines.every((l) => l.ok) ? t('mailbox.testAllOk') : null);
      if (!result.lines.every((l) => l.ok)) setError(t('mailbox.testSomeFailed'));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setTesting(false);
    }
  };

  const headline = (line: ProbeLine) => {
    if (line.ok) return t('mailbox.probe.ok', { what: line.what });
    const code = line.code && PROBE_CODES.includes(line.code) ? line.code : 'other';
    return t(`mailbox.probe.fail.${code}`, { what: line.what });
  };

  if (!loaded) return <section className="panel"><h2>{t('settings.mailboxTitle')}</h2><p>{t('common.loading')}</p><ErrorBox message={error} /></section>;
  return (
    <form className="panel" onSubmit={(event: FormEvent) => { event.preventDefault(); start(save); }} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('settings.mailboxTitle')}</h2>
      <p className="hint">{saved ? t('mailbox.configured', { user: saved.user }) : t('mailbox.intro')}</p>
      <EndpointFields which="imap" value={imap} onChange={setImap} />
      <EndpointFields which="smtp" value={smtp} onChange={setSmtp} />
      <p className="hint">{t('mailbox.modeHint')}</p>
      <label htmlFor={`${id}-user`}>{t('mailbox.user')}<RequiredMark /></label>
      <input id={`${id}-user`} type="text" required autoComplete="off" spellCheck={false} value={user} onChange={(e) => setUser(e.currentTarget.value)} />
      <label htmlFor={`${id}-password`}>{t('mailbox.password')}{!saved && <RequiredMark />}</label>
      <input id={`${id}-password`} type="password" autoComplete="new-password" value={password} required={!saved}
        placeholder={saved ? t('mailbox.passwordUnchanged') : ''} aria-describedby={`${id}-password-hint`}
        onChange={(e) => setPassword(e.currentTarget.value)} />
      <p id={`${id}-password-hint`} className="hint">{saved ? t('mailbox.passwordKeepHint') : t('mailbox.passwordHint')}</p>
      <fieldset>
        <legend>{t('mailbox.caLegend')}</legend>
        <p>{ca === 'chosen' && caFile ? t('mailbox.caChosen', { name: caFile })
          : ca === 'none' || !saved?.privateCa ? t('mailbox.caNone') : t('mailbox.caSaved')}</p>
        <div className="actions">
          <button type="button" className="secondary" onClick={chooseCa}>{t('mailbox.chooseCa')}</button>
          {(saved?.privateCa || ca === 'chosen') && ca !== 'none' && (
            <button type="button" className="secondary" onClick={() => { setCa('none'); setCaFile(null); }}>{t('mailbox.removeCa')}</button>
          )}
        </div>
        <p className="hint">{t('mailbox.caHint')}</p>
      </fieldset>
      <label htmlFor={`${id}-max`}>{t('mailbox.maxSize')}<RequiredMark /></label>
      <input id={`${id}-max`} type="text" inputMode="decimal" required value={maxMb} onChange={(e) => setMaxMb(e.currentTarget.value)} aria-describedby={`${id}-max-hint`} />
      <p id={`${id}-max-hint`} className="hint">{t('mailbox.maxSizeHint')}</p>
      <div className="actions">
        <button type="submit" disabled={saving || testing}>{t('mailbox.save')}</button>
        <button type="button" className="secondary" onClick={() => start(test)} disabled={!saved || testing || saving} aria-describedby={!saved ? `${id}-test-reason` : undefined}>{t('mailbox.test')}</button>
        {!saved && <span id={`${id}-test-reason`} className="reason">{t('layout.reason.label')} {t('layout.reason.saveFirst')}</span>}
      </div>
      {testing && <ProgressBar label={t('mailbox.testing')} progress={null} />}
      {lines && (
        <ul className="probe" aria-label={t('mailbox.testResults')}>
          {lines.map((line) => (
            <li key={line.what} className={line.ok ? 'ok' : 'warning-text'}>
              <strong>{line.ok ? t('mailbox.works') : t('mailbox.fails')}</strong> {headline(line)}
              {/* The core's line quotes the server's own words (often English): folded away, for IT support. */}
              {!line.ok && <TechnicalDetails text={line.text} />}
            </li>
          ))}
        </ul>
      )}
      <StatusBox>{status}</StatusBox>
      <ErrorBox message={error} />
    </form>
  );
}
