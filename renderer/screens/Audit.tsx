// The workstation's tamper-evident audit log, newest first: filters (person, action, outcome,
// since a date), verification of the chain and of the signed checkpoints with a clear verdict
// (intact, or the first bad entry), and the signed CSV export (.csv + .csv.sig).
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api';
import { ErrorBox, Heading, StatusBox, useFormat } from '../components/common';
import { forScreen } from '../../shared/text';
import type { AuditEvent, RequestOf, ResponseOf } from '../../shared/ipc';
import type { ErrorText } from '../errors';

type Filter = { actor: string; action: string; outcome: '' | AuditEvent['outcome']; since: string };
type Verdict = ResponseOf<'audit:verify'>;

export function Audit() {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  const ids = useId();
  const [data, setData] = useState<ResponseOf<'events:list'> | null>(null);
  const [filter, setFilter] = useState<Filter>({ actor: '', action: '', outcome: '', since: '' });
  const [error, setError] = useState<ErrorText>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [busy, setBusy] = useState(false);

  // Only the latest request may fill the table: an earlier, slower answer (say the unfiltered
  // reload after a verification) must not overwrite the rows of the filter now shown.
  const latest = useRef(0);
  const load = useCallback((f: Filter) => {
    const ticket = ++latest.current;
    setError(null);
    const request: RequestOf<'events:list'> = { limit: 500 };
    if (f.actor) request.actor = f.actor;
    if (f.action) request.action = f.action;
    if (f.outcome) request.outcome = f.outcome;
    if (f.since) request.since = Date.parse(`${f.since}T00:00:00`);
    call('events:list', request).then(
      (rows) => { if (ticket === latest.current) setData(rows); },
      (e: unknown) => { if (ticket === latest.current) setError(errorMessage(e)); },
    );
  }, []);
  useEffect(() => load(filter), [load, filter]);
  const action = (name: string) => (i18n.exists(`audit.actions.${name}`) ? t(`audit.actions.${name}`) : name);

  const verify = async () => {
    setError(null);
    setNotice(null);
    setVerdict(null);
    setBusy(true);
    try {
      setVerdict(await call('audit:verify', {}));
      load(filter);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const exportLog = async () => {
    setError(null);
    setNotice(null);
    setBusy(true);
    try {
      const result = await call('audit:export', {});
      if (result.status === 'done') setNotice(t('audit.exported', { count: result.events, path: result.path, sig: result.sigPath, signer: result.signer }));
      load(filter);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const anchorLog = async () => {
    setError(null);
    setNotice(null);
    setBusy(true);
    try {
      const result = await call('audit:anchor', {});
      if (result.status === 'done') setNotice(t('audit.anchored', { seq: result.seq, path: result.path, signer: result.signer }));
      load(filter);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main>
      <Heading>{t('audit.title')}</Heading>
      <div className="actions">
        <button type="button" onClick={() => void verify()} disabled={busy}>{t('audit.verify')}</button>
        <button type="button" className="secondary" onClick={() => void exportLog()} disabled={busy}>{t('audit.export')}</button>
        <button type="button" className="secondary" onClick={() => void anchorLog()} disabled={busy}>{t('audit.anchor')}</button>
        <button type="button" className="secondary" onClick={() => load(filter)}>{t('audit.refresh')}</button>
      </div>
      <div role="status" aria-live="polite" className={verdict ? (verdict.ok ? 'verdict ok-verdict' : 'verdict bad-verdict') : 'alert-empty'}>
        {verdict && (verdict.ok
          ? <><strong>{t('audit.intact')}</strong> {t('audit.intactDetail', { events: verdict.events, checkpoints: verdict.checkpoints })}
            {verdict.lastCheckpoint !== null && <> {t('audit.lastCheckpoint', { seq: verdict.lastCheckpoint })}</>}</>
          : <><strong>{t('audit.tampered')}</strong> {t('audit.tamperedDetail', { seq: verdict.firstBad?.seq ?? 0, problem: verdict.firstBad?.problem ?? '' })}</>)}
      </div>
      <form className="filters" aria-label={t('audit.filters')} onSubmit={(e) => e.preventDefault()}>
        <div>
          <label htmlFor={`${ids}-actor`}>{t('audit.filterActor')}</label>
          <select id={`${ids}-actor`} value={filter.actor} onChange={(e) => setFilter({ ...filter, actor: e.currentTarget.value })}>
            <option value="">{t('audit.all')}</option>
            {data?.actors.map((a) => <option key={a.id} value={a.id}>{forScreen(a.name)}</option>)}
          </select>
        </div>
        <div>
          <label htmlFor={`${ids}-action`}>{t('audit.filterAction')}</label>
          <select id={`${ids}-action`} value={filter.action} onChange={(e) => setFilter({ ...filter, action: e.currentTarget.value })}>
            <option value="">{t('audit.all')}</option>
            {data?.actions.map((a) => <option key={a} value={a}>{action(a)}</option>)}
          </select>
        </div>
        <div>
          <label htmlFor={`${ids}-outcome`}>{t('audit.filterOutcome')}</label>
          <select id={`${ids}-outcome`} value={filter.outcome} onChange={(e) => setFilter({ ...filter, outcome: e.currentTarget.value as Filter['outcome'] })}>
            <option value="">{t('audit.all')}</option>
            {(['ok', 'refused', 'failed'] as const).map((o) => <option key={o} value={o}>{t(`audit.outcomes.${o}`)}</option>)}
          </select>
        </div>
        <div>
          <label htmlFor={`${ids}-since`}>{t('audit.filterSince')}</label>
          <input id={`${ids}-since`} type="date" value={filter.since} onChange={(e) => setFilter({ ...filter, since: e.currentTarget.value })} />
        </div>
      </form>
      {data === null ? <p>{t('common.loading')}</p> : (
        <table className="audit">
          <caption>{t('audit.caption', { shown: data.events.length, total: data.total })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('audit.seq')}</th><th scope="col">{t('audit.at')}</th><th scope="col">{t('audit.actor')}</th>
              <th scope="col">{t('audit.action')}</th><th scope="col">{t('audit.outcome')}</th><th scope="col">{t('audit.object')}</th><th scope="col">{t('audit.detail')}</th>
            </tr>
          </thead>
          <tbody>
            {data.events.map((e) => (
              <tr key={e.seq} className={verdict?.firstBad?.seq === e.seq ? 'tampered' : e.outcome === 'ok' ? '' : 'refused'}
                aria-label={verdict?.firstBad?.seq === e.seq ? t('audit.firstBadRow', { seq: e.seq }) : undefined}>
                <td>{e.seq}</td>
                <td>{format.date(e.at)}</td>
                <td>{e.actorName ?? e.actor ?? '—'}</td>
                <td>{action(e.action)}</td>
                <td>{t(`audit.outcomes.${e.outcome}`)}</td>
                <td><code className="wrap">{e.object ?? ''}</code></td>
                <td><code className="wrap">{e.detail ?? ''}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <StatusBox>{notice}</StatusBox>
      <ErrorBox message={error} />
    </main>
  );
}
