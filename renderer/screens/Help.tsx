// Help: the steps of each role (town-hall staff, police sender, SSI officer) and the SSI officer
// as this workstation knows them. The directory carries no contact details yet: the authority's
// name and fingerprint are shown, the fingerprint to compare aloud with the officer.
import { useTranslation } from 'react-i18next';
import { Heading } from '../components/common';
import { forScreen } from '../../shared/text';
import type { ResponseOf } from '../../shared/ipc';

type Authority = ResponseOf<'profile:status'>['authority'];

const ROLES = ['townHall', 'police', 'ssi'] as const;
const STEPS = ['step1', 'step2', 'step3', 'step4'] as const;

export function Help({ authority }: { authority: Authority }) {
  const { t } = useTranslation();
  return (
    <main className="narrow help">
      <Heading>{t('layout.help.title')}</Heading>
      <p className="lead">{t('layout.help.intro')}</p>
      <section className="panel" aria-labelledby="help-contact">
        <h2 id="help-contact">{t('layout.help.contactTitle')}</h2>
        {authority ? (
          <>
            <p>{t('layout.help.contactAuthority', { name: forScreen(authority.name) })}</p>
            <p>{t('layout.help.contactFingerprint')} <code className="fingerprint-inline">{authority.fingerprint}</code></p>
            <p className="hint">{t('layout.help.contactMissing')}</p>
          </>
        ) : <p>{t('layout.help.contactNone')}</p>}
      </section>
      {ROLES.map((role) => (
        <section key={role} className="panel" aria-labelledby={`help-${role}`}>
          <h2 id={`help-${role}`}>{t(`layout.help.${role}.title`)}</h2>
          <ol className="help-steps">
            {STEPS.map((step) => <li key={step}>{t(`layout.help.${role}.${step}`)}</li>)}
          </ol>
        </section>
      ))}
    </main>
  );
}
