// The correction of one figure (docs/indicators.md 4): a person signed in gives the commune, the
// period, the indicator, the new value and a reason (required). The core writes a new sealed row
// and an `indicators.corrected` event naming the reason; the table then shows the corrected value
// marked « corrigé le … par … (motif) » with the value it replaced.
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call } from '../../api';
import { ErrorBox, StatusBox, useAction } from '../common';
import { forScreen } from '../../../shared/text';
import { INDICATORS, formatCount, indicatorLabel, periodFr } from '../../../shared/indicators';
import { ConventionPeriod, validPeriod } from './ConventionPeriod';

export interface CorrectionTarget { commune: string; period: string; indicator: string }

export function CorrectionForm({ communes, conventions, initial, onDone }: {
  communes: string[];
  conventions: { id: string; title: string }[];
  /** A figure chosen from a table ("Corriger"): fills the form. */
  initial: CorrectionTarget | null;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const ids = useId();
  const { busy, notice, error, act } = useAction();
  const [form, setForm] = useState({ convention: '', commune: '', period: '', indicator: '', value: '', reason: '' });
  useEffect(() => {
    if (initial) setForm((f) => ({ ...f, ...initial }));
  }, [initial]);
  useEffect(() => {
    // One convention: nothing to choose.
    if (!form.convention && conventions.length === 1) setForm((f) => ({ ...f, convention: conventions[0]!.id }));
  }, [conventions, form.convention]);
  const value = form.value.replace(/[\s\u00a0\u202f]/g, '');
  const validValue = /^\d{1,12}$/.test(value);
  // The reason the button is disabled, beside it (issue 15: no disabled button without a reason),
  // asked in the order of the fields.
  const missing = !form.convention ? t('indicators.edit.needConvention') : !form.commune.trim() ? t('indicators.edit.needCommune')
    : !validPeriod(form.period) ? t('indicators.edit.needPeriod') : !form.indicator ? t('indicators.edit.needIndicator')
      : !validValue ? t('indicators.edit.needValue') : !form.reason.trim() ? t('indicators.edit.needReason') : null;
  const ready = missing === null;

  const submit = () => act(async () => {
    const r = await call('indicators:correct', {
      convention: form.convention, commune: form.commune.trim(), period: form.period, indicator: form.indicator, value: Number(value), reason: form.reason.trim(),
    });
    setForm((f) => ({ ...f, value: '', reason: '' }));
    return t('indicators.edit.corrected', { label: indicatorLabel(form.indicator), period: periodFr(form.period), commune: form.commune.trim(), value: formatCount(r.value) });
  }, onDone);

  return (
    <form className="correction" id="correction" aria-labelledby={`${ids}-title`} onSubmit={(e) => { e.preventDefault(); void submit(); }}>
      <h2 id={`${ids}-title`}>{t('indicators.edit.correctTitle')}</h2>
      <p className="hint">{t('indicators.edit.correctHint')}</p>
      <div className="fields">
        <ConventionPeriod conventions={conventions} convention={form.convention} period={form.period} periodLabel={t('indicators.edit.period')}
          onConvention={(convention) => setForm({ ...form, convention })} onPeriod={(period) => setForm({ ...form, period })}
          between={(
            <div>
              <label htmlFor={`${ids}-commune`}>{t('indicators.commune')}</label>
              <input id={`${ids}-commune`} list={`${ids}-communes`} value={form.commune} onChange={(e) => setForm({ ...form, commune: e.currentTarget.value })} />
              <datalist id={`${ids}-communes`}>{communes.map((c) => <option key={c} value={forScreen(c)} />)}</datalist>
            </div>
          )} />
        <div>
          <label htmlFor={`${ids}-indicator`}>{t('indicators.indicator')}</label>
          <select id={`${ids}-indicator`} value={form.indicator} onChange={(e) => setForm({ ...form, indicator: e.currentTarget.value })}>
            <option value="">{t('indicators.edit.chooseIndicator')}</option>
            {INDICATORS.map((i) => <option key={i.id} value={i.id}>{i.label}</option>)}
          </select>
        </div>
        <div>
          <label htmlFor={`${ids}-value`}>{t('indicators.edit.newValue')}</label>
          <input id={`${ids}-value`} inputMode="numeric" value={form.value} aria-invalid={form.value !== '' && !validValue} onChange={(e) => setForm({ ...form, value: e.currentTarget.value })} />
        </div>
        <div className="wide">
          <label htmlFor={`${ids}-reason`}>{t('indicators.edit.reason')}</label>
          <textarea id={`${ids}-reason`} rows={2} maxLength={300} value={form.reason} onChange={(e) => setForm({ ...form, reason: e.currentTarget.value })} />
        </div>
      </div>
      <div className="actions">
        <button type="submit" disabled={busy || !ready} aria-describedby={missing ? `${ids}-why` : undefined}>{t('indicators.edit.correctButton')}</button>
        {missing && <span id={`${ids}-why`} className="hint">{missing}</span>}
      </div>
      <ErrorBox message={error} />
      <StatusBox>{notice ? forScreen(notice) : null}</StatusBox>
    </form>
  );
}
