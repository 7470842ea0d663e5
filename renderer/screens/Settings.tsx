// Settings: the interface language, the idle lock delay (both stored in the profile) and the
// functional mailbox (MailboxSettings). Each confirmation or error shows beside the control that
// caused it (issue 15: it used to land ~1,000 px below, outside the window).
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api';
import { ErrorBox, Heading, RequiredMark, StatusBox } from '../components/common';
import { languageSchema, type Language } from '../../shared/ipc';
import { MailboxSettings } from './MailboxSettings';
import type { ErrorText } from '../errors';

export function SettingsScreen({ onLanguage, idleLockMinutes, onIdleLock, onMailbox }: {
  onLanguage: (language: Language) => void; idleLockMinutes: number | null; onIdleLock: (minutes: number | null) => void; onMailbox: () => void;
}) {
  const { t, i18n } = useTranslation();
  const languageId = useId();
  const idleId = useId();
  type Where = 'language' | 'idle';
  const [failure, setFailure] = useState<{ where: Where; error: ErrorText } | null>(null);
  const [done, setDone] = useState<{ where: Where; text: string } | null>(null);
  const setError = (error: ErrorText, where: Where = 'idle') => setFailure(error ? { where, error } : null);
  const setSaved = (text: string | null, where: Where = 'idle') => setDone(text ? { where, text } : null);
  const errorAt = (where: Where) => (failure?.where === where ? failure.error : null);
  const savedAt = (where: Where) => (done?.where === where ? done.text : null);
  const [minutes, setMinutes] = useState(idleLockMinutes === null ? '' : String(idleLockMinutes));
  // The language chosen in the list, applied only by its button: an arrow key that browses the
  // options must not switch the interface (and the screen reader's voice) at once (RGAA 7.4).
  const [choice, setChoice] = useState(i18n.language);

  const applyLanguage = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setSaved(null);
    const language = languageSchema.parse(choice);
    try {
      const settings = await call('settings:set', { language });
      onLanguage(settings.language);
      setSaved(t('settings.saved'), 'language');
    } catch (e) {
      setError(errorMessage(e), 'language');
    }
  };
  const saveIdle = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setSaved(null);
    const value = Number(minutes);
    if (!Number.isInteger(value) || value < 1 || value > 1440) {
      setError(t('settings.idleLockInvalid'));
      return;
    }
    try {
      const settings = await call('settings:set', { idleLockMinutes: value });
      onIdleLock(settings.idleLockMinutes);
      setSaved(t('settings.idleLockSaved', { count: settings.idleLockMinutes }));
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <main className="narrow">
      <Heading>{t('settings.title')}</Heading>
      <form className="panel" onSubmit={(e) => void applyLanguage(e)}>
        <label htmlFor={languageId}>{t('settings.language')}</label>
        <select id={languageId} value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
          <option value="fr" lang="fr">Français</option>
          <option value="en" lang="en">English</option>
        </select>
        <div className="actions"><button type="submit">{t('settings.applyLanguage')}</button></div>
        <StatusBox>{savedAt('language')}</StatusBox>
        <ErrorBox message={errorAt('language')} />
      </form>
      <form className="panel" onSubmit={saveIdle}>
        <label htmlFor={idleId}>{t('settings.idleLock')}<RequiredMark /></label>
        <input id={idleId} type="number" min={1} max={1440} required value={minutes} onChange={(e) => setMinutes(e.currentTarget.value)} aria-describedby={`${idleId}-hint`} />
        <p id={`${idleId}-hint`} className="hint">{idleLockMinutes ? t('settings.idleLockSet', { minutes: idleLockMinutes }) : t('settings.idleLockPending')}</p>
        <div className="actions"><button type="submit">{t('settings.saveIdle')}</button></div>
        <StatusBox>{savedAt('idle')}</StatusBox>
        <ErrorBox message={errorAt('idle')} />
      </form>
      <MailboxSettings onSaved={onMailbox} />
    </main>
  );
}
