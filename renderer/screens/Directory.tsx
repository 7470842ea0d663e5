// The directory: people of this workstation and correspondents, with the fingerprints to check
// aloud. Until the SSI authority signs the directory, every card is self-signed.
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api';
import { ErrorBox, FilePicker, Heading, StatusBox, useFormat } from '../components/common';
import type { Person } from '../../shared/ipc';

export function Directory() {
  const { t } = useTranslation();
  const format = useFormat();
  const [people, setPeople] = useState<Person[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  const load = useCallback(() => {
    call('identities:list', {}).then((r) => setPeople(r.people), (e: unknown) => setError(errorMessage(e)));
  }, []);
  useEffect(load, [load]);

  const importCard = async (path: string) => {
    setError(null);
    setStatus(null);
    try {
      const result = await call('identities:importCard', { path });
      setStatus(t(result.added ? 'directory.added' : 'directory.known', { name: result.person.name, org: result.person.org, fingerprint: result.person.fingerprint }));
      load();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const exportCard = async (person: Person) => {
    setError(null);
    setStatus(null);
    try {
      const result = await call('identities:exportCard', { id: person.id });
      if (result.status === 'done') setStatus(t('directory.exported', { name: person.name, path: result.path }));
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <main>
      <Heading>{t('directory.title')}</Heading>
      <p className="pending">{t('directory.noAuthority')}</p>
      {people === null ? <p>{t('common.loading')}</p> : (
        <table>
          <caption>{t('directory.caption', { count: people.length })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('person.name')}</th><th scope="col">{t('person.org')}</th><th scope="col">{t('person.email')}</th>
              <th scope="col">{t('directory.kind')}</th><th scope="col">{t('directory.fingerprint')}</th>
              <th scope="col">{t('directory.certificate')}</th><th scope="col">{t('directory.addedAt')}</th><th scope="col"><span className="visually-hidden">{t('directory.actions')}</span></th>
            </tr>
          </thead>
          <tbody>
            {people.map((p) => (
              <tr key={p.id}>
                <td>{p.name}</td><td>{p.org}</td><td>{p.email}</td>
                <td>{p.own ? t('directory.own') : t('directory.correspondent')}</td>
                <td><code>{p.fingerprint}</code></td>
                <td>{t(`directory.cert.${p.certificate}`)}</td>
                <td>{format.date(p.addedAt)}</td>
                <td>{p.own && <button type="button" className="link" onClick={() => void exportCard(p)} aria-label={t('directory.exportNamed', { name: p.name })}>{t('directory.export')}</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <section className="panel">
        <h2>{t('directory.importTitle')}</h2>
        <FilePicker testId="import-card" label={t('directory.import')} hint={t('directory.importHint')} accept=".json,application/json"
          onFiles={(files) => void importCard(files[0]!.path)} />
      </section>
      <StatusBox>{status}</StatusBox>
      <ErrorBox message={error} />
    </main>
  );
}
