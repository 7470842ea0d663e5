// The directory: the pinned SSI authority and the freshness of its signed directory, the
// nominative list of this workstation's people, and everyone known here with their certificate
// (state, role, expiry) and fingerprints. Without an authority, cards are self-signed and
// fingerprints are checked aloud. A correspondent's or the authority's fingerprint can be marked
// "vérifiée de vive voix, le …, par …" (issue 15): main records it, sealed and audited; the
// confirmation shows where the button was.
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api';
import { CertificateState, ErrorBox, FilePicker, Heading, Outside, StatusBox, baseName, useFocusAfterRender, useFormat, useStartOnce } from '../components/common';
import type { Person, ResponseOf, VoiceCheckView } from '../../shared/ipc';
import type { ErrorText } from '../errors';
import { forScreen } from '../../shared/text';

type Status = ResponseOf<'profile:status'>;
type Habilitated = ResponseOf<'directory:people'>['people'][number];

export function Directory({ status, onChanged }: { status: Status; onChanged: () => void }) {
  const { t } = useTranslation();
  const format = useFormat();
  const [people, setPeople] = useState<Person[] | null>(null);
  const [list, setList] = useState<Habilitated[] | null>(null);
  const [error, setError] = useState<ErrorText>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const authority = status.authority;
  /** The fingerprint being read aloud (subject: an identity id, or 'authority'). */
  const [checking, setChecking] = useState<{ subject: string; name: string; fingerprint: string } | null>(null);
  const [voiceNotice, setVoiceNotice] = useState<{ subject: string; text: string } | null>(null);
  const [voiceError, setVoiceError] = useState<{ subject: string; error: ErrorText } | null>(null);

  const start = useStartOnce(); // a double click records one voice check, not two
  // The panel takes the focus when it opens; « Annuler » gives it back to the button, the
  // confirmation to the outcome beside it (the panel is gone, the button too): RGAA 12.8.
  const focusSoon = useFocusAfterRender();
  const voiceIds = (subject: string) => ({ box: `voice-${subject}`, panel: `voice-${subject}-panel`, button: `voice-${subject}-button` });
  const confirmVoice = async () => {
    if (!checking) return;
    const { subject, name, fingerprint } = checking;
    setVoiceError(null);
    try {
      await call('directory:voiceCheck', { subject, fingerprint });
      setChecking(null);
      focusSoon(voiceIds(subject).box);
      setVoiceNotice({ subject, text: t('layout.voice.done', { name }) });
      load();
      if (subject === 'authority') onChanged();
    } catch (e) {
      setVoiceError({ subject, error: errorMessage(e) });
    }
  };
  const voiceState = (check: VoiceCheckView | null | undefined) => (check
    ? <span className="voice-checked-text">{t('layout.voice.checked', { date: format.day(check.at), name: forScreen(check.byName) })}</span>
    : <span className="voice-unchecked-text">{t('layout.voice.unchecked')}</span>);
  /** The button, or the read-aloud panel, and the outcome, for one subject: all in one place. */
  const voiceControl = (subject: string, name: string, fingerprint: string, checked: boolean): ReactNode => (
    <div className="voice" id={voiceIds(subject).box} tabIndex={-1}>
      {checking?.subject === subject ? (
        <div className="voice-panel" role="group" aria-label={t('layout.voice.markNamed', { name })} id={voiceIds(subject).panel} tabIndex={-1}>
          <p>{t('layout.voice.explain', { name })}</p>
          <p className="fingerprint"><code>{fingerprint}</code></p>
          <div className="actions">
            <button type="button" onClick={() => start(confirmVoice)}>{t('layout.voice.confirm')}</button>
            <button type="button" className="secondary" onClick={() => { setChecking(null); focusSoon(voiceIds(subject).button); }}>{t('common.cancel')}</button>
          </div>
        </div>
      ) : !checked && (
        <button type="button" className="secondary small" aria-label={t('layout.voice.markNamed', { name })} id={voiceIds(subject).button}
          onClick={() => { setNotice(null); setError(null); setVoiceNotice(null); setVoiceError(null); setChecking({ subject, name, fingerprint }); focusSoon(voiceIds(subject).panel); }}>{t('layout.voice.mark')}</button>
      )}
      <StatusBox>{voiceNotice?.subject === subject ? voiceNotice.text : null}</StatusBox>
      <ErrorBox message={voiceError?.subject === subject ? voiceError.error : null} />
    </div>
  );

  const load = useCallback(() => {
    call('identities:list', {}).then((r) => setPeople(r.people), (e: unknown) => setError(errorMessage(e)));
    call('directory:people', {}).then((r) => setList(r.people), (e: unknown) => setError(errorMessage(e)));
  }, []);
  useEffect(load, [load]);

  const act = async (action: () => Promise<string | null>) => {
    setError(null);
    setNotice(null);
    try {
      setNotice(await action());
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const importCard = (path: string) => act(async () => {
    const result = await call('identities:importCard', { path });
    load();
    return t(result.added ? 'directory.added' : 'directory.known', { name: result.person.name, org: result.person.org, fingerprint: result.person.fingerprint });
  });
  const exportCard = (person: Person) => act(async () => {
    const result = await call('identities:exportCard', { id: person.id });
    return result.status === 'done' ? t('directory.exported', { name: person.name, file: baseName(result.path) }) : null;
  });
  const importDirectory = () => act(async () => {
    const result = await call('directory:import', {});
    if (result.status === 'cancelled') return null;
    load();
    onChanged();
    return t('directory.imported', { serial: result.serial, name: result.authorityName, certificates: t('counts.certificates', { count: result.certificates }), revocations: t('counts.revocations', { count: result.revocations }) });
  });

  return (
    <main>
      <Heading>{t('directory.title')}</Heading>
      {authority ? (
        <section className="panel" aria-labelledby="authority-title">
          <h2 id="authority-title">{t('directory.authorityTitle')}</h2>
          <dl className="facts">
            <dt>{t('directory.authorityName')}</dt><dd><Outside text={authority.name} /></dd>
            <dt>{t('directory.authorityFingerprint')}</dt><dd><code>{authority.fingerprint}</code></dd>
            <dt>{t('layout.voice.column')}</dt>
            <dd>{voiceState(authority.voiceCheck)}
              {!authority.isAuthority && voiceControl('authority', t('layout.voice.authority', { name: forScreen(authority.name) }), authority.fingerprint, Boolean(authority.voiceCheck))}</dd>
            <dt>{t('directory.serial')}</dt><dd>{authority.serial}</dd>
            <dt>{t('directory.nextUpdate')}</dt><dd>{format.day(authority.nextUpdate)}</dd>
          </dl>
          {authority.freshness !== 'fresh' && (
            <p className="warning" role="note">
              {t(`directory.freshness.${authority.freshness}`, { next: format.day(authority.nextUpdate), refuse: format.day(authority.refuseAfter) })}
            </p>
          )}
          {!authority.isAuthority && (
            <div className="actions"><button type="button" className="secondary" onClick={() => void importDirectory()}>{t('directory.importDirectory')}</button></div>
          )}
        </section>
      ) : <p className="pending">{t('directory.noAuthority')}</p>}

      {authority && (
        <section className="panel" aria-labelledby="list-title">
          <h2 id="list-title">{t('directory.listTitle')}</h2>
          {list === null ? <p>{t('common.loading')}</p> : (
            <table>
              <caption>{t('directory.listCaption', { count: list.length })}</caption>
              <thead><tr><th scope="col">{t('person.name')}</th><th scope="col">{t('person.org')}</th><th scope="col">{t('directory.certificate')}</th><th scope="col">{t('directory.fingerprint')}</th></tr></thead>
              <tbody>
                {list.map((p) => (
                  <tr key={p.id}>
                    <td><Outside text={p.name} /></td><td><Outside text={p.org} /></td>
                    <td><CertificateState certificate={p.certificate} /></td>
                    <td><code>{p.fingerprint}</code></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}

      {people !== null && people.length > 0 && (
        <table className="orgs">
          <caption>{t('directory.orgsCaption')}</caption>
          <thead><tr><th scope="col">{t('person.org')}</th><th scope="col">{t('directory.orgPeople')}</th>{authority && <th scope="col">{t('directory.orgHabilitated')}</th>}</tr></thead>
          <tbody>
            {[...new Set(people.map((p) => p.org))].sort((a, b) => a.localeCompare(b, 'fr')).map((org) => {
              const members = people.filter((p) => p.org === org);
              return (
                <tr key={org}>
                  <td>{org}</td><td>{members.length}</td>
                  {authority && <td>{members.filter((p) => p.certificate.state === 'valid').length}</td>}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {people === null ? <p>{t('common.loading')}</p> : (
        // Wide at 1024 px: the table scrolls inside its box, never the whole window.
        <div className="table-wrap"><table>
          <caption>{t('directory.caption', { count: people.length })}<br /><span className="hint">{t('directory.fingerprintHint')}</span></caption>
          <thead>
            <tr>
              <th scope="col">{t('person.name')}</th><th scope="col">{t('person.org')}</th><th scope="col">{t('person.email')}</th>
              <th scope="col">{t('directory.kind')}</th><th scope="col">{t('directory.fingerprint')}</th><th scope="col">{t('layout.voice.column')}</th>
              <th scope="col">{t('directory.certificate')}</th><th scope="col">{t('directory.addedAt')}</th><th scope="col"><span className="visually-hidden">{t('directory.actions')}</span></th>
            </tr>
          </thead>
          <tbody>
            {people.map((p) => (
              <tr key={p.id}>
                <td><Outside text={p.name} /></td><td><Outside text={p.org} /></td><td><Outside text={p.email} /></td>
                <td>{p.own ? t('directory.own') : t('directory.correspondent')}</td>
                <td><code>{p.fingerprint}</code></td>
                <td>{!p.own && <>{voiceState(p.voiceCheck)}{voiceControl(p.id, forScreen(p.name), p.fingerprint, Boolean(p.voiceCheck))}</>}</td>
                <td>{authority ? <CertificateState certificate={p.certificate} /> : t('directory.selfSigned')}</td>
                <td>{format.date(p.addedAt)}</td>
                <td>{p.own && <button type="button" className="link" onClick={() => void exportCard(p)} aria-label={t('directory.exportNamed', { name: p.name })}>{t('directory.export')}</button>}</td>
              </tr>
            ))}
          </tbody>
        </table></div>
      )}
      {!authority && (
        <section className="panel">
          <h2>{t('directory.importTitle')}</h2>
          <FilePicker testId="import-card" label={t('directory.import')} hint={t('directory.importHint')} accept=".json,application/json"
            onFiles={(files) => void importCard(files[0]!.path)} />
        </section>
      )}
      <StatusBox>{notice}</StatusBox>
      <ErrorBox message={error} />
    </main>
  );
}
