// The workstation's event log, newest first. Chain verification and export arrive with the
// tamper-evident audit service.
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api';
import { ErrorBox, Heading, useFormat } from '../components/common';
import type { AuditEvent } from '../../shared/ipc';

export function Audit() {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    setError(null);
    call('events:list', { limit: 500 }).then((r) => { setEvents(r.events); setTotal(r.total); }, (e: unknown) => setError(errorMessage(e)));
  }, []);
  useEffect(load, [load]);
  const action = (name: string) => (i18n.exists(`audit.actions.${name}`) ? t(`audit.actions.${name}`) : name);

  return (
    <main>
      <Heading>{t('audit.title')}</Heading>
      <p className="pending">{t('audit.verifyPending')}</p>
      <div className="actions"><button type="button" onClick={load}>{t('audit.refresh')}</button></div>
      {events === null ? <p>{t('common.loading')}</p> : (
        <table className="audit">
          <caption>{t('audit.caption', { shown: events.length, total })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('audit.seq')}</th><th scope="col">{t('audit.at')}</th><th scope="col">{t('audit.actor')}</th>
              <th scope="col">{t('audit.action')}</th><th scope="col">{t('audit.outcome')}</th><th scope="col">{t('audit.object')}</th><th scope="col">{t('audit.detail')}</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.seq} className={e.outcome === 'ok' ? '' : 'refused'}>
                <td>{e.seq}</td>
                <td>{format.date(e.at)}</td>
                <td>{e.actorName ?? e.actor ?? '—'}</td>
                <td>{action(e.action)}</td>
                <td>{t(`audit.outcomes.${e.outcome}`)}</td>
                <td><code className="wrap">{e.object ?? ''}</code></td>
                <td><code className="wrap">{e.detail ?? ''}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorBox message={error} />
    </main>
  );
}
