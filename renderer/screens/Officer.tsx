// The SSI officer's console (shown only to a signed-in officer on the authority's workstation):
// certify a card, provision a person, revoke, export the signed directory; publish it with one
// button (its transport said before the click) and follow each workstation's acknowledgement
// (issue 17); set the officer's contact the directory carries (issue 15's Help). Every file is chosen in
// main's native dialogs. The provisioned key file's one-time passphrase is the one secret shown on
// screen: once, for the officer to dictate, and forgotten when its dialog closes.
import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, onMailEvent } from '../api';
import { CertificateState, ErrorBox, Heading, Outside, RequiredMark, StatusBox, baseName, useAction, useFormat, useHoldWhile, useNewest } from '../components/common';
import { forScreen } from '../../shared/text';
import { ROLE_NAMES, type Person, type ResponseOf, type Role } from '../../shared/ipc';
import { describeError, type ErrorText } from '../errors';

type Console = ResponseOf<'authority:console'>;

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
        <label htmlFor={`${prefix}-days`}>{t('officer.days')}<RequiredMark /></label>
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
  // Until « J'ai noté », nothing may replace the screen under it (a .pli offered, a notification).
  useHoldWhile(true);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  // Closed as a dialog first (its modal state ends, the page behind is usable again), then removed:
  // the screen can then give the focus back to the button that opened it (RGAA 12.8).
  const close = () => {
    ref.current?.close();
    onClose();
  };
  return (
    <dialog ref={ref} aria-labelledby={titleId} className="secret" onCancel={(e) => { e.preventDefault(); close(); }}>
      <h2 id={titleId}>{t('officer.oneTimeTitle', { name: forScreen(name) })}</h2>
      <p>{t('officer.oneTimeSaved', { file: baseName(path) })}</p>
      <p className="warning-text">{t('officer.oneTimeWarning')}</p>
      <p className="fingerprint" aria-label={t('officer.oneTimeLabel')}><code data-testid="one-time">{passphrase}</code></p>
      <div className="actions"><button type="button" autoFocus onClick={close}>{t('officer.oneTimeDone')}</button></div>
    </dialog>
  );
}

/** A workstation's acknowledgement in words and an icon (never colour alone). */
function AckState({ behind }: { behind: number | null }) {
  const { t } = useTranslation();
  if (behind === null) return <span className="badge refused"><span aria-hidden="true">✗ </span>{t('officer.stateNever')}</span>;
  if (behind === 0) return <span className="badge verified"><span aria-hidden="true">✓ </span>{t('officer.stateCurrent')}</span>;
  return <span className="badge unusual"><span aria-hidden="true">⚠ </span>{t('officer.stateBehind', { count: behind })}</span>;
}

/** Per organisation: each workstation's last acknowledged serial, when, and how far behind. */
function Acknowledgements({ data }: { data: Console }) {
  const { t } = useTranslation();
  const format = useFormat();
  if (data.organisations.length === 0) return <p className="hint">{t('officer.acksNone')}</p>;
  return (
    <table className="acks" data-testid="acks">
      <caption>{t('officer.acksCaption', { serial: data.serial })}</caption>
      <thead><tr>
        <th scope="col">{t('officer.colOrg')}</th><th scope="col">{t('officer.colWorkstation')}</th><th scope="col">{t('officer.colSerial')}</th>
        <th scope="col">{t('officer.colWhen')}</th><th scope="col">{t('officer.colState')}</th>
      </tr></thead>
      <tbody>
        {data.organisations.flatMap((o) => (o.workstations.length === 0
          ? [<tr key={o.org}><th scope="row"><Outside text={o.org} /></th><td colSpan={3}>{t('officer.neverDetail', { date: format.day(o.publishedAt), serial: o.published })}</td><td><AckState behind={null} /></td></tr>]
          : o.workstations.map((w, i) => (
            <tr key={`${o.org}/${w.name}/${i}`}>
              <th scope="row"><Outside text={o.org} /></th>
              <td><Outside text={w.name} /></td>
              <td>{t('officer.ackSerial', { serial: w.serial })}</td>
              <td>{t('officer.ackWhen', { date: format.day(w.at), time: format.time(w.at) })}</td>
              <td><AckState behind={w.behind} /></td>
            </tr>
          ))))}
      </tbody>
    </table>
  );
}

/** The officer's contact the next directory carries (signed by the authority when saved). */
function ContactForm({ data, busy, notice, error, onSave }: { data: Console; busy: boolean; notice: string | null; error: ErrorText; onSave: (c: { name: string; phone: string; mail: string }) => void }) {
  const { t } = useTranslation();
  const pending = data.contact.pending;
  const published = data.contact.published;
  const [form, setForm] = useState(pending.state === 'valid' ? { name: pending.name, phone: pending.phone, mail: pending.mail } : { name: '', phone: '', mail: '' });
  const same = pending.state === 'valid' && published.state === 'valid' && pending.name === published.name && pending.phone === published.phone && pending.mail === published.mail;
  return (
    <section className="panel" aria-labelledby="contact-title">
      <h2 id="contact-title">{t('officer.contactTitle')}</h2>
      <p className="hint">{t('officer.contactHint')}</p>
      {published.state === 'valid' && <p data-testid="contact-published">{t('officer.contactPublished', { name: forScreen(published.name), phone: forScreen(published.phone), mail: forScreen(published.mail) })}</p>}
      {published.state === 'none' && pending.state !== 'valid' && <p>{t('officer.contactNone')}</p>}
      {pending.state === 'valid' && !same && <p className="warning-text">{t('officer.contactNotPublished')}</p>}
      {(pending.state === 'unverified' || published.state === 'unverified') && <p className="warning" role="alert">{t('officer.contactUnverified')}</p>}
      <form onSubmit={(e) => { e.preventDefault(); onSave(form); }}>
        <label htmlFor="contact-name">{t('officer.contactName')}<RequiredMark /></label>
        <input id="contact-name" required maxLength={200} value={form.name} onChange={(e) => setForm({ ...form, name: e.currentTarget.value })} />
        <div className="row">
          <div>
            <label htmlFor="contact-phone">{t('officer.contactPhone')}<RequiredMark /></label>
            <input id="contact-phone" type="text" inputMode="tel" autoComplete="tel" required maxLength={40} value={form.phone} onChange={(e) => setForm({ ...form, phone: e.currentTarget.value })} />
          </div>
          <div>
            <label htmlFor="contact-mail">{t('officer.contactMail')}<RequiredMark /></label>
            <input id="contact-mail" type="email" required maxLength={254} value={form.mail} onChange={(e) => setForm({ ...form, mail: e.currentTarget.value })} />
          </div>
        </div>
        <div className="actions"><button type="submit" className="secondary" disabled={busy}>{t('officer.contactSave')}</button></div>
      </form>
      <StatusBox>{notice}</StatusBox>
      <ErrorBox message={error} />
    </section>
  );
}

export function Officer({ fingerprint }: { fingerprint: string | null }) {
  const { t, i18n } = useTranslation();
  const { busy, notice, error, setError, act, actOnce } = useAction();
  const [certify, setCertify] = useState<{ role: Role; days: number }>({ role: 'operator', days: DEFAULT_DAYS });
  const [provision, setProvision] = useState({ name: '', email: '', org: '', role: 'reader' as Role, days: DEFAULT_DAYS });
  const [secret, setSecret] = useState<{ name: string; passphrase: string; path: string } | null>(null);
  const [people, setPeople] = useState<Person[]>([]);
  const [revokeId, setRevokeId] = useState('');
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);

  const [consoleData, setConsoleData] = useState<Console | null>(null);
  // After a revocation or a certification: offer to publish at once, beside its confirmation.
  const [offerPublish, setOfferPublish] = useState(false);
  const publishing = useAction();
  const contact = useAction();
  const format = useFormat();
  // Asked again after each action and on every outbox event: the newest answers win (an older
  // console would put back an older contact, and reset its form).
  const newest = useNewest();
  const load = useCallback(() => {
    const isNewest = newest();
    call('identities:list', {}).then((r) => { if (isNewest()) setPeople(r.people); }, (e: unknown) => { if (isNewest()) setError(errorMessage(e)); });
    call('authority:console', {}).then((r) => { if (isNewest()) setConsoleData(r); }, (e: unknown) => { if (isNewest()) setError(errorMessage(e)); });
  }, [newest]);
  useEffect(load, [load]);
  // An acknowledgement received by the watcher is announced as an outbox change: reload the table.
  useEffect(() => onMailEvent((event) => { if (event.type === 'outbox') load(); }), [load]);
  const revocable = people.filter((p) => p.certificate.state === 'valid' && p.certificate.role !== 'officer');


  // The action buttons stay focusable while busy (aria-disabled, actOnce): disabled, they dropped
  // the focus, which nothing gave back (RGAA 12.8).
  const provisionButton = useRef<HTMLButtonElement>(null);
  const doCertify = (event: FormEvent) => {
    event.preventDefault();
    void actOnce(async () => {
      const result = await call('authority:certify', certify);
      if (result.status === 'cancelled') return null;
      load();
      setOfferPublish(true);
      return t('officer.certified', { name: forScreen(result.name), role: t(`cert.role.${result.role}`), file: baseName(result.path) });
    });
  };
  const doProvision = (event: FormEvent) => {
    event.preventDefault();
    void actOnce(async () => {
      const result = await call('authority:provision', provision);
      if (result.status === 'cancelled') return null;
      setSecret({ name: result.name, passphrase: result.oneTimePassphrase, path: result.path });
      setProvision({ ...provision, name: '', email: '' });
      load();
      return t('officer.provisioned', { name: forScreen(result.name), file: baseName(result.path) });
    });
  };
  // A revocation cannot be undone: the form's submit (Enter in a field, a click on « Révoquer »)
  // only asks; the confirmation is a click on its own button, which Enter pressed twice or held
  // down (the focus goes to « Annuler »), or a double click on « Révoquer… », never reaches.
  const cancelRevoke = useRef<HTMLButtonElement>(null);
  // The two buttons replaced by others: the focus goes to what is there after (RGAA 12.8), « Révoquer… »
  // after « Annuler », the list of people after the confirmation (« Révoquer… » is inactive then).
  const askRevokeButton = useRef<HTMLButtonElement>(null);
  const revokeWho = useRef<HTMLSelectElement>(null);
  const focusAfterAsk = useRef<'ask' | 'who' | null>(null);
  useEffect(() => {
    if (confirming) cancelRevoke.current?.focus();
    else if (focusAfterAsk.current) (focusAfterAsk.current === 'ask' ? askRevokeButton : revokeWho).current?.focus();
    focusAfterAsk.current = null;
  }, [confirming]);
  const askRevoke = (event: FormEvent) => {
    event.preventDefault();
    setConfirming(true);
  };
  const doRevoke = () => {
    focusAfterAsk.current = 'who';
    setConfirming(false);
    void act(async () => {
      const result = await call('authority:revoke', { id: revokeId, reason });
      setReason('');
      setRevokeId('');
      load();
      setOfferPublish(true);
      return t('officer.revoked', { name: forScreen(result.name) });
    });
  };
  const doExport = () => actOnce(async () => {
    const result = await call('authority:exportDirectory', {});
    return result.status === 'done' ? t('officer.exported', { serial: result.serial, file: baseName(result.path) }) : null;
  });

  const doPublish = () => publishing.act(async () => {
    setOfferPublish(false);
    const result = await call('authority:publish', {});
    if (result.status === 'cancelled') return null;
    load();
    const count = result.orgs.length;
    if (result.transport === 'folder') return t('officer.publishedFolder', { serial: result.serial, count, folder: baseName(result.folder ?? '') });
    // Not sent: the server's refusal (or silence) says whether it goes again by itself or what to do;
    // « Il repartira tout seul » only where nothing was said.
    if (result.pending > 0) {
      return result.sendError
        ? t('officer.publishedNotSent', { serial: result.serial, error: describeError(result.sendError).message })
        : t('officer.publishedPending', { serial: result.serial });
    }
    return t('officer.publishedMail', { serial: result.serial, count });
  });
  const doContact = (fields: { name: string; phone: string; mail: string }) => contact.act(async () => {
    const saved = await call('authority:setContact', fields);
    load();
    return t('officer.contactSaved', { name: forScreen(saved.name) });
  });
  const orgList = (data: Console) => new Intl.ListFormat(i18n.language === 'en' ? 'en-GB' : 'fr-FR', { type: 'conjunction' }).format(data.targets.map((o) => forScreen(o.org)));
  const soon = consoleData && consoleData.freshness !== 'fresh';

  return (
    <main>
      {soon && (
        <div className="banner officer-banner" role="note" data-testid="publish-banner">
          {t(consoleData.freshness === 'soon' ? 'officer.bannerSoon' : 'officer.bannerStale', { date: format.day(consoleData.nextUpdate) })}
          {' '}<button type="button" onClick={() => void doPublish()} disabled={publishing.busy || consoleData.targets.length === 0}>{t('officer.publishNow')}</button>
        </div>
      )}
      <Heading>{t('officer.title')}</Heading>
      {fingerprint && <p>{t('officer.fingerprint')} <code className="fingerprint-inline">{fingerprint}</code></p>}
      <section className="panel" aria-labelledby="publish-title">
        <h2 id="publish-title">{t('officer.publishTitle')}</h2>
        {consoleData && (consoleData.targets.length === 0
          ? <p className="hint">{t('officer.publishNobody')}</p>
          : <p className="hint" data-testid="publish-plan">{t(consoleData.transport === 'mail' ? 'officer.publishByMail' : 'officer.publishByFolder', { count: consoleData.targets.length, list: orgList(consoleData) })}</p>)}
        <div className="actions">
          <button type="button" onClick={() => void doPublish()} disabled={publishing.busy || !consoleData || consoleData.targets.length === 0}>{t('officer.publish')}</button>
        </div>
        <StatusBox>{publishing.notice}</StatusBox>
        <ErrorBox message={publishing.error} />
        {consoleData && <Acknowledgements data={consoleData} />}
      </section>
      <div className="grid2">
        <section className="panel" aria-labelledby="certify-title">
          <h2 id="certify-title">{t('officer.certifyTitle')}</h2>
          <p className="hint">{t('officer.certifyHint')}</p>
          <form onSubmit={doCertify}>
            <RoleAndDays prefix="certify" role={certify.role} days={certify.days}
              onRole={(role) => setCertify({ ...certify, role })} onDays={(days) => setCertify({ ...certify, days })} />
            <div className="actions"><button type="submit" aria-disabled={busy}>{t('officer.certify')}</button></div>
          </form>
        </section>
        <section className="panel" aria-labelledby="provision-title">
          <h2 id="provision-title">{t('officer.provisionTitle')}</h2>
          <p className="hint">{t('officer.provisionHint')}</p>
          <form onSubmit={doProvision}>
            <label htmlFor="prov-name">{t('person.name')}<RequiredMark /></label>
            <input id="prov-name" required value={provision.name} onChange={(e) => setProvision({ ...provision, name: e.currentTarget.value })} />
            <label htmlFor="prov-email">{t('officer.mailbox')}<RequiredMark /></label>
            <input id="prov-email" type="email" required value={provision.email} onChange={(e) => setProvision({ ...provision, email: e.currentTarget.value })} />
            <label htmlFor="prov-org">{t('person.org')}<RequiredMark /></label>
            <input id="prov-org" required value={provision.org} onChange={(e) => setProvision({ ...provision, org: e.currentTarget.value })} />
            <RoleAndDays prefix="provision" role={provision.role} days={provision.days}
              onRole={(role) => setProvision({ ...provision, role })} onDays={(days) => setProvision({ ...provision, days })} />
            <div className="actions"><button type="submit" ref={provisionButton} aria-disabled={busy}>{t('officer.provision')}</button></div>
          </form>
        </section>
        <section className="panel" aria-labelledby="revoke-title">
          <h2 id="revoke-title">{t('officer.revokeTitle')}</h2>
          <form onSubmit={askRevoke}>
            <label htmlFor="revoke-who">{t('officer.revokeWho')}<RequiredMark /></label>
            <select id="revoke-who" ref={revokeWho} required value={revokeId} onChange={(e) => { setRevokeId(e.currentTarget.value); setConfirming(false); }}>
              <option value="">{t('officer.revokeChoose')}</option>
              {revocable.map((p) => <option key={p.id} value={p.id}>{forScreen(`${p.name} — ${p.org}`)}</option>)}
            </select>
            <label htmlFor="revoke-reason">{t('officer.reason')}<RequiredMark /></label>
            <input id="revoke-reason" required maxLength={500} value={reason} onChange={(e) => setReason(e.currentTarget.value)} placeholder={t('officer.reasonExample')} />
            {confirming && <p className="warning" role="alert">{t('officer.revokeConfirm', { name: people.find((p) => p.id === revokeId)?.name ?? '' })}</p>}
            <div className="actions">
              {/* Asking, « Annuler » comes first: « Confirmer » is never where « Révoquer… » was, so a
                  double click on « Révoquer… » only asks. Keyed,
                  so that React makes new buttons: a button it kept and retyped during a click would
                  then be a submit button, and the browser would submit the form after the click. */}
              {confirming ? <>
                <button key="cancel" type="button" className="secondary" ref={cancelRevoke} onClick={() => { focusAfterAsk.current = 'ask'; setConfirming(false); }}>{t('common.cancel')}</button>
                <button key="confirm" type="button" className="danger" onClick={doRevoke} disabled={busy || !revokeId || !reason.trim()}>{t('officer.revokeConfirmButton')}</button>
              </> : <button key="ask" type="submit" className="danger" ref={askRevokeButton} disabled={busy || !revokeId || !reason.trim()}>{t('officer.revoke')}</button>}
            </div>
          </form>
        </section>
        {consoleData && <ContactForm key={consoleData.contact.pending.state === 'valid' ? consoleData.contact.pending.at : 0} data={consoleData} busy={contact.busy} notice={contact.notice} error={contact.error} onSave={(c) => void doContact(c)} />}
        <section className="panel" aria-labelledby="export-title">
          <h2 id="export-title">{t('officer.exportTitle')}</h2>
          <p className="hint">{t('officer.exportHint')}</p>
          <div className="actions"><button type="button" onClick={() => void doExport()} aria-disabled={busy}>{t('officer.export')}</button></div>
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
      {offerPublish && notice && (
        <p className="actions">{t('officer.afterChange')} <button type="button" onClick={() => void doPublish()} disabled={publishing.busy}>{t('officer.publishNow')}</button></p>
      )}
      <ErrorBox message={error} />
      {secret && <OneTimeDialog name={secret.name} passphrase={secret.passphrase} path={secret.path} onClose={() => { setSecret(null); provisionButton.current?.focus(); }} />}
    </main>
  );
}
