// The officer's form on the Convention screen (issue 14 §6): a new convention, or a new version of
// one (edit: the same convention signed again). It sends the fields as typed; main (the core's
// createConvention / editConvention, the CLI's `convention new`) checks everything and refuses
// anyone but the officer. A refusal names its field: it is shown beside that field, in French.
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api';
import { DayField, ErrorBox, RequiredMark } from '../components/common';
import type { ConventionView, NewConventionRequest, Person } from '../../shared/ipc';
import type { ErrorText } from '../errors';
import { forScreen } from '../../shared/text';

type Field = 'title' | 'parties' | 'people' | 'types' | 'schedule' | 'expect' | 'start' | 'years' | 'renewMax' | 'retentionDays';

/** The core's error codes (electron/core/authority/convention.ts validate) and the field each names. */
const FIELD_OF: Record<string, Field> = {
  'bad-title': 'title', 'bad-party': 'parties', 'unknown-party': 'parties', 'not-certified': 'people', 'not-party-member': 'people',
  'bad-person': 'people', 'unknown-identity': 'people', 'bad-types': 'types', 'bad-schedule': 'schedule', 'bad-expect': 'expect',
  'bad-date': 'start', 'bad-years': 'years', 'bad-renew': 'renewMax', 'bad-retention': 'retentionDays',
};

interface Draft {
  title: string;
  parties: { org: string; address: string }[];
  /** Chosen people: id → function. */
  people: Record<string, string>;
  types: string;
  every: 'quarterly' | 'monthly' | 'half-yearly';
  day: string;
  expect: string;
  start: string | null;
  years: string;
  renewMax: string;
  retentionDays: string;
  openReceipts: boolean;
}

const EMPTY: Draft = {
  title: '', parties: [{ org: '', address: '' }, { org: '', address: '' }], people: {}, types: '.pdf, .csv, .xls, .doc', every: 'quarterly', day: '8',
  expect: '', start: null, years: '1', renewMax: '', retentionDays: '15', openReceipts: false,
};

const fromView = (c: ConventionView): Draft => ({
  title: c.title, parties: c.parties.map((p) => ({ ...p })), people: Object.fromEntries(c.people.map((p) => [p.id, p.function])),
  types: c.types.join(', '), every: c.schedule.every, day: String(c.schedule.day), expect: c.expect.join('\n'), start: c.start,
  years: String(c.years), renewMax: c.renewMax === null ? '' : String(c.renewMax), retentionDays: String(c.retentionDays), openReceipts: c.openReceipts,
});

/** The form's title: focused when the form opens (Convention.tsx). */
export const FORM_TITLE_ID = 'convention-form';

const whole = (text: string): number | null => (/^\s*\d{1,4}\s*$/.test(text) ? Number(text) : null);

export function ConventionForm({ editing, onDone, onCancel }: {
  /** The convention to sign again; null for a new one. */
  editing: ConventionView | null;
  onDone: (convention: ConventionView) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [draft, setDraft] = useState<Draft>(editing ? fromView(editing) : EMPTY);
  const [certified, setCertified] = useState<Person[]>([]);
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [general, setGeneral] = useState<ErrorText>(null);
  const [busy, setBusy] = useState(false);
  // « Signer » stays focusable while it signs (aria-disabled: a disabled button drops the focus,
  // RGAA 12.8); this ref starts one signature for a double press.
  const signing = useRef(false);
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));

  useEffect(() => {
    call('identities:list', {}).then((r) => setCertified(r.people.filter((p) => p.certificate.state === 'valid')), (e: unknown) => setGeneral(errorMessage(e)));
  }, []);
  const orgs = [...new Set(certified.map((p) => p.org))].sort((a, b) => a.localeCompare(b, 'fr'));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (signing.current) return;
    const found: Partial<Record<Field, string>> = {};
    const years = whole(draft.years);
    const renewMax = draft.renewMax.trim() === '' ? null : whole(draft.renewMax);
    const retentionDays = whole(draft.retentionDays);
    const day = whole(draft.day);
    if (years === null) found.years = t('conventionForm.wholeNumber');
    if (renewMax === null && draft.renewMax.trim() !== '') found.renewMax = t('conventionForm.wholeNumber');
    if (retentionDays === null) found.retentionDays = t('conventionForm.wholeNumber');
    // 1 to 28 (every month has them), said here, beside the field, as the core would refuse it.
    if (day === null || day < 1 || day > 28) found.schedule = t('conventionForm.dayOfMonth');
    if (draft.start === null) found.start = t('conventionForm.startMissing');
    setErrors(found);
    setGeneral(null);
    if (Object.keys(found).length > 0 || years === null || retentionDays === null || day === null || day < 1 || day > 28 || draft.start === null) return;
    const request: NewConventionRequest = {
      title: draft.title, parties: draft.parties.map((p) => ({ org: p.org.trim(), address: p.address.trim() })),
      people: Object.entries(draft.people).map(([id, fn]) => ({ id, function: fn })),
      types: draft.types.split(',').map((x) => x.trim()).filter((x) => x !== ''),
      schedule: { every: draft.every, day }, expect: draft.expect.split('\n').map((x) => x.trim()).filter((x) => x !== ''),
      start: draft.start, years, renewMax, retentionDays, openReceipts: draft.openReceipts,
    };
    setBusy(true);
    signing.current = true;
    (editing ? call('conventions:edit', { ...request, id: editing.id }) : call('conventions:create', request)).then((r) => onDone(r.convention), (error: unknown) => {
      const shown = errorMessage(error);
      const field = typeof error === 'object' && error !== null && 'code' in error ? FIELD_OF[String((error as { code: unknown }).code)] : undefined;
      if (field) setErrors({ [field]: shown.message });
      else setGeneral(shown);
    }).finally(() => {
      signing.current = false;
      setBusy(false);
    });
  };

  /** The error beside a field, announced and tied to it by aria-describedby. */
  const beside = (field: Field): ReactNode => (errors[field] ? <p id={`cf-${field}-error`} className="alert error" role="alert">{forScreen(errors[field])}</p> : null);
  const described = (field: Field) => (errors[field] ? { 'aria-invalid': true, 'aria-describedby': `cf-${field}-error` } : {});

  return (
    <section className="panel" aria-labelledby={FORM_TITLE_ID}>
      <h2 id={FORM_TITLE_ID} tabIndex={-1}>{editing ? t('conventionForm.editTitle', { version: editing.version + 1 }) : t('conventionForm.newTitle')}</h2>
      <p className="muted">{t(editing ? 'conventionForm.editHint' : 'conventionForm.newHint')}</p>
      {/* Required fields: `required` in code and « (obligatoire) » in their label (RGAA 11.10); the
          browser's own checks are off (noValidate): main's refusal names the field, in French. */}
      <form onSubmit={submit} noValidate>
        <label htmlFor="cf-title">{t('conventionForm.title')}<RequiredMark /></label>
        <input id="cf-title" type="text" required maxLength={300} value={draft.title} onChange={(e) => set({ title: e.currentTarget.value })} {...described('title')} />
        {beside('title')}

        <fieldset {...described('parties')}>
          <legend>{t('conventionForm.parties')}</legend>
          <datalist id="cf-orgs">{orgs.map((o) => <option key={o} value={o} />)}</datalist>
          {draft.parties.map((p, i) => (
            <div className="row" key={i}>
              <div>
                <label htmlFor={`cf-org-${i}`}>{t('conventionForm.org', { n: i + 1 })}<RequiredMark /></label>
                <input id={`cf-org-${i}`} type="text" list="cf-orgs" required maxLength={200} value={p.org}
                  onChange={(e) => { const org = e.currentTarget.value; set({ parties: draft.parties.map((x, j) => (j === i ? { ...x, org } : x)) }); }} />
              </div>
              <div>
                <label htmlFor={`cf-address-${i}`}>{t('conventionForm.address', { n: i + 1 })}<RequiredMark /></label>
                <input id={`cf-address-${i}`} type="email" required maxLength={254} placeholder="boite@exemple.fr" value={p.address}
                  onChange={(e) => { const address = e.currentTarget.value; set({ parties: draft.parties.map((x, j) => (j === i ? { ...x, address } : x)) }); }} />
              </div>
              {draft.parties.length > 2 && (
                <button type="button" className="link" onClick={() => set({ parties: draft.parties.filter((_, j) => j !== i) })}>{t('conventionForm.removeParty')}</button>
              )}
            </div>
          ))}
          {draft.parties.length < 10 && <div className="actions"><button type="button" onClick={() => set({ parties: [...draft.parties, { org: '', address: '' }] })}>{t('conventionForm.addParty')}</button></div>}
          {beside('parties')}
        </fieldset>

        <fieldset {...described('people')}>
          <legend>{t('conventionForm.people')}</legend>
          <p className="muted">{t('conventionForm.peopleHint')}</p>
          {certified.length === 0 ? <p className="empty">{t('conventionForm.noCertified')}</p> : (
            <table>
              <thead><tr><th scope="col">{t('conventionForm.habilitated')}</th><th scope="col">{t('convention.name')}</th><th scope="col">{t('conventionForm.orgColumn')}</th><th scope="col">{t('convention.function')}</th></tr></thead>
              <tbody>
                {certified.map((p) => {
                  const chosen = p.id in draft.people;
                  return (
                    <tr key={p.id}>
                      <td><input id={`cf-person-${p.id}`} type="checkbox" checked={chosen} aria-label={t('conventionForm.habilitate', { name: forScreen(p.name) })}
                        onChange={(e) => {
                          const next = { ...draft.people };
                          if (e.currentTarget.checked) next[p.id] = next[p.id] ?? ''; else delete next[p.id];
                          set({ people: next });
                        }} /></td>
                      <td>{forScreen(p.name)}</td>
                      <td>{forScreen(p.org)}</td>
                      <td><input id={`cf-function-${p.id}`} type="text" maxLength={200} disabled={!chosen} required={chosen} value={draft.people[p.id] ?? ''}
                        aria-label={t('conventionForm.functionOf', { name: forScreen(p.name) })} placeholder={t('conventionForm.functionExample')}
                        onChange={(e) => { const fn = e.currentTarget.value; set({ people: { ...draft.people, [p.id]: fn } }); }} /></td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          {beside('people')}
        </fieldset>

        <div className="row">
          <div>
            <label htmlFor="cf-types">{t('conventionForm.types')}<RequiredMark /></label>
            <input id="cf-types" type="text" required maxLength={600} value={draft.types} onChange={(e) => set({ types: e.currentTarget.value })} {...described('types')} />
            {beside('types')}
          </div>
          <div>
            <label htmlFor="cf-every">{t('conventionForm.every')}</label>
            <select id="cf-every" value={draft.every} onChange={(e) => set({ every: e.currentTarget.value as Draft['every'] })}>
              <option value="quarterly">{t('conventionForm.quarterly')}</option>
              <option value="half-yearly">{t('conventionForm.halfYearly')}</option>
              <option value="monthly">{t('conventionForm.monthly')}</option>
            </select>
            <label htmlFor="cf-day">{t('conventionForm.day')}<RequiredMark /></label>
            <input id="cf-day" type="number" required min={1} max={28} style={{ width: '5rem' }} value={draft.day} onChange={(e) => set({ day: e.currentTarget.value })} {...described('schedule')} />
            {beside('schedule')}
          </div>
        </div>

        <label htmlFor="cf-expect">{t('conventionForm.expect')}<RequiredMark /></label>
        <textarea id="cf-expect" rows={3} required style={{ width: '100%', maxWidth: '30rem', display: 'block' }} value={draft.expect} onChange={(e) => set({ expect: e.currentTarget.value })} {...described('expect')} />
        <p className="muted">{t('conventionForm.expectHint')}</p>
        {beside('expect')}

        <div className="row">
          <div>
            <label htmlFor="cf-start">{t('conventionForm.start')}<RequiredMark /></label>
            <DayField id="cf-start" day={draft.start} onDay={(start) => set({ start })} required errorId={errors.start ? 'cf-start-error' : undefined} />
            {beside('start')}
          </div>
          <div>
            <label htmlFor="cf-years">{t('conventionForm.years')}<RequiredMark /></label>
            <input id="cf-years" type="number" required min={1} max={50} value={draft.years} onChange={(e) => set({ years: e.currentTarget.value })} {...described('years')} />
            {beside('years')}
          </div>
          <div>
            <label htmlFor="cf-renew">{t('conventionForm.renewMax')}</label>
            <input id="cf-renew" type="number" min={1} max={50} value={draft.renewMax} onChange={(e) => set({ renewMax: e.currentTarget.value })} {...described('renewMax')} />
            <span className="muted">{t('conventionForm.renewHint')}</span>
            {beside('renewMax')}
          </div>
          <div>
            <label htmlFor="cf-retention">{t('conventionForm.retentionDays')}<RequiredMark /></label>
            <input id="cf-retention" type="number" required min={0} max={3650} value={draft.retentionDays} onChange={(e) => set({ retentionDays: e.currentTarget.value })} {...described('retentionDays')} />
            {beside('retentionDays')}
          </div>
        </div>

        <label className="check">
          <input id="cf-receipts" type="checkbox" checked={draft.openReceipts} onChange={(e) => set({ openReceipts: e.currentTarget.checked })} /> {t('conventionForm.openReceipts')}
        </label>

        <div className="actions">
          <button type="submit" className="primary" aria-disabled={busy}>{t(editing ? 'conventionForm.signEdit' : 'conventionForm.signNew')}</button>
          <button type="button" disabled={busy} onClick={onCancel}>{t('conventionForm.cancel')}</button>
        </div>
        <ErrorBox message={general} />
      </form>
    </section>
  );
}
