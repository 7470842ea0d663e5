// The outbox: every container sent from this workstation, one line per container (issue 15: its
// subject and period, recipients by name and organisation, files, receipts) with one state per
// destination mailbox or folder, in words, and the server's last answer folded away. Refreshed
// live from main's mailbox events; "send now" retries what is queued.
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, newOpId, onMailEvent } from '../api';
import { ErrorBox, Heading, Outside, ProgressBar, StatusBox, TechnicalDetails, baseName, useFormat, useNewest, useProgress } from '../components/common';
import { forScreen } from '../../shared/text';
import type { OutboxDetailsView, OutboxItem } from '../../shared/ipc';
import { FileNames } from '../components/FileNames';
import { useAnnounced } from '../components/announce';
import { FilingCell, LateBanner, ListFilters, NO_FILTER, choices, matches, useFilingWords, type ListFilter } from '../components/Lists';
import { describeError, type ErrorText } from '../errors';
import type { SentNotice } from './NewContainer';

/** Live enough even if an event is missed (the watcher's retries happen at most every minute). */
const POLL_MS = 10_000;

/** What the state filter offers: the words of a destination's state, and the receipts'. */
type LineState = 'queued' | 'sending' | 'sent' | 'deposited' | 'failed' | 'delivered' | 'opened';
const destinationState = (item: OutboxItem): LineState => (item.transport === 'folder' && item.state === 'sent' ? 'deposited' : item.state);
/** One container: its destinations (one outbox row each) and what makes it recognisable. */
interface Line { containerId: string; rows: OutboxItem[]; detail: OutboxDetailsView | undefined }

export function Outbox({ onNew, notice, onCalendar }: { onNew: () => void; notice: SentNotice | null; onCalendar?: () => void }) {
  const { t } = useTranslation();
  const format = useFormat();
  const [items, setItems] = useState<OutboxItem[] | null>(null);
  const [details, setDetails] = useState<Map<string, OutboxDetailsView>>(new Map());
  const [filter, setFilter] = useState<ListFilter>(NO_FILTER);
  const filing = useFilingWords();
  const [error, setError] = useState<ErrorText>(notice?.kind === 'error' ? notice.text : null);
  // A send the outbox retries by itself: a waiting notice, not a red error (issue 15).
  const waiting = notice?.kind === 'waiting' ? notice.text : null;
  const [status, setStatus] = useState<string | null>(notice?.kind === 'status' ? notice.text : null);
  const [opId, setOpId] = useState<string | null>(null);
  const progress = useProgress(opId);
  // The send's outcome comes with this screen, its region with it: said through the app's live
  // region once the screen is there (RGAA 7.5), and shown below as before.
  useAnnounced(notice === null ? null : typeof notice.text === 'string' ? notice.text : notice.text.message);

  // Asked again on every outbox event, every POLL_MS and after a retry: the newest answer wins.
  const newest = useNewest();
  const load = useCallback(async () => {
    const isNewest = newest();
    try {
      const result = await call('outbox:list', {});
      if (!isNewest()) return;
      setItems(result.items);
      setDetails(new Map(result.details.map((d) => [d.container, d])));
    } catch (e) {
      if (isNewest()) setError(errorMessage(e));
    }
  }, [newest]);
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
  // One line per container, newest first (the rows come newest first), its destinations inside.
  const lines: Line[] = [];
  for (const item of items ?? []) {
    const line = lines.find((l) => l.containerId === item.containerId);
    if (line) line.rows.push(item);
    else lines.push({ containerId: item.containerId, rows: [item], detail: details.get(item.containerId) });
  }
  const people = (line: Line) => line.detail?.recipients ?? [];
  const partnerOf = (p: { name: string | null; org: string | null; id: string }) => p.org ?? p.name ?? p.id;
  const statesOf = (line: Line): LineState[] => [
    ...line.rows.map(destinationState),
    ...(line.detail?.receipts.map((r) => r.kind) ?? []),
  ];
  const stateLabel = (state: LineState) => t(`lists.outbox.${state}Filter`);
  const destinationText = (item: OutboxItem) => (item.transport === 'folder' ? baseName(item.destination) : item.destination);

  const periodChoices = choices([
    ...lines.flatMap((l) => (l.detail?.filing.state === 'filed' ? [{ value: l.detail.filing.period, label: filing.periodLabel(l.detail.filing.period) }] : [])),
    ...(lines.some((l) => l.detail?.filing.state !== 'filed') ? [{ value: '~none', label: t('lists.noConvention') }] : []),
  ]);
  const partnerChoices = choices(lines.flatMap((l) => people(l).map((p) => ({ value: partnerOf(p), label: forScreen(partnerOf(p)) }))));
  const stateChoices = (['queued', 'sent', 'deposited', 'delivered', 'opened', 'failed'] as const).map((value) => ({ value, label: stateLabel(value) }));
  const shown = lines.filter((line) => {
    const f = line.detail?.filing ?? { state: 'none' as const };
    if (filter.state && !statesOf(line).includes(filter.state as LineState)) return false;
    if (filter.partner && !people(line).some((p) => partnerOf(p) === filter.partner)) return false;
    if (filter.period && (f.state === 'filed' ? f.period : '~none') !== filter.period) return false;
    return matches(filter.text, [
      ...filing.texts(f), ...people(line).flatMap((p) => [p.name, p.org]), ...line.rows.map(destinationText),
      ...(line.detail?.names.state === 'known' ? line.detail.names.files.map((x) => x.name) : []),
      ...statesOf(line).map(stateLabel),
    ]);
  });

  // A destination's state in words: « déposé sur la clé », « envoyé le … », « en attente, nouvel essai à … », « refusé … ».
  const destinationWords = (item: OutboxItem) => {
    const state = destinationState(item);
    // The state's word in the badge, the time beside it (« déposé sur la clé » le 3 déc. 2026 à 16 h 10).
    if (state === 'deposited') return <><span className="badge sent">{t('layout.outbox.deposited')}</span> {t('lists.outbox.on', { date: format.date(item.sentAt) })}</>;
    if (state === 'sent') return <><span className="badge sent">{t('outbox.states.sent')}</span> {t('lists.outbox.on', { date: format.date(item.sentAt) })}</>;
    if (state === 'queued') return <span className="badge queued">{t('lists.outbox.waiting', { at: format.time(item.nextAttemptAt) })}</span>;
    if (state === 'sending') return <span className="badge sending">{t('outbox.states.sending')}</span>;
    return <span className="badge failed">{t('lists.outbox.failed')}</span>;
  };

  return (
    <main>
      <Heading>{t('outbox.title')}</Heading>
      {/* Banners at the top (issue 15): the late periods on the sending side. */}
      <div className="banners">
        <LateBanner side="outbox" onCalendar={onCalendar} />
      </div>
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
        <>
        <ListFilters filter={filter} onChange={setFilter} periods={periodChoices} partners={partnerChoices} states={stateChoices}
          shown={shown.length} total={lines.length} partnerLabel={t('lists.recipient')} />
        {shown.length === 0 ? <p className="empty">{t('lists.noMatch')}</p> : (
        <table className="lists">
          <caption>{t('lists.outbox.caption', { count: shown.length })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('lists.container')}</th><th scope="col">{t('lists.recipients')}</th><th scope="col">{t('outbox.state')}</th>
              <th scope="col">{t('outbox.queuedAt')}</th><th scope="col">{t('outbox.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((line) => (
              <tr key={line.containerId} className={line.rows.some((r) => r.state === 'failed') ? 'refused' : undefined} data-testid={`outbox-${line.containerId.slice(0, 12)}`}>
                <td>
                  {line.detail?.object ? (
                    // A Pli object sent by Pli itself (an acknowledgement, the directory): no subject, no files.
                    <><strong>{t(line.detail.object === 'receipt' || line.detail.object === 'directory' ? `lists.outbox.object.${line.detail.object}` : 'lists.outbox.object.other')}</strong>
                      <span className="muted block">{t('lists.outbox.object.hint')}</span></>
                  ) : (
                  <FilingCell filing={line.detail?.filing ?? { state: 'none' }} unopened={null}>
                    {/* The files sent by name and size (kept sealed in the row); a row sent before
                        they were kept: their number and the container's size, as before. */}
                    {line.detail?.names.state === 'known' && line.detail.names.files.length > 0 && <FileNames files={line.detail.names.files} />}
                    <span className="muted block">{line.detail?.files != null
                      ? t('lists.outbox.files', { count: line.detail.files, size: format.size(line.rows[0]!.size) })
                      : t('lists.containerSize', { size: format.size(line.rows[0]!.size) })}</span>
                    {line.detail?.names.state === 'unreadable' && <span className="warning-text block" role="note">{t('lists.fileNames.unreadable')}</span>}
                    {line.detail?.names.state === 'locked' && <span className="muted block">{t('lists.fileNames.locked')}</span>}
                  </FilingCell>
                  )}
                </td>
                <td>
                  {line.detail?.object ? <span className="muted">{t('lists.outbox.object.to')}</span> : people(line).length > 0 ? (
                    <ul className="people">
                      {people(line).slice(0, 10).map((p) => <li key={p.id}>{p.name ? <Outside text={p.name} /> : t('inbox.unknownSender')}{p.org && <span className="muted"> — <Outside text={p.org} /></span>}</li>)}
                      {people(line).length > 10 && <li className="muted">{t('lists.outbox.morePeople', { count: people(line).length - 10 })}</li>}
                    </ul>
                  ) : <span className="muted">{t('lists.outbox.noPeople')}</span>}
                </td>
                <td>
                  <ul className="destinations">
                    {line.rows.map((item) => (
                      <li key={item.id}>
                        {destinationWords(item)}{' '}
                        {/* A row not sent that still carries a sending time (an older Pli, or written outside it): shown as is. */}
                        {destinationState(item) !== 'sent' && destinationState(item) !== 'deposited' && item.sentAt !== null && <span className="muted">{format.date(item.sentAt)} </span>}
                        <span className="muted">{t(`lists.outbox.via.${item.transport}`)} <span className="file-name"><Outside text={destinationText(item)} /></span></span>
                        {item.transport === 'mail' && item.attempts > 1 && <span className="muted"> — {t('outbox.attempts', { count: item.attempts })}</span>}
                        {item.lastError && <TechnicalDetails text={item.lastError} />}
                      </li>
                    ))}
                    {line.detail?.receipts.map((r, i) => (
                      <li key={`r${i}`}>{r.kind === 'opened'
                        ? <><span className="badge opened">{t('lists.outbox.openedWord')}</span> {t('lists.outbox.openedBy', { date: format.date(r.at), name: forScreen(r.by.name ?? r.org) })}</>
                        : <><span className="badge sent">{t('lists.outbox.deliveredWord')}</span> {t('lists.outbox.delivered', { date: format.date(r.at) })}</>}
                        {' '}<span className="muted">— <Outside text={r.org} /></span></li>
                    ))}
                  </ul>
                </td>
                <td>{format.date(line.rows[0]!.queuedAt)}</td>
                <td>
                  {line.rows.filter((item) => item.state === 'queued').map((item) => (
                    <button key={item.id} type="button" className="link" disabled={opId !== null} onClick={() => void retry([item.id])}
                      aria-label={t('outbox.retryNamed', { destination: forScreen(item.destination) })}>{t('outbox.retry')}</button>
                  ))}
                  {line.rows.some((item) => item.state === 'failed') && <span className="muted">{t('outbox.failedHint')}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        )}
        </>
      )}
      <StatusBox>{status}</StatusBox>
      <ErrorBox message={error} />
    </main>
  );
}
