// The SSI officer's console (shown only to a signed-in officer on the authority's workstation):
// certify a card, provision a person, revoke, export the signed directory. Every file is chosen in
// main's native dialogs. The provisioned key file's one-time passphrase is the one secret shown on
// screen: once, for the officer to dictate, and forgotten when its dialog closes.
import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api';
import { CertificateState, ErrorBox, Heading, Outside, StatusBox, baseName, useAction } from '../components/common';
import { forScreen } from '../../shared/text';
import { ROLE_NAMES, type Person, type Role } from '../../shared/ipc';

const DEFAULT_DAYS = 365;

function RoleAndDays({ prefix, role, days, onRole, onDays }: { prefix: string; role: Role; days: number; onRole: (r: Role) => void; onDays: (d: number) => void }) {
  const { t } = useTranslation();
  return (
    <div className="row">
      <div>
        <label htmlFor={`${prefix}-role`}>{t('officer.role')}</label>
        <select id={`${prefix}-role`} value={role} onChange={(e) => onRole(e.currentTarget.value as Role)}>
          {ROLE_NAMES.map((r) => <option key={r} value={r}>{t(`cert.role.${r}`)}</option>)}
        </select>
      </div>
      <div>
        <label htmlFor={`${prefix}-days`}>{t('officer.days')}</label>
        <input id={`${prefix}-days`} type="number" min={1} max={3660} required value={days} onChange={(e) => onDays(Number(e.currentTarget.value))} />
      </div>
    </div>
  );
}

/** The one-time passphrase, in a modal dialog: shown once, removed from memory on close. */
function OneTimeDialog({ name, passphrase, path, onClose }: { name: string; passphrase: string; path: string; onClose: () => void }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={titleId} className="secret" onCancel={(e) => { e.preventDefault(); onClose(); }}>
      <h2 id={titleId}>{t('officer.oneTimeTitle', { name: forScreen(name) })}</h2>
      <p>{t('officer.oneTimeSaved', { file: baseName(path) })}</p>
      <p className="warning-text">{t('officer.oneTimeWarning')}</p>
      <p className="fingerprint" aria-label={t('officer.oneTimeLabel')}><code data-testid="one-time">{passphrase}</code></p>
      <div className="actions"><button type="button" autoFocus onClick={onClose}>{t('officer.oneTimeDone')}</button></div>
    </dialog>
  );
}

export function Officer({ fingerprint }: { fingerprint: string | null }) {
  const { t } = useTranslation();
  const { busy, notice, error, setError, act } = useAction();
  const [certify, setCertify] = useState<{ role: Role; days: number }>({ role: 'operator', days: DEFAULT_DAYS });
  const [provision, setProvision] = useState({ name: '', email: '', org: '', role: 'reader' as Role, days: DEFAULT_DAYS });
  const [secret, setSecret] = useState<{ name: string; passphrase: string; path: string } | null>(null);
  const [people, setPeople] = useState<Person[]>([]);
  const [revokeId, setRevokeId] = useState('');
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);

  const load = useCallback(() => {
    call('identities:list', {}).then((r) => setPeople(r.people), (e: unknown) => setError(errorMessage(e)));
  }, []);
  useEffect(load, [load]);
  const revocable = people.filter((p) => p.certificate.state === 'valid' && p.certificate.role !== 'officer');


  const doCertify = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => {
      const result = await call('authority:certify', certify);
      if (result.status === 'cancelled') return null;
      load();
      return t('officer.certified', { name: forScreen(result.name), role: t(`cert.role.${result.role}`), file: baseName(result.path) });
    });
  };
  const doProvision = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => {
      const result = await call('authority:provision', provision);
      if (result.status === 'cancelled') return null;
      setSecret({ name: result.name, passphrase: result.oneTimePassphrase, path: result.path });
      setProvision({ ...provision, name: '', email: '' });
      load();
      return t('officer.provisioned', { name: forScreen(result.name), file: baseName(result.path) });
    });
  };
  const doRevoke = (event: FormEvent) => {
    event.preventDefault();
    if (!confirming) {
      setConfirming(true);
      return;
    }
    setConfirming(false);
    void act(async () => {
      const result = await call('authority:revoke', { id: revokeId, reason });
      setReason('');
      setRevokeId('');
      load();
      return t('officer.revoked', { name: forScreen(result.name) });
    });
  };
  const doExport = () => act(async () => {
    const result = await call('authority:exportDirectory', {});
    return result.status === 'done' ? t('officer.exported', { serial: result.serial, file: baseName(result.path) }) : null;
  });

  return (
    <main>
      <Heading>{t('officer.title')}</Heading>
      {fingerprint && <p>{t('officer.fingerprint')} <code className="fingerprint-inline">{fingerprint}</code></p>}
      <div className="grid2">
        <section className="panel" aria-labelledby="certify-title">
          <h2 id="certify-title">{t('officer.certifyTitle')}</h2>
          <p className="hint">{t('officer.certifyHint')}</p>
          <form onSubmit={doCertify}>
            <RoleAndDays prefix="certify" role={certify.role} days={certify.days}
              onRole={(role) => setCertify({ ...certify, role })} onDays={(days) => setCertify({ ...certify, days })} />
            <div className="actions"><button type="submit" disabled={busy}>{t('officer.certify')}</button></div>
          </form>
        </section>
        <section className="panel" aria-labelledby="provision-title">
          <h2 id="provision-title">{t('officer.provisionTitle')}</h2>
          <p className="hint">{t('officer.provisionHint')}</p>
          <form onSubmit={doProvision}>
            <label htmlFor="prov-name">{t('person.name')}</label>
            <input id="prov-name" required value={provision.name} onChange={(e) => setProvision({ ...provision, name: e.currentTarget.value })} />
            <label htmlFor="prov-email">{t('officer.mailbox')}</label>
            <input id="prov-email" type="email" required value={provision.email} onChange={(e) => setProvision({ ...provision, email: e.currentTarget.value })} />
            <label htmlFor="prov-org">{t('person.org')}</label>
            <input id="prov-org" required value={provision.org} onChange={(e) => setProvision({ ...provision, org: e.currentTarget.value })} />
            <RoleAndDays prefix="provision" role={provision.role} days={provision.days}
              onRole={(role) => setProvision({ ...provision, role })} onDays={(days) => setProvision({ ...provision, days })} />
            <div className="actions"><button type="submit" disabled={busy}>{t('officer.provision')}</button></div>
          </form>
        </section>
        <section className="panel" aria-labelledby="revoke-title">
          <h2 id="revoke-title">{t('officer.revokeTitle')}</h2>
          <form onSubmit={doRevoke}>
            <label htmlFor="revoke-who">{t('officer.revokeWho')}</label>
            <select id="revoke-who" required value={revokeId} onChange={(e) => { setRevokeId(e.currentTarget.value); setConfirming(false); }}>
              <option value="">{t('officer.revokeChoose')}</option>
              {revocable.map((p) => <option key={p.id} value={p.id}>{forScreen(`${p.name} — ${p.org}`)}</option>)}
            </select>
            <label htmlFor="revoke-reason">{t('officer.reason')}</label>
            <input id="revoke-reason" required maxLength={500} value={reason} onChange={(e) => setReason(e.currentTarget.value)} placeholder={t('officer.reasonExample')} />
            {confirming && <p className="warning" role="alert">{t('officer.revokeConfirm', { name: people.find((p) => p.id === revokeId)?.name ?? '' })}</p>}
            <div className="actions">
              <button type="submit" className="danger" disabled={busy || !revokeId || !reason.trim()}>{confirming ? t('officer.revokeConfirmButton') : t('officer.revoke')}</button>
              {confirming && <button type="button" className="secondary" onClick={() => setConfirming(false)}>{t('common.cancel')}</button>}
            </div>
          </form>
        </section>
        <section className="panel" aria-labelledby="export-title">
          <h2 id="export-title">{t('officer.exportTitle')}</h2>
          <p className="hint">{t('officer.exportHint')}</p>
          <div className="actions"><button type="button" onClick={() => void doExport()} disabled={busy}>{t('officer.export')}</button></div>
        </section>
      </div>
      <table>
        <caption>{t('officer.issuedCaption')}</caption>
        <thead><tr><th scope="col">{t('person.name')}</th><th scope="col">{t('person.org')}</th><th scope="col">{t('directory.certificate')}</th></tr></thead>
        <tbody>
          {people.filter((p) => p.certificate.state !== 'none').map((p) => (
            <tr key={p.id}><td><Outside text={p.name} /></td><td><Outside text={p.org} /></td><td><CertificateState certificate={p.certificate} /></td></tr>
          ))}
        </tbody>
      </table>
      <StatusBox>{notice}</StatusBox>
      <ErrorBox message={error} />
      {secret && <OneTimeDialog name={secret.name} passphrase={secret.passphrase} path={secret.path} onClose={() => setSecret(null)} />}
    </main>
  );
}
