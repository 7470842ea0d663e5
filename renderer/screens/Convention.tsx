// The Convention screen (issue 14 §6): a convention as the authority signed it (details, the
// nominative list of habilitated people per party), buttons that write the annex (PDF) and the
// year's register (PDF or CSV) to a file the person chooses, and for the SSI officer the
// termination (date and reason, signed as a new version), creation and edit (ConventionForm.tsx).
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api';
import { DayField, ErrorBox, Heading, Outside, RequiredMark, StatusBox, useAction, useFocusAfterRender } from '../components/common';
import type { ConventionView } from '../../shared/ipc';
import { forScreen } from '../../shared/text';
import { useCalendarWords } from './Calendar';
import { ConventionForm, FORM_TITLE_ID } from './ConventionForm';

export function Convention({ officer }: { officer: boolean }) {
  const { t } = useTranslation();
  const { busy, notice, error, setError, setNotice, act } = useAction();
  const words = useCalendarWords();
  const [list, setList] = useState<ConventionView[] | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const [year, setYear] = useState(2000); // set from main's calendar day when the list arrives
  const [format, setFormat] = useState<'pdf' | 'csv'>('pdf');
  const [endDate, setEndDate] = useState<string | null>(null);
  /** The officer's form: a new convention, or a new version of the one shown. */
  const [form, setForm] = useState<'new' | 'edit' | null>(null);
  const [reason, setReason] = useState('');
  // The form takes the focus when it opens (its title); closed, the button that opened it has it
  // back (RGAA 12.8): both are new elements, focused once on screen.
  const focusSoon = useFocusAfterRender();
  const trigger = (which: 'new' | 'edit') => `convention-${which}-button`;
  const openForm = (which: 'new' | 'edit') => {
    setNotice(null);
    setForm(which);
    focusSoon(FORM_TITLE_ID);
  };
  const closeForm = () => {
    if (form) focusSoon(trigger(form));
    setForm(null);
  };

  const load = useCallback(() => {
    call('conventions:list', {}).then((r) => {
      setList(r.conventions);
      setYear((y) => (y === 2000 ? Number(r.today.slice(0, 4)) : y));
      setChosen((c) => c ?? r.conventions[0]?.id ?? null);
    }, (e: unknown) => setError(errorMessage(e)));
  }, []);
  useEffect(load, [load]);

  const c = list?.find((x) => x.id === chosen) ?? null;
  const annex = (id: string) => act(async () => {
    const r = await call('conventions:annex', { id });
    return r.status === 'done' ? t('convention.annexDone', { path: r.path, count: r.people }) : null;
  });
  const register = (id: string) => act(async () => {
    const r = await call('conventions:register', { id, year, format });
    return r.status === 'done' ? t('convention.registerDone', { path: r.path, count: r.rows, year }) : null;
  });
  const terminate = (e: FormEvent, id: string) => {
    e.preventDefault();
    void act(async () => {
      if (endDate === null) return null;
      const r = await call('conventions:terminate', { id, date: endDate, reason });
      setList((old) => (old ?? []).map((x) => (x.id === id ? r.convention : x)));
      setReason('');
      return t('convention.terminatedDone', { day: words.day(r.convention.terminated?.date ?? endDate) });
    });
  };

  const signed = (done: ConventionView) => {
    setList((old) => [...(old ?? []).filter((x) => x.id !== done.id), done]);
    setChosen(done.id);
    setNotice(t(done.version === 1 ? 'conventionForm.created' : 'conventionForm.edited', { title: forScreen(done.title), version: done.version }));
    closeForm();
  };

  const schedule = (s: ConventionView['schedule']) => t(`convention.schedule.${s.every}`, { day: s.day });

  return (
    <main>
      <Heading>{t('convention.title')}</Heading>
      {list === null && !error && <p>{t('common.loading')}</p>}
      {/* The officer writes the conventions: the way to a first one, not the directory to import. */}
      {list !== null && list.length === 0 && <p className="empty">{t(officer ? 'convention.noneOfficer' : 'convention.none')}</p>}
      {officer && list !== null && form === null && (
        <div className="actions">
          <button type="button" id={trigger('new')} onClick={() => openForm('new')}>{t('conventionForm.newButton')}</button>
          {c && c.state === 'active' && <button type="button" id={trigger('edit')} onClick={() => openForm('edit')}>{t('conventionForm.editButton')}</button>}
        </div>
      )}
      {officer && form !== null && (
        <ConventionForm key={form === 'edit' ? c?.id : 'new'} editing={form === 'edit' ? c : null} onDone={signed} onCancel={closeForm} />
      )}
      {list !== null && list.length > 1 && (
        <p>
          <label htmlFor="convention-choice">{t('convention.choose')}</label>{' '}
          <select id="convention-choice" value={chosen ?? ''} onChange={(e) => setChosen(e.currentTarget.value)}>
            {list.map((x) => <option key={x.id} value={x.id}>{forScreen(x.title)}</option>)}
          </select>
        </p>
      )}
      {c && (
        <>
          <section className="panel" aria-labelledby="convention-details">
            <h2 id="convention-details"><Outside text={c.title} /></h2>
            <dl className="facts">
              <dt>{t('convention.state')}</dt>
              <dd>{c.terminated
                ? <span className="warning-text">{t('convention.terminated', { day: words.day(c.terminated.date), reason: forScreen(c.terminated.reason) })}</span>
                : <span className="ok">{t('convention.active')}</span>}</dd>
              <dt>{t('convention.id')}</dt><dd><code>{c.id}</code> — {t('convention.version', { version: c.version })}</dd>
              <dt>{t('convention.duration')}</dt>
              <dd>{t('convention.from', { start: words.day(c.start), end: words.day(c.lastDay) })}
                {c.renewMax !== null && c.renewMax > c.years && <> — {t('convention.renewal', { years: c.years, max: c.renewMax })}</>}</dd>
              <dt>{t('convention.calendar')}</dt><dd>{schedule(c.schedule)}{t('convention.colon')}{words.list(c.expect.map(forScreen))}</dd>
              <dt>{t('convention.types')}</dt><dd>{c.types.join(', ')}</dd>
              <dt>{t('convention.retention')}</dt><dd>{t('convention.retentionDays', { count: c.retentionDays })}</dd>
              <dt>{t('convention.receipts')}</dt><dd>{t(c.openReceipts ? 'convention.yes' : 'convention.no')}</dd>
              <dt>{t('convention.authority')}</dt><dd><code className="fingerprint-inline">{c.authority}</code></dd>
            </dl>
          </section>
          <section className="panel" aria-labelledby="convention-people">
            <h2 id="convention-people">{t('convention.people')}</h2>
            {c.parties.map((party) => {
              const people = c.people.filter((p) => p.org === party.org);
              return (
                <div key={party.org}>
                  <h3><Outside text={party.org} /> <span className="muted">— <Outside text={party.address} /></span></h3>
                  {people.length === 0 ? <p className="empty">{t('convention.nobody')}</p> : (
                    <table>
                      <caption className="visually-hidden">{t('convention.peopleOf', { org: forScreen(party.org) })}</caption>
                      <thead><tr><th scope="col">{t('convention.name')}</th><th scope="col">{t('convention.function')}</th><th scope="col">{t('convention.role')}</th></tr></thead>
                      <tbody>
                        {people.map((p) => (
                          <tr key={p.id}><td><Outside text={p.name} /></td><td><Outside text={p.function} /></td><td>{t(`cert.role.${p.role}`)}</td></tr>
                        ))}
                      </tbody>
                    </table>
                  )}
                </div>
              );
            })}
          </section>
          <section className="panel" aria-labelledby="convention-print">
            <h2 id="convention-print">{t('convention.documents')}</h2>
            <div className="actions">
              <button type="button" disabled={busy} onClick={() => void annex(c.id)}>{t('convention.annex')}</button>
            </div>
            <div className="actions">
              <label htmlFor="register-year">{t('convention.registerYear')}</label>
              <input id="register-year" type="number" min={2000} max={2199} value={year} style={{ width: '6rem' }}
                onChange={(e) => { const v = Number(e.currentTarget.value); if (Number.isInteger(v)) setYear(v); }} />
              <label htmlFor="register-format">{t('convention.registerFormat')}</label>
              <select id="register-format" value={format} style={{ width: 'auto' }} onChange={(e) => setFormat(e.currentTarget.value === 'csv' ? 'csv' : 'pdf')}>
                <option value="pdf">{t('convention.pdf')}</option>
                <option value="csv">{t('convention.csv')}</option>
              </select>
              <button type="button" disabled={busy || year < 2000 || year > 2199} onClick={() => void register(c.id)}>{t('convention.register')}</button>
            </div>
            <p className="muted">{t('convention.registerHint')}</p>
          </section>
          {officer && c.state === 'active' && (
            <section className="panel" aria-labelledby="convention-end">
              <h2 id="convention-end">{t('convention.terminate')}</h2>
              <p>{t('convention.terminateHint', { days: c.retentionDays })}</p>
              <form onSubmit={(e) => terminate(e, c.id)}>
                <div className="row">
                  <div>
                    <label htmlFor="end-date">{t('convention.endDate')}<RequiredMark /></label>
                    <DayField id="end-date" required day={endDate} onDay={setEndDate} />
                  </div>
                  <div>
                    <label htmlFor="end-reason">{t('convention.endReason')}<RequiredMark /></label>
                    <input id="end-reason" type="text" required maxLength={500} value={reason} onChange={(e) => setReason(e.currentTarget.value)} />
                  </div>
                </div>
                <div className="actions">
                  <button type="submit" className="danger" disabled={busy || !endDate || !reason.trim()}>{t('convention.terminateButton')}</button>
                </div>
              </form>
            </section>
          )}
        </>
      )}
      <StatusBox>{notice}</StatusBox>
      <ErrorBox message={error} />
    </main>
  );
}
