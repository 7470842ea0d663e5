// A new container: files (picked or dropped), recipients from the directory (a whole organisation,
// resolved in main to its certified members, or people), then sealing into a .pli saved where the
// person chooses, or sending: by the functional mailbox (to the recipients' mailboxes, then the
// outbox) or into a folder (USB key). Unusual and macro-enabled files are flagged before sending;
// with an authority, people without a valid certificate are shown but cannot be chosen, with the reason.
// Instead of people, a container may be protected by a password: only a generated one (made in
// main, 100 random bits), shown once, to copy or note before sealing, then forgotten here.
// One primary action, the transport chosen in a clear control, the reason beside it while it is
// inactive (issue 15). The draft (file names and paths, recipients, choices; never the password)
// lives in App, so that the idle lock keeps it.
// Under a convention (issue 14 §6, docs/convention.md 12): choosing it and a period (begun, not all
// sent; the current one first, the late ones marked) fills the recipients (the other parties'
// habilitated people) and the documents; a file of a format the convention does not provide for
// is refused at once beside the list, with the reason. Only early feedback: the core checks the
// send again (planConventionSend) before anything is sealed. « Sans convention » stays possible.
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, newOpId } from '../api';
import { CertificateState, ErrorBox, FilePicker, Heading, Outside, ProgressBar, StatusBox, baseName, useFormat, useProgress, useStartOnce, type PickedFile } from '../components/common';
import { fileRisk } from '../../shared/filetypes';
import type { DirectoryWarningView, Person, ResponseOf } from '../../shared/ipc';
import { describeError, type ErrorText, type ShownError } from '../errors';
import { useCalendarWords } from './Calendar';

type Sealed = Extract<ResponseOf<'containers:encrypt'>, { status: 'done' }>;
type Choices = ResponseOf<'containers:conventionChoices'>;
/** The convention chosen for the container ('' id: sans convention). */
export interface ConventionDraft { id: string; period: string; documents: string[]; subject: string }
/** The Calendrier's « à envoyer » link: a convention and a period chosen in advance. */
export interface ConventionPreset { convention: string; period: string }

/** The extension as the core compares it (lower case, with its dot; '' without one). */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
}

export type SentNotice = { kind: 'status'; text: string } | { kind: 'error'; text: ShownError } | { kind: 'waiting'; text: ShownError };

export type Transport = 'mail' | 'folder' | 'save';
/** What the idle lock keeps of a container being prepared: no file content, no password. */
export interface Draft { files: PickedFile[]; to: string[]; orgs: string[]; self: boolean; protection: 'people' | 'password'; transport: Transport; convention?: ConventionDraft }

export function NewContainer({ onDirectory, authority, mailbox, onSent, draft = null, restored = false, onDraft, preset = null }: {
  onDirectory: () => void; authority: boolean; mailbox: boolean; onSent: (notice: SentNotice) => void;
  draft?: Draft | null; restored?: boolean; onDraft?: (draft: Draft | null) => void; preset?: ConventionPreset | null;
}) {
  const { t } = useTranslation();
  const format = useFormat();
  // The directory past its next update arrives as data (kind, dates): worded here, like the banner.
  const warningText = (w: DirectoryWarningView) => t(`directory.freshness.${w.kind === 'directory-expired' ? 'expired' : 'stale'}`, {
    next: format.day(w.nextUpdate), refuse: format.day(w.refuseAfter),
  });
  const [files, setFiles] = useState<PickedFile[]>(draft?.files ?? []);
  const [people, setPeople] = useState<Person[] | null>(null);
  const [to, setTo] = useState<string[]>(draft?.to ?? []);
  const [orgs, setOrgs] = useState<string[]>(draft?.orgs ?? []);
  const [self, setSelf] = useState(draft?.self ?? true);
  const [transport, setTransport] = useState<Transport>(draft?.transport ?? (mailbox ? 'mail' : 'save'));
  const [confirmed, setConfirmed] = useState(false);
  const [error, setError] = useState<ErrorText>(null);
  const [opId, setOpId] = useState<string | null>(null);
  const progress = useProgress(opId);
  const [sealed, setSealed] = useState<Sealed | null>(null);
  const [protection, setProtection] = useState<'people' | 'password'>(draft?.protection ?? 'people');
  /** The generated password, kept only until the container is sealed or another is asked for. */
  const [password, setPassword] = useState<string | null>(null);
  const [noted, setNoted] = useState(false);
  const [copied, setCopied] = useState(false);
  const words = useCalendarWords();
  const [choices, setChoices] = useState<Choices | null>(null);
  const [under, setUnder] = useState<ConventionDraft>(preset
    ? { id: preset.convention, period: preset.period, documents: [], subject: '' }
    : draft?.convention ?? { id: '', period: '', documents: [], subject: '' });

  // The draft follows every change (App keeps it across the idle lock); nothing chosen, no draft.
  const draftRef = useRef(onDraft);
  draftRef.current = onDraft;
  useEffect(() => {
    const empty = files.length === 0 && to.length === 0 && orgs.length === 0 && under.id === '';
    draftRef.current?.(empty ? null : { files, to, orgs, self, protection, transport, ...(under.id ? { convention: under } : {}) });
  }, [files, to, orgs, self, protection, transport, under]);

  useEffect(() => {
    call('identities:list', {}).then((r) => setPeople(r.people.filter((p) => !p.own)), (e: unknown) => setError(errorMessage(e)));
  }, []);
  // The conventions this person may send under; a failure leaves « Sans convention » only, and says
  // why (a preset from the Calendrier, or a draft's convention, would otherwise vanish unexplained).
  useEffect(() => {
    call('containers:conventionChoices', {}).then(setChoices, (e: unknown) => {
      setChoices({ today: '', conventions: [] });
      setError(errorMessage(e));
    });
  }, []);
  const chosen = choices?.conventions.find((c) => c.id === under.id && c.habilitated) ?? null;
  /** Choosing a convention or a period fills the documents still expected for that period. */
  const choose = (id: string, wanted?: string) => {
    const c = choices?.conventions.find((x) => x.id === id && x.habilitated);
    if (!c) {
      setUnder((u) => ({ ...u, id: '', period: '', documents: [] }));
      return;
    }
    const p = c.periods.find((x) => x.period === wanted) ?? c.periods[0];
    const open = p?.documents.filter((d) => d.state === 'upcoming' || d.state === 'due' || d.state === 'late').map((d) => d.document) ?? [];
    setUnder((u) => ({ ...u, id: c.id, period: p?.period ?? '', documents: open.length > 0 ? open : [...c.expect] }));
    if (transport === 'save') setTransport(mailbox ? 'mail' : 'folder');
  };
  // Once the choices arrive: the preset (Calendrier) or the draft's convention, filled in; one this
  // person cannot send under falls back to « Sans convention ».
  const applied = useRef(false);
  useEffect(() => {
    if (!choices || applied.current) return;
    applied.current = true;
    if (!under.id) return;
    const c = choices.conventions.find((x) => x.id === under.id && x.habilitated);
    if (!c) setUnder({ id: '', period: '', documents: [], subject: '' });
    else if (preset || !c.periods.some((p) => p.period === under.period)) choose(c.id, under.period);
  }, [choices]); // once, when the choices arrive (the ref keeps it so)
  const period = chosen?.periods.find((p) => p.period === under.period) ?? null;
  /** Why a file cannot go under the chosen convention (null: its format is provided for). */
  const typeRefusal = (name: string): string | null => {
    if (!chosen) return null;
    const extension = extensionOf(name);
    if (chosen.types.includes(extension)) return null;
    const types = chosen.types.join(', ');
    return extension ? t('conventionSend.typeRefused', { extension, types }) : t('conventionSend.typeMissing', { types });
  };

  // A file removed: the focus goes to the next one's « Retirer » (the last one's, at the end of the
  // list), or to the file picker once the list is empty; never lost with the removed button (RGAA 12.8).
  const filesSection = useRef<HTMLElement>(null);
  const [removedAt, setRemovedAt] = useState<{ index: number } | null>(null);
  useEffect(() => {
    if (!removedAt || !filesSection.current) return;
    const buttons = filesSection.current.querySelectorAll<HTMLElement>('ul.files > li > button');
    (buttons[Math.min(removedAt.index, buttons.length - 1)] ?? filesSection.current.querySelector<HTMLElement>('input[type=file]'))?.focus();
  }, [removedAt]);
  const remove = (index: number) => {
    setFiles(files.filter((_, i) => i !== index));
    setRemovedAt({ index });
  };

  const add = (picked: PickedFile[]) => {
    setSealed(null);
    setFiles((current) => [...current, ...picked.filter((p) => !current.some((c) => c.path === p.path))]);
  };
  const risky = files.filter((f) => fileRisk(f.name) === 'macro' || fileRisk(f.name) === 'executable');
  const eligible = (p: Person) => !authority || p.certificate.state === 'valid';
  const organisations = [...new Set((people ?? []).map((p) => p.org))].sort((a, b) => a.localeCompare(b, 'fr'))
    .map((name) => ({ name, members: (people ?? []).filter((p) => p.org === name && eligible(p)).length }));
  const recipients = [...orgs.map((o) => `org:${o}`), ...to];
  const underBlocker = !under.id ? null
    : !choices ? 'busy'
      : !chosen ? 'conventionSend.reason.notListed'
      : files.some((f) => typeRefusal(f.name) !== null) ? 'conventionSend.reason.typeNotAllowed'
        : !period ? 'conventionSend.reason.noPeriod'
          : under.documents.length === 0 ? 'conventionSend.reason.noDocument'
            : under.subject.trim().length > 200 ? 'conventionSend.reason.subject'
              : chosen.recipients.length === 0 ? 'conventionSend.reason.noRecipient'
                : transport === 'save' ? 'conventionSend.reason.saveOnly'
                  : transport === 'mail' && !mailbox ? 'noMailbox' : null;
  // The one reason the primary action is inactive, said beside it (null: ready).
  const blocker = opId !== null ? 'busy'
    : files.length === 0 ? 'noFiles'
      : risky.length > 0 && !confirmed ? 'confirmRisk'
        : under.id ? underBlocker
        : protection === 'password'
          ? (transport !== 'save' ? 'passwordSaveOnly' : password === null || !noted ? 'passwordNotNoted' : null)
          : recipients.length === 0 ? 'noRecipient'
            : transport === 'mail' && !mailbox ? 'noMailbox' : null;

  const generate = async () => {
    setError(null);
    setNoted(false);
    setCopied(false);
    try {
      setPassword((await call('containers:generatePassword', {})).password);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const copy = async () => {
    if (!password) return;
    try {
      await navigator.clipboard.writeText(password);
      setCopied(true);
    } catch {
      setError(t('newContainer.copyFailed'));
    }
  };

  const seal = async () => {
    setError(null);
    const op = newOpId();
    setOpId(op);
    try {
      const withPassword = protection === 'password' && password !== null;
      const result = await call('containers:encrypt', withPassword
        ? { opId: op, files: files.map((f) => f.path), to: [], self: false, password }
        : { opId: op, files: files.map((f) => f.path), to: recipients, self });
      if (result.status === 'done') {
        setSealed(result);
        setFiles([]);
        setConfirmed(false);
        if (withPassword) {
          // Shown once: the person has noted it; nothing keeps it on this side any longer.
          setPassword(null);
          setNoted(false);
          setCopied(false);
        }
      }
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setOpId(null);
    }
  };
  const send = async (transport: 'mail' | 'folder') => {
    setError(null);
    setSealed(null);
    const op = newOpId();
    setOpId(op);
    try {
      // Under a convention, no `to`: the core sends to the other parties' habilitated people.
      const subject = under.subject.trim();
      const result = await call('outbox:send', chosen
        ? { opId: op, files: files.map((f) => f.path), to: [], self, transport, convention: { id: chosen.id, period: under.period, documents: under.documents, ...(subject ? { subject } : {}) } }
        : { opId: op, files: files.map((f) => f.path), to: recipients, self, transport });
      if (result.status === 'done') {
        setFiles([]);
        setConfirmed(false);
        setUnder({ id: '', period: '', documents: [], subject: '' });
        // Under a convention, what it was filed under, in words (the outbox and `pli due` count it so).
        const filed = result.convention ? ` ${t('conventionSend.filed', { documents: words.list(result.convention.documents), period: words.period(result.convention.period) })}` : '';
        const warnings = (result.warnings.length > 0 ? ` ${result.warnings.map(warningText).join(' ')}` : '') + filed;
        const notSent = result.sendError ? describeError(result.sendError) : null;
        // A send the outbox will retry by itself is waiting, not an error; a deposit is "sur la clé".
        onSent(notSent
          ? { kind: 'waiting', text: { message: t('layout.send.waiting', { error: notSent.message }), detail: notSent.detail } }
          : { kind: 'status', text: t(transport === 'mail' ? 'newContainer.sent' : 'layout.send.deposited', { destinations: (transport === 'folder' ? result.destinations.map((d) => `«\u00a0${baseName(d)}\u00a0»`) : result.destinations).join(', '), size: format.size(result.size) }) + warnings });
      }
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setOpId(null);
    }
  };
  // One seal or send at a time, the screen held until it has answered: its outcome, or its error, shows here.
  const start = useStartOnce();
  const nameOf = (id: string) => people?.find((p) => p.id === id)?.name ?? t('newContainer.me');

  return (
    <main>
      <Heading>{t('newContainer.title')}</Heading>
      {restored && draft && <p className="notice info" role="status">{t('layout.idle.draftRestored')}</p>}
      <section className="panel" ref={filesSection}>
        <h2>{t('newContainer.filesTitle')}</h2>
        <FilePicker testId="add-files" label={t('newContainer.choose')} hint={t('newContainer.dropHint')} multiple onFiles={add} />
        {files.length > 0 && (
          <ul className="files" aria-label={t('newContainer.filesTitle')}>
            {files.map((file, index) => {
              const risk = fileRisk(file.name);
              return (
                <li key={file.path}>
                  <span className="file-name">{file.name}</span> <span className="muted">{format.size(file.size)}</span>
                  {risk !== 'usual' && <span className={`badge ${risk}`}>{t(`risk.${risk}`)}</span>}
                  {typeRefusal(file.name) && <span className="type-refused" role="alert" data-testid="type-refused"><span aria-hidden="true">⚠ </span>{typeRefusal(file.name)}</span>}
                  <button type="button" className="link" onClick={() => remove(index)}
                    aria-label={t('newContainer.removeNamed', { name: file.name })}>{t('newContainer.remove')}</button>
                </li>
              );
            })}
          </ul>
        )}
        {files.some((f) => fileRisk(f.name) === 'unusual') && <p className="warning-text">{t('risk.unusualExplain')}</p>}
        {risky.length > 0 && (
          <div className="warning" role="note">
            <p>{t('risk.macroExplain', { names: risky.map((f) => f.name).join(', ') })}</p>
            <label className="choice"><input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.currentTarget.checked)} /> {t('risk.confirm')}</label>
          </div>
        )}
      </section>
      {choices && choices.conventions.length > 0 && (
        <section className="panel" aria-labelledby="convention-title">
          <h2 id="convention-title">{t('conventionSend.legend')}</h2>
          <p className="hint">{t('conventionSend.intro')}</p>
          <label htmlFor="send-convention">{t('conventionSend.label')}</label>{' '}
          <select id="send-convention" value={chosen ? chosen.id : ''} onChange={(e) => { setSealed(null); choose(e.currentTarget.value); }}>
            <option value="">{t('conventionSend.none')}</option>
            {choices.conventions.map((c) => (
              <option key={c.id} value={c.id} disabled={!c.habilitated}>{c.habilitated ? c.title : t('conventionSend.notListed', { title: c.title })}</option>
            ))}
          </select>
          {chosen && (chosen.periods.length === 0 ? <p className="empty">{t('conventionSend.noPeriod')}</p> : (
            <>
              <p>
                <label htmlFor="send-period">{t('conventionSend.period')}</label>{' '}
                <select id="send-period" className="period-select" value={under.period} onChange={(e) => choose(chosen.id, e.currentTarget.value)}>
                  {chosen.periods.map((p) => (
                    <option key={p.period} value={p.period}>
                      {t('conventionSend.periodOption', { period: words.period(p.period), due: words.day(p.due) })}{p.late ? ` — ⚠ ${t('conventionSend.late')}` : ''}
                    </option>
                  ))}
                </select>
                {period?.late && <span className="badge due-late"><span aria-hidden="true">⚠ </span>{t('conventionSend.late')}</span>}
              </p>
              <fieldset>
                <legend>{t('conventionSend.documents')}</legend>
                {chosen.expect.map((document) => {
                  const state = period?.documents.find((d) => d.document === document)?.state;
                  return (
                    <label key={document} className="choice">
                      <input type="checkbox" checked={under.documents.includes(document)}
                        onChange={(e) => { const on = e.currentTarget.checked; setUnder((u) => ({ ...u, documents: on ? [...u.documents, document] : u.documents.filter((d) => d !== document) })); }} />
                      {' '}<Outside text={document} />{state && <span className="muted"> — {words.state(state)}</span>}
                    </label>
                  );
                })}
              </fieldset>
              <p>
                <label htmlFor="send-subject">{t('conventionSend.subject')}</label>{' '}
                <input id="send-subject" type="text" maxLength={200} value={under.subject} aria-describedby="send-subject-hint"
                  onChange={(e) => { const subject = e.currentTarget.value; setUnder((u) => ({ ...u, subject })); }} />
                <span id="send-subject-hint" className="hint block">{t('conventionSend.subjectHint')}</span>
              </p>
            </>
          ))}
        </section>
      )}
      {chosen ? (
        <section className="panel" aria-labelledby="convention-recipients">
          <h2 id="convention-recipients">{t('conventionSend.recipients')}</h2>
          {chosen.recipients.length === 0 ? <p className="warning-text">{t('conventionSend.noRecipient')}</p> : (
            <ul data-testid="convention-recipients">
              {chosen.recipients.map((r) => (
                <li key={r.id}><Outside text={r.name} /> <span className="muted">— <Outside text={r.function} /> — <Outside text={r.org} /></span></li>
              ))}
            </ul>
          )}
          <p className="hint">{t('conventionSend.recipientsHint')}</p>
          <label className="choice"><input type="checkbox" checked={self} onChange={(e) => setSelf(e.currentTarget.checked)} /> {t('newContainer.self')}</label>
        </section>
      ) : (
      <section className="panel">
        <h2>{t('newContainer.recipientsTitle')}</h2>
        <fieldset>
          <legend>{t('newContainer.protectionLegend')}</legend>
          <label className="choice"><input type="radio" name="protection" checked={protection === 'people'} onChange={() => setProtection('people')} /> {t('newContainer.protectionPeople')}</label>
          <label className="choice"><input type="radio" name="protection" checked={protection === 'password'} onChange={() => { setProtection('password'); setSealed(null); }} /> {t('newContainer.protectionPassword')}</label>
        </fieldset>
        {protection === 'password' ? (
          <div className="password-panel" data-testid="password-panel">
            <p className="hint">{t('newContainer.passwordExplain')}</p>
            <button type="button" className="secondary" onClick={() => void generate()} disabled={opId !== null}>
              {password ? t('newContainer.passwordAgain') : t('newContainer.passwordGenerate')}
            </button>
            {password && !noted && (
              <div className="warning" role="note">
                <p>{t('newContainer.passwordShownOnce')}</p>
                <p><code data-testid="generated-password" className="password">{password}</code>{' '}
                  <button type="button" className="link" onClick={() => void copy()}>{copied ? t('newContainer.passwordCopied') : t('newContainer.passwordCopy')}</button></p>
                <label className="choice"><input type="checkbox" checked={noted} onChange={(e) => setNoted(e.currentTarget.checked)} /> {t('newContainer.passwordNoted')}</label>
              </div>
            )}
            {password && noted && <p className="muted">{t('newContainer.passwordHidden')}</p>}
          </div>
        ) : people === null ? <p>{t('common.loading')}</p> : people.length === 0 ? (
          <p className="empty">{t('newContainer.noCorrespondent')} <button type="button" className="link" onClick={onDirectory}>{t('newContainer.goDirectory')}</button></p>
        ) : (
          <>
            <fieldset>
              <legend>{t('newContainer.orgLegend')}</legend>
              {organisations.map((o) => (
                <label key={o.name} className={o.members === 0 ? 'choice disabled' : 'choice'}>
                  <input type="checkbox" checked={orgs.includes(o.name)} disabled={o.members === 0}
                    onChange={(e) => { const on = e.currentTarget.checked; setOrgs((c) => on ? [...c, o.name] : c.filter((x) => x !== o.name)); }} />
                  {' '}{t('newContainer.wholeOrg', { org: o.name })}{' '}
                  <span className="muted">{o.members === 0 ? t('newContainer.orgEmpty') : t(authority ? 'newContainer.orgMembers' : 'newContainer.orgPeople', { count: o.members })}</span>
                </label>
              ))}
            </fieldset>
            <fieldset>
              <legend>{t('newContainer.recipientsLegend')}</legend>
              {people.map((p) => (
                <label key={p.id} className={eligible(p) ? 'choice' : 'choice disabled'}>
                  <input type="checkbox" checked={to.includes(p.id)} disabled={!eligible(p)}
                    onChange={(e) => { const on = e.currentTarget.checked; setTo((c) => on ? [...c, p.id] : c.filter((x) => x !== p.id)); }} />
                  {' '}<Outside text={p.name} /> <span className="muted">— <Outside text={p.org} /> — {t('directory.fingerprint')} <code>{p.fingerprint}</code></span>
                  {' '}<span className={p.voiceCheck ? 'badge voice-checked' : 'badge voice-unchecked'}>{t(p.voiceCheck ? 'layout.voice.badgeChecked' : 'layout.voice.badgeUnchecked')}</span>
                  {!eligible(p) && <span className="reason"> — {t('newContainer.notEligible')} <CertificateState certificate={p.certificate} /></span>}
                </label>
              ))}
            </fieldset>
          </>
        )}
        {protection === 'people' && <label className="choice"><input type="checkbox" checked={self} onChange={(e) => setSelf(e.currentTarget.checked)} /> {t('newContainer.self')}</label>}
      </section>
      )}
      <section className="panel" aria-labelledby="transport-title">
        <h2 id="transport-title">{t('layout.send.legend')}</h2>
        <fieldset className="transport">
          <legend className="visually-hidden">{t('layout.send.legend')}</legend>
          {(['mail', 'folder', 'save'] as const).map((option) => (
            <label key={option} className={chosen && option === 'save' ? 'choice disabled' : 'choice'}>
              <input type="radio" name="transport" value={option} checked={transport === option} onChange={() => setTransport(option)} disabled={chosen !== null && option === 'save'} />
              {' '}{t(`layout.send.${option}`)}
              <span className="hint block">{chosen && option === 'save' ? t('conventionSend.saveHint') : t(`layout.send.${option}Hint`)}</span>
            </label>
          ))}
        </fieldset>
        <div className="actions">
          {/* Inactive, yet focusable (aria-disabled, not disabled): after a seal, which empties the list,
              the focus stays here instead of being lost (RGAA 12.8), and the reason beside it is read. */}
          <button type="button" onClick={() => { if (blocker === null) start(() => (transport === 'save' ? seal() : send(transport))); }} aria-disabled={blocker !== null}
            aria-describedby={blocker ? 'send-reason' : undefined}>
            {t(transport === 'mail' ? 'newContainer.sendMail' : transport === 'folder' ? 'newContainer.sendFolder' : 'newContainer.seal')}
          </button>
          {blocker && <p id="send-reason" className="reason">{t('layout.reason.label')} {t(blocker.includes('.') ? blocker : `layout.reason.${blocker}`)}</p>}
        </div>
      </section>
      {opId && <ProgressBar label={progress?.phase === 'send' ? t('newContainer.sending') : t('newContainer.sealing')} progress={progress} />}
      <StatusBox>{sealed && (
        <>
          {sealed.recipients.length === 0
            ? t('newContainer.sealedPassword', { file: baseName(sealed.out), size: format.size(sealed.size) })
            : t('newContainer.sealed', { file: baseName(sealed.out), size: format.size(sealed.size), names: sealed.recipients.map(nameOf).join(', ') })}{' '}
          {sealed.warnings.map((w) => <span key={w.kind} className="warning-text">{warningText(w)} </span>)}
          <button type="button" className="link" onClick={() => void call('shell:showInFolder', { path: sealed.out }).catch((e: unknown) => setError(errorMessage(e)))}>{t('common.showInFolder')}</button>
        </>
      )}</StatusBox>
      <ErrorBox message={error} />
    </main>
  );
}
