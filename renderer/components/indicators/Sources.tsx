// The sources of the figures shown (docs/indicators.md 7.1), as the report lists them: each state
// with who signed its container (the signer recorded at import), or who imported it by hand, and
// each correction with who made it and why.
import { useTranslation } from 'react-i18next';
import { shortId, useFormat } from '../common';
import { forScreen } from '../../../shared/text';
import { periodFr } from '../../../shared/indicators';
import type { IndicatorSource } from '../../../shared/ipc';

export function Sources({ sources }: { sources: IndicatorSource[] }) {
  const { t } = useTranslation();
  const format = useFormat();
  if (sources.length === 0) return null;
  return (
    <section className="indicator-sources" aria-labelledby="indicator-sources">
      <h2 id="indicator-sources">{t('indicators.edit.sourcesTitle')}</h2>
      <ul data-testid="indicator-sources">
        {sources.map((s) => (
          <li key={`${s.kind}-${s.period}-${s.importedAt}-${s.file}`}>
            <strong>{periodFr(s.period)}</strong>{'\u00a0: '}
            {s.kind === 'correction'
              ? t('indicators.edit.sourceCorrection', { date: format.day(s.importedAt), by: forScreen(s.importedBy ?? t('indicators.edit.unknownPerson')), reason: forScreen(s.reason ?? '') })
              : s.kind === 'hand'
                ? t('indicators.edit.sourceHand', { file: forScreen(s.file), date: format.day(s.importedAt), by: forScreen(s.importedBy ?? t('indicators.edit.unknownPerson')) })
                : t(s.signedBy ? 'indicators.edit.sourceContainer' : 'indicators.edit.sourceContainerUnsigned', {
                  file: forScreen(s.file), container: shortId(s.container ?? ''), date: format.day(s.receivedAt), by: forScreen(s.signedBy ?? ''),
                })}
          </li>
        ))}
      </ul>
    </section>
  );
}
