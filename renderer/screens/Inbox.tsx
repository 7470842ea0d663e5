// Received containers. Until the functional mailbox is connected, a container is opened from disk
// (saved attachment, USB key): its public header is read (sender, date, size), nothing decrypted.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api';
import { ErrorBox, FilePicker, Heading, ProgressBar } from '../components/common';
import type { ContainerSummary } from '../../shared/ipc';

export function Inbox({ onOpen }: { onOpen: (summary: ContainerSummary) => void }) {
  const { t } = useTranslation();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const open = async (path: string) => {
    setError(null);
    setBusy(true);
    try {
      onOpen(await call('containers:inspect', { path }));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main>
      <Heading>{t('inbox.title')}</Heading>
      <section className="panel">
        <h2>{t('inbox.mailboxTitle')}</h2>
        <p className="pending">{t('inbox.mailboxPending')}</p>
        <p className="empty">{t('inbox.empty')}</p>
      </section>
      <section className="panel">
        <h2>{t('inbox.fromDisk')}</h2>
        <FilePicker testId="open-container" label={t('inbox.choose')} hint={t('inbox.dropHint')} accept=".pli"
          onFiles={(files) => void open(files[0]!.path)} />
        {busy && <ProgressBar label={t('inbox.reading')} progress={null} />}
      </section>
      <ErrorBox message={error} />
    </main>
  );
}
