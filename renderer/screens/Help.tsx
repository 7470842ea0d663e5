// Help: the steps of each role (town-hall staff, police sender, SSI officer) and the SSI officer
// as the directory names them: the contact the authority signed (docs/authority.md 5.2), shown only
// once its signature verified under the pinned key (main checks it; a contact edited in the
// profile comes back `unverified` and is never shown as the officer's), and the authority's name
// and fingerprint, the fingerprint to compare aloud with the officer.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call } from '../api';
import { Heading } from '../components/common';
import { forScreen } from '../../shared/text';
import type { ContactViewData, ResponseOf } from '../../shared/ipc';

type Authority = ResponseOf<'profile:status'>['authority'];

const ROLES = ['townHall', 'police', 'ssi'] as const;
const STEPS = ['step1', 'step2', 'step3', 'step4'] as const;

/** The officer's contact from the directory in force; null while loading or when it cannot be read. */
function useContact(): ContactViewData | null {
  const [contact, setContact] = useState<ContactViewData | null>(null);
  useEffect(() => {
    let live = true;
    call('directory:contact', {}).then((c) => { if (live) setContact(c); }, () => { if (live) setContact(null); });
    return () => { live = false; };
  }, []);
  return contact;
}

/** « Appelez … au … (…). » for the banner of a directory past its next update; nothing without a verified contact. */
export function WhomToCall() {
  const { t } = useTranslation();
  const contact = useContact();
  if (contact?.state !== 'valid') return null;
  return <> {t('layout.help.whomToCall', { name: forScreen(contact.name), phone: forScreen(contact.phone), mail: forScreen(contact.mail) })}</>;
}

export function Help({ authority }: { authority: Authority }) {
  const { t } = useTranslation();
  const contact = useContact();
  return (
    <main className="narrow help">
      <Heading>{t('layout.help.title')}</Heading>
      <p className="lead">{t('layout.help.intro')}</p>
      <section className="panel" aria-labelledby="help-contact">
        <h2 id="help-contact">{t('layout.help.contactTitle')}</h2>
        {authority ? (
          <>
            {contact?.state === 'valid' && (
              <div className="officer-contact" data-testid="officer-contact">
                <p><strong>{t('layout.help.contactName', { name: forScreen(contact.name) })}</strong></p>
                <p>{t('layout.help.contactPhone', { phone: forScreen(contact.phone) })}</p>
                <p>{t('layout.help.contactMail', { mail: forScreen(contact.mail) })}</p>
                <p className="hint">{t('layout.help.contactSigned')}</p>
              </div>
            )}
            {contact?.state === 'unverified' && <p className="warning" role="alert">{t('layout.help.contactUnverified')}</p>}
            <p>{t('layout.help.contactAuthority', { name: forScreen(authority.name) })}</p>
            <p>{t('layout.help.contactFingerprint')} <code className="fingerprint-inline">{authority.fingerprint}</code></p>
            {contact?.state === 'none' && <p className="hint">{t('layout.help.contactMissing')}</p>}
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
