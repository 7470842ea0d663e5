// « Convention + période », the pair every form of the Indicateurs screen asks for (the import of a
// state, the correction of a figure, the mapping editor's « relire »): one select of the profile's
// conventions and one period field, with one rule for both. Controlled: the form that uses it keeps
// the values. It renders the two fields as siblings (no wrapper), so that each form keeps its own
// layout; `between` is what the form puts between them (the correction form's commune).
import { useId, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { forScreen } from '../../../shared/text';
import { PERIOD_PATTERN } from '../../../shared/indicators';
import { RequiredMark } from '../common';

/** A period as typed is usable: 2026, 2026-S2, 2026-T4 or 2026-11 (the core checks it again). */
export function validPeriod(period: string): boolean {
  return PERIOD_PATTERN.test(period);
}

/** Why a form that needs both cannot be sent yet (issue 15: no disabled button without a reason), or null. */
export function conventionPeriodMissing(t: TFunction, convention: string, period: string): string | null {
  if (!convention) return t('indicators.edit.needConvention');
  if (!validPeriod(period)) return t('indicators.edit.needPeriod');
  return null;
}

export function ConventionPeriod({ conventions, convention, period, onConvention, onPeriod, periodLabel, between }: {
  conventions: { id: string; title: string }[];
  convention: string;
  period: string;
  onConvention: (id: string) => void;
  /** Called with the text trimmed: a pasted « 2026-T4 » with a space around it is the same period. */
  onPeriod: (period: string) => void;
  /** The label of the period field when the form takes fewer kinds of period than the import does. */
  periodLabel?: string;
  between?: ReactNode;
}) {
  const { t } = useTranslation();
  const ids = useId();
  return (
    <>
      <div>
        <label htmlFor={`${ids}-conv`}>{t('indicators.convention')}<RequiredMark /></label>
        <select id={`${ids}-conv`} value={convention} required onChange={(e) => onConvention(e.currentTarget.value)}>
          <option value="">{t('indicators.chooseConvention')}</option>
          {conventions.map((c) => <option key={c.id} value={c.id}>{forScreen(c.title)}</option>)}
        </select>
      </div>
      {between}
      <div>
        <label htmlFor={`${ids}-period`}>{periodLabel ?? t('indicators.period')}<RequiredMark /></label>
        {/* Empty is not flagged invalid: the person has not typed yet; the button's reason says what is missing. */}
        <input id={`${ids}-period`} value={period} required placeholder="2026-T4" aria-invalid={period !== '' && !validPeriod(period)}
          onChange={(e) => onPeriod(e.currentTarget.value.trim())} />
      </div>
    </>
  );
}
