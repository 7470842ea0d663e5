// Received containers. From the functional mailbox (checked at arrival: structure, known signer,
// signature, certificate at the arrival time; nothing decrypted), new arrivals appear as main's
// background watcher pushes them; "collect the mail" and "import from a folder" do it on demand.
// Opening an item decrypts it into a folder chosen in main's dialog. A .pli saved elsewhere can
// still be opened from disk.
//
// Rows come from the profile's database, which the attacker of docs/profile.md can write, and may
// predate the bounds on received values: every field is shown defensively (a date that is no date,
// a code that is no code, strings of any length), and each row has its own error boundary, so one
// row can never take the list, let alone the window, down with it.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, newOpId, onMailEvent } from '../api';
import { ErrorBox, FilePicker, Heading, ProgressBar, StatusBox, TechnicalDetails, baseName, useFormat, useNewest, useProgress } from '../components/common';
import { forScreen } from '../../shared/text';
import { retentionLine, type RetentionView } from '../../shared/retention-words';
import { OpenedFiles } from '../components/OpenedFiles';
import { ErrorBoundary } from '../components/ErrorBoundary';
import { isDateMs } from '../../shared/dates';
import type { ContainerSummary, InboxDetailsView, InboxItem, ResponseOf, WatcherStatus } from '../../shared/ipc';
import { FileNames } from '../components/FileNames';
import { FilingCell, LateBanner, ListFilters, NO_FILTER, choices, matches, useFilingWords, type ListFilter } from '../components/Lists';
import { describeError, wording, type ErrorText } from '../errors';

/** Longest text shown from a row's field; the rest is cut (a row may hold megabytes). */
const SHOWN_CHARS = 120;
// Outside text: control, bidi and format characters made visible (shared/text forScreen).
const clip = (raw: string): string => { const text = forScreen(raw); return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text; };
/** Whether `code` is one of the table's own keys (never "constructor" or "__proto__" from Object). */
const known = (table: unknown, code: string | null): code is string =>
  code !== null && typeof table === 'object' && table !== null && Object.hasOwn(table, code);

type Opened = Extract<ResponseOf<'inbox:open'>, { status: 'done' }>;

/** A row's state for the filter: not yet opened, opened, refused. */
type RowState = 'unopened' | 'opened' | 'refused';
const rowState = (item: InboxItem): RowState => (item.state === 'refused' ? 'refused' : item.state === 'opened' ? 'opened' : 'unopened');

export function Inbox({ onOpen, onSettings, onCalendar }: { onOpen: (summary: ContainerSummary) => void; onSettings: () => void; onCalendar?: () => void }) {
  const { t } = useTranslation();
  const format = useFormat();
  const [error, setError] = useState<ErrorText>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [items, setItems] = useState<InboxItem[] | null>(null);
  const [mailbox, setMailbox] = useState(false);
  const [watcher, setWatcher] = useState<WatcherStatus>({ state: 'off', error: null, retryInSeconds: null });
  const [room, setRoom] = useState<{ bytes: number; files: number }>({ bytes: 0, files: 0 });
  const [retention, setRetention] = useState<RetentionView | null>(null);
  const watcherError = watcher.error ? describeError(watcher.error) : null;
  const [opId, setOpId] = useState<string | null>(null);
  const [opLabel, setOpLabel] = useState('');
  const progress = useProgress(opId);
  const [opened, setOpened] = useState<Opened | null>(null);
  const [details, setDetails] = useState<Map<number, InboxDetailsView>>(new Map());
  const [filter, setFilter] = useState<ListFilter>(NO_FILTER);
  const filing = useFilingWords();

  // The list answer's watcher state is main's when it listed; a state pushed since may be newer
  // (the answer and the pushes do not travel together) and must win. Every change of the watcher's
  // state is pushed, in order: so the answer's is used only when no push came while it was asked.
  // The lists themselves: only the answer to the newest request (an arrival, an action's end and
  // the watcher each ask again) is shown (useNewest).
  const watcherPushes = useRef(0);
  const newest = useNewest();
  const load = useCallback(async () => {
    const isNewest = newest();
    try {
      const pushesBefore = watcherPushes.current;
      const result = await call('inbox:list', {});
      if (!isNewest()) return;
      setItems(result.items);
      setDetails(new Map(result.details.map((d) => [d.id, d])));
      setMailbox(result.mailbox);
      if (watcherPushes.current === pushesBefore) setWatcher(result.watcher);
      setRoom(result.refusedRoom);
      setRetention(result.retention ?? null);
    } catch (e) {
      if (isNewest()) setError(errorMessage(e));
    }
  }, [newest]);
  useEffect(() => {
    void load();
    return onMailEvent((event) => {
      if (event.type === 'inbox') void load();
      if (event.type === 'watcher') {
        watcherPushes.current += 1;
        setWatcher(event.watcher);
      }
    });
  }, [load]);

  const run = async (label: string, action: (op: string) => Promise<void>) => {
    setError(null);
    setStatus(null);
    const op = newOpId();
    setOpLabel(label);
    setOpId(op);
    try {
      await action(op);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setOpId(null);
      void load();
    }
  };
  // "1 nouveau pli, aucun refusé.": each count its own plural; "déjà reçu" only when there are some.
  const counts = (r: { received: number; refused: number; known: number }) => `${[
    t('inbox.countReceived', { count: r.received }), t('inbox.countRefused', { count: r.refused }),
    ...(r.known > 0 ? [t('inbox.countKnown', { count: r.known })] : []),
  ].join(', ')}.`;
  const receive = () => run(t('inbox.receiving'), async (op) => {
    setStatus(counts(await call('inbox:receive', { opId: op })));
  });
  const importFolder = () => run(t('inbox.importing'), async (op) => {
    const result = await call('inbox:importFolder', { opId: op });
    if (result.status !== 'done') return;
    setStatus(`${t('inbox.imported', { folder: baseName(result.folder) })} ${counts(result)}`);
    // Files of the folder that could not be read: said, each with its reason (the others were read).
    if (result.unreadableCount > 0) setError(`${t('inbox.unreadable', { count: result.unreadableCount })} ${result.unreadable.join(' ')}`);
  });
  const openItem = (item: InboxItem) => run(t('inbox.opening'), async (op) => {
    setOpened(null);
    const result = await call('inbox:open', { opId: op, id: item.id });
    if (result.status === 'done') setOpened(result);
  });
  const reveal = (path: string) => void call('shell:showInFolder', { path }).catch((e: unknown) => setError(errorMessage(e)));

  const openFromDisk = async (path: string) => {
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
  // Only the translation tables' own keys are looked up: a code from the row is the attacker's text.
  const reasons: unknown = t('inbox.reasons', { returnObjects: true });
  const flags: unknown = t('inbox.flags', { returnObjects: true });
  // A code without wording here: the core's French sentence (data from main), clipped like any outside text.
  const reason = (refusal: InboxItem['refusal']) => (refusal && known(reasons, refusal.code)
    ? t(`inbox.reasons.${refusal.code}`)
    : clip(refusal?.message ?? ''));
  const flag = (f: string) => (known(flags, f) ? t(`inbox.flags.${f}`) : clip(f));
  const when = (ms: number | null) => (isDateMs(ms) ? format.date(ms) : t('inbox.unreadableDate'));
  // The state in words: « pas encore ouvert », « ouvert le … par … », « refusé : … ».
  const stateWords = (item: InboxItem, detail: InboxDetailsView | undefined) => {
    if (item.state === 'refused') return <><span className="badge refused">{t('lists.inbox.refused')}</span> <span className="reason">{reason(item.refusal)}</span></>;
    if (item.state !== 'opened') return <span className="badge new">{t('lists.inbox.unopened')}</span>;
    const by = detail?.openedBy?.name ?? null;
    // The word in the badge, when and by whom beside it: « ouvert » le 3 déc. 2026 à 16 h 10 par Claire Dumont.
    return <><span className="badge opened">{t('lists.inbox.openedWord')}</span> {by ? t('lists.inbox.openedBy', { date: when(item.openedAt), name: clip(by) }) : t('lists.inbox.opened', { date: when(item.openedAt) })}</>;
  };
  const stateText = (item: InboxItem): string => t(`lists.inbox.${rowState(item)}Filter`);
  // The choices of the filters: what the rows hold (periods once opened, senders' organisations).
  const periodChoices = choices([
    ...[...details.values()].flatMap((d) => (d.filing.state === 'filed' ? [{ value: d.filing.period, label: filing.periodLabel(d.filing.period) }] : [])),
    ...([...details.values()].some((d) => d.filing.state === 'none') ? [{ value: '~none', label: t('lists.noConvention') }] : []),
    ...((items ?? []).some((i) => i.state === 'verified') ? [{ value: '~unopened', label: t('lists.unopenedPeriod') }] : []),
  ]);
  const partnerChoices = choices((items ?? []).flatMap((i) => {
    const org = i.senderOrg ?? i.senderName;
    return org ? [{ value: org, label: clip(org) }] : [];
  }));
  const stateChoices = (['unopened', 'opened', 'refused'] as const).map((value) => ({ value, label: t(`lists.inbox.${value}Filter`) }));
  const shown = (items ?? []).filter((item) => {
    const detail = details.get(item.id);
    const f = detail?.filing ?? { state: 'unopened' as const };
    if (filter.state && rowState(item) !== filter.state) return false;
    if (filter.partner && (item.senderOrg ?? item.senderName) !== filter.partner) return false;
    if (filter.period) {
      const period = f.state === 'filed' ? f.period : f.state === 'none' ? '~none' : item.state === 'verified' ? '~unopened' : '';
      if (period !== filter.period) return false;
    }
    return matches(filter.text, [item.senderName, item.senderOrg, ...filing.texts(f), ...(detail?.files.map((x) => x.name) ?? []), stateText(item)]);
  });

  return (
    <main>
      <Heading>{t('inbox.title')}</Heading>
      {/* Banners at the top (issue 15): the retention run's notice, the late periods; room for other notices above the lists. */}
      <div className="banners">
        {retention ? <p className="notice retention-notice" role="status">{forScreen(retentionLine(wording, retention))}</p> : null}
        <LateBanner side="inbox" onCalendar={onCalendar} />
      </div>
      <section className="panel" aria-labelledby="inbox-mailbox">
        <h2 id="inbox-mailbox">{t('inbox.mailboxTitle')}</h2>
        {!mailbox ? (
          <p className="pending">{t('inbox.noMailbox')} <button type="button" className="link" onClick={onSettings}>{t('inbox.goSettings')}</button></p>
        ) : (
          <p className="watch" role="status" aria-live="polite">
            {t(`inbox.watcher.${watcher.state}`)}
            {watcher.retryInSeconds !== null ? <> {t('inbox.watcher.retryIn', { seconds: watcher.retryInSeconds })}</> : null}
            {watcherError ? <span className="muted"> — {forScreen(watcherError.message)}<TechnicalDetails text={watcherError.detail} /></span> : null}
          </p>
        )}
        <div className="actions">
          <button type="button" onClick={() => void receive()} disabled={!mailbox || opId !== null}>{t('inbox.receive')}</button>
          <button type="button" className="secondary" onClick={() => void importFolder()} disabled={opId !== null}>{t('inbox.importFolder')}</button>
        </div>
        {opId && <ProgressBar label={opLabel} progress={progress} />}
        {items === null ? <p>{t('common.loading')}</p> : items.length === 0 ? <p className="empty">{t('inbox.empty')}</p> : (
          <>
          <ListFilters filter={filter} onChange={setFilter} periods={periodChoices} partners={partnerChoices} states={stateChoices}
            shown={shown.length} total={items.length} partnerLabel={t('lists.sender')} />
          {shown.length === 0 ? <p className="empty">{t('lists.noMatch')}</p> : (
          <table className="inbox lists">
            <caption>{t('inbox.caption', { count: shown.length })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('lists.container')}</th><th scope="col">{t('inbox.sender')}</th><th scope="col">{t('inbox.date')}</th>
                <th scope="col">{t('inbox.state')}</th><th scope="col">{t('inbox.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((item, index) => {
                const detail = details.get(item.id);
                return (
                <ErrorBoundary key={`${item.id}-${index}`} screen={t('nav.inbox')}
                  fallback={() => <tr className="refused"><td colSpan={5} role="alert">{t('inbox.unreadableRow', { id: item.id })}</td></tr>}>
                <tr className={item.state === 'refused' ? 'refused' : undefined} data-testid={`inbox-${item.id}`}>
                  <td>
                    <FilingCell filing={detail?.filing ?? { state: 'unopened' }}
                      unopened={item.state === 'refused' ? <strong>{t('lists.refusedContainer')}</strong>
                        : <><strong>{t('lists.unopened')}</strong> <span className="muted block">{t('lists.unopenedHint')}</span></>}>
                      {/* Opened: the files written, by name and size, as the outbox shows the files sent.
                          Not opened: the names are inside the encryption (the hint above says so). */}
                      {detail && detail.files.length > 0 ? <FileNames files={detail.files} />
                        : <span className="muted block">{t('lists.containerSize', { size: format.size(item.size) })}</span>}
                    </FilingCell>
                  </td>
                  <td>{item.senderName
                    ? <>{clip(item.senderName)} <span className="muted block">{clip(item.senderOrg ?? '')}{item.state === 'refused' ? ` (${t('inbox.claimed')})` : ''}</span></>
                    : <span className="muted">{item.senderId ? t('inbox.unknownSender') : t('inbox.unreadableSender')}</span>}
                    {item.state !== 'refused' && <span className="badge verified">{t('inbox.verified')}</span>}</td>
                  <td>{when(item.arrivedAt)}{item.createdMs !== null && <span className="muted block">({t('inbox.created', { date: when(item.createdMs) })})</span>}</td>
                  <td>{stateWords(item, detail)}
                    {item.flags.length > 0 && <span className="warning-text block">{[...new Set(item.flags)].slice(0, 5).map(flag).filter(Boolean).join(' ; ')}</span>}</td>
                  <td>{item.state !== 'refused' && (
                    <button type="button" className="link" disabled={opId !== null} onClick={() => void openItem(item)}
                      aria-label={t('inbox.openNamed', { name: clip(item.senderName ?? item.senderId ?? '') })}>{t('inbox.open')}</button>
                  )}</td>
                </tr>
                </ErrorBoundary>
                );
              })}
            </tbody>
          </table>
          )}
          </>
        )}
        {items?.some((item) => item.state === 'refused') && (
          <p className="muted" data-testid="refused-room">{t('inbox.refusedRoom', { size: format.size(room.bytes), count: room.files })}</p>
        )}
      </section>
      {opened && (
        <section className="panel" aria-labelledby="inbox-opened">
          <h2 id="inbox-opened">{t('inbox.openedTitle')}</h2>
          <OpenedFiles opened={opened} onReveal={reveal}>
            <button type="button" className="secondary" onClick={() => setOpened(null)}>{t('inbox.closeOpened')}</button>
          </OpenedFiles>
        </section>
      )}
      <StatusBox>{status}</StatusBox>
      <ErrorBox message={error} />
      <section className="panel">
        <h2>{t('inbox.fromDisk')}</h2>
        <FilePicker testId="open-container" label={t('inbox.choose')} hint={t('inbox.dropHint')} accept=".pli"
          onFiles={(files) => void openFromDisk(files[0]!.path)} />
        {busy && <ProgressBar label={t('inbox.reading')} progress={null} />}
      </section>
    </main>
  );
}
