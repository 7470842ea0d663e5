// Settings: the interface language (stored in the profile) and, later, the idle lock delay.
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api';
import { ErrorBox, Heading, StatusBox } from '../components/common';
import { languageSchema, type Language } from '../../shared/ipc';

export function SettingsScreen({ onLanguage, idleLockMinutes }: { onLanguage: (language: Language) => void; idleLockMinutes: number | null }) {
  const { t, i18n } = useTranslation();
  const languageId = useId();
  const idleId = useId();
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  const change = async (value: string) => {
    setError(null);
    setSaved(false);
    const language = languageSchema.parse(value);
    try {
      const settings = await call('settings:set', { language });
      onLanguage(settings.language);
      setSaved(true);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <main className="narrow">
      <Heading>{t('settings.title')}</Heading>
      <label htmlFor={languageId}>{t('settings.language')}</label>
      <select id={languageId} value={i18n.language} onChange={(e) => void change(e.currentTarget.value)}>
        <option value="fr">Français</option>
        <option value="en">English</option>
      </select>
      <label htmlFor={idleId}>{t('settings.idleLock')}</label>
      <input id={idleId} type="number" disabled value={idleLockMinutes ?? ''} placeholder="—" aria-describedby={`${idleId}-hint`} />
      <p id={`${idleId}-hint`} className="hint">{idleLockMinutes ? t('settings.idleLockSet', { minutes: idleLockMinutes }) : t('settings.idleLockPending')}</p>
      <StatusBox>{saved ? t('settings.saved') : null}</StatusBox>
      <ErrorBox message={error} />
    </main>
  );
}
