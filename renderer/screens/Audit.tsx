// The workstation's tamper-evident audit log, newest first: filters (person, action, outcome,
// since a date), verification of the chain and of the signed checkpoints with a clear verdict
// (intact, or the first bad entry), and the signed CSV export (.csv + .csv.sig).
// One line per event, in words (shared/audit-words.ts): "Claire Martin a ouvert le pli … de Paul
// Durand", the date in French, the details folded away; no raw JSON, no millisecond count, no hex
// id longer than 12 characters in view. The export keeps every raw field.
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api';
import { ErrorBox, Heading, StatusBox, baseName, shortId, useFormat } from '../components/common';
import { forScreen } from '../../shared/text';
import { auditLine } from '../../shared/audit-words';
import { dayFromFrench } from '../../shared/french';
import type { AuditEvent, RequestOf, ResponseOf } from '../../shared/ipc';
import type { ErrorText } from '../errors';

type Filter = { actor: string; action: string; outcome: '' | AuditEvent['outcome']; since: string };
type Verdict = ResponseOf<'audit:verify'>;

/** "08/10/2026" (or 8/10/2026) as the start of that day, local time; null when it is no such date. */
export function parseFrenchDay(text: string): number | null {
  const day = dayFromFrench(text);
  if (day === null) return null;
  // ISO form without an offset: the start of that day in local time (the formatter's rule for dates stays in common.tsx).
  const ms = Date.parse(`${day}T00:00:00`);
  return Number.isFinite(ms) ? ms : null;
}

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
  // The date as typed (jj/mm/aaaa): applied to the filter only once it is a real date.
  const [sinceText, setSinceText] = useState('');
  const sinceInvalid = sinceText.trim() !== '' && parseFrenchDay(sinceText) === null;
  const [people, setPeople] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    call('identities:list', {}).then((r) => setPeople(new Map(r.people.map((p) => [p.id, p.name]))), () => undefined);
  }, []);

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
    const since = f.since ? parseFrenchDay(f.since) : null;
    if (since !== null) request.since = since;
    call('events:list', request).then(
      (rows) => { if (ticket === latest.current) setData(rows); },
      (e: unknown) => { if (ticket === latest.current) setError(errorMessage(e)); },
    );
  }, []);
  useEffect(() => load(filter), [load, filter]);
  const action = (name: string) => (/^[a-z]+(\.[a-z-]+)+$/.test(name) && i18n.exists(`audit.actions.${name}`) ? t(`audit.actions.${name}`) : name);
  const nameOf = (id: string) => people.get(id) ?? data?.actors.find((a) => a.id === id)?.name ?? null;
  const wording = { exists: (key: string) => i18n.exists(key), t: (key: string, params?: Record<string, string | number>) => t(key, params) };
  const formats = { date: format.date, time: format.time, size: format.size, baseName, shortId };

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
      if (result.status === 'done') setNotice(t('audit.exported', { count: result.events, file: baseName(result.path), sig: baseName(result.sigPath), signer: result.signer }));
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
      if (result.status === 'done') setNotice(t('audit.anchored', { seq: result.seq, file: baseName(result.path), signer: result.signer }));
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
          ? <><strong>{t('audit.intact')}</strong> {t('audit.intactDetail', { entries: t('audit.entries', { count: verdict.events }), checkpoints: t('audit.checkpoints', { count: verdict.checkpoints }) })}
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
          {/* A text field, not type=date: Chromium shows its own locale's "mm/dd/yyyy" there. */}
          <input id={`${ids}-since`} type="text" inputMode="numeric" placeholder="jj/mm/aaaa" value={sinceText}
            aria-invalid={sinceInvalid} aria-describedby={`${ids}-since-hint`}
            onChange={(e) => {
              const text = e.currentTarget.value;
              setSinceText(text);
              if (text.trim() === '' || parseFrenchDay(text) !== null) setFilter({ ...filter, since: text.trim() });
            }} />
          <p id={`${ids}-since-hint`} className={sinceInvalid ? 'hint reason' : 'hint'}>{sinceInvalid ? t('audit.sinceInvalid') : t('audit.sinceHint')}</p>
        </div>
      </form>
      {data === null ? <p>{t('common.loading')}</p> : (
        <table className="audit">
          <caption>{t('audit.caption', { count: data.events.length, total: data.total })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('audit.seq')}</th><th scope="col">{t('audit.at')}</th><th scope="col">{t('audit.event')}</th>
              <th scope="col">{t('audit.outcome')}</th><th scope="col">{t('audit.detail')}</th>
            </tr>
          </thead>
          <tbody>
            {data.events.map((e) => {
              const line = auditLine(wording, formats, e, nameOf);
              return (
                <tr key={e.seq} className={verdict?.firstBad?.seq === e.seq ? 'tampered' : e.outcome === 'ok' ? '' : 'refused'}
                  aria-label={verdict?.firstBad?.seq === e.seq ? t('audit.firstBadRow', { seq: e.seq }) : undefined}>
                  <td>{e.seq}</td>
                  <td>{format.date(e.at)}</td>
                  <td>{forScreen(line.sentence)}</td>
                  <td>{t(`audit.outcomes.${e.outcome}`)}</td>
                  <td>{line.details.length > 0 && (
                    <details className="technical">
                      <summary>{t('audit.details')}</summary>
                      <dl className="audit-details">
                        {line.details.map((d, i) => <div key={i}><dt>{forScreen(d.label)}</dt><dd>{forScreen(d.value)}</dd></div>)}
                      </dl>
                    </details>
                  )}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <StatusBox>{notice}</StatusBox>
      <ErrorBox message={error} />
    </main>
  );
}
