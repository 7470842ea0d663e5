// The outbox: every container sent from this workstation, one row per destination mailbox (or
// folder), with its state (queued, sending, sent, failed) and the server's last answer. Refreshed
// live from main's mailbox events; "send now" retries what is queued.
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, newOpId, onMailEvent } from '../api';
import { ErrorBox, Heading, Outside, ProgressBar, StatusBox, TechnicalDetails, baseName, shortId, useFormat, useProgress } from '../components/common';
import { forScreen } from '../../shared/text';
import type { OutboxItem } from '../../shared/ipc';
import { describeError, type ErrorText } from '../errors';
import type { SentNotice } from './NewContainer';

/** Live enough even if an event is missed (the watcher's retries happen at most every minute). */
const POLL_MS = 10_000;

export function Outbox({ onNew, notice }: { onNew: () => void; notice: SentNotice | null }) {
  const { t } = useTranslation();
  const format = useFormat();
  const [items, setItems] = useState<OutboxItem[] | null>(null);
  const [error, setError] = useState<ErrorText>(notice?.kind === 'error' ? notice.text : null);
  // A send the outbox retries by itself: a waiting notice, not a red error (issue 15).
  const waiting = notice?.kind === 'waiting' ? notice.text : null;
  const [status, setStatus] = useState<string | null>(notice?.kind === 'status' ? notice.text : null);
  const [opId, setOpId] = useState<string | null>(null);
  const progress = useProgress(opId);

  const load = useCallback(async () => {
    try {
      setItems((await call('outbox:list', {})).items);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, []);
  useEffect(() => {
    void load();
    const off = onMailEvent((event) => { if (event.type === 'outbox') void load(); });
    const timer = window.setInterval(() => void load(), POLL_MS);
    return () => { off(); window.clearInterval(timer); };
  }, [load]);

  const retry = async (ids?: number[]) => {
    setError(null);
    setStatus(null);
    const op = newOpId();
    setOpId(op);
    try {
      const result = await call('outbox:flush', { opId: op, ...(ids ? { ids } : {}) });
      if (result.error) {
        const why = describeError(result.error);
        setError({ message: t('outbox.retryFailed', { error: why.message }), detail: why.detail });
      }
      else if (result.sent + result.failed === 0) setStatus(t('outbox.nothingToSend'));
      else setStatus(t('outbox.retried', { sent: t('outbox.sentCount', { count: result.sent }), failed: t('outbox.failedCount', { count: result.failed }) }));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setOpId(null);
      void load();
    }
  };

  const queued = (items ?? []).filter((i) => i.state === 'queued');
  return (
    <main>
      <Heading>{t('outbox.title')}</Heading>
      <div className="actions">
        <button type="button" onClick={() => void retry()} disabled={opId !== null || queued.length === 0} aria-describedby={opId === null && queued.length === 0 ? 'send-now-reason' : undefined}>{t('outbox.sendNow')}</button>
        <button type="button" className="secondary" onClick={onNew}>{t('outbox.new')}</button>
        {opId === null && queued.length === 0 && <span id="send-now-reason" className="reason">{t('layout.reason.label')} {t('layout.reason.nothingQueued')}</span>}
      </div>
      {waiting && (
        <div className="notice waiting" role="status">
          <p>{forScreen(waiting.message)}</p>
          {waiting.detail && <p className="muted">{t('common.detail')} {forScreen(waiting.detail)}</p>}
        </div>
      )}
      {opId && <ProgressBar label={t('outbox.sending')} progress={progress} />}
      {items === null ? <p>{t('common.loading')}</p> : items.length === 0 ? <p className="empty">{t('outbox.empty')}</p> : (
        <table>
          <caption>{t('outbox.caption', { count: items.length })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('outbox.container')}</th><th scope="col">{t('outbox.destination')}</th><th scope="col">{t('outbox.state')}</th>
              <th scope="col">{t('outbox.queuedAt')}</th><th scope="col">{t('outbox.answer')}</th><th scope="col">{t('outbox.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.id} className={item.state === 'failed' ? 'refused' : undefined}>
                <td><code title={item.containerId}>{shortId(item.containerId)}</code> <span className="muted">{format.size(item.size)}</span></td>
                <td>{t(`outbox.transport.${item.transport}`)} <span className="file-name"><Outside text={item.transport === 'folder' ? baseName(item.destination) : item.destination} /></span></td>
                <td>
                  <span className={`badge ${item.state}`}>{item.transport === 'folder' && item.state === 'sent' ? t('layout.outbox.deposited')
                    : item.state === 'queued' && item.lastError ? t('layout.outbox.waiting', { at: format.date(item.nextAttemptAt) }) : t(`outbox.states.${item.state}`)}</span>
                  {item.sentAt !== null && <span className="muted"> {format.date(item.sentAt)}</span>}
                  {item.transport === 'mail' && item.attempts > 0 && <span className="muted"> — {t('outbox.attempts', { count: item.attempts })}</span>}
                </td>
                <td>{format.date(item.queuedAt)}</td>
                <td>{item.lastError
                  ? <>{item.state === 'queued' && <span className="muted">{t('outbox.nextAttempt', { at: format.time(item.nextAttemptAt) })}</span>}<TechnicalDetails text={item.lastError} /></>
                  : item.state === 'queued' ? <span className="muted">{t('outbox.nextAttempt', { at: format.time(item.nextAttemptAt) })}</span> : ''}</td>
                <td>
                  {item.state === 'queued' && (
                    <button type="button" className="link" disabled={opId !== null} onClick={() => void retry([item.id])}
                      aria-label={t('outbox.retryNamed', { destination: forScreen(item.destination) })}>{t('outbox.retry')}</button>
                  )}
                  {item.state === 'failed' && <span className="muted">{t('outbox.failedHint')}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <StatusBox>{status}</StatusBox>
      <ErrorBox message={error} />
    </main>
  );
}
