// The mapping editor (docs/indicators.md 3.1): for a state that came out « non reconnu », its
// labels as read (row labels and column headers; a workbook's formula is never evaluated, only the
// value it cached is read), one choice per indicator, a preview of the figures the choice would
// give, the mapping saved to the profile, and the state read again under it. Native controls
// only: every step is reachable and usable with the keyboard.
import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call } from '../../api';
import { ErrorBox, StatusBox, useAction } from '../common';
import { forScreen } from '../../../shared/text';
import { INDICATORS, formatCount, indicatorLabel } from '../../../shared/indicators';
import { ConventionPeriod, conventionPeriodMissing } from './ConventionPeriod';
import type { ResponseOf } from '../../../shared/ipc';

type Labels = Extract<ResponseOf<'indicators:labels'>, { status: 'done' }>;
type Preview = ResponseOf<'indicators:preview'>;

export function MappingEditor({ token, conventions, defaults, onDone }: {
  /** The token of a state an import just set aside (null: the person chooses a file). */
  token: string | null;
  conventions: { id: string; title: string }[];
  defaults: { convention: string; period: string; commune: string };
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const ids = useId();
  const { busy, notice, error, act } = useAction();
  const [labels, setLabels] = useState<Labels | null>(null);
  const [choice, setChoice] = useState<Record<string, string>>({});
  const [preview, setPreview] = useState<Preview | null>(null);
  const [name, setName] = useState('');
  const [saved, setSaved] = useState(false);
  const [where, setWhere] = useState(defaults);
  useEffect(() => setWhere((w) => ({ convention: w.convention || defaults.convention, period: w.period || defaults.period, commune: w.commune || defaults.commune })), [defaults]);

  const load = (request: { token?: string }) => act(async () => {
    const r = await call('indicators:labels', request);
    if (r.status !== 'done') return null;
    setLabels(r);
    setChoice({});
    setPreview(null);
    setSaved(false);
    return r.readable ? t('indicators.edit.labelsRead', { file: r.file, rows: r.rows.length, columns: r.columns.length }) : null;
  });
  const box = useRef<HTMLElement>(null);
  useEffect(() => {
    if (!token) return;
    // The state just set aside: the editor is where the eye goes next (issue 15).
    box.current?.scrollIntoView({ block: 'start' });
    void load({ token });
  }, [token]);

  const chosen = Object.fromEntries(Object.entries(choice).filter(([, label]) => label !== ''));
  const count = Object.keys(chosen).length;
  const commune = where.commune.trim();

  const showPreview = () => act(async () => {
    if (!labels) return null;
    const r = await call('indicators:preview', { token: labels.token, choice: chosen, ...(commune ? { commune } : {}) });
    setPreview(r);
    return null;
  });
  const save = () => act(async () => {
    const r = await call('indicators:mapping', { name: name.trim(), choice: chosen });
    setSaved(true);
    return t('indicators.edit.mappingSaved', { name: r.name, count: r.indicators });
  });
  const reread = () => act(async () => {
    if (!labels) return null;
    const r = await call('indicators:reread', { token: labels.token, convention: where.convention, period: where.period, ...(commune ? { commune } : {}) });
    return r.recognised ? t('indicators.imported', { count: r.rows, file: r.file, communes: r.communes.join(', ') }) : t('indicators.notRecognised', { file: r.file, reason: r.reason ?? '' });
  }, onDone);

  const previewWhy = count === 0 ? t('indicators.edit.needChoice') : null;
  const saveWhy = count === 0 ? t('indicators.edit.needChoice') : !name.trim() ? t('indicators.edit.needName') : null;
  const rereadWhy = !saved ? t('indicators.edit.needSaved') : conventionPeriodMissing(t, where.convention, where.period);

  return (
    <section ref={box} className="mapping-editor" aria-labelledby={`${ids}-title`} data-testid="mapping-editor">
      <h2 id={`${ids}-title`}>{t('indicators.edit.mappingTitle')}</h2>
      <p className="hint">{t('indicators.edit.mappingHint')}</p>
      <div className="actions">
        <button type="button" className="secondary" disabled={busy} onClick={() => void load({})}>{t('indicators.edit.chooseState')}</button>
      </div>
      {labels && !labels.readable && <p className="warning">{t('indicators.edit.unreadable', { file: labels.file, reason: labels.reason ?? '' })}</p>}
      {labels?.readable && (
        <form onSubmit={(e) => { e.preventDefault(); void showPreview(); }}>
          <p>{t('indicators.edit.stateFile', { file: forScreen(labels.file) })}</p>
          {labels.rows.length + labels.columns.length === 0 && <p className="warning">{t('indicators.edit.noLabels')}</p>}
          <fieldset>
            <legend>{t('indicators.edit.tieLegend')}</legend>
            <div className="mapping-grid">
              {INDICATORS.map((i) => (
                <div key={i.id}>
                  <label htmlFor={`${ids}-${i.id}`}>{i.label}</label>
                  <select id={`${ids}-${i.id}`} value={choice[i.id] ?? ''} onChange={(e) => { const v = e.currentTarget.value; setChoice((c) => ({ ...c, [i.id]: v })); setPreview(null); setSaved(false); }}>
                    <option value="">{t('indicators.edit.none')}</option>
                    {labels.rows.length > 0 && (
                      <optgroup label={t('indicators.edit.rowsGroup')}>
                        {labels.rows.map((l) => <option key={`r-${l}`} value={l}>{forScreen(l)}</option>)}
                      </optgroup>
                    )}
                    {labels.columns.length > 0 && (
                      <optgroup label={t('indicators.edit.columnsGroup')}>
                        {labels.columns.map((l) => <option key={`c-${l}`} value={l}>{forScreen(l)}</option>)}
                      </optgroup>
                    )}
                  </select>
                </div>
              ))}
            </div>
          </fieldset>
          <div className="fields">
            <div>
              <label htmlFor={`${ids}-commune`}>{t('indicators.communeOptional')}</label>
              <input id={`${ids}-commune`} value={where.commune} onChange={(e) => { setWhere({ ...where, commune: e.currentTarget.value }); setPreview(null); }} />
            </div>
          </div>
          <div className="actions">
            <button type="submit" className="secondary" disabled={busy || previewWhy !== null} aria-describedby={previewWhy ? `${ids}-pwhy` : undefined}>{t('indicators.edit.previewButton')}</button>
            {previewWhy && <span id={`${ids}-pwhy`} className="hint">{previewWhy}</span>}
          </div>
          {preview && (preview.recognised ? (
            <table className="indicator-table" data-testid="mapping-preview">
              <caption>{t('indicators.edit.previewCaption')}</caption>
              <thead><tr><th scope="col">{t('indicators.indicator')}</th><th scope="col">{t('indicators.commune')}</th><th scope="col">{t('indicators.value')}</th></tr></thead>
              <tbody>
                {preview.figures.map((f) => (
                  <tr key={`${f.indicator}-${f.commune ?? ''}`}>
                    <th scope="row">{indicatorLabel(f.indicator)}</th>
                    <td>{f.commune === null ? t('indicators.edit.communeToGive') : forScreen(f.commune)}</td>
                    <td className="number">{formatCount(f.value)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : <p className="warning" role="alert">{t('indicators.edit.previewFailed', { reason: preview.reason ?? '' })}</p>)}
        </form>
      )}
      {labels?.readable && (
        <form onSubmit={(e) => { e.preventDefault(); void save(); }}>
          <div className="fields">
            <div>
              <label htmlFor={`${ids}-name`}>{t('indicators.edit.mappingName')}</label>
              <input id={`${ids}-name`} value={name} maxLength={100} placeholder={t('indicators.edit.mappingNamePlaceholder')} onChange={(e) => { setName(e.currentTarget.value); setSaved(false); }} />
            </div>
          </div>
          <div className="actions">
            <button type="submit" disabled={busy || saveWhy !== null} aria-describedby={saveWhy ? `${ids}-swhy` : undefined}>{t('indicators.edit.saveButton')}</button>
            {saveWhy && <span id={`${ids}-swhy`} className="hint">{saveWhy}</span>}
          </div>
        </form>
      )}
      {labels?.readable && (
        <form onSubmit={(e) => { e.preventDefault(); void reread(); }}>
          <div className="fields">
            <ConventionPeriod conventions={conventions} convention={where.convention} period={where.period}
              onConvention={(convention) => setWhere({ ...where, convention })} onPeriod={(period) => setWhere({ ...where, period })} />
          </div>
          <div className="actions">
            <button type="submit" disabled={busy || rereadWhy !== null} aria-describedby={rereadWhy ? `${ids}-rwhy` : undefined}>{t('indicators.edit.rereadButton')}</button>
            {rereadWhy && <span id={`${ids}-rwhy`} className="hint">{rereadWhy}</span>}
          </div>
        </form>
      )}
      <ErrorBox message={error} />
      <StatusBox>{notice ? forScreen(notice) : null}</StatusBox>
    </section>
  );
}
