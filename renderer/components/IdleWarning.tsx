// The idle lock's warning (RGAA 13.1): shortly before the session closes by itself, a modal
// alertdialog says so and offers « Rester connecté ». The button or Escape closes it; any activity
// keeps the session (App's idle timer); left alone, the lock comes as before.
import { useEffect, useId, useRef } from 'react';
import { useTranslation } from 'react-i18next';

/** Marks the dialog: the focus it takes when it opens is not the person's activity (App). */
export const IDLE_WARNING_ATTRIBUTE = 'data-idle-warning';

export function IdleWarning({ seconds, onStay }: { seconds: number; onStay: () => void }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const textId = useId();
  useEffect(() => {
    const dialog = ref.current;
    // Where the person was: given back when the warning goes (kept, the screen under it is unchanged).
    const before = document.activeElement;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      if (dialog?.open) dialog.close();
      if (before instanceof HTMLElement && before.isConnected) before.focus();
    };
  }, []);
  return (
    <dialog ref={ref} role="alertdialog" aria-labelledby={titleId} aria-describedby={textId} className="secret" {...{ [IDLE_WARNING_ATTRIBUTE]: '' }}
      onCancel={(e) => { e.preventDefault(); onStay(); }}>
      <h2 id={titleId}>{t('layout.idle.warningTitle')}</h2>
      <p id={textId}>{t('layout.idle.warning', { count: seconds })}</p>
      <div className="actions"><button type="button" onClick={onStay}>{t('layout.idle.stay')}</button></div>
    </dialog>
  );
}
