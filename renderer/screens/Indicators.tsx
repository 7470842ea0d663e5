// "Indicateurs" (docs/indicators.md): for a commune, each indicator per quarter with the change
// from the previous quarter and from the same quarter a year before, the year to date, and a
// chart of the last eight quarters (uPlot) with its table beside it for screen readers. Filters by
// commune, indicator and period; French number format. A state imported by hand, the report for
// the security council (a commune, or the agglomeration), the CSV export; a correction (marked in
// the table « corrigé le … par … (motif) », the value it replaced kept), the mapping editor for a
// state « non reconnu », and the sources of the figures shown with who signed them.
// A figure changed outside Pli is named as such and left out of every value, change and chart.
import { Fragment, useCallback, useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { call, errorMessage } from '../api';
import { ErrorBox, Heading, StatusBox, baseName, useAction, useFormat, useNewest } from '../components/common';
import { CorrectionForm, type CorrectionTarget } from '../components/indicators/CorrectionForm';
import { MappingEditor } from '../components/indicators/MappingEditor';
import { Sources } from '../components/indicators/Sources';
import { ConventionPeriod, conventionPeriodMissing } from '../components/indicators/ConventionPeriod';
import { forScreen } from '../../shared/text';
import { INDICATORS, PERIOD_PATTERN, formatChange, formatCount, formatPercent, periodFr, type Change } from '../../shared/indicators';
import type { CommuneViewData, ResponseOf } from '../../shared/ipc';

type Data = ResponseOf<'indicators:list'>;
type Series = CommuneViewData['indicators'][number];
type Correction = Data['corrections'][number];

function changeText(c: Change | null): string {
  if (c === null) return '—';
  return c.percent === null ? formatChange(c.delta) : `${formatChange(c.delta)} (${formatPercent(c.percent)})`;
}

const CHART_WIDTH = 420;
const CHART_HEIGHT = 170;

/** The last eight quarters as a chart; the canvas is hidden from screen readers, the table is not. */
function Chart({ series, title }: { series: Series; title: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const last = series.quarters.slice(-8);
    const el = box.current;
    if (!el || last.length === 0) return undefined;
    // Short labels (T4 26) so that eight fit under the chart; the table gives them whole.
    const labels = last.map((q) => `${q.quarter.slice(5)} ${q.quarter.slice(2, 4)}`);
    // As wide as its box allows, 420 px at most: at 400 % zoom the window is 320 px wide (RGAA 10.11).
    const width = () => Math.min(CHART_WIDTH, el.clientWidth || CHART_WIDTH);
    const plot = new uPlot({
      width: width(), height: CHART_HEIGHT, title: undefined, legend: { show: false }, cursor: { show: false },
      scales: { x: { time: false } },
      axes: [
        { values: (_u, splits) => splits.map((i) => labels[Math.round(i)] ?? ''), splits: () => labels.map((_, i) => i) },
        { values: (_u, splits) => splits.map((v) => formatCount(v)), size: 60 },
      ],
      series: [{}, { label: title, stroke: '#1f4e79', width: 2, points: { show: true, size: 6 } }],
    }, [labels.map((_, i) => i), last.map((q) => q.value)], el);
    el.querySelector('canvas')?.setAttribute('aria-hidden', 'true');
    const resized = new ResizeObserver(() => { if (width() !== plot.width) plot.setSize({ width: width(), height: CHART_HEIGHT }); });
    resized.observe(el);
    return () => { resized.disconnect(); plot.destroy(); };
  }, [series, title]);
  return <div ref={box} className="indicator-chart" data-testid={`chart-${series.indicator}`} />;
}

/** « corrigé le 3 décembre 2026 par Nadia Observatoire (motif) ; valeur d’origine : 340 ». */
function CorrectionMark({ correction }: { correction: Correction }) {
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <span className="correction-mark">
      {t('indicators.edit.correctedMark', { date: format.day(correction.at), by: forScreen(correction.by), reason: forScreen(correction.reason) })}
      {correction.original !== null && <>{'\u00a0; '}{t('indicators.edit.original', { value: formatCount(correction.original) })}</>}
    </span>
  );
}

const validPeriod = (p: string) => p === '' || PERIOD_PATTERN.test(p);

/** A period filter, its format in its label. A period it cannot read is said beside it, tied to it
 * and announced (RGAA 11.10), once the person leaves the field or presses Entrée: not at each key
 * of a period being typed. */
function PeriodFilter({ id, label, placeholder, value, onChange }: { id: string; label: string; placeholder: string; value: string; onChange: (value: string) => void }) {
  const { t } = useTranslation();
  const [left, setLeft] = useState(false);
  const invalid = left && !validPeriod(value);
  return (
    <div>
      <label htmlFor={id}>{label}</label>
      <input id={id} value={value} placeholder={placeholder} aria-invalid={invalid} aria-describedby={invalid ? `${id}-error` : undefined}
        onChange={(e) => { const next = e.currentTarget.value.trim(); onChange(next); if (validPeriod(next)) setLeft(false); }}
        onFocus={() => { if (validPeriod(value)) setLeft(false); }}
        onBlur={() => setLeft(true)} onKeyDown={(e) => { if (e.key === 'Enter') setLeft(true); }} />
      {invalid && <p id={`${id}-error`} className="field-error" role="alert">{t('indicators.periodInvalid')}</p>}
    </div>
  );
}

function IndicatorBlock({ series, corrections, onCorrect }: { series: Series; corrections: Correction[]; onCorrect: (target: Omit<CorrectionTarget, 'commune'>) => void }) {
  const { t } = useTranslation();
  const last8 = series.quarters.slice(-8);
  return (
    <section className="indicator" aria-labelledby={`ind-${series.indicator}`}>
      <h3 id={`ind-${series.indicator}`}>{series.label}</h3>
      {series.modified.length > 0 && (
        <p className="warning" role="alert">{t('indicators.modified', { count: series.modified.length, periods: series.modified.map(periodFr).join(', ') })}</p>
      )}
      <div className="indicator-row">
        <figure>
          <Chart series={series} title={series.label} />
          <figcaption>{t('indicators.chartCaption', { label: series.label, count: last8.length })}</figcaption>
        </figure>
        <table className="indicator-table" data-testid={`table-${series.indicator}`}>
          <caption>{t('indicators.tableCaption', { label: series.label })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('indicators.quarter')}</th><th scope="col">{t('indicators.value')}</th>
              <th scope="col">{t('indicators.previous')}</th><th scope="col">{t('indicators.yearAgo')}</th><th scope="col">{t('indicators.yearToDate')}</th>
              <th scope="col"><span className="visually-hidden">{t('indicators.edit.correctColumn')}</span></th>
            </tr>
          </thead>
          <tbody>
            {series.quarters.map((q) => {
              const correction = corrections.find((c) => c.indicator === series.indicator && c.period === q.quarter);
              return (
              <Fragment key={q.quarter}>
              <tr className={correction ? 'corrected' : undefined}>
                <th scope="row">{periodFr(q.quarter)}</th>
                <td className="number">{formatCount(q.value)}{q.state === 'unverified' ? ` ${t('indicators.unverifiedMark')}` : ''}</td>
                <td className="number">{changeText(q.previous)}</td>
                <td className="number">{changeText(q.yearAgo)}</td>
                <td className="number">{formatCount(q.yearToDate.value)}{q.yearToDate.complete ? '' : ` ${t('indicators.partial')}`}</td>
                <td>
                  <button type="button" className="link" onClick={() => onCorrect({ period: q.quarter, indicator: series.indicator })}
                    aria-label={t('indicators.edit.correctThis', { label: series.label, period: periodFr(q.quarter) })}>{t('indicators.edit.correctLink')}</button>
                </td>
              </tr>
              {/* The correction on a line of its own under its figure: who, when, why, and the value it replaced. */}
              {correction && <tr className="correction-note" data-testid={`correction-${series.indicator}-${q.quarter}`}><td colSpan={6}><CorrectionMark correction={correction} /></td></tr>}
              </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function Indicators() {
  const { t } = useTranslation();
  const { busy, notice, error, setError, act } = useAction();
  const ids = useId();
  const [data, setData] = useState<Data | null>(null);
  const [commune, setCommune] = useState('');
  const [indicator, setIndicator] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [form, setForm] = useState({ convention: '', period: '', commune: '' });
  const [target, setTarget] = useState<CorrectionTarget | null>(null);
  const [setAside, setSetAside] = useState<string | null>(null);
  // The import's button says why it waits, as the correction's and the editor's do.
  const importWhy = conventionPeriodMissing(t, form.convention, form.period);

  const newest = useNewest();
  const load = useCallback(() => {
    if (!validPeriod(from) || !validPeriod(to)) return;
    const isNewest = newest();
    setError(null);
    call('indicators:list', { ...(commune ? { commune } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) }).then(
      (answer) => {
        if (!isNewest()) return;
        setData(answer);
        if (!commune && answer.communes.length > 0) setCommune(answer.communes[0]!);
      },
      (e: unknown) => { if (isNewest()) setError(errorMessage(e)); },
    );
  }, [commune, from, to, newest]);
  useEffect(load, [load]);
  // After an action, the figures of the filters chosen by then: an action's `after`, and the forms'
  // onDone, run when it ends, and the `load` of the click's time would list the commune chosen
  // then, its answer taking the newest ticket, under the selector's new commune.
  const current = useRef(load);
  current.current = load;
  const reload = useCallback(() => current.current(), []);

  const run = (work: () => Promise<string | null>) => act(work, reload);
  const importState = () => run(async () => {
    const r = await call('indicators:import', { convention: form.convention, period: form.period, ...(form.commune ? { commune: form.commune } : {}) });
    if (r.status !== 'done') return null;
    // A state set aside opens the mapping editor on it.
    setSetAside(r.token);
    return r.recognised ? t('indicators.imported', { count: r.rows, file: r.file, communes: r.communes.join(', ') }) : t('indicators.notRecognised', { file: r.file, reason: r.reason ?? '' });
  });
  const report = (agglomeration: boolean) => run(async () => {
    const period = to || form.period;
    const r = await call('indicators:report', { period, ...(agglomeration ? { agglomeration: true } : { commune }) });
    return r.status === 'done' ? t('indicators.reported', { path: baseName(r.path), period: periodFr(r.quarter) }) : null;
  });
  const exportCsv = () => run(async () => {
    const r = await call('indicators:export', { ...(commune ? { commune } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) });
    return r.status === 'done' ? t('indicators.exported', { count: r.rows, path: baseName(r.path) }) : null;
  });

  const view = data?.views.find((v) => v.commune === commune) ?? data?.views[0] ?? null;
  const shown = view?.indicators.filter((s) => indicator === '' || s.indicator === indicator) ?? [];

  return (
    <main>
      <Heading>{t('indicators.title')}</Heading>
      <ErrorBox message={error} />
      {notice && <StatusBox>{forScreen(notice)}</StatusBox>}
      {data && !data.checked && <p className="warning">{t('indicators.unverified')}</p>}
      {data && data.modified > 0 && <p className="warning" role="alert">{t('indicators.modifiedTotal', { count: data.modified })}</p>}
      {data?.missing.map((m) => (
        <p key={`${m.convention}-${m.period}`} className="warning" role="alert">{t('indicators.missing', { count: m.expected - m.found, period: periodFr(m.period) })}</p>
      ))}
      <form className="filters indicator-filters" aria-label={t('indicators.filters')} onSubmit={(e) => e.preventDefault()}>
        <div>
          <label htmlFor={`${ids}-commune`}>{t('indicators.commune')}</label>
          <select id={`${ids}-commune`} value={commune} onChange={(e) => setCommune(e.currentTarget.value)}>
            {data?.communes.map((c) => <option key={c} value={c}>{forScreen(c)}</option>)}
          </select>
        </div>
        <div>
          <label htmlFor={`${ids}-indicator`}>{t('indicators.indicator')}</label>
          <select id={`${ids}-indicator`} value={indicator} onChange={(e) => setIndicator(e.currentTarget.value)}>
            <option value="">{t('indicators.all')}</option>
            {INDICATORS.map((i) => <option key={i.id} value={i.id}>{i.label}</option>)}
          </select>
        </div>
        <PeriodFilter id={`${ids}-from`} label={t('indicators.from')} placeholder="2025-T1" value={from} onChange={setFrom} />
        <PeriodFilter id={`${ids}-to`} label={t('indicators.to')} placeholder="2026-T4" value={to} onChange={setTo} />
      </form>
      <div className="actions">
        <button type="button" onClick={() => void report(false)} disabled={busy || !commune || !(to || form.period)}>{t('indicators.report')}</button>
        <button type="button" className="secondary" onClick={() => void report(true)} disabled={busy || !(to || form.period)}>{t('indicators.reportAgglomeration')}</button>
        <button type="button" className="secondary" onClick={() => void exportCsv()} disabled={busy}>{t('indicators.export')}</button>
      </div>
      {/* The indicators' h3 titles sit under this h2: no level skipped after the h1 (RGAA 9.1). */}
      <h2>{t('indicators.figuresTitle')}</h2>
      {data === null ? <p>{t('common.loading')}</p> : shown.length === 0 ? <p>{t('indicators.empty')}</p> : shown.map((s) => (
        <IndicatorBlock key={s.indicator} series={s} corrections={data.corrections.filter((c) => c.commune === view?.commune)}
          onCorrect={(q) => {
            setTarget({ ...q, commune: view?.commune ?? '' });
            // The form is below the tables: bring it into view, its first field focused.
            requestAnimationFrame(() => {
              const el = document.getElementById('correction');
              el?.scrollIntoView({ block: 'start' });
              el?.querySelector<HTMLElement>('input[inputmode="numeric"]')?.focus();
            });
          }} />
      ))}
      {data && <Sources sources={data.sources} />}
      <form className="import" aria-label={t('indicators.importTitle')} onSubmit={(e) => { e.preventDefault(); void importState(); }}>
        <h2>{t('indicators.importTitle')}</h2>
        <ConventionPeriod conventions={data?.conventions ?? []} convention={form.convention} period={form.period}
          onConvention={(convention) => setForm({ ...form, convention })} onPeriod={(period) => setForm({ ...form, period })} />
        <div>
          <label htmlFor={`${ids}-icommune`}>{t('indicators.communeOptional')}</label>
          <input id={`${ids}-icommune`} value={form.commune} onChange={(e) => setForm({ ...form, commune: e.currentTarget.value })} />
        </div>
        <div className="actions">
          <button type="submit" disabled={busy || importWhy !== null} aria-describedby={importWhy ? `${ids}-iwhy` : undefined}>{t('indicators.importButton')}</button>
          {importWhy && <span id={`${ids}-iwhy`} className="hint">{importWhy}</span>}
        </div>
      </form>
      {data && <CorrectionForm communes={data.communes} conventions={data.conventions} initial={target} onDone={reload} />}
      {data && <MappingEditor token={setAside} conventions={data.conventions} defaults={form} onDone={reload} />}
    </main>
  );
}
